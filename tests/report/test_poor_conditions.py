"""A session tracked in poor conditions: the recording keeps what the calibration found
(``calibration.conditions``), the report says "Tracked in poor conditions" with which ones,
and recordings made before the field existed still read (with no such line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.pipeline import Pipeline
from sim.report.session import session_report
from sim.sources.scripted import ScriptedSource
from sim.storage.recording import IndexedRecording, RecordingError, load_recording
from sim.storage.session import run_session

CONDITIONS = {
    "luma_mean": 48.2,
    "luma_sd": 20.1,
    "scene_luma_mean": 15.0,
    "blur": 0.8,
    "hand_px": 240.0,
    "poor": ["dim", "blur"],
}


def _record(path: Path, veni, calibration: dict | None) -> Path:  # noqa: ANN001
    kw = {} if calibration is None else {"calibration": calibration}
    run_session(Pipeline(veni, input_kind="webcam"), ScriptedSource(veni, "expert", 0), path, **kw)
    return path


def test_the_recording_keeps_the_poor_conditions_and_the_report_names_them(tmp_path, veni):
    cal = {"noise_floor_mm": 0.4, "status": "calibrated", "conditions": CONDITIONS}
    path = _record(tmp_path / "poor.jsonl", veni, cal)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["calibration"]["conditions"]["poor"] == ["dim", "blur"]
    assert load_recording(path).poor_conditions == ("dim", "blur")
    assert IndexedRecording(path).poor_conditions == ("dim", "blur")
    html = session_report(path)
    assert "Tracked in poor conditions: too dark on the hand, blurred image" in html


def test_good_conditions_and_old_recordings_show_no_such_line(tmp_path, veni):
    good = {"noise_floor_mm": 0.4, "conditions": {**CONDITIONS, "poor": []}}
    old = {"noise_floor_mm": 0.4, "status": "calibrated"}  # before the field existed
    for name, cal in (("good", good), ("mouse", None), ("old", old)):
        path = _record(tmp_path / f"{name}.jsonl", veni, cal)
        rec = load_recording(path)
        assert rec.poor_conditions == () and IndexedRecording(path).poor_conditions == ()
    assert rec.result is not None and rec.result["scenario"] == "venipuncture"
    html = session_report(rec)  # the old one
    assert 'id="score"' in html and "poor conditions" not in html


@pytest.mark.parametrize(
    "conditions", [[], {"poor": "dim"}, {"poor": [1]}], ids=["list", "string", "number"]
)
def test_a_bad_conditions_field_is_refused_in_one_line(tmp_path, veni, conditions):
    path = _record(tmp_path / "s.jsonl", veni, None)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["calibration"]["conditions"] = conditions
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(RecordingError) as e:
        load_recording(path)
    assert str(e.value) == (
        f"{path}: line 1: 'calibration.conditions': expected an object with 'poor', a list of names"
    )
