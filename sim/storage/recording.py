"""The recording format: JSON Lines, append-only and crash-safe. See docs/recording-format.md.

Line 1 is the header; every later line is one record (sample, action, event, cue, result,
end). The writer flushes and fsyncs at least every ``FLUSH_S`` seconds, so a crash loses at
most that much; a reader ignores a torn last line.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from sim import __version__
from sim.core.assist import DEPTH_MODES, DepthAssist
from sim.core.records import Action, ActionKind, Cue, Event, Item, Sample, Vec3, action_kind
from sim.core.scenario import Scenario, ScenarioError
from sim.errors import read_bytes
from sim.metrics.noise import InputNoise
from sim.metrics.noise import check_header as check_noise
from sim.scenarios import embedded_cases, parse_scenario

FloatArray = NDArray[np.float64]

FORMAT = "procsim-recording"
FORMAT_VERSION = 1
FLUSH_S = 0.25

MAX_LINE_BYTES = 1_048_576
"""Longest line a reader accepts (1 MiB). The longest real lines are the header, which
carries the scenario's text (at most 64 KiB, at most three times that once JSON-escaped),
and samples with 63 raw tracker numbers (under 2 kB)."""
MAX_POSITION_MM = 1e6
"""Largest magnitude of a recorded coordinate (our choice: 1 km, far beyond any tracker)."""
MAX_TIME_S = 1e7
"""Largest magnitude of a recorded time (our choice: about 115 days)."""
MAX_RAW = 1e6
"""Largest magnitude of a raw tracker number (our choice)."""
MAX_NOISE_FLOOR_MM = 100.0
"""Largest calibration noise floor a header may carry (our choice)."""
UNIT_TOL = 0.01
"""How far from 1 the length of a recorded direction may be (the writers store unit
vectors, up to rounding)."""


class RecordingError(ValueError):
    """A recording cannot be read (one-line message naming the file and line)."""


def make_header(
    scenario: Scenario,
    *,
    trainee: str = "anonymous",
    station: str = "",
    input_kind: str = "mouse",
    calibration: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The header of a new recording. The scenario file's text travels with it."""
    return {
        "type": "header",
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": __version__,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scenario": scenario.id,
        "scenario_hash": scenario.content_hash,
        "scenario_toml": Path(scenario.path).read_text("utf-8")
        if Path(scenario.path).is_file()
        else "",
        **({"patient_toml": scenario.patient.text} if scenario.patient else {}),
        **(
            {"default_patient_toml": scenario.default_patient.text}
            if scenario.default_patient
            else {}
        ),
        "trainee": trainee,
        "station": station,
        "input": input_kind,
        "calibration": calibration or {"noise_floor_mm": 0.0},
        "meta": meta or {},
    }


SESSION_NAMESPACE = uuid.UUID("6f1d3c1e-6a53-4c0e-9d0b-7b1f0c6a2f11")
"""Namespace of the UUIDs derived from a recording's bytes (stable across stations)."""


def session_id_for(header: Mapping[str, Any], data: bytes) -> str:
    """The session's UUID: the one the app put in the header, else derived from the
    recording's bytes (so importing the same file twice, anywhere, gives the same id)."""
    meta = header.get("meta") if isinstance(header.get("meta"), dict) else {}
    for cand in (header.get("session_id"), (meta or {}).get("session_id")):
        if isinstance(cand, str):
            try:
                return str(uuid.UUID(cand))
            except ValueError:
                pass
    return str(uuid.uuid5(SESSION_NAMESPACE, hashlib.sha256(data).hexdigest()))


def _num(v: float) -> float | None:
    return None if math.isnan(v) else v


def item_record(item: Item) -> dict[str, Any]:
    """The JSON record of a sample or action."""
    if isinstance(item, Action):
        kind = item.kind.value if isinstance(item.kind, ActionKind) else item.kind
        return {"type": "action", "t": item.t_s, "kind": kind}
    rec: dict[str, Any] = {
        "type": "s",
        "t": item.t_s,
        "p": list(item.tip_mm),
        "a": list(item.axis),
        "n": list(item.normal),
        "g": item.grip,
        "k": 1 if item.tracked else 0,
    }
    if item.raw is not None:
        rec["raw"] = list(item.raw)
    return rec


def _number(rec: dict[str, Any], key: str, lo: float, hi: float) -> float:
    """``rec[key]`` if it is a finite number in ``lo``-``hi``, else ValueError saying so."""
    return _check_number(rec[key], f"'{key}'", lo, hi)


