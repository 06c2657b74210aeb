"""The session store: every finished or interrupted session, in SQLite or PostgreSQL.

One schema, written with SQLAlchemy Core, works on both. It is versioned (table
``procsim_schema``) and upgraded in place when a newer procsim opens an older database; see
``docs/store.md``. All SQL goes through SQLAlchemy with bound parameters, and the engines are
created with ``hide_parameters`` so that no value ever appears in an error message.

A station always writes to its own SQLite store first (:class:`Lab`), queues the session in
an outbox and pushes it to the lab server when it can (:meth:`Lab.sync`). Sessions are keyed
by a UUID, and the push is an insert-if-absent in one transaction per session, so a server
that is down, or drops in the middle of a sync, loses nothing and duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Connection, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from sim.errors import UserError, read_bytes
from sim.storage.recording import (
    FORMAT,
    Recording,
    RecordingError,
    _clean,
    parse_recording,
    session_id_for,
)

SCHEMA_VERSION = 3
"""Version of the schema this procsim writes (see :data:`MIGRATIONS`)."""

CONNECT_TIMEOUT_S = 5


class StoreError(UserError):
    """The database cannot be opened or used (message with the URL masked)."""


class StoreUnavailable(StoreError):
    """The database server cannot be reached right now."""


# --- URLs and secrets -----------------------------------------------------------------------
def parse_url(url: str) -> URL:
    """Parse and normalise a database URL (``postgresql://`` uses psycopg 3).

    Raises
    ------
    UserError
        For anything but a SQLite or PostgreSQL URL; the message never repeats the URL, which
        may hold a password.
    """
    try:
        u = make_url(url)
    except (ArgumentError, ValueError):
        raise UserError(
            "database URL not understood (expected e.g. sqlite:///path/sessions.sqlite or "
            "postgresql://user@host:5432/dbname)"
        ) from None
    backend = u.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend not in ("sqlite", "postgresql"):
        raise UserError(f"unsupported database '{backend}' (use sqlite or postgresql)")
    if backend == "postgresql" and u.get_driver_name() in ("", "psycopg2", "postgresql"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def _secret_keys(u: URL) -> list[str]:
    return [k for k in u.query if "pass" in k.lower() or "secret" in k.lower()]


def mask_url(url: str | URL) -> str:
    """The URL with any password (also ``?password=``) replaced by ``***``; safe to print."""
    try:
        u = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return "<database URL not understood>"
    keys = _secret_keys(u)
    if keys:
        u = u.update_query_dict({k: "***" for k in keys})
    return u.render_as_string(hide_password=True)


def _secrets(u: URL) -> list[str]:
    out = [u.password] if u.password else []
    for k in _secret_keys(u):
        v = u.query[k]
        out.extend([v] if isinstance(v, str) else list(v))
    return [str(s) for s in out if s]


def describe_error(exc: BaseException, secrets: Sequence[str] = ()) -> str:
    """One line for a database error: the driver's first line, any secret masked."""
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    msg = lines[0] if lines else type(orig).__name__
    for s in secrets:
        msg = msg.replace(s, "***")
    return msg


# --- schema ---------------------------------------------------------------------------------
metadata = MetaData()

schema_table = Table(
    "procsim_schema",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)


def _session_cols(version: int) -> list[Column[Any]]:
    cols: list[Column[Any]] = [
        Column("id", String(36), primary_key=True),
        Column("trainee_id", String(128), nullable=False),
        Column("display_name", String(256)),
        Column("station_id", String(128), nullable=False),
        Column("scenario", String(128), nullable=False),
        Column("scenario_hash", String(64), nullable=False),
        Column("input_kind", String(32), nullable=False),
        Column("started_utc", DateTime, nullable=False),
        Column("ended_utc", DateTime, nullable=False),
        Column("duration_s", Float, nullable=False),
        Column("score", Float, nullable=False),
        Column("passed", Boolean, nullable=False),
        Column("complete", Boolean, nullable=False),
        Column("critical_errors", Text, nullable=False),
        Column("result_json", Text, nullable=False),
        Column("recording_gz", LargeBinary, nullable=False),
        Column("recording_sha256", String(64), nullable=False),
        Column("stored_utc", DateTime, nullable=False),
    ]
    if version >= 2:
        cols.append(Column("notes", Text))
    if version >= 3:
        cols.append(Column("empty", Boolean, nullable=False, server_default=text("false")))
    return cols


def _metric_cols() -> list[Column[Any]]:
    return [
        Column(
            "session_id",
            String(36),
            ForeignKey("sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("name", String(64), primary_key=True),
        Column("value", Float),
        Column("unit", String(16), nullable=False),
        Column("points", Float),
        Column("weight", Float, nullable=False),
        Column("expert", Float),
        Column("novice", Float),
    ]


def _outbox_cols(version: int) -> list[Column[Any]]:
    cols: list[Column[Any]] = [
        Column("session_id", String(36), primary_key=True),
        Column("queued_utc", DateTime, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text),
    ]
    if version >= 3:
        cols.append(Column("replace_remote", Boolean, nullable=False, server_default=text("false")))
    return cols


sessions = Table("sessions", metadata, *_session_cols(SCHEMA_VERSION))
session_metrics = Table("session_metrics", metadata, *_metric_cols())
outbox = Table("outbox", metadata, *_outbox_cols(SCHEMA_VERSION))
"""The local sync outbox: sessions still to be pushed to the lab server."""


def _migrate_1(conn: Connection) -> None:
    """Schema 1: sessions, their metric values, the sync outbox."""
    m = MetaData()
    Table("sessions", m, *_session_cols(1))
    Table("session_metrics", m, *_metric_cols())
    Table("outbox", m, *_outbox_cols(1))
    m.create_all(conn)
    conn.execute(text("CREATE INDEX ix_sessions_trainee ON sessions (trainee_id)"))


def _migrate_2(conn: Connection) -> None:
    """Schema 2: instructor notes on a session; index for per-scenario learning curves."""
    conn.execute(text("ALTER TABLE sessions ADD COLUMN notes TEXT"))
    Index("ix_sessions_scenario_started", sessions.c.scenario, sessions.c.started_utc).create(conn)


def _migrate_3(conn: Connection) -> None:
    """Schema 3: the score contract. ``sessions.empty`` (no samples) is added, and
    ``sessions.complete``, which meant "the recording was closed normally", now means "the
    procedure was carried out to its end": it is derived again from each stored recording
    (:func:`sim.storage.session.recorded_outcome`). ``outbox.replace_remote`` marks a session to
    push in place of the server's copy (``sessions import --replace``)."""
    conn.execute(text("ALTER TABLE sessions ADD COLUMN empty BOOLEAN NOT NULL DEFAULT false"))
    conn.execute(
        text("ALTER TABLE outbox ADD COLUMN replace_remote BOOLEAN NOT NULL DEFAULT false")
    )
    t = Table("sessions", MetaData(), *_session_cols(3))
    ids = [str(r[0]) for r in conn.execute(select(t.c.id))]
    for sid in ids:
        data = conn.execute(select(t.c.recording_gz).where(t.c.id == sid)).scalar()
        complete, empty = _stored_outcome(bytes(data or b""), sid)
        conn.execute(update(t).where(t.c.id == sid).values(complete=complete, empty=empty))


def _stored_outcome(gz: bytes, sid: str) -> tuple[bool, bool]:
    """(complete, empty) of a stored recording; not complete when it cannot be judged."""
    from sim.storage.session import recorded_outcome

    try:
        rec = parse_recording(gzip.decompress(gz), f"session {sid}")
    except (RecordingError, OSError, EOFError):
        return False, False
    out = recorded_outcome(rec)
    if out is None:  # stored without a result: the session was interrupted
        return False, not rec.samples
    return out.complete, out.empty


MIGRATIONS = {1: _migrate_1, 2: _migrate_2, 3: _migrate_3}
"""Upgrade steps: ``MIGRATIONS[v]`` takes a database from version ``v - 1`` to ``v``."""


def schema_version(conn: Connection) -> int:
    """The schema version of a database, 0 for an empty one."""
    from sqlalchemy import inspect

    if not inspect(conn).has_table("procsim_schema"):
        return 0
    v = conn.execute(select(schema_table.c.version).where(schema_table.c.id == 1)).scalar()
    return int(v or 0)


def upgrade(conn: Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema to ``target`` in place, one migration per step; returns the old
    version. Call inside a transaction (PostgreSQL: DDL is transactional, and an advisory
    lock keeps two stations from upgrading the same server at once)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x70726F63})
    old = schema_version(conn)
    if old > SCHEMA_VERSION:
        raise StoreError(
            f"the session database has schema version {old}, newer than this procsim "
            f"understands ({SCHEMA_VERSION}): upgrade procsim"
        )
    if old == 0:
        schema_table.create(conn)
        conn.execute(insert(schema_table).values(id=1, version=0))
    for v in range(old + 1, target + 1):
        MIGRATIONS[v](conn)
        conn.execute(update(schema_table).where(schema_table.c.id == 1).values(version=v))
    return old


# --- records --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MetricValue:
    """One metric of a stored session (``points`` None when the metric is not scored)."""

    name: str
    value: float | None
    unit: str
    points: float | None
    weight: float
    expert: float | None
    novice: float | None


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A stored session, without its recording. Times are naive UTC datetimes."""

    id: str
    trainee_id: str
    display_name: str | None
    station_id: str
    scenario: str
    scenario_hash: str
    input_kind: str
    started_utc: dt.datetime
    ended_utc: dt.datetime
    duration_s: float
    score: float
    passed: bool
    complete: bool
    critical_errors: tuple[str, ...]
    notes: str | None
    metrics: tuple[MetricValue, ...] = ()
    empty: bool = False

    @property
    def counts(self) -> bool:
        """Whether the session counts for the learning curve, cohort standing and sign-off
        (complete and not empty); the others are listed, marked :attr:`status`."""
        return self.complete and not self.empty

    @property
    def status(self) -> str:
        """ "empty", "incomplete", or "" for a session that counts."""
        return "empty" if self.empty else ("" if self.complete else "incomplete")

    def metric(self, name: str) -> MetricValue | None:
        for m in self.metrics:
            if m.name == name:
                return m
        return None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO 8601 with ``Z``)."""
        return {
            "id": self.id,
            "trainee_id": self.trainee_id,
            "display_name": self.display_name,
            "station_id": self.station_id,
            "scenario": self.scenario,
            "scenario_hash": self.scenario_hash,
            "input_kind": self.input_kind,
            "started_utc": _iso(self.started_utc),
            "ended_utc": _iso(self.ended_utc),
            "duration_s": self.duration_s,
            "score": self.score,
            "passed": self.passed,
            "complete": self.complete,
            "empty": self.empty,
            "critical_errors": list(self.critical_errors),
            "notes": self.notes,
            "metrics": {
                m.name: {"value": m.value, "unit": m.unit, "points": m.points} for m in self.metrics
            },
        }


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class NewSession:
    """Everything stored for one session, ready to insert (``row`` maps column names)."""

    row: Mapping[str, Any]
    metrics: tuple[Mapping[str, Any], ...]

    @property
    def id(self) -> str:
        return str(self.row["id"])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


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
) -> NewSession:
    """Build the stored form of a recording file (finished or interrupted).

    The score is the one stored in the recording (what the trainee saw); an interrupted
    recording without one is re-scored. ``complete`` and ``empty`` are the result's, or
    derived for a recording made before results carried them
    (:func:`sim.storage.session.recorded_outcome`).
    """
    p = Path(path)
    data = read_bytes(p, "recording", RecordingError)
    rec = parse_recording(data, p)
    return _session_from(rec, data, trainee, display_name, station, notes)


def _session_from(
    rec: Recording,
    data: bytes,
    trainee: str | None,
    display_name: str | None,
    station: str | None,
    notes: str | None,
) -> NewSession:
    from sim.storage.session import recorded_outcome, rescore

    h = rec.header
    outcome = recorded_outcome(rec)
    if rec.result is not None and outcome is not None:
        result: dict[str, Any] = {k: v for k, v in rec.result.items() if k != "type"}
        complete, empty = outcome.complete, outcome.empty
    else:
        again = rescore(rec)
        result = _clean(again.result.as_dict())
        # interrupted: complete only if the procedure was done before the recording stopped
        complete = again.today.complete and rec.complete
        empty = again.today.empty
    meta = h.get("meta") if isinstance(h.get("meta"), dict) else {}
    started = _parse_time(h.get("created_utc")) or _now()
    duration = rec.items[-1].t_s if rec.items else 0.0
    trainee_id = (trainee or str(h.get("trainee") or "anonymous")).strip()
    if not trainee_id:
        raise UserError(f"{rec.path}: empty trainee id")
    name = display_name if display_name is not None else (meta or {}).get("display_name")
    crit = [e.get("kind", "") for e in result.get("critical_errors", []) if isinstance(e, dict)]
    row = {
        "id": session_id_for(h, data),
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


# --- the store ------------------------------------------------------------------------------
class Store:
    """One session database (SQLite file or PostgreSQL server), schema upgraded on open.

    Parameters
    ----------
    url : str
        SQLAlchemy URL; ``postgresql://`` is served by psycopg 3. Never printed unmasked.
    connect_timeout_s : float
        How long to wait for a PostgreSQL server before calling it unavailable.
    """

    def __init__(self, url: str, *, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self._url = parse_url(url)
        self.display_url = mask_url(self._url)
        self._secrets = _secrets(self._url)
        self.dialect = self._url.get_backend_name()
        kwargs: dict[str, Any] = {"hide_parameters": True, "future": True}
        if self.dialect == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": max(1, int(connect_timeout_s))}
            kwargs["pool_pre_ping"] = True
        else:
            db = self._url.database
            if db and db != ":memory:":
                Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 15}
        try:
            self.engine: Engine = create_engine(self._url, **kwargs)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StoreError(f"{self.display_url}: {describe_error(exc, self._secrets)}") from None
        self._upgraded_from: int | None = None
        with self._begin() as conn:
            self._upgraded_from = upgrade(conn)

    @property
    def upgraded_from(self) -> int | None:
        """Schema version found when the store was opened (0: it was created)."""
        return self._upgraded_from

    def error(self, exc: BaseException) -> str:
        """One-line description of a database error, credentials masked."""
        return f"{self.display_url}: {describe_error(exc, self._secrets)}"

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A transaction; database errors become :class:`StoreError` (masked)."""
        from sqlalchemy.exc import DBAPIError, OperationalError

        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            if getattr(exc, "connection_invalidated", False) or _is_connect_error(exc):
                raise StoreUnavailable(self.error(exc)) from None
            raise StoreError(self.error(exc)) from None
        except DBAPIError as exc:
            raise StoreError(self.error(exc)) from None
        except SQLAlchemyError as exc:
            raise StoreError(self.error(exc)) from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- writing --
    def add(self, session: NewSession) -> bool:
        """Store a session unless one with its id is already there (one transaction).

        Returns
        -------
        bool
            True if it was inserted, False if it was already stored.
        """
        with self._begin() as conn:
            return self._add(conn, session)

    def _add(self, conn: Connection, session: NewSession) -> bool:
        row = dict(session.row)
        row.setdefault("stored_utc", _now())
        if _insert_ignore(conn, sessions, row, "id") == 0:
            return False
        if session.metrics:
            conn.execute(insert(session_metrics), [dict(m) for m in session.metrics])
        return True

    def replace(self, session: NewSession) -> SessionRow | None:
        """Store a session in place of the one stored with its id, in one transaction (a
        re-scored recording: ``sessions import --replace``). The instructor's notes and the
        display name stay unless the new session brings its own.

        Returns
        -------
        SessionRow or None
            The session that was replaced (None: there was none, it was simply stored).
        """
        old = self.get(session.id)
        row = dict(session.row)
        row.setdefault("stored_utc", _now())
        if old is not None:
            if row.get("notes") is None:
                row["notes"] = old.notes
            if row.get("display_name") is None:
                row["display_name"] = old.display_name
        with self._begin() as conn:
            conn.execute(delete(session_metrics).where(session_metrics.c.session_id == session.id))
            conn.execute(delete(sessions).where(sessions.c.id == session.id))
            conn.execute(insert(sessions).values(**row))
            if session.metrics:
                conn.execute(insert(session_metrics), [dict(m) for m in session.metrics])
        return old

    def recording_sha256(self, session_id: str) -> str | None:
        """SHA-256 of the stored recording of a session; None if there is no such session."""
        with self._begin() as conn:
            v = conn.execute(
                select(sessions.c.recording_sha256).where(sessions.c.id == session_id)
            ).scalar()
        return None if v is None else str(v)

    def set_notes(self, session_id: str, notes: str | None) -> bool:
        """Set a session's instructor notes; False if there is no such session."""
        with self._begin() as conn:
            n = conn.execute(
                update(sessions).where(sessions.c.id == session_id).values(notes=notes)
            ).rowcount
        return bool(n)

    # -- reading --
    def ids(self) -> set[str]:
        with self._begin() as conn:
            return {str(r[0]) for r in conn.execute(select(sessions.c.id))}

    def count(self) -> int:
        with self._begin() as conn:
            return int(conn.execute(select(func.count()).select_from(sessions)).scalar() or 0)

    def find(
        self,
        *,
        trainee: str | None = None,
        scenario: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[SessionRow]:
        """Sessions (oldest first), optionally of one trainee, scenario and/or id list."""
        cols = [c for c in sessions.columns if c.name not in ("recording_gz", "result_json")]
        conds = []
        if trainee is not None:
            conds.append(sessions.c.trainee_id == trainee)
        if scenario is not None:
            conds.append(sessions.c.scenario == scenario)
        if ids is not None:
            conds.append(sessions.c.id.in_(list(ids)))
        q = select(*cols).order_by(sessions.c.started_utc, sessions.c.stored_utc, sessions.c.id)
        if conds:
            q = q.where(and_(*conds))
        with self._begin() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
            ids = [r["id"] for r in rows]
            mets: dict[str, list[MetricValue]] = {i: [] for i in ids}
            for chunk in _chunks(ids, 500):
                mq = (
                    select(session_metrics)
                    .where(session_metrics.c.session_id.in_(chunk))
                    .order_by(session_metrics.c.session_id, session_metrics.c.name)
                )
                for m in conn.execute(mq):
                    mm = m._mapping
                    mets[mm["session_id"]].append(
                        MetricValue(
                            mm["name"],
                            mm["value"],
                            mm["unit"],
                            mm["points"],
                            mm["weight"],
                            mm["expert"],
                            mm["novice"],
                        )
                    )
        return [_row(r, tuple(mets[r["id"]])) for r in rows]

    def get(self, session_id: str) -> SessionRow | None:
        rows = self.find(ids=[session_id])
        return rows[0] if rows else None

    def result(self, session_id: str) -> dict[str, Any]:
        """The stored score result (``ScoreResult.as_dict()`` form)."""
        with self._begin() as conn:
            v = conn.execute(
                select(sessions.c.result_json).where(sessions.c.id == session_id)
            ).scalar()
        if v is None:
            raise UserError(f"no session {session_id} in {self.display_url}")
        return dict(json.loads(v))

    def recording_bytes(self, session_id: str) -> bytes:
        """The session's recording file, byte for byte."""
        with self._begin() as conn:
            v = conn.execute(
                select(sessions.c.recording_gz).where(sessions.c.id == session_id)
            ).scalar()
        if v is None:
            raise UserError(f"no session {session_id} in {self.display_url}")
        return gzip.decompress(bytes(v))

    def recording_header(self, session_id: str) -> dict[str, Any]:
        """The first line of the session's recording (its header), parsed."""
        data = self.recording_bytes(session_id)
        head = json.loads(data.split(b"\n", 1)[0])
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise UserError(f"session {session_id}: stored recording has no header")
        return head

    def export(self, session_id: str) -> NewSession:
        """A stored session in the form :meth:`add` takes (for copying between stores)."""
        with self._begin() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id == session_id)).first()
            if row is None:
                raise UserError(f"no session {session_id} in {self.display_url}")
            mets = conn.execute(
                select(session_metrics).where(session_metrics.c.session_id == session_id)
            ).all()
        r = dict(row._mapping)
        r["recording_gz"] = bytes(r["recording_gz"])
        return NewSession(r, tuple(dict(m._mapping) for m in mets))

    # -- the outbox (used by a station's local store) --
    def queue(self, session_id: str, *, replace: bool = False) -> None:
        """Mark a session to be pushed to the lab server (``replace``: in place of the
        server's copy, see :meth:`replace`)."""
        with self._begin() as conn:
            _insert_ignore(
                conn,
                outbox,
                {"session_id": session_id, "queued_utc": _now(), "attempts": 0},
                "session_id",
            )
            if replace:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.session_id == session_id)
                    .values(replace_remote=True)
                )

    def replacing(self, session_id: str) -> bool:
        """Whether a queued session is to replace the server's copy."""
        with self._begin() as conn:
            v = conn.execute(
                select(outbox.c.replace_remote).where(outbox.c.session_id == session_id)
            ).scalar()
        return bool(v)

    def pending(self) -> list[str]:
        """Ids of the sessions not yet pushed, oldest first."""
        with self._begin() as conn:
            q = select(outbox.c.session_id).order_by(outbox.c.queued_utc, outbox.c.session_id)
            return [str(r[0]) for r in conn.execute(q)]

    def dequeue(self, session_id: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(outbox).where(outbox.c.session_id == session_id))

    def note_attempt(self, session_id: str, error: str) -> None:
        with self._begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.session_id == session_id)
                .values(attempts=outbox.c.attempts + 1, last_error=error[:500])
            )


