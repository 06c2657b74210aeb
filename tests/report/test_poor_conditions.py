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
    floor = 0.0 if calibration is None else calibration["noise_floor_mm"]
    pipeline = Pipeline(veni, floor, input_kind="webcam")
    run_session(pipeline, ScriptedSource(veni, "expert", 0), path, **kw)
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


def test_every_view_an_instructor_reads_marks_poor_conditions(tmp_path, veni, data_dir, capsys):  # noqa: ANN001
    """score (text and --json), sessions list/show (text and --json), sessions export CSV
    and the trainee progress report all say it (before, only the session report did)."""
    import csv

    from sim.cli import main

    cal = {"noise_floor_mm": 0.4, "status": "calibrated", "conditions": CONDITIONS}
    poor = _record(tmp_path / "poor.jsonl", veni, cal)
    good = _record(tmp_path / "good.jsonl", veni, {"noise_floor_mm": 0.4})
    words = "Tracked in poor conditions: too dark on the hand, blurred image"
    assert main(["score", str(poor)]) == 0  # 0: re-scores the same
    assert words in capsys.readouterr().out
    assert main(["score", "--json", str(poor)]) == 0
    assert json.loads(capsys.readouterr().out)["poor_conditions"] == ["dim", "blur"]
    assert main(["score", str(good)]) == 0
    assert "poor conditions" not in capsys.readouterr().out

    assert main(["sessions", "import", str(poor)]) == 0
    capsys.readouterr()
    assert main(["sessions", "list"]) == 0
    out = capsys.readouterr().out
    assert f"! {words}" in out
    assert main(["sessions", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["poor_conditions"] == ["dim", "blur"]
    assert main(["sessions", "show", row["id"]]) == 0
    assert f"tracking  ! {words}" in capsys.readouterr().out
    assert main(["sessions", "show", row["id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["poor_conditions"] == ["dim", "blur"]
    out_csv = tmp_path / "s.csv"
    assert main(["sessions", "export", "--csv", str(out_csv)]) == 0
    with out_csv.open(encoding="utf-8-sig") as f:
        (line,) = list(csv.DictReader(f))
    assert line["poor_conditions"] == "dim;blur"
    report = tmp_path / "t.html"
    trainee = json.loads(poor.read_text().splitlines()[0]).get("trainee") or "anonymous"
    assert main(["report", "--trainee", trainee, "-o", str(report)]) == 0
    assert words in report.read_text(encoding="utf-8")