def _check_number(v: object, what: str, lo: float, hi: float) -> float:
    expected = f"{what}: expected a finite number between {lo:g} and {hi:g}"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{expected}, got {_short(v)}")
    try:
        f = float(v)
    except OverflowError:
        raise ValueError(f"{expected}, got {_short(v)}") from None
    if not (math.isfinite(f) and lo <= f <= hi):
        raise ValueError(f"{expected}, got {_short(v)}")
    return f


def _short(v: object, limit: int = 40) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _vec(rec: dict[str, Any], key: str, limit: float, unit: bool = False) -> Vec3:
    v = rec[key]
    if not isinstance(v, list) or len(v) != 3:
        raise ValueError(f"'{key}': expected a list of 3 numbers, got {_short(v)}")
    x, y, z = (_check_number(c, f"'{key}'", -limit, limit) for c in v)
    if unit and abs(math.sqrt(x * x + y * y + z * z) - 1.0) > UNIT_TOL:
        raise ValueError(f"'{key}': expected a unit vector, got {_short(v)}")
    return (x, y, z)


def parse_item(rec: dict[str, Any]) -> Item:
    """Inverse of :func:`item_record`; ValueError (or KeyError for a missing key) when a
    number is not finite or outside its range."""
    t = _number(rec, "t", -MAX_TIME_S, MAX_TIME_S)
    if rec["type"] == "action":
        return Action(t, action_kind(rec["kind"]))
    raw = rec.get("raw")
    if raw is not None and not isinstance(raw, list):
        raise ValueError(f"'raw': expected a list of numbers, got {_short(raw)}")
    tracked = rec["k"]
    if tracked not in (0, 1) or isinstance(tracked, float):
        raise ValueError(f"'k': expected 0 or 1, got {_short(tracked)}")
    return Sample(
        t_s=t,
        tip_mm=_vec(rec, "p", MAX_POSITION_MM),
        axis=_vec(rec, "a", 1.0 + UNIT_TOL, unit=True),
        normal=_vec(rec, "n", 1.0 + UNIT_TOL, unit=True),
        grip=_number(rec, "g", 0.0, 1.0),
        tracked=bool(tracked),
        raw=tuple(_check_number(x, "'raw'", -MAX_RAW, MAX_RAW) for x in raw)
        if raw is not None
        else None,
    )


def _finite_json(obj: Any, what: str) -> None:
    """ValueError if any number in the parsed JSON ``obj`` is infinite (a number too large
    for a float, such as 1e400, parses as infinity) or an integer beyond 2**53."""
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"{what}: a number out of range")
    elif isinstance(obj, int) and not isinstance(obj, bool):
        if abs(obj) > 2**53:
            raise ValueError(f"{what}: an integer out of range")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _finite_json(v, f"'{k}'")
    elif isinstance(obj, list):
        for v in obj:
            _finite_json(v, what)


def parse_event(rec: dict[str, Any]) -> Event:
    """An event record read back (its values are numbers, or null for "not measured")."""
    _finite_json(rec, "event")
    _number(rec, "t_s", -MAX_TIME_S, MAX_TIME_S)
    values = rec.get("values")
    if values is not None and not isinstance(values, dict):
        raise ValueError(f"'values': expected an object, got {_short(values)}")
    for k, v in (values or {}).items():
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise ValueError(f"'values.{k}': expected a number or null, got {_short(v)}")
    return Event.from_dict(rec)


def parse_cue(rec: dict[str, Any]) -> Cue:
    """A cue record read back."""
    _finite_json(rec, "cue")
    _number(rec, "t_s", -MAX_TIME_S, MAX_TIME_S)
    if isinstance(rec["priority"], bool) or not isinstance(rec["priority"], int):
        raise ValueError(f"'priority': expected an integer, got {_short(rec['priority'])}")
    return Cue.from_dict(rec)


def check_result(rec: dict[str, Any]) -> dict[str, Any]:
    """A result record, if its numbers are finite and its score and pass mark are 0-100."""
    _finite_json(rec, "result")
    for key in ("score", "pass_score"):
        if key in rec:
            _number(rec, key, 0.0, 100.0)
    if not isinstance(rec.get("metrics", {}), dict):
        raise ValueError(f"'metrics': expected an object, got {_short(rec['metrics'])}")
    return rec


