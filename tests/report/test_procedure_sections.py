"""Each procedure's own report sections (each attempt, each stitch...) reach the session
report: every row a user would look for, in the words the procedure gave them."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.pipeline import Pipeline
from sim.procedures.registry import get, ids
from sim.report.session import session_report
from sim.scenarios import SCENARIO_DIR, load_scenario
from sim.sources.scripted import scripted_items
from sim.storage.recording import load_recording
from sim.storage.session import run_session
from tests.conftest import scenario_of, visible_text


@pytest.mark.parametrize("task", ids())
def test_every_procedure_section_is_in_the_report(task: str, tmp_path: Path) -> None:
    sc = scenario_of(task)
    path = tmp_path / "s.jsonl"
    run_session(Pipeline(sc), scripted_items(sc, "novice", 1), path)
    rec = load_recording(path)
    sections = get(task).report(sc, rec.events)
    text = visible_text(session_report(rec))
    for s in sections:
        assert s.title in text and s.intro in text
        assert all(len(row) == len(s.header) for row in s.rows)
        for row in s.rows:
            assert " ".join(row) in text  # one table row, cell after cell


def test_venipuncture_lists_each_attempt_and_what_it_came_to(tmp_path: Path) -> None:
    sc = scenario_of("venipuncture")
    items = scripted_items(sc, "expert", 0, errors=("missed_vein",))
    p = Pipeline(sc)
    p.feed_all(items)
    (attempts,) = get("venipuncture").report(sc, p.events)
    punctures = [e for e in p.events if e.kind == "skin_puncture"]
    assert len(attempts.rows) == len(punctures) >= 2
    assert attempts.rows[0][-1].startswith("missed the vein")
    assert "blood drawn" in attempts.rows[-1][-1]


def test_suturing_lists_each_stitch(tmp_path: Path) -> None:
    sc = scenario_of("suturing")
    p = Pipeline(sc)
    p.feed_all(scripted_items(sc, "expert", 0))
    (stitches,) = get("suturing").report(sc, p.events)
    placed = [e for e in p.events if e.kind == "stitch_completed"]
    assert [r[0] for r in stitches.rows] == [str(i + 1) for i in range(len(placed))]
    assert [float(r[2]) for r in stitches.rows] == [round(e.value("x_mm"), 1) for e in placed]


def test_the_report_has_the_checklist_table() -> None:
    """The session report's "Checklist" lists the scenario's steps: each step, critical or
    not, done, in order, when, and why one is not met (none for a result without one)."""
    from sim.report.session import checklist_section

    sc = scenario_of("venipuncture")
    p = Pipeline(sc)
    p.feed_all(scripted_items(sc, "expert", 0, skip_steps=("identity",)))
    text = visible_text("".join(checklist_section(p.result().as_dict())))
    assert "Checklist" in text and "A critical step not done" in text
    assert "check the patient's identity critical no - - not done" in text
    assert "ask for a fist yes yes" in text
    assert checklist_section({"checklist": []}) == [] == checklist_section({})


def test_the_report_shows_what_the_patient_felt_and_did(tmp_path: Path) -> None:
    # an artery stick on the anticoagulated patient: the curve's peak is the score's, and every
    # reaction is a numbered row, the spoken lines in the patient's words
    text_sc = (SCENARIO_DIR / "venipuncture.toml").read_bytes()
    file = tmp_path / "venipuncture-anticoagulated.toml"
    file.write_bytes(text_sc.replace(b"\ntitle =", b'\npatient = "anticoagulated"\ntitle =', 1))
    sc = load_scenario(file)
    path = tmp_path / "artery.jsonl"
    run_session(Pipeline(sc), scripted_items(sc, "expert", 0, errors=("patient_artery",)), path)
    rec = load_recording(path)
    text = visible_text(session_report(rec))
    peak = rec.result["metrics"]["patient_discomfort"]["value"]
    assert "The patient (On anticoagulants)" in text
    assert f"Discomfort peaked at {peak:.1f}/10" in text
    reactions = [
        e for e in rec.events if e.kind.startswith("patient_") and e.kind != "patient_discomfort"
    ]
    assert any(e.kind == "patient_artery" and e.error for e in reactions)
    for k, e in enumerate(reactions, 1):
        said = f'said: "{e.message}"' if e.kind == "patient_said" else e.message
        assert f"{k} {e.t_s:.2f} {'error' if e.error else 'reaction'} {said}" in text
    # suturing has no patient section
    sut = scenario_of("suturing")
    spath = tmp_path / "s.jsonl"
    run_session(Pipeline(sut), scripted_items(sut, "expert", 0), spath)
    assert "Discomfort peaked" not in visible_text(session_report(load_recording(spath)))


def test_discomfort_readings_show_as_the_curve_only(tmp_path: Path) -> None:
    # the newcomer's report: a line for every discomfort reading flooded the speed profile,
    # the timeline's events row and the event table; the patient's curve already shows them
    import colorsys

    import numpy as np

    from sim.replay.panel import MARKER_RGBA
    from sim.report import plots
    from sim.scenarios import find_scenario

    sc = find_scenario("venipuncture-elderly")
    path = tmp_path / "novice.jsonl"
    run_session(Pipeline(sc), scripted_items(sc, "novice", 1), path)
    rec = load_recording(path)
    readings = [e for e in rec.events if e.kind == "patient_discomfort"]
    assert len(readings) >= 5
    text = visible_text(session_report(rec))
    assert not any(e.message in text for e in readings)
    assert "Discomfort peaked" in text
    t = np.array([s.t_s for s in rec.samples])
    pos = np.array([s.tip_mm for s in rec.samples])
    motion = plots.motion_runs(t, pos, np.ones(len(t), bool))
    ev, marks, cues, end = rec.events, plots.marks(rec.events), rec.cues, float(t[-1])
    assert plots.speed_plot(motion, ev, cues) == plots.speed_plot(motion, marks, cues)
    assert plots.timeline_plot(ev, cues, end) == plots.timeline_plot(marks, cues, end)

    # the patient's colour is not the errors' red ("red = errors"), and the replay's hue is the same
    def hue(rgb: tuple[float, ...]) -> float:
        return colorsys.rgb_to_hsv(*rgb[:3])[0] * 360

    def hex_rgb(c: str) -> tuple[float, ...]:
        return tuple(int(c[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def apart(a: float, b: float) -> float:
        return min(abs(a - b), 360 - abs(a - b))

    patient = hue(hex_rgb(plots.COLORS["patient"]))
    assert apart(patient, hue(hex_rgb(plots.COLORS["error"]))) >= 60
    assert apart(hue(MARKER_RGBA["patient"]), patient) <= 10
    assert apart(hue(MARKER_RGBA["patient"]), hue(MARKER_RGBA["error"])) >= 60
