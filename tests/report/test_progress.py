"""``procsim progress`` and the trainee report's sign-off section on a store of real
(scripted) sessions: LC-CUSUM status, the at-risk list with reasons, the CUSUM chart."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from sim.core.competency import Attempt, SignOffSpec
from sim.curriculum import load_curriculum
from sim.lab.ingest import session_from_recording
from sim.lab.store import Store
from sim.pipeline import Pipeline
from sim.report import plots, trainee
from sim.report.progress import procedure_progress
from sim.scenarios import find_scenario
from sim.sources.scripted import ScriptedSource
from sim.storage.session import run_session


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """t-good: one expert session (a pass); t-risk: three novice sessions that each pierce
    the back wall (a critical error of one kind, three times)."""
    d = tmp_path_factory.mktemp("progress")
    sc = find_scenario("venipuncture")
    url = f"sqlite:///{d / 's.sqlite'}"
    plan = [("t-good", "expert", 1, ())]
    plan += [("t-risk", "novice", i, ("back_wall",)) for i in (1, 2, 3)]
    with Store(url) as s:
        for who, skill, seed, errors in plan:
            path = d / f"{who}-{seed}.jsonl"
            run_session(Pipeline(sc), ScriptedSource(sc, skill, seed, errors), path, trainee=who)
            s.add(session_from_recording(path))
    yield url


def test_progress_cohort_lists_status_and_who_is_at_risk_why(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["progress", "--cohort", "--db", store_url]) == 0
    out = capsys.readouterr().out
    # one pass: ln(0.9 / 0.75) = 0.18 of the venipuncture limit 3.82
    assert (
        "t-good\n  venipuncture: not yet signed off: LC-CUSUM 0.18 of limit 3.82 (1 full case)"
        in out
    )
    assert "t-risk\n  venipuncture: not yet signed off: LC-CUSUM 0.00 of limit 3.82" in out
    assert out.rstrip().endswith(
        "At risk (1):\n  t-risk, venipuncture: the same critical error again: back wall in 3 "
        "of the last 3 sessions"
    )
    assert main(["progress", "--cohort", "--json", "--db", store_url]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [t["trainee_id"] for t in doc["trainees"]] == ["t-good", "t-risk"]
    # as docs/progress.md shows it: whole seconds, Z
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["now_utc"]), doc["now_utc"]
    good = doc["trainees"][0]["procedures"][0]
    assert good["status"] == "not_yet" and good["cases"] == 1 and good["at_risk"] == []
    assert good["lc_cusum"] == pytest.approx(0.1823, abs=1e-3)
    assert good["signoff_limit"] == pytest.approx(3.82, abs=0.01)
    assert doc["at_risk"] == [
        {
            "trainee_id": "t-risk",
            "task": "venipuncture",
            "rule": "repeated_critical",
            "reason": "the same critical error again: back wall in 3 of the last 3 sessions",
        }
    ]


def test_progress_needs_cohort_or_trainee_and_a_readable_curriculum(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["progress", "--db", store_url]) == 2
    assert "give either --cohort or --trainee ID" in capsys.readouterr().err
    bad = tmp_path / "c.toml"
    bad.write_text("[venipuncture\n", "utf-8")
    assert main(["progress", "--cohort", "--db", store_url, "--curriculum", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and err.count("\n") == 1 and "Traceback" not in err


def test_trainee_report_has_the_cusum_chart_and_the_reasons_at_the_top(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    charts: list[Any] = []
    real = plots.cusum_plot

    def spy(trace: Any, session_no: Any, title: str) -> bytes:
        charts.append((trace, list(session_no), title))
        return real(trace, session_no, title)

    monkeypatch.setattr(plots, "cusum_plot", spy)
    with Store(store_url) as s:
        last = s.find(trainee="t-risk")[-1].ended_utc
        page = trainee.trainee_report(s, "t-risk", now_utc=last + dt.timedelta(days=60))
    assert [(len(t.signoff), n) for t, n, _ in charts] == [(3, [1, 2, 3])]
    assert "CUSUM chart Venipuncture" in page
    top = page.index('<div class="at-risk">')
    assert top < page.index("Sign-off in Venipuncture") < page.index("<h2>venipuncture</h2>")
    risks = re.search(r'<div class="at-risk">(.*?)</div>', page, re.S)
    assert risks is not None
    assert "back wall in 3 of the last 3 sessions" in risks.group(1)
    assert "no practice for 60 days" in risks.group(1)
    # both rules, each saying what it says
    assert "Curriculum: acceptable failure rate 10 %, unacceptable 25 %" in page
    assert "not yet signed off: LC-CUSUM 0.00 of limit 3.82" in page
    # side by side, with one sentence on how they relate and which one signs off
    box = re.search(r'<div class="rules">(.*?)</div></div>', page, re.S)
    assert box is not None and box.group(1).index("LC-CUSUM: the sign-off") < box.group(1).index(
        "Fixed-count rule: per scenario, for comparison</h3><ul><li>venipuncture:"
    )
    assert "it is the sign-off, the one <code>procsim next</code> and the curriculum use" in page


def _case(i: int, passed: bool) -> Attempt:
    return Attempt(
        scenario="venipuncture",
        task="venipuncture",
        ended_utc=dt.datetime(2026, 1, 1) + dt.timedelta(days=i),
        score=90.0 if passed else 40.0,
        passed=passed,
        critical_errors=(),
        points_lost={},
        drill=False,
    )


def test_sign_off_then_relapse_in_the_report_section() -> None:
    hist = [_case(i, True) for i in range(21)] + [_case(21 + i, False) for i in range(4)]
    (p,) = procedure_progress(
        "t-1", None, hist, load_curriculum(), dt.datetime(2026, 2, 1), lambda _: 70.0
    )
    assert p.status == "relapsed" and p.trace.signed_off_at == (21,)
    html = trainee.competency_sections([p], {})
    assert "relapse: signed off at session 21, then failures pushed the relapse CUSUM" in html
    assert '<span class="fail">relapse flagged at session 25, back in training' in html
    assert html.count("<img") == 1


def test_the_chart_draws_each_cusum_restarting_from_zero_where_the_other_signalled() -> None:
    from sim.core.competency import track
    from sim.report.plots import cusum_paths

    spec = SignOffSpec(0.10, 0.25, 0.05, 0.20)
    trace = track([True] * 21 + [False] * 6 + [True] * 3, spec)
    (so,), (rel_at,) = trace.signed_off_at, trace.relapsed_at
    lc, rel = cusum_paths(trace)
    # the relapse CUSUM starts at 0 on the sign-off case, the LC-CUSUM at 0 on the relapse
    assert rel[so - 1] == 0.0 and lc[so - 1] >= trace.signoff_limit.h
    assert lc[rel_at - 1] == 0.0 and rel[rel_at - 1] >= trace.relapse_limit.h
    assert lc[-1] > 0.0  # and climbs again from there


def test_case_numbers_on_the_chart_axis_are_whole() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from sim.report.plots import _whole_ticks

    for last in (8, 21, 22, 130):  # 21-22: 2.5, 7.5, ... by default
        ax = Figure(figsize=(8.0, 2.8)).subplots()
        ax.plot([1, last], [0, 1])
        ax.set_xlim(0.5, last + 0.5)
        _whole_ticks(ax, last)
        ticks = [t for t in ax.get_xticks() if 0.5 <= t <= last + 0.5]
        assert ticks and all(float(t).is_integer() for t in ticks), (last, ticks)