class RecordingWriter:
    """Appends records to a recording file, flushing at least every ``flush_s`` seconds.

    Use as a context manager; :meth:`close` writes the end record (``complete`` False for a
    session that was interrupted). The file is created with mode 0600 (folders 0700). The
    raw hand landmarks of webcam samples (``raw``, 63 numbers: biometric data) are written
    only with ``keep_raw`` (the station config's ``keep_raw_landmarks``); no metric needs
    them (docs/store.md, "Raw landmarks").
    """

    def __init__(
        self,
        path: str | Path,
        header: dict[str, Any],
        flush_s: float = FLUSH_S,
        *,
        keep_raw: bool = False,
    ):
        from sim.paths import open_private, private_dir

        self.path = Path(path)
        private_dir(self.path.parent)
        self._f: IO[str] | None = open_private(self.path, "x", encoding="utf-8")
        self.keep_raw = keep_raw
        self.flush_s = flush_s
        self._last_flush = time.monotonic()
        self._write(header)
        self.flush()

    def _write(self, rec: dict[str, Any]) -> None:
        assert self._f is not None, "recording already closed"
        self._f.write(json.dumps(rec, separators=(",", ":"), allow_nan=False) + "\n")

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        """Push everything written so far to the disk."""
        if self._f is not None:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._last_flush = time.monotonic()

    def item(self, item: Item) -> None:
        rec = item_record(item)
        if not self.keep_raw:
            rec.pop("raw", None)  # biometric: kept only when the station says so
        self._write(rec)
        self._maybe_flush()

    def events(self, events: Sequence[Event]) -> None:
        for e in events:
            self._write({"type": "event", **_clean(e.as_dict())})
        if events:
            self._maybe_flush()

    def cues(self, cues: Sequence[Cue]) -> None:
        for c in cues:
            self._write({"type": "cue", **c.as_dict()})
        if cues:
            self._maybe_flush()

    def result(self, result: dict[str, Any]) -> None:
        self._write({"type": "result", **_clean(result)})
        self.flush()

    def close(self, complete: bool = True) -> None:
        if self._f is None:
            return
        self._write({"type": "end", "complete": complete})
        self.flush()
        self._f.close()
        self._f = None

    @property
    def closed(self) -> bool:
        return self._f is None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.close(complete=exc_type is None)


def strip_raw(data: bytes) -> bytes:
    """A recording's bytes without the raw hand landmarks of its samples (``raw``), every
    other line byte for byte. When there were any, the header gains ``meta.session_id`` (the
    id of the original, :func:`session_id_for`) and ``meta.raw_removed``, so that the
    stripped file is still known as the same session."""
    if b'"raw"' not in data:
        return data
    lines = data.split(b"\n")
    out: list[bytes] = []
    removed = False
    for line in lines[1:]:
        if b'"raw"' in line:
            try:
                rec = json.loads(line)
            except ValueError:
                out.append(line)
                continue
            if isinstance(rec, dict) and rec.get("type") == "s" and "raw" in rec:
                del rec["raw"]
                line = json.dumps(rec, separators=(",", ":"), allow_nan=False).encode()
                removed = True
        out.append(line)
    if not removed:
        return data
    try:
        header = json.loads(lines[0])
    except ValueError:
        return data
    if not isinstance(header, dict):
        return data
    meta = dict(header.get("meta") or {}) if isinstance(header.get("meta"), dict) else {}
    meta["session_id"] = session_id_for(header, data)
    meta["raw_removed"] = True
    header["meta"] = meta
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return b"\n".join([head, *out])