def _is_connect_error(exc: BaseException) -> bool:
    msg = str(getattr(exc, "orig", exc)).lower()
    return any(
        s in msg
        for s in (
            "connection refused",
            "could not connect",
            "connection failed",
            "server closed the connection",
            "terminating connection",
            "timeout",
            "no such host",
            "name or service not known",
            "connection is closed",
            "consuming input failed",
        )
    )


def _insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any], key: str) -> int:
    """Insert one row unless its key exists; returns the number of rows inserted."""
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
    # RETURNING rather than rowcount: psycopg reports -1 for a skipped insert
    return len(conn.execute(stmt.returning(table.c[key])).all())


def _chunks(seq: Sequence[str], n: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _row(r: Mapping[str, Any], metrics: tuple[MetricValue, ...]) -> SessionRow:
    try:
        crit = tuple(str(k) for k in json.loads(r["critical_errors"] or "[]"))
    except ValueError:
        crit = ()
    return SessionRow(
        id=str(r["id"]),
        trainee_id=r["trainee_id"],
        display_name=r["display_name"],
        station_id=r["station_id"],
        scenario=r["scenario"],
        scenario_hash=r["scenario_hash"],
        input_kind=r["input_kind"],
        started_utc=r["started_utc"],
        ended_utc=r["ended_utc"],
        duration_s=float(r["duration_s"]),
        score=float(r["score"]),
        passed=bool(r["passed"]),
        complete=bool(r["complete"]),
        critical_errors=crit,
        notes=r.get("notes"),
        metrics=metrics,
        empty=bool(r.get("empty")),
    )


# --- offline-first lab ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync did: sessions pushed, found already there, still waiting; the error
    (masked) that stopped it, if any."""

    pushed: int
    already: int
    pending: int
    error: str | None = None
    conflicts: int = 0

    def line(self) -> str:
        base = f"{self.pushed} pushed, {self.already} already there, {self.pending} waiting"
        if self.conflicts:
            base += (
                f"; {self.conflicts} held back: the server has a different recording with "
                "the same session id (import the file with --replace to overwrite it)"
            )
        return base + (f" ({self.error})" if self.error else "")


class Lab:
    """A station's stores: the local SQLite store, always written, and an optional lab
    server that sessions are pushed to (:meth:`sync`) when it can be reached.

    Parameters
    ----------
    local_url : str
        This machine's store (SQLite).
    remote_url : str or None
        The lab server; None (or the same URL as ``local_url``) keeps everything local.
    """

    def __init__(self, local_url: str, remote_url: str | None = None) -> None:
        self.local_url = local_url
        self.local = Store(local_url)
        same = remote_url is None or mask_url(parse_url(remote_url)) == self.local.display_url
        self.remote_url = None if same else remote_url
        self.remote_display = mask_url(parse_url(self.remote_url)) if self.remote_url else None

    def close(self) -> None:
        self.local.close()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def record(
        self, session: NewSession, *, sync: bool = True, replace: bool = False
    ) -> tuple[bool, SyncReport | None]:
        """Store a session locally, queue it for the lab server and try to push it.

        ``replace`` stores it in place of a session with the same id, here and on the
        server (a re-scored recording); without it a stored session is never touched.

        Returns
        -------
        (bool, SyncReport or None)
            Whether the session was new locally; the sync attempt (None without a server or
            with ``sync=False``).
        """
        new = self.local.replace(session) is None if replace else self.local.add(session)
        if self.remote_url is None:
            return new, None
        self.local.queue(session.id, replace=replace)
        return new, (self.sync() if sync else None)

    def open_remote(self) -> Store:
        """The lab server's store (raises :class:`StoreUnavailable` when unreachable)."""
        if self.remote_url is None:
            return self.local
        return Store(self.remote_url)

    def sync(self) -> SyncReport:
        """Push every queued session to the lab server; safe to repeat and to interrupt.

        Each session goes in its own transaction as an insert-if-absent keyed by its UUID,
        and leaves the outbox only after that transaction committed. A session the server
        holds with a different recording stays queued and is counted in ``conflicts``,
        unless it was queued to replace the server's copy. A session whose commit
        reached the server but whose outbox entry survived (a drop at that very moment) is
        found already there on the next sync: nothing is lost or duplicated.
        """
        todo = self.local.pending()
        if self.remote_url is None or not todo:
            return SyncReport(0, 0, len(todo))
        pushed = already = conflicts = 0
        try:
            remote = Store(self.remote_url)
        except StoreError as exc:
            return SyncReport(0, 0, len(todo), str(exc))
        try:
            for sid in todo:
                session = self.local.export(sid)
                try:
                    if self.local.replacing(sid):
                        remote.replace(session)
                        added = True
                    else:
                        added = remote.add(session)
                        if (
                            not added
                            and remote.recording_sha256(sid) != (session.row["recording_sha256"])
                        ):
                            # same id, other recording: never overwritten without --replace
                            self.local.note_attempt(sid, "server has a different recording")
                            conflicts += 1
                            continue
                except StoreError as exc:
                    self.local.note_attempt(sid, str(exc))
                    return SyncReport(
                        pushed, already, len(self.local.pending()), str(exc), conflicts
                    )
                self.local.dequeue(sid)
                if added:
                    pushed += 1
                else:
                    already += 1
        finally:
            remote.close()
        return SyncReport(pushed, already, len(self.local.pending()), None, conflicts)
