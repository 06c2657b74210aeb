"""Ingest: a recording file turned into the rows the store keeps for one session.

:func:`session_from_recording` reads a recording (finished or interrupted) and builds its
:class:`NewSession`: the ``sessions`` row (score, outcome, the recording itself, gzipped) and
one ``session_metrics`` row per metric. :class:`sim.lab.store.Store` inserts it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import UserError, read_bytes
from sim.lab.schema import exam_of, utc_now
from sim.metrics.scoring import ScoreResult
from sim.storage.recording import (
    Recording,
    RecordingError,
    _clean,
    parse_recording,
    session_id_for,
    strip_raw,
)


@dataclass(frozen=True, slots=True)
class NewSession:
    """Everything stored for one session, ready to insert (``row`` maps column names)."""

    row: Mapping[str, Any]
    metrics: tuple[Mapping[str, Any], ...]

    @property
    def id(self) -> str:
        return str(self.row["id"])


def _parse_time(s: object) -> dt.datetime | None:
    if not isinstance(s, str):
        return None
    try:
        return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


def session_from_recording(
    path: str | Path,
    *,
    trainee: str | None = None,
    display_name: str | None = None,
    station: str | None = None,
    notes: str | None = None,
    keep_raw: bool = False,
    today: ScoreResult | None = None,
    default_station: str | None = None,
) -> NewSession:
    """Build the stored form of a recording file (finished or interrupted).

    The station stored is ``station`` if given, else the one the recording names, else
    ``default_station`` (the station config's ``id`` where one is in use).

    A recording's own result is never trusted: it is re-scored by today's rules
    (:func:`sim.storage.session.rescore`), and today's score, outcome and metrics are
    stored. The score the recording claimed is kept beside it (``recorded_score``), and
    ``score_differs`` marks a recording whose result is not what today's re-score gives
    (another version's rules, or an edited file). An interrupted recording (no result, or no
    end record: a crash) is complete only if the procedure was done before it stopped.
    Without ``keep_raw`` the raw hand landmarks are stripped from the stored recording
    (:func:`sim.storage.recording.strip_raw`; the session id is the original's).

    ``today`` is for the app only: the result its own pipeline computed, in this process,
    for the recording it has just written; it is today's score by construction and is not
    computed a second time (the recording's result is still compared with it).
    """
    p = Path(path)
    data = read_bytes(p, "recording", RecordingError)
    rec = parse_recording(data, p)
    if station is None and not rec.header.get("station"):
        station = default_station
    return _session_from(rec, data, trainee, display_name, station, notes, keep_raw, today)


def _session_from(
    rec: Recording,
    data: bytes,
    trainee: str | None,
    display_name: str | None,
    station: str | None,
    notes: str | None,
    keep_raw: bool = False,
    today: ScoreResult | None = None,
) -> NewSession:
    from sim.storage.session import recorded_outcome, rescore, same_result, today_outcome

    h = rec.header
    sid = session_id_for(h, data)
    if not keep_raw:
        data = strip_raw(data)
    if today is None:
        again = rescore(rec)
        now, recorded, differs = again.today, again.recorded, again.differs
        result: dict[str, Any] = _clean(again.result.as_dict())
    else:
        now, recorded = today_outcome(today), recorded_outcome(rec)
        result = _clean(today.as_dict())
        differs = rec.result is not None and not same_result(today, rec)
    empty = now.empty
    # interrupted (no result): complete only if the procedure was done before it stopped
    complete = now.complete and (rec.result is not None or rec.complete)
    meta = h.get("meta") if isinstance(h.get("meta"), dict) else {}
    started = _parse_time(h.get("created_utc")) or utc_now()
    duration = rec.items[-1].t_s if rec.items else 0.0
    trainee_id = (trainee or str(h.get("trainee") or "anonymous")).strip()
    if not trainee_id:
        raise UserError(f"{rec.path}: empty trainee id")
    name = display_name if display_name is not None else (meta or {}).get("display_name")
    crit = [e.get("kind", "") for e in result.get("critical_errors", []) if isinstance(e, dict)]
    row = {
        "id": sid,
        "trainee_id": trainee_id[:128],
        "display_name": str(name)[:256] if name else None,
        "station_id": str(station if station is not None else h.get("station") or "")[:128],
        "scenario": str(h.get("scenario", "")),
        "scenario_hash": str(h.get("scenario_hash", "")),
        "input_kind": str(h.get("input", "")),
        "started_utc": started,
        "ended_utc": started + dt.timedelta(seconds=round(duration)),
        "duration_s": float(duration),
        "score": float(result.get("score", 0.0)),
        "passed": bool(result.get("passed", False)),
        "complete": bool(complete),
        "empty": bool(empty),
        "critical_errors": json.dumps(crit),
        "result_json": json.dumps(result, allow_nan=False, sort_keys=True),
        "recording_gz": gzip.compress(data, compresslevel=6, mtime=0),
        "recording_sha256": hashlib.sha256(data).hexdigest(),
        "notes": notes,
        "recorded_score": recorded.score if recorded is not None else None,
        "score_differs": bool(differs),
        "poor_conditions": ",".join(rec.poor_conditions),
        "exam": exam_of(h),
    }
    metrics = []
    for name_, m in (result.get("metrics") or {}).items():
        if not isinstance(m, dict):
            continue
        metrics.append(
            {
                "session_id": row["id"],
                "name": str(name_),
                "value": _num(m.get("value")),
                "unit": str(m.get("unit", "")),
                "points": _num(m.get("points")),
                "weight": float(m.get("weight") or 0.0),
                "expert": _num(m.get("expert")),
                "novice": _num(m.get("novice")),
            }
        )
    return NewSession(row, tuple(metrics))


def _num(v: object) -> float | None:
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None