def _clean(obj: Any) -> Any:
    """Replace NaN/inf (not valid JSON) by None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


class RecordingHeader:
    """What a recording's header tells (shared by :class:`Recording` and
    :class:`IndexedRecording`): its noise floor, input and scenario."""

    path: str
    header: dict[str, Any]

    @property
    def noise_floor_mm(self) -> float:
        """The tracker's calibrated noise floor, mm RMS (0 when none was recorded)."""
        cal = self.header.get("calibration") or {}
        return float(cal.get("noise_floor_mm", 0.0) or 0.0)

    @property
    def noise(self) -> InputNoise | None:
        """The tracker's noise per axis and needle angle from calibration, and the axes an
        assist set (None when the recording has none: mouse, skipped calibration, older
        recordings)."""
        return InputNoise.from_header(self.header.get("calibration") or {})

    @property
    def guided(self) -> frozenset[str]:
        """The quantities the recorded depth assist set instead of the hand (``{"z"}`` when
        the aim across the arm snapped to the vein; empty without an assist)."""
        cal = self.header.get("calibration") or {}
        return DepthAssist.from_dict(cal.get("depth_assist") or {}).guided

    @property
    def poor_conditions(self) -> tuple[str, ...]:
        """The poor tracking conditions the calibration found (``calibration.conditions
        .poor``: ``"dim"``, ``"blur"``... see :data:`sim.tracking.quality.POOR_WORDS`);
        empty when none were found or none were measured (mouse, skipped calibration,
        recordings made before the conditions were measured)."""
        cal = self.header.get("calibration") or {}
        return tuple((cal.get("conditions") or {}).get("poor") or ())

    @property
    def input_kind(self) -> str:
        """What drove the instrument ("mouse", "webcam", "video", "scripted")."""
        return str(self.header.get("input") or "mouse")

    def scenario(self) -> Scenario:
        """The scenario the recording was made with (from the text stored in the header, with
        the patient case's text stored beside it; by id for a header without it).
        :class:`RecordingError` if it does not load."""
        text = self.header.get("scenario_toml") or ""
        try:
            if text:
                return parse_scenario(
                    text.encode("utf-8"),
                    f"{self.path} (embedded scenario)",
                    case_text=embedded_cases(self.header)[0],
                    default_case_text=embedded_cases(self.header)[1],
                )
            from sim.scenarios import find_scenario

            return find_scenario(str(self.header.get("scenario")))
        except ScenarioError as exc:
            raise RecordingError(str(exc)) from None


@dataclass
class Recording(RecordingHeader):
    """A recording read back. ``complete`` is False for interrupted sessions; ``truncated``
    is True when a torn last line (a crash mid-write) was dropped."""

    path: str
    header: dict[str, Any]
    items: list[Item] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    result: dict[str, Any] | None = None
    complete: bool = False
    truncated: bool = False

    @property
    def samples(self) -> list[Sample]:
        return [i for i in self.items if isinstance(i, Sample)]


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number this format allows")


def loads(line: bytes | str) -> Any:
    """One JSON value; NaN and Infinity (not JSON, though Python writes them) are refused."""
    return json.loads(line, parse_constant=_reject_constant)


def is_torn(line: bytes) -> bool:
    """Whether ``line`` (the text after a file's last newline) is a record cut short: text
    that does not parse as JSON at all (a complete line with a bad number is not torn)."""
    try:
        json.loads(line)
    except (UnicodeDecodeError, RecursionError, json.JSONDecodeError):
        return True
    except ValueError:  # an integer of thousands of digits: complete, but refused later
        return False
    return False


def split_lines(data: bytes) -> list[bytes]:
    """The lines of a recording's bytes; any newline convention is accepted, as text-mode
    reading would. The last element is the text after the last newline (a torn line)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")


def _records(data: bytes, p: str) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line number, record) for each line of ``data`` (the file ``p``); record None for a
    torn last line."""
    lines = split_lines(data)
    last = len(lines)
    for no, line in enumerate(lines, start=1):
        if not line:
            continue
        if len(line) > MAX_LINE_BYTES:
            raise RecordingError(
                f"{p}: line {no}: {len(line)} bytes long (expected at most {MAX_LINE_BYTES})"
            )
        if no == last and is_torn(line):  # no newline after it: torn by a crash
            yield no, None
            return
        try:
            rec = loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            if isinstance(exc, UnicodeDecodeError):
                raise RecordingError(
                    f"{p}: line {no}: not UTF-8 text (not a procsim recording)"
                ) from None
            raise RecordingError(f"{p}: line {no}: not valid JSON (corrupt recording)") from None
        except ValueError as exc:  # NaN or Infinity, or an integer of thousands of digits
            raise RecordingError(f"{p}: line {no}: not valid JSON ({exc})") from None
        if not isinstance(rec, dict) or "type" not in rec:
            raise RecordingError(f"{p}: line {no}: expected a JSON object with a 'type'")
        yield no, rec


