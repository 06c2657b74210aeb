"""The trainee report leaves incomplete and empty sessions out of the learning curve, the
sign-off and the cohort standing, and lists them, marked."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

import pytest

from sim.core.records import Action, ActionKind
from sim.core.scenario import Scenario
from sim.lab.ingest import session_from_recording
from sim.lab.store import Store
from sim.pipeline import Pipeline
from sim.report import plots, trainee
from sim.sources.scripted import ScriptedSource, scripted_items
from sim.storage.session import run_session
from tests.conftest import as_old_recording, stopped_after, visible_text


def _session(
    path: Path, sc: Scenario, skill: str, seed: int, who: str, stop_after: str | None = None
) -> Path:
    pipeline = Pipeline(sc)
    source: Any = ScriptedSource(sc, skill, seed)
    if stop_after is not None:  # abandoned (Esc) right after that event
        source = stopped_after(pipeline, source, stop_after)
    run_session(pipeline, source, path, trainee=who)
    return path


def test_incomplete_and_empty_sessions_are_listed_but_not_counted(
    tmp_path: Path, veni: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = _session(tmp_path / "a.jsonl", veni, "expert", 1, "t-1")
    # the old rules passed a session abandoned before blood was drawn (the store re-scores
    # it: incomplete)
    abandoned = as_old_recording(
        _session(tmp_path / "b0.jsonl", veni, "expert", 1, "t-1", "flashback"),
        tmp_path / "b.jsonl",
        score=88.0,
        passed=True,
    )
    empty = tmp_path / "c.jsonl"
    run_session(Pipeline(veni), [Action(0.0, ActionKind.FINISH)], empty, trainee="t-1")
    d = _session(tmp_path / "d.jsonl", veni, "expert", 2, "t-1")
    # another trainee with nothing complete has no standing in the cohort
    other = as_old_recording(
        _session(tmp_path / "o.jsonl", veni, "expert", 3, "t-2", "flashback"),
        tmp_path / "o-old.jsonl",
    )
    curves: list[dict[str, Any]] = []
    real = plots.learning_curve_plot

    def spy(scores: Any, passed: Any, pass_score: Any, title: str, **kw: Any) -> bytes:
        curves.append({"scores": list(scores), **kw})
        return real(scores, passed, pass_score, title, **kw)

    monkeypatch.setattr(plots, "learning_curve_plot", spy)
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}") as s:
        for f in (a, abandoned, empty, d, other):
            s.add(session_from_recording(f))
        rows = s.find(trainee="t-1")
        assert [(r.complete, r.empty) for r in rows] == [
            (True, False),
            (False, False),
            (False, True),
            (True, False),
        ]
        page = trainee.trainee_report(s, "t-1")
        # two passes in a row among the sessions that count: sessions 1 and 4. Counting the
        # abandoned "pass" would have reached the streak at session 2.
        assert trainee.signed_off(rows, 2, 10).streak_at == 4
        assert "2 consecutive passes reached (session 4)" in page
        assert curves == [
            {"scores": [rows[0].score, rows[3].score], "session_no": [1, 4], "n_sessions": 4}
        ]
        assert "4 sessions (1 incomplete, 1 empty: listed below, left out of the curve" in page
        table = re.search(r'<table class="sessions">(.*?)</table>', page, re.S)
        assert table is not None and table.group(1).count("<tr>") == 1 + 4  # header, sessions
        assert "incomplete: not scored for sign-off" in table.group(1)
        assert "empty: not scored for sign-off" in table.group(1)
        # t-2 has no complete session: t-1 is alone, above or below no one
        assert "the only trainee with a complete session of this scenario so far" in page
        assert "% of" not in page and "1 trainees" not in page
        assert trainee.standing(s.find(scenario="venipuncture"), "scripted") == {
            "t-1": pytest.approx((rows[0].score + rows[3].score) / 2)
        }
        only_incomplete = trainee.trainee_report(s, "t-2")
        assert "none complete yet, so no learning curve or standing" in only_incomplete
        assert "<img" not in only_incomplete


def test_cohort_standing_compares_sessions_of_the_same_input_only(
    tmp_path: Path, veni: Scenario
) -> None:
    # t-1 practised with the mouse and with a tracked (scripted) hand; t-2 with the hand
    # only. A mouse score leaves out the hand's tremor and smoothness, so it is on another
    # scale: t-1's mouse sessions stand alone, and t-1's hand sessions stand against t-2's.
    items = scripted_items(veni, "expert", 4)
    mouse = tmp_path / "m.jsonl"
    run_session(Pipeline(veni, input_kind="mouse"), items, mouse, trainee="t-1")
    hand = _session(tmp_path / "h.jsonl", veni, "intermediate", 1, "t-1")
    other = [_session(tmp_path / f"o{i}.jsonl", veni, "expert", i, "t-2") for i in (2, 3)]
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}") as s:
        for f in (mouse, hand, *other):
            s.add(session_from_recording(f))
        rows = s.find(scenario="venipuncture")
        page = trainee.trainee_report(s, "t-1")
        alone = trainee.trainee_report(s, "t-2")
    by = {(r.trainee_id, r.input_kind): r.score for r in rows}
    assert set(by) == {("t-1", "mouse"), ("t-1", "scripted"), ("t-2", "scripted")}
    t2 = statistics.fmean(r.score for r in rows if r.trainee_id == "t-2")
    assert trainee.standing(rows, "scripted") == {
        "t-1": pytest.approx(by["t-1", "scripted"]),
        "t-2": pytest.approx(t2),
    }
    assert trainee.standing(rows, "mouse") == {"t-1": pytest.approx(by["t-1", "mouse"])}
    text = visible_text(page)
    assert (
        "the only trainee with a complete session of this scenario so far (with the mouse)" in text
    )
    pr = trainee.percentile_rank([by["t-1", "scripted"], t2], by["t-1", "scripted"])
    median = statistics.median([by["t-1", "scripted"], t2])
    assert (
        "Against the cohort (2 trainees, 0 signed off; sessions with the scripted trainee only): "
        f"above {pr:.0f}% of them (median {median:.1f})." in text
    )
    # t-1's own means, one per input, never one mean of both
    assert f"mean of the last 1 with the mouse: {by['t-1', 'mouse']:.1f}" in text
    assert f"mean of the last 1 with the scripted trainee: {by['t-1', 'scripted']:.1f}" in text
    # t-2 never used the mouse: one cohort, against t-1's hand session alone
    assert visible_text(alone).count("Against the cohort") == 1
