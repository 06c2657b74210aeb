"""The recording format: round trip, crash safety, clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.core.records import Action, ActionKind, Sample
from sim.pipeline import Pipeline
from sim.sources.scripted import ScriptedSource
from sim.storage.recording import (
    FORMAT_VERSION,
    IndexedRecording,
    RecordingError,
    load_recording,
)
from sim.storage.session import rescore, run_session

REPO = Path(__file__).resolve().parents[2]


def test_round_trip_keeps_everything(tmp_path, veni):
    path = tmp_path / "s.jsonl"
    raw = tuple(float(i) / 7 for i in range(63))
    items = [
        Action(0.0, ActionKind.TOURNIQUET_ON),
        Sample(0.1, (1.0, 2.0, 3.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), 0.5, True, raw),
        Sample(0.2, (1.1, 2.0, 3.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), 0.5, False, None),
    ]
    result = run_session(
        Pipeline(veni, noise_floor_mm=0.25, input_kind="webcam"),
        items,
        path,
        trainee="t-17",
        station="lab-2",
        calibration={"noise_floor_mm": 0.25, "scale_mm_per_px": 0.3},
        keep_raw=True,  # a station with keep_raw_landmarks = true
    )
    rec = load_recording(path)
    assert rec.items == items
    assert not rec.truncated
    assert rec.complete is False and rec.result is not None  # two samples complete nothing
    assert result.complete is False and rec.result["complete"] is False
    h = rec.header
    assert h["format_version"] == FORMAT_VERSION
    assert (h["scenario"], h["trainee"], h["station"], h["input"]) == (
        "venipuncture",
        "t-17",
        "lab-2",
        "webcam",
    )
    assert h["scenario_hash"] == veni.content_hash
    assert h["calibration"]["scale_mm_per_px"] == 0.3
    assert rec.noise_floor_mm == 0.25
    assert rec.result is not None and rec.result["score"] == result.score
    assert rec.scenario().content_hash == veni.content_hash


def test_rescore_reproduces_events_cues_and_score(tmp_path, sut):
    path = tmp_path / "s.jsonl"
    result = run_session(Pipeline(sut), ScriptedSource(sut, "novice", 3), path)
    r = rescore(path)
    assert r.matches
    assert r.result.score == result.score
    assert [e.kind for e in r.events] == [e.kind for e in r.recording.events]
    assert len(r.cues) > 0 and r.cues == r.recording.cues


def test_rescore_detects_a_tampered_recording(tmp_path, veni):
    path = tmp_path / "s.jsonl"
    run_session(Pipeline(veni), ScriptedSource(veni, "expert", 0), path)
    lines = path.read_text().splitlines()
    i = next(i for i, ln in enumerate(lines) if '"kind":"skin_puncture"' in ln)
    rec = json.loads(lines[i])
    rec["values"]["angle_deg"] += 5
    lines[i] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    assert not rescore(path).matches


def test_scenario_travels_with_the_recording(tmp_path, veni):
    """Editing the scenario file later does not change how an old recording scores."""
    src = tmp_path / "mine.toml"
    src.write_text(Path(veni.path).read_text())
    from sim.scenarios import load_scenario

    mine = load_scenario(src)
    path = tmp_path / "s.jsonl"
    result = run_session(Pipeline(mine), ScriptedSource(mine, "intermediate", 1), path)
    src.write_text(src.read_text().replace("pass_score = 70.0", "pass_score = 99.0"))
    r = rescore(path)
    assert r.matches and r.result.pass_score == 70.0 and r.result.score == result.score


def test_truncated_tail_still_loads(tmp_path, veni):
    path = tmp_path / "s.jsonl"
    run_session(Pipeline(veni), ScriptedSource(veni, "expert", 0), path)
    data = path.read_bytes()
    cut = data[: len(data) // 2]
    cut = cut[: cut.rindex(b"\n") + 25]  # a torn record at the end
    path.write_bytes(cut)
    rec = load_recording(path)
    assert rec.truncated and not rec.complete
    assert len(rec.samples) > 100
    assert rescore(path).result.scenario == "venipuncture"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b'{"type":"header","format":"other"}\n', "line 1: expected a procsim recording header"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a procsim recording"),
        (
            b'{"type":"header","format":"procsim-recording","format_version":99}\n',
            "format_version 99 is not supported",
        ),
    ],
)
@pytest.mark.parametrize("reader", [load_recording, IndexedRecording])
def test_bad_files_give_one_line_errors(tmp_path, content, message, reader):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(RecordingError) as err:
        reader(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_corrupt_line_in_the_middle_is_named(tmp_path, veni):
    path = tmp_path / "s.jsonl"
    run_session(Pipeline(veni), ScriptedSource(veni, "expert", 0), path)
    lines = path.read_text().splitlines()
    lines[10] = "{not json"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordingError, match=r"line 11: not valid JSON"):
        load_recording(path)
    with pytest.raises(RecordingError, match="no such recording"):
        load_recording(tmp_path / "missing.jsonl")


CRASHER = r"""
import sys, time
from sim.scenarios import find_scenario
from sim.pipeline import Pipeline
from sim.sources.scripted import scripted_items
from sim.storage.session import SessionRecorder
sc = find_scenario("venipuncture")
rec = SessionRecorder(Pipeline(sc), sys.argv[1])
t0 = time.monotonic()
for item in scripted_items(sc, "novice", 0):
    while time.monotonic() - t0 < item.t_s:
        time.sleep(0.002)
    rec.feed(item)
    print(item.t_s, flush=True)
