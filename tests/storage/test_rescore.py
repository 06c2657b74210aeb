"""Re-scoring recordings made under older rules: the recorded score against today's, and a
re-scored recording written from the old one's samples and actions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sim import __version__
from sim.core.scenario import Scenario
from sim.pipeline import Pipeline
from sim.sources.scripted import ScriptedSource
from sim.storage.recording import RecordingError, load_recording, session_id_for
from sim.storage.session import recorded_outcome, rescore, run_session, write_rescored
from tests.conftest import as_old_recording, stopped_after


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, veni: Scenario, sut: Scenario) -> dict:
    d = tmp_path_factory.mktemp("made")
    out = {}
    for key, sc, skill in (
        ("veni_expert", veni, "expert"),
        ("veni_novice", veni, "novice"),
        ("sut_expert", sut, "expert"),
    ):
        p = d / f"{key}.jsonl"
        pipeline = Pipeline(sc)
        items = ScriptedSource(sc, skill, 1)
        run_session(
            pipeline,
            stopped_after(pipeline, items, "skin_puncture") if skill == "novice" else items,
            p,
            trainee="t-42",
            station="lab-1",
            calibration={"noise_floor_mm": 0.0, "status": "skipped"},
            meta={"skill": skill},
        )
        out[key] = p
    return out


def test_old_recording_reports_recorded_and_today_s_score(made: dict, tmp_path: Path) -> None:
    today = rescore(made["veni_expert"]).result.score
    old = as_old_recording(made["veni_expert"], tmp_path / "old.jsonl", score=63.2)
    r = rescore(old)
    assert r.recorded is not None and r.recorded.score == 63.2
    assert r.recorded.app_version == "0.0.9" and r.recorded.complete  # blood drawn, withdrawn
    assert r.today.score == today and r.today.app_version == __version__
    assert r.differs and not r.matches
    assert r.line() == (
        f"venipuncture  recorded 63.2 PASS by 0.0.9; today {today:.1f} PASS by {__version__} "
        "(rules changed since)"
    )


def test_completeness_of_an_old_recording_comes_from_its_events(made: dict, tmp_path: Path) -> None:
    def old_complete(src: Path, **kw: object) -> bool:
        out = as_old_recording(src, tmp_path / f"{src.stem}-{len(kw)}.jsonl", **kw)  # type: ignore[arg-type]
        got = recorded_outcome(load_recording(out))
        assert got is not None
        return got.complete

    assert old_complete(made["veni_expert"])
    assert old_complete(made["sut_expert"])  # all three planned stitches placed
    assert not old_complete(made["veni_novice"])  # stopped after the puncture: no blood drawn
    # a stitch fewer than planned, or no completion event: not complete, whatever it scored
    assert not old_complete(made["sut_expert"], drop_events=("stitch_completed",))
    assert not old_complete(made["veni_expert"], drop_events=("completed",), passed=True)
    # a recording that was not closed normally (its end record says so) is not complete
    lines = made["veni_expert"].read_text().splitlines()
    cut = tmp_path / "not-closed.jsonl"
    cut.write_text("\n".join(lines[:-1] + ['{"type":"end","complete":false}']) + "\n")
    assert not old_complete(cut)


def test_rescore_writes_a_recording_that_then_matches(made: dict, tmp_path: Path) -> None:
    src = as_old_recording(made["veni_expert"], tmp_path / "old.jsonl", score=63.2)
    new = tmp_path / "new.jsonl"
    r = write_rescored(src, new)
    assert r.recorded is not None and r.recorded.score == 63.2
    old_rec, rec = load_recording(src), load_recording(new)
    assert rec.items == old_rec.items and rec.complete
    for key in ("trainee", "station", "calibration", "scenario", "scenario_toml", "created_utc"):
        assert rec.header[key] == old_rec.header[key], key
    assert rec.header["app_version"] == __version__
    data = src.read_bytes()
    assert rec.header["meta"]["skill"] == "expert"
    assert rec.header["meta"]["rescored_from"] == {
        "file": "old.jsonl",
        "recording_sha256": hashlib.sha256(data).hexdigest(),
        "app_version": "0.0.9",
        "rescored_utc": rec.header["meta"]["rescored_from"]["rescored_utc"],
    }
    # the store knows it as the same session as the original
    assert rec.header["meta"]["session_id"] == session_id_for(old_rec.header, data)
    again = rescore(new)
    assert again.matches and not again.differs
    assert again.recorded is not None and again.recorded.score == r.today.score
    assert again.line().endswith("today the same")


def test_rescore_refuses_to_overwrite(made: dict, tmp_path: Path) -> None:
    src = tmp_path / "s.jsonl"
    src.write_bytes(made["sut_expert"].read_bytes())
    with pytest.raises(RecordingError, match="is the recording being re-scored"):
        write_rescored(src, src)
    other = tmp_path / "other.jsonl"
    other.write_text("keep me\n")
    with pytest.raises(RecordingError, match="already exists"):
        write_rescored(src, other)
    assert other.read_text() == "keep me\n" and src.read_bytes() == made["sut_expert"].read_bytes()
    with pytest.raises(RecordingError, match="no such recording"):
        write_rescored(tmp_path / "missing.jsonl", tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()


def test_the_pipeline_at_a_moment_is_what_the_trainee_saw_then(made: dict) -> None:
    from sim.storage.session import pipeline_at

    rec = load_recording(made["veni_expert"])
    at = rec.items[len(rec.items) // 2].t_s
    p = pipeline_at(made["veni_expert"], at)
    assert p.samples and p.samples[-1].t_s <= at
    assert [e for e in rec.events if e.t_s <= at] == p.events
    with pytest.raises(ValueError, match="0 s or more"):
        pipeline_at(made["veni_expert"], -1.0)


def test_a_recording_with_checklist_steps_rescores_to_the_same_checklist(made: dict) -> None:
    """The checklist's actions are recorded as items and their step_<id> events re-derived
    from them: today's re-score gives the recorded checklist, step by step."""
    from sim.core.records import Action

    rec = load_recording(made["veni_expert"])
    taken = [i.kind for i in rec.items if isinstance(i, Action) and i.kind not in ("finish",)]
    assert {"identity", "hygiene", "clean", "sharps"} <= set(taken)
    clean = next(e for e in rec.events if e.kind == "step_clean")
    assert clean.value("radius_mm") == 25.0  # the scenario's, in the recording's event
    r = rescore(made["veni_expert"])
    assert r.matches
    assert r.result.as_dict()["checklist"] == rec.result["checklist"]
    assert [s["id"] for s in rec.result["checklist"] if s["ok"]] == list(
        rec.scenario().checklist.steps
    )


def test_a_recording_whose_scenario_has_no_checklist_rescores_unchanged(tmp_path: Path) -> None:
    """A recording made with a scenario without [checklist] (every recording made before
    it) loads and re-scores as it was: no checklist, no step events, the same verdict."""
    from sim.scenarios import SCENARIO_DIR, load_scenario

    text = (SCENARIO_DIR / "venipuncture.toml").read_text()
    path = tmp_path / "venipuncture.toml"
    path.write_text(text[: text.index("# The procedure's checklist")])
    sc = load_scenario(path)
    rec_path = tmp_path / "old.jsonl"
    run_session(Pipeline(sc), ScriptedSource(sc, "expert", 3), rec_path, trainee="t-1")
    rec = load_recording(rec_path)
    assert rec.scenario().checklist is None and rec.result["checklist"] == []
    r = rescore(rec_path)
    assert r.matches and r.result.passed and r.result.checklist == ()
    assert not any(e.kind.startswith("step_") for e in rec.events)
