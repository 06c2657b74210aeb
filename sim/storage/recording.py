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
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sim import __version__
from sim.core.records import Action, ActionKind, Cue, Event, Item, Sample
from sim.core.scenario import Scenario, ScenarioError, parse_scenario
from sim.errors import read_bytes

FORMAT = "procsim-recording"
FORMAT_VERSION = 1
FLUSH_S = 0.25


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
        return {"type": "action", "t": item.t_s, "kind": item.kind.value}
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


def _vec(v: Any) -> tuple[float, float, float]:
    if not isinstance(v, list) or len(v) != 3:
        raise ValueError("expected a list of 3 numbers")
    return (float(v[0]), float(v[1]), float(v[2]))


def parse_item(rec: dict[str, Any]) -> Item:
    """Inverse of :func:`item_record`."""
    if rec["type"] == "action":
        return Action(float(rec["t"]), ActionKind(rec["kind"]))
    raw = rec.get("raw")
    return Sample(
        t_s=float(rec["t"]),
        tip_mm=_vec(rec["p"]),
        axis=_vec(rec["a"]),
        normal=_vec(rec["n"]),
        grip=float(rec["g"]),
        tracked=bool(rec["k"]),
        raw=tuple(float(x) for x in raw) if raw is not None else None,
    )


class RecordingWriter:
    """Appends records to a recording file, flushing at least every ``flush_s`` seconds.

    Use as a context manager; :meth:`close` writes the end record (``complete`` False for a
    session that was interrupted).
    """

    def __init__(self, path: str | Path, header: dict[str, Any], flush_s: float = FLUSH_S):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f: IO[str] | None = open(self.path, "x", encoding="utf-8")  # noqa: SIM115
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
        self._write(item_record(item))
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


def _clean(obj: Any) -> Any:
    """Replace NaN/inf (not valid JSON) by None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


@dataclass
class Recording:
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

    @property
    def noise_floor_mm(self) -> float:
        return float(self.header.get("calibration", {}).get("noise_floor_mm", 0.0) or 0.0)

    @property
    def input_kind(self) -> str:
        """What drove the instrument ("mouse", "webcam", "video", "scripted")."""
        return str(self.header.get("input") or "mouse")

    def scenario(self) -> Scenario:
        """The scenario the recording was made with (from the text stored in the header)."""
        text = self.header.get("scenario_toml") or ""
        if not text:
            from sim.core.scenario import find_scenario

            return find_scenario(str(self.header.get("scenario")))
        try:
            return parse_scenario(text.encode("utf-8"), f"{self.path} (embedded scenario)")
        except ScenarioError as exc:
            raise RecordingError(str(exc)) from None


def _records(data: bytes, p: str) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line number, record) for each line of ``data`` (the file ``p``); record None for a
    torn last line. Any newline convention is accepted, as text-mode reading would."""
    lines = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    last = len(lines)
    for no, line in enumerate(lines, start=1):
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if no == last:  # no newline after it: torn by a crash
                yield no, None
                return
            raise RecordingError(f"{p}: line {no}: not valid JSON (corrupt recording)") from None
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
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RecordingError(
            f"{p}: format_version {version!r} is not supported (expected <= {FORMAT_VERSION})"
        )
    return header


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
    except UnicodeDecodeError:
        raise RecordingError(f"{p}: not a procsim recording (binary data)") from None
    rec = Recording(p, check_header(header, p))
    try:
        for no, r in recs:
            if r is None:
                rec.truncated = True
                break
            kind = r["type"]
            try:
                if kind in ("s", "action"):
                    rec.items.append(parse_item(r))
                elif kind == "event":
                    rec.events.append(Event.from_dict(r))
                elif kind == "cue":
                    rec.cues.append(Cue.from_dict(r))
                elif kind == "result":
                    rec.result = r
                elif kind == "end":
                    rec.complete = bool(r.get("complete"))
            except (KeyError, ValueError, TypeError) as exc:
                raise RecordingError(f"{p}: line {no}: bad '{kind}' record ({exc})") from None
    except UnicodeDecodeError:
        raise RecordingError(f"{p}: not a procsim recording (binary data)") from None
    return rec


class RecordingSource:
    """Plays a recording back as a source of items (samples and actions, in order)."""

    input_kind = "recording"

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def __iter__(self) -> Iterator[Item]:
        return iter(self.recording.items)
