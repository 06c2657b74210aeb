"""Bad numbers in a recording never reach a score: the recording reader, line by line and in
its columnar form (the replay's), refuses them with one line naming the file and the line;
`procsim score` exits with status 2. Mutation fuzzing of a real recording."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings

from sim.storage.recording import (
    MAX_LINE_BYTES,
    IndexedRecording,
    Recording,
    RecordingError,
    parse_recording,
)
from tests.mutations import (
    FUZZ,
    assert_finite,
    assert_one_clean_line,
    finite_json,
    mutated,
    run_cli,
)

_DIR = Path(tempfile.mkdtemp(prefix="procsim-fuzz-recording-"))


def _short_recording() -> bytes:
    """A real novice venipuncture recording, thinned to every 8th sample to keep re-scoring
    fast, with its events, cues, result and end lines."""
    full = _DIR / "novice.jsonl"
    rc, _, err = run_cli(["simulate", "venipuncture", "--skill", "novice", "-o", str(full)])
    assert rc == 0, err
    lines = full.read_bytes().splitlines(keepends=True)
    samples = [i for i, ln in enumerate(lines) if ln.startswith(b'{"type":"s"')]
    keep = set(samples[::8])
    return b"".join(ln for i, ln in enumerate(lines) if i not in samples or i in keep)


SHORT = _short_recording()
LINES = SHORT.decode().splitlines()
FIRST_SAMPLE = next(i for i, ln in enumerate(LINES) if ln.startswith('{"type":"s"'))
FIRST_EVENT = next(i for i, ln in enumerate(LINES) if ln.startswith('{"type":"event"'))


def _with_line(index: int, record: dict[str, object] | str) -> bytes:
    lines = list(LINES)
    lines[index] = record if isinstance(record, str) else json.dumps(record)
    return ("\n".join(lines) + "\n").encode()


def _sample(**changes: object) -> dict[str, object]:
    rec = json.loads(LINES[FIRST_SAMPLE])
    rec.update(changes)
    return rec


def _refused(tmp_path: Path, data: bytes) -> str:
    """The one line both forms of the reader and `procsim score` give for ``data``."""
    p = tmp_path / "bad.jsonl"
    p.write_bytes(data)
    with pytest.raises(RecordingError) as core:
        parse_recording(data, p)
    with pytest.raises(RecordingError) as columnar:
        IndexedRecording(p)
    assert str(columnar.value) == str(core.value)
    rc, out, err = run_cli(["score", "--json", str(p)])
    assert rc == 2 and out == ""
    assert_one_clean_line(err, p)
    assert err == f"procsim: error: {core.value}\n"
    return str(core.value)


LINE = FIRST_SAMPLE + 1


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            '{"type":"s","t":NaN,"p":[0,0,0],"a":[1,0,0],"n":[0,1,0],"g":1.0,"k":1}',
            f"line {LINE}: not valid JSON (NaN is not a number this format allows)",
        ),
        (
            '{"type":"s","t":0.1,"p":[Infinity,0,0],"a":[1,0,0],"n":[0,1,0],"g":1.0,"k":1}',
            f"line {LINE}: not valid JSON (Infinity is not a number this format allows)",
        ),
        (
            '{"type":"s","t":0.1,"p":[1e400,0,0],"a":[1,0,0],"n":[0,1,0],"g":1.0,"k":1}',
            f"line {LINE}: bad 's' record ('p': expected a finite number between -1e+06 and "
            "1e+06, got inf)",
        ),
        (
            _sample(p=[1e308, 0.0, 0.0]),
            f"line {LINE}: bad 's' record ('p': expected a finite number between",
        ),
        (_sample(p=[None, 0.0, 0.0]), f"line {LINE}: bad 's' record ('p': expected a finite"),
        (_sample(p=[1.0, 2.0]), f"line {LINE}: bad 's' record ('p': expected a list of 3"),
        (_sample(a=[0.0, 0.0, 0.0]), f"line {LINE}: bad 's' record ('a': expected a unit vector"),
        (_sample(g=1.5), f"line {LINE}: bad 's' record ('g': expected a finite number between 0"),
        (_sample(t="0.1"), f"line {LINE}: bad 's' record ('t': expected a finite number"),
        (_sample(k=7), f"line {LINE}: bad 's' record ('k': expected 0 or 1, got 7)"),
        (_sample(raw=[0.5, float("nan")]), f"line {LINE}: not valid JSON (NaN is not"),
        (_sample(t=10**400), f"line {LINE}: bad 's' record ('t': expected a finite number"),
        (
            '{"type":"s","t":' + "9" * 5000 + "}",
            f"line {LINE}: not valid JSON (Exceeds the limit (4300 digits)",
        ),
    ],
)
def test_bad_sample_numbers_are_refused_naming_file_and_line(tmp_path, record, expected):
    assert expected in _refused(tmp_path, _with_line(FIRST_SAMPLE, record))


def test_sample_times_that_go_backwards_are_refused(tmp_path):
    later = [i for i, ln in enumerate(LINES) if ln.startswith('{"type":"s"')][5]
    message = _refused(tmp_path, _with_line(later, _sample(t=0.0)))
    assert f"line {later + 1}: bad 's' record ('t': expected a time at or after" in message


def test_bad_event_and_header_numbers_are_refused(tmp_path):
    event = json.loads(LINES[FIRST_EVENT])
    message = _refused(tmp_path, _with_line(FIRST_EVENT, {**event, "t_s": "soon"}))
    assert f"line {FIRST_EVENT + 1}: bad 'event' record ('t_s': expected a finite" in message
    message = _refused(tmp_path, _with_line(FIRST_EVENT, {**event, "values": {"x": "big"}}))
    assert "'values.x': expected a number or null, got 'big'" in message
    header = json.loads(LINES[0])
    header["calibration"] = {"noise_floor_mm": -1}
    message = _refused(tmp_path, _with_line(0, header))
    assert "line 1: 'calibration.noise_floor_mm': expected a finite number between 0" in message


def test_null_event_values_stay_valid_as_not_measured(tmp_path):
    event = json.loads(LINES[FIRST_EVENT])
    data = _with_line(FIRST_EVENT, {**event, "values": {"angle_deg": None}})
    rec = parse_recording(data, tmp_path / "ok.jsonl")
    assert math.isnan(rec.events[0].value("angle_deg"))


def test_non_utf8_and_overlong_lines_are_refused(tmp_path):
    data = SHORT.replace(LINES[FIRST_SAMPLE].encode(), b'{"type":"s","t":\xff}', 1)
    assert f"line {LINE}: not UTF-8 text" in _refused(tmp_path, data)
    huge = _sample(meta="x" * MAX_LINE_BYTES)
    message = _refused(tmp_path, _with_line(FIRST_SAMPLE, huge))
    assert f"line {LINE}: " in message and "bytes long (expected at most 1048576)" in message


def test_a_torn_last_line_is_still_ignored(tmp_path):
    p = tmp_path / "torn.jsonl"
    data = SHORT + b'{"type":"s","t":99.0,"p":[NaN'
    p.write_bytes(data)
    rec = parse_recording(data, p)
    assert rec.truncated and rec.items == parse_recording(SHORT, p).items
    assert IndexedRecording(p).truncated


def test_a_recording_sampled_below_the_tremor_band_still_scores(tmp_path):
    # SHORT keeps every 8th sample (7.5 Hz): too slow for the live 4-12 Hz tremor filter,
    # which used to stop `procsim score` with a traceback from the filter design.
    p = tmp_path / "slow.jsonl"
    p.write_bytes(SHORT)
    rc, out, err = run_cli(["score", "--json", str(p)])
    assert rc in (0, 1) and err == ""
    assert finite_json(out)["scenario"] == "venipuncture"


def _assert_recording_finite(rec: Recording) -> None:
    for item in rec.items:
        assert_finite([getattr(item, f) for f in item.__dataclass_fields__ if f != "kind"])
    for e in rec.events:  # event values may be NaN: written as null, "not measured"
        assert math.isfinite(e.t_s)
        assert all(math.isfinite(v) or math.isnan(v) for _, v in e.values)
    assert_finite([c.t_s for c in rec.cues])
    assert_finite(rec.result)
    assert_finite(rec.header)


RECORDING_EXAMPLES = 100


@settings(FUZZ, max_examples=RECORDING_EXAMPLES)
@given(mutated(SHORT))
def test_fuzz_recording_readers_and_score_give_one_line_or_finite_numbers(data: bytes):
    p = _DIR / "fuzz.jsonl"
    p.write_bytes(data)
    try:
        rec: Recording | None = parse_recording(data, p)
    except RecordingError as exc:
        rec = None
        message = str(exc)
        assert "\n" not in message and message.startswith(str(p))
    # The columnar form (the replay's) agrees with the line-by-line one.
    try:
        tl: IndexedRecording | None = IndexedRecording(p)
    except RecordingError as exc:
        tl = None
        assert rec is not None or str(exc) == message
        assert rec is None or "no samples to replay" in str(exc)
    assert rec is not None or tl is None
    if rec is not None:
        _assert_recording_finite(rec)
    if tl is not None and rec is not None:
        samples = rec.samples
        assert np.array_equal(tl.t, [s.t_s for s in samples])
        assert np.array_equal(tl.pos, [s.tip_mm for s in samples])
        assert np.all(np.isfinite(tl.axis)) and np.all(np.isfinite(tl.grip))
    rc, out, err = run_cli(["score", "--json", str(p)])
    event("refused" if rc == 2 else "scored")
    if rc == 2:
        assert_one_clean_line(err, p)
    else:
        assert rc in (0, 1) and err == "", err  # 1: the re-score differs from the stored one
        result = finite_json(out)
        assert 0.0 <= result["score"] <= 100.0
