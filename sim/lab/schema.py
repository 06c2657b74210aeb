"""The store's schema: its tables, its version and the migrations that upgrade it in place.

One schema, written with SQLAlchemy Core, works on SQLite and PostgreSQL. It is versioned
(table ``procsim_schema``) and upgraded in place when a newer procsim opens an older database
(:func:`upgrade`, one step of :data:`MIGRATIONS` per version); see ``docs/store.md``. Times are
stored as naive UTC datetimes (:func:`utc_now`).
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable
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
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection

from sim.lab.database import StoreError
from sim.storage.recording import Recording, RecordingError, parse_recording

SCHEMA_VERSION = 7
"""Version of the schema this procsim writes (see :data:`MIGRATIONS`)."""


def utc_now() -> dt.datetime:
    """Now, as the store keeps times: a naive UTC datetime."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


metadata = MetaData()

schema_table = Table(
    "procsim_schema",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)


def session_cols(version: int) -> list[Column[Any]]:
    """The columns of table ``sessions`` as schema ``version`` has them."""
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
    if version >= 4:
        cols += [
            Column("recorded_score", Float),
            Column("score_differs", Boolean, nullable=False, server_default=text("false")),
            Column("recording_erased_utc", DateTime),
        ]
    if version >= 6:
        # the calibration's poor tracking conditions, comma-separated ("" none): see
        # sim.tracking.quality.POOR_WORDS
        cols.append(Column("poor_conditions", Text, nullable=False, server_default=text("''")))
    if version >= 7:
        # played in exam mode (the recording header's meta.exam): the curriculum's exam counts
        # only in exam mode
        cols.append(Column("exam", Boolean, nullable=False, server_default=text("false")))
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
    if version >= 4:
        cols.append(Column("set_aside_utc", DateTime))
    return cols


def _tombstone_cols() -> list[Column[Any]]:
    return [
        Column("trainee_id", String(128), primary_key=True),
        Column("erased_utc", DateTime, primary_key=True),
    ]


def _user_cols() -> list[Column[Any]]:
    return [
        Column("name", String(128), primary_key=True),
        Column("role", String(16), nullable=False),
        Column("trainee_id", String(128)),
        Column("password_hash", Text, nullable=False),
        Column("created_utc", DateTime, nullable=False),
    ]


def _audit_cols() -> list[Column[Any]]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at_utc", DateTime, nullable=False),
        Column("username", String(128)),
        Column("client", String(64)),
        Column("action", String(32), nullable=False),
        Column("trainee_id", String(128)),
        Column("session_id", String(36)),
        Column("detail", Text),
    ]


def _signoff_cols() -> list[Column[Any]]:
    return [
        Column("trainee_id", String(128), primary_key=True),
        Column("scenario", String(128), primary_key=True),
        Column("signed_by", String(128), nullable=False),
        Column("signed_utc", DateTime, nullable=False),
        Column("note", Text),
    ]


sessions = Table("sessions", metadata, *session_cols(SCHEMA_VERSION))
session_metrics = Table("session_metrics", metadata, *_metric_cols())
outbox = Table("outbox", metadata, *_outbox_cols(SCHEMA_VERSION))
"""The local sync outbox: sessions still to be pushed to the lab server."""
tombstones = Table("tombstones", metadata, *_tombstone_cols())
"""Trainees erased (``sessions erase --trainee``): on the lab server, what stations apply
at their next sync; on a station, the erasures it has applied."""
users = Table("users", metadata, *_user_cols())
"""The portal's accounts (``procsim lab add-user``): role admin, instructor or trainee (a
trainee account is tied to one ``trainee_id``); argon2 password hashes."""
audit_log = Table("audit_log", metadata, *_audit_cols())
"""Every view and change of a trainee's data in the portal, every login (``procsim lab
audit``)."""
sign_offs = Table("sign_offs", metadata, *_signoff_cols())
"""An instructor's sign-off of a trainee on a scenario."""


def _migrate_1(conn: Connection) -> None:
    """Schema 1: sessions, their metric values, the sync outbox."""
    m = MetaData()
    Table("sessions", m, *session_cols(1))
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
    t = Table("sessions", MetaData(), *session_cols(3))
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