def check_header(header: object, p: str) -> dict[str, Any]:
    """``header`` (line 1 of the recording ``p``, parsed) if it is a header this version
    reads, else :class:`RecordingError` saying what is wrong."""
    if (
        not isinstance(header, dict)
        or header.get("type") != "header"
        or header.get("format") != FORMAT
    ):
        raise RecordingError(f"{p}: line 1: expected a procsim recording header")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise RecordingError(
            f"{p}: format_version {_short(version)} is not supported (expected <= {FORMAT_VERSION})"
        )
    for key in (
        "scenario",
        "scenario_toml",
        "patient_toml",
        "default_patient_toml",
        "input",
        "trainee",
        "station",
    ):
        if not isinstance(header.get(key, ""), str):
            raise RecordingError(f"{p}: line 1: '{key}': expected a string")
    cal = header.get("calibration", {})
    if cal is not None and not isinstance(cal, dict):
        raise RecordingError(f"{p}: line 1: 'calibration': expected an object")
    floor = (cal or {}).get("noise_floor_mm")
    if floor is not None:
        try:
            _check_number(floor, "'calibration.noise_floor_mm'", 0.0, MAX_NOISE_FLOOR_MM)
        except ValueError as exc:
            raise RecordingError(f"{p}: line 1: {exc}") from None
    bad = check_noise(cal or {})
    assist = (cal or {}).get("depth_assist")
    if assist is not None and (
        not isinstance(assist, dict) or assist.get("mode", "camera") not in DEPTH_MODES
    ):
        bad = "'calibration.depth_assist': expected an object with mode " + ", ".join(DEPTH_MODES)
    cond = (cal or {}).get("conditions")
    if cond is not None and (
        not isinstance(cond, dict)
        or not isinstance(cond.get("poor", []), list)
        or not all(isinstance(n, str) for n in cond.get("poor", []))
    ):
        bad = "'calibration.conditions': expected an object with 'poor', a list of names"
    if bad is not None:
        raise RecordingError(f"{p}: line 1: {bad}")
    return header


def _read_record(rec: Recording | IndexedRecording, kind: str, r: dict[str, Any]) -> None:
    """An event, cue, result or end record ``r`` read into ``rec`` (a record of another
    kind is ignored); ValueError, KeyError or TypeError when it is bad."""
    if kind == "event":
        rec.events.append(parse_event(r))
    elif kind == "cue":
        rec.cues.append(parse_cue(r))
    elif kind == "result":
        rec.result = check_result(r)
    elif kind == "end":
        rec.complete = bool(r.get("complete"))


def load_recording(path: str | Path) -> Recording:
    """Read and parse a recording file (see :func:`parse_recording`)."""
    p = Path(path)
    return parse_recording(read_bytes(p, "recording", RecordingError), p)


def parse_recording(data: bytes, path: str | Path) -> Recording:
    """Parse the bytes ``data`` of the recording file ``path`` (named in messages).

    Raises :class:`RecordingError` with a one-line message naming the file and line.
    """
    p = str(path)
    recs = _records(data, p)
    try:
        _, header = next(recs)
    except StopIteration:
        raise RecordingError(f"{p}: empty file (expected a procsim recording)") from None
    rec = Recording(p, check_header(header, p))
    last_t = {"s": -math.inf, "action": -math.inf}
    for no, r in recs:
        if r is None:
            rec.truncated = True
            break
        kind = r["type"]
        try:
            if kind in ("s", "action"):
                item = parse_item(r)
                if item.t_s < last_t[kind]:
                    raise ValueError(
                        f"'t': expected a time at or after the previous "
                        f"{'sample' if kind == 's' else 'action'}'s ({last_t[kind]:g}), "
                        f"got {item.t_s:g}"
                    )
                last_t[kind] = item.t_s
                rec.items.append(item)
            else:
                _read_record(rec, kind, r)
        except (KeyError, ValueError, TypeError) as exc:
            why = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            why = why if len(why) <= 200 else why[:197] + "..."
            raise RecordingError(f"{p}: line {no}: bad '{kind}' record ({why})") from None
    return rec


class RecordingSource:
    """Plays a recording back as a source of items (samples and actions, in order)."""

    input_kind = "recording"

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def __iter__(self) -> Iterator[Item]:
        return iter(self.recording.items)