"""


def test_a_killed_session_loses_at_most_a_fraction_of_a_second(tmp_path):
    path = tmp_path / "crash.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHER, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    last = 0.0
    deadline = time.monotonic() + 60
    while last < 2.0 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        last = float(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert last >= 2.0, "the session never got going"
    rec = load_recording(path)
    assert not rec.complete
    assert rec.samples[-1].t_s >= last - 0.35  # flushed at least every 0.25 s


def test_columnar_form_reads_what_the_line_reader_reads(tmp_path, veni):
    """The columnar form (the replay's) gives the very samples, events and cues of the
    line-by-line reader, whether the samples are in the writer's own layout (read at once)
    or written some other way (read line by line)."""
    path = tmp_path / "s.jsonl"
    run_session(Pipeline(veni), ScriptedSource(veni, "novice", 1), path)
    lines = path.read_text().splitlines()
    other = tmp_path / "other.jsonl"
    k = next(i for i, ln in enumerate(lines) if ln.startswith('{"type":"s"'))
    lines[k] = json.dumps(dict(reversed(json.loads(lines[k]).items())), indent=None)
    other.write_text("\n".join(lines) + "\n")
    for p in (path, other):
        rec, cols = load_recording(p), IndexedRecording(p)
        samples = rec.samples
        assert cols.n == len(samples) and cols.n_items == len(rec.items)
        assert cols.t.tolist() == [s.t_s for s in samples]
        assert cols.pos.tolist() == [list(s.tip_mm) for s in samples]
        assert cols.axis.tolist() == [list(s.axis) for s in samples]
        assert cols.grip.tolist() == [s.grip for s in samples]
        assert cols.tracked.tolist() == [s.tracked for s in samples]
        assert list(cols.items_from(0)) == rec.items
        assert (cols.events, cols.cues, cols.result) == (rec.events, rec.cues, rec.result)
        assert cols.complete == rec.complete and not cols.truncated


def test_a_header_with_null_calibration_reads_as_no_noise_floor(tmp_path, veni):
    path = tmp_path / "s.jsonl"
    run_session(Pipeline(veni), ScriptedSource(veni, "expert", 0), path)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["calibration"] = None
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    assert load_recording(path).noise_floor_mm == 0.0  # was an AttributeError
    assert IndexedRecording(path).noise_floor_mm == 0.0
    assert rescore(path).result.scenario == "venipuncture"