def _migrate_4(conn: Connection) -> None:
    """Schema 4: integrity and erasure. ``sessions.recorded_score`` (the score the recording
    claimed) and ``sessions.score_differs`` (today's re-score disagrees with the recording's
    own result) keep what the import found; sessions stored before were not re-scored, so
    their recorded score is the stored one. ``sessions.recording_erased_utc``: the recording
    was erased by the retention period. ``outbox.set_aside_utc``: an entry that kept failing
    and no longer holds back the others. ``tombstones``: erased trainees."""
    conn.execute(text("ALTER TABLE sessions ADD COLUMN recorded_score FLOAT"))
    conn.execute(
        text("ALTER TABLE sessions ADD COLUMN score_differs BOOLEAN NOT NULL DEFAULT false")
    )
    ts = "TIMESTAMP" if conn.dialect.name == "postgresql" else "DATETIME"
    conn.execute(text(f"ALTER TABLE sessions ADD COLUMN recording_erased_utc {ts}"))
    conn.execute(text(f"ALTER TABLE outbox ADD COLUMN set_aside_utc {ts}"))
    conn.execute(text("UPDATE sessions SET recorded_score = score"))
    Table("tombstones", MetaData(), *_tombstone_cols()).create(conn)


def _migrate_5(conn: Connection) -> None:
    """Schema 5: the instructor portal. ``users`` (accounts and argon2 hashes), ``audit_log``
    (who saw or changed which trainee's data, when, from where; indexed by trainee and by
    time), ``sign_offs`` (an instructor's sign-off per trainee and scenario), and an index on
    ``sessions (trainee_id, scenario, started_utc)`` that the cohort dashboard's aggregate
    reads in order."""
    m = MetaData()
    Table("users", m, *_user_cols())
    Table("audit_log", m, *_audit_cols())
    Table("sign_offs", m, *_signoff_cols())
    m.create_all(conn)
    conn.execute(text("CREATE INDEX ix_audit_trainee ON audit_log (trainee_id, at_utc)"))
    conn.execute(text("CREATE INDEX ix_audit_at ON audit_log (at_utc)"))
    conn.execute(
        text(
            "CREATE INDEX ix_sessions_trainee_scenario "
            "ON sessions (trainee_id, scenario, started_utc)"
        )
    )


def _from_recordings(
    conn: Connection, version: int, values: Callable[[Recording], dict[str, Any]]
) -> None:
    """Fill a new column of ``sessions`` from each stored recording: ``values(recording)``
    gives the columns to set (none: the default stays). An erased or unreadable recording
    keeps the default."""
    t = Table("sessions", MetaData(), *session_cols(version))
    ids = [str(r[0]) for r in conn.execute(select(t.c.id))]
    for sid in ids:
        data = conn.execute(select(t.c.recording_gz).where(t.c.id == sid)).scalar()
        try:
            rec = parse_recording(gzip.decompress(bytes(data or b"")), f"session {sid}")
        except (RecordingError, OSError, EOFError):
            continue
        new = values(rec)
        if new:
            conn.execute(update(t).where(t.c.id == sid).values(**new))


def _migrate_6(conn: Connection) -> None:
    """Schema 6: ``sessions.poor_conditions``, the poor tracking conditions the calibration
    found (``calibration.conditions.poor`` in the recording's header, comma-separated; ""
    none), read again from each stored recording (an erased recording: "")."""
    conn.execute(text("ALTER TABLE sessions ADD COLUMN poor_conditions TEXT NOT NULL DEFAULT ''"))
    _from_recordings(
        conn,
        6,
        lambda rec: (
            {"poor_conditions": ",".join(rec.poor_conditions)} if rec.poor_conditions else {}
        ),
    )


def _migrate_7(conn: Connection) -> None:
    """Schema 7: ``sessions.exam``, whether the session was played in exam mode (``meta.exam``
    in the recording's header), read again from each stored recording (an erased recording:
    false, as nothing says otherwise)."""
    conn.execute(text("ALTER TABLE sessions ADD COLUMN exam BOOLEAN NOT NULL DEFAULT false"))
    _from_recordings(conn, 7, lambda rec: {"exam": True} if exam_of(rec.header) else {})


def exam_of(header: Any) -> bool:
    """Whether a recording's header says it was played in exam mode (``meta.exam``)."""
    meta = header.get("meta") if isinstance(header, dict) else None
    return isinstance(meta, dict) and meta.get("exam") is True


MIGRATIONS = {
    1: _migrate_1,
    2: _migrate_2,
    3: _migrate_3,
    4: _migrate_4,
    5: _migrate_5,
    6: _migrate_6,
    7: _migrate_7,
}
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