_SAMPLE_PREFIX = b'{"type":"s","t":'
# In a sample line (the writer's fixed layout: t, p, a, n, g, k), every byte that is not part
# of a number or a separator becomes a space, leaving 12 comma-separated numbers.
_NUMBERS_ONLY = bytes.maketrans(b'"pangk:[]}', b" " * 10)
_COLUMNS = 12
_NUM = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_VEC = rb"\[" + _NUM + rb"," + _NUM + rb"," + _NUM + rb"\]"
_LINE = (
    rb'\{"type":"s","t":'
    + _NUM
    + rb',"p":'
    + _VEC
    + rb',"a":'
    + _VEC
    + rb',"n":'
    + _VEC
    + rb',"g":'
    + _NUM
    + rb',"k":[01]\}'
)
_STANDARD_LINES = re.compile(rb"(?:" + _LINE + rb"\n)*" + _LINE)
"""Sample lines exactly in the writer's layout (one per line), numbers as JSON writes them."""


def _columns_ok(cols: FloatArray) -> bool:
    """Whether sample columns hold what :func:`parse_item` accepts."""
    if not np.all(np.isfinite(cols)):
        return False
    ax_len = np.linalg.norm(cols[:, 4:7], axis=1)
    nm_len = np.linalg.norm(cols[:, 7:10], axis=1)
    return bool(
        np.all(np.abs(cols[:, 0]) <= MAX_TIME_S)
        and np.all(np.abs(cols[:, 1:4]) <= MAX_POSITION_MM)
        and np.all(np.abs(ax_len - 1.0) <= UNIT_TOL)
        and np.all(np.abs(nm_len - 1.0) <= UNIT_TOL)
        and np.all((cols[:, 10] >= 0.0) & (cols[:, 10] <= 1.0))
    )


class IndexedRecording(RecordingHeader):
    """A recording read for random access: the samples as arrays, any item on demand.

    The fast form of :func:`parse_recording` for long recordings (the replay opens them):
    samples written in the writer's own layout are parsed all at once (one pass over the
    bytes, no JSON object per sample) into the arrays ``t``, ``pos``, ``axis``, ``normal``,
    ``grip`` and ``tracked``, and checked as :func:`parse_item` checks them; events, cues
    and actions are parsed as :func:`parse_recording` parses them. A recording that does
    not read this way is read by :func:`parse_recording`, so that it is refused with the
    same one line naming the file and the bad line.

    Parameters
    ----------
    path : str or Path
        The recording file (named in messages).
    data : bytes, optional
        Its contents, if already read.

    Attributes
    ----------
    header : dict
        The recording's header.
    events, cues : list
        The recorded events and cue changes, in order.
    result : dict or None
        The result record.
    complete, truncated : bool
        As in :class:`Recording`.
    item_t : (m,) float array
        Times of the items (samples and actions) in recording order.

    Raises
    ------
    RecordingError
        A recording :func:`parse_recording` refuses, or one with no samples.
    """

    def __init__(self, path: str | Path, data: bytes | None = None) -> None:
        self.path = str(path)
        if data is None:
            data = read_bytes(Path(path), "recording", RecordingError)
        self._data: bytes | None = data
        lines = split_lines(data)
        if any(len(ln) > MAX_LINE_BYTES for ln in lines):
            self._refuse()
        self.truncated = False
        if lines and lines[-1] and is_torn(lines[-1]):  # no newline at the end: a crash
            lines.pop()
            self.truncated = True
        lines = [ln for ln in lines if ln]
        if not lines:  # empty, or nothing but a torn header
            self._refuse()
        try:
            header = loads(lines[0])
        except (ValueError, UnicodeDecodeError, RecursionError):
            self._refuse()
        if not isinstance(header, dict) or "type" not in header:
            self._refuse()
        self.header: dict[str, Any] = check_header(header, self.path)
        self._lines: list[bytes] = []  # sample lines, as written
        self._items: list[int | dict[str, Any]] = []  # sample index, or an action record
        self.events: list[Event] = []
        self.cues: list[Cue] = []
        self.result: dict[str, Any] | None = None
        self.complete = False
        standard = True  # every sample line in the writer's own layout
        action_t = -math.inf
        try:
            for ln in lines[1:]:
                if ln.startswith(_SAMPLE_PREFIX) and ln.endswith(b"}"):
                    self._items.append(len(self._lines))
                    self._lines.append(ln)
                    continue
                r = loads(ln)
                kind = r["type"]
                if kind == "s":  # a sample written some other way: keep it exact
                    standard = False
                    self._items.append(len(self._lines))
                    self._lines.append(ln)
                elif kind == "action":
                    a = parse_item(r)
                    if a.t_s < action_t:
                        raise ValueError("actions out of order")
                    action_t = a.t_s
                    self._items.append(r)
                else:
                    _read_record(self, kind, r)
        except (UnicodeDecodeError, RecursionError, KeyError, ValueError, TypeError):
            self._refuse()
        if not self._lines:
            raise RecordingError(f"{self.path}: the recording has no samples to replay")
        # Every sample's numbers, parsed and checked now, so that a bad number is reported
        # (by line) at once rather than when that sample is reached.
        self._has_raw = any(b'"raw"' in ln for ln in self._lines)
        cols = self._parse_columns(standard)
        self.t: FloatArray = cols[:, 0].copy()
        self.pos: FloatArray = cols[:, 1:4].copy()
        """(n, 3) tip positions, mm."""
        self.axis: FloatArray = cols[:, 4:7].copy()
        """(n, 3) needle direction at the tip (unit)."""
        self.normal: FloatArray = cols[:, 7:10].copy()
        """(n, 3) roll vector (unit)."""
        self.grip: FloatArray = cols[:, 10].copy()
        """(n,) grip closure, 0-1."""
        self.tracked: NDArray[np.bool_] = cols[:, 11] != 0
        """(n,) whether the hand was tracked."""
        if np.any(np.diff(self.t) < 0):
            self._refuse()
        self.item_t: FloatArray = np.array(
            [self.t[x] if isinstance(x, int) else float(x["t"]) for x in self._items],
            dtype=np.float64,
        )
        self._lists: tuple[list[Any], ...] | None = None
        self._data = None  # the lines hold what is needed from here on

    def _refuse(self) -> NoReturn:
        """Raise the line-by-line reader's one-line error (it names the bad line)."""
        if self._data is None:
            load_recording(self.path)
        else:
            parse_recording(self._data, self.path)
        raise RecordingError(f"{self.path}: corrupt recording")

    def _parse_columns(self, standard: bool) -> FloatArray:
        """(n, 12) columns t, pos, axis, normal, grip, tracked of every sample, checked as
        :func:`parse_item` checks them: at once when every sample line is in the writer's
        own layout (matches :data:`_STANDARD_LINES`, so its numbers are exactly JSON's),
        else line by line."""
        n = len(self._lines)
        if standard and _STANDARD_LINES.fullmatch(b"\n".join(self._lines)):
            body = b",".join(ln[len(_SAMPLE_PREFIX) :] for ln in self._lines)
            flat = np.array(body.translate(_NUMBERS_ONLY).split(b","), dtype=np.float64)
            cols = flat.reshape(n, _COLUMNS)
            if not _columns_ok(cols):
                self._refuse()
            return cols
        rows = []
        for i in range(n):
            s = self.sample(i)
            rows.append([s.t_s, *s.tip_mm, *s.axis, *s.normal, s.grip, float(s.tracked)])
        return np.array(rows, dtype=np.float64).reshape(n, _COLUMNS)

    @property
    def n(self) -> int:
        """Number of samples."""
        return len(self._lines)

    @property
    def n_items(self) -> int:
        """Number of items (samples and actions)."""
        return len(self._items)

    def sample(self, i: int) -> Sample:
        """Sample ``i`` exactly as recorded (parsed from its own line)."""
        try:
            item = parse_item(loads(self._lines[i]))
        except (UnicodeDecodeError, RecursionError, KeyError, ValueError, TypeError):
            self._refuse()
        assert isinstance(item, Sample)
        return item

    def item(self, j: int) -> Item:
        """Item ``j`` (sample or action), in recording order."""
        x = self._items[j]
        return self.sample(x) if isinstance(x, int) else parse_item(x)

    def items_from(self, j: int) -> Iterator[Item]:
        """Items from ``j`` on, in order: built from the arrays (the same numbers the lines
        hold) unless samples carry raw tracker data, which only the lines have."""
        if self._has_raw:
            for k in range(j, len(self._items)):
                yield self.item(k)
            return
        if self._lists is None:
            self._lists = (
                self.t.tolist(),
                self.pos.tolist(),
                self.axis.tolist(),
                self.normal.tolist(),
                self.grip.tolist(),
                self.tracked.tolist(),
            )
        t, pos, ax, nm, grip, tr = self._lists
        items = self._items
        for k in range(j, len(items)):
            x = items[k]
            if isinstance(x, int):
                yield Sample(t[x], tuple(pos[x]), tuple(ax[x]), tuple(nm[x]), grip[x], tr[x])
            else:
                yield parse_item(x)
