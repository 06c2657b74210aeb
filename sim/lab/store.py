"""The session store: every finished or interrupted session, in SQLite or PostgreSQL.

:class:`Store` opens one database (upgrading its schema, :mod:`sim.lab.schema`), adds and
replaces sessions (built from recordings by :mod:`sim.lab.ingest`), answers queries
(:class:`SessionRow`), keeps instructor notes and a station's sync outbox (pushed by
:mod:`sim.lab.sync`). All SQL goes through SQLAlchemy with bound parameters, and the engines
are created with ``hide_parameters`` so that no value ever appears in an error message; URLs
are printed masked (:mod:`sim.lab.database`). See ``docs/store.md``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert, literal_column, select, text, update
from sqlalchemy.engine import Connection, Engine, create_engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from sim.errors import UserError
from sim.lab.database import (
    LOGIN_FAILED,
    StoreError,
    StoreLoginFailed,
    StoreUnavailable,
    describe_error,
    mask_url,
    parse_url,
    url_secrets,
)
from sim.lab.ingest import NewSession
from sim.lab.schema import (
    audit_log,
    outbox,
    session_metrics,
    sessions,
    sign_offs,
    tombstones,
    upgrade,
    utc_now,
)
from sim.storage.recording import FORMAT

CONNECT_TIMEOUT_S = 5
MAX_ATTEMPTS = 3
"""Failed pushes of one outbox entry after which it is set aside (our choice: a server that
refuses the same session three times will refuse it again; an unreachable server counts no
attempt)."""
MIN_ID_PREFIX = 8
"""Shortest session id prefix that ``sessions show`` and ``--session`` accept (our choice:
the first group of the UUID, what ``sessions list`` lets one copy)."""


@dataclass(frozen=True, slots=True)
class SetAside:
    """An outbox entry set aside after failing :data:`MAX_ATTEMPTS` times (or found in
    disagreement with the server): it no longer holds back the others."""

    session_id: str
    attempts: int
    error: str
    set_aside_utc: dt.datetime


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
    recorded_score: float | None = None
    score_differs: bool = False
    recording_erased_utc: dt.datetime | None = None
    poor_conditions: tuple[str, ...] = ()
    exam: bool = False
    """Played in exam mode (the recording header's ``meta.exam``; schema 7)."""

    @property
    def integrity(self) -> str:
        """ "" when the recording's own result is what today's re-score gives; else a few
        words saying what it claimed (the stored score is always today's)."""
        if not self.score_differs:
            return ""
        if self.recorded_score is None:
            return "recorded result differs"
        return f"recorded {self.recorded_score:.1f}"

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
            "recorded_score": self.recorded_score,
            "score_differs": self.score_differs,
            "recording_erased_utc": _iso(self.recording_erased_utc)
            if self.recording_erased_utc
            else None,
            "poor_conditions": list(self.poor_conditions),
            "exam": self.exam,
            "metrics": {
                m.name: {"value": m.value, "unit": m.unit, "points": m.points} for m in self.metrics
            },
        }


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the store ------------------------------------------------------------------------------
class Store:
    """One session database (SQLite file or PostgreSQL server), schema upgraded on open.

    Parameters
    ----------
    url : str
        SQLAlchemy URL; ``postgresql://`` is served by psycopg 3. Never printed unmasked.
    connect_timeout_s : float
        How long to wait for a PostgreSQL server before calling it unavailable.
    check_schema : bool
        Open the schema: a SQLite store is created or upgraded; a PostgreSQL one is upgraded
        only by an admin login, and any other login finding it older than this procsim gets
        one line saying to ask an admin (:func:`sim.lab.roles.open_schema`). False: only
        the engine (``procsim lab init``).
    """

    def __init__(
        self, url: str, *, connect_timeout_s: float = CONNECT_TIMEOUT_S, check_schema: bool = True
    ) -> None:
        self._url = parse_url(url)
        self.display_url = mask_url(self._url)
        self._secrets = url_secrets(self._url)
        self.dialect = self._url.get_backend_name()
        kwargs: dict[str, Any] = {"hide_parameters": True, "future": True}
        if self.dialect == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": max(1, int(connect_timeout_s))}
            kwargs["pool_pre_ping"] = True
        else:
            db = self._url.database
            if db and db != ":memory:":
                from sim.paths import private_dir, private_file

                f = Path(db).expanduser()
                private_dir(f.parent)
                if not f.exists():  # a new store is its user's only (journals follow)
                    private_file(f, exclusive=True)
            kwargs["connect_args"] = {"timeout": 15}
        try:
            self.engine: Engine = create_engine(self._url, **kwargs)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StoreError(f"{self.display_url}: {describe_error(exc, self._secrets)}") from None
        self._upgraded_from: int | None = None
        self._functions: bool | None = None
        if not check_schema:
            return
        try:
            with self._begin() as conn:
                if self.dialect == "postgresql":
                    from sim.lab.roles import open_schema

                    self._upgraded_from = open_schema(conn)
                else:
                    self._upgraded_from = upgrade(conn)
        except StoreUnavailable:
            raise
        except StoreError as exc:
            msg = str(exc)
            raise StoreError(
                msg if msg.startswith(self.display_url) else f"{self.display_url}: {msg}"
            ) from None

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
            if _is_login_error(exc):
                raise StoreLoginFailed(self._login_failed(exc)) from None
            if getattr(exc, "connection_invalidated", False) or _is_connect_error(exc):
                raise StoreUnavailable(self.error(exc)) from None
            raise StoreError(self.error(exc)) from None
        except DBAPIError as exc:
            raise StoreError(self.error(exc)) from None
        except SQLAlchemyError as exc:
            raise StoreError(self.error(exc)) from None

    def _login_failed(self, exc: BaseException) -> str:
        """One line for a refused login: the role's name (from the URL, else libpq's
        message), never the password."""
        import re

        role = self._url.username
        if not role:
            m = re.search(r'for user "([^"]+)"', str(getattr(exc, "orig", exc)))
            role = m.group(1) if m else None
        who = f"role {role}" if role else "the login role (from the service file or $PGUSER)"
        msg = str(getattr(exc, "orig", exc)).lower()
        why = "no password found" if "no password supplied" in msg else "wrong password"
        return (
            f"{self.display_url}: login failed for {who}: {why} (the password comes from the "
            "password file, ~/.pgpass or $PGPASSFILE: docs/lab-setup.md, section 4)"
        )

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
        row.setdefault("stored_utc", utc_now())
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
        row.setdefault("stored_utc", utc_now())
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

    def _has_functions(self, conn: Connection) -> bool:
        """Whether this PostgreSQL database has the station's functions (``lab init``)."""
        if self._functions is None:
            from sim.lab.roles import DIGEST_FN

            self._functions = bool(
                conn.execute(text("SELECT to_regproc(:f) IS NOT NULL"), {"f": DIGEST_FN}).scalar()
            )
        return self._functions

    def digest(self, session_id: str) -> tuple[str, str, str] | None:
        """(trainee id, station id, recording SHA-256) of a stored session, None if there
        is none: what sync needs to know about a session already on the server. On a lab
        database set up by ``lab init`` it is read through ``procsim_session_digest``, so
        that a station login needs no read access to ``sessions``."""
        with self._begin() as conn:
            if self.dialect == "postgresql" and self._has_functions(conn):
                from sim.lab.roles import DIGEST_FN

                r = conn.execute(text(f"SELECT * FROM {DIGEST_FN}(:i)"), {"i": session_id}).first()
            else:
                q = select(
                    sessions.c.trainee_id, sessions.c.station_id, sessions.c.recording_sha256
                ).where(sessions.c.id == session_id)
                r = conn.execute(q).first()
        return None if r is None else (str(r[0]), str(r[1]), str(r[2]))

    def replace_pushed(self, session: NewSession) -> None:
        """:meth:`replace` for sync: on a lab database set up by ``lab init`` through
        ``procsim_replace_session`` (one statement that puts the new row in place of the
        old), so that a station login needs no ``DELETE``."""
        with self._begin() as conn:
            functions = self.dialect == "postgresql" and self._has_functions(conn)
        if not functions:
            self.replace(session)
            return
        from sim.lab.roles import REPLACE_FN

        row = {k: _jsonable(v) for k, v in session.row.items()}
        row.setdefault("stored_utc", _jsonable(utc_now()))
        mets = [{k: _jsonable(v) for k, v in m.items()} for m in session.metrics]
        with self._begin() as conn:
            conn.execute(
                text(f"SELECT {REPLACE_FN}(CAST(:r AS jsonb), CAST(:m AS jsonb))"),
                {"r": json.dumps(row, allow_nan=False), "m": json.dumps(mets, allow_nan=False)},
            )

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
    def kept_recordings(self) -> dict[str, str]:
        """Session id -> SHA-256 of its stored recording, for every session whose recording
        is kept (not erased by the retention period): what may have a replay video."""
        with self._begin() as conn:
            q = select(sessions.c.id, sessions.c.recording_sha256).where(
                sessions.c.recording_erased_utc.is_(None)
            )
            return {str(r[0]): str(r[1]) for r in conn.execute(q)}

    def recordings_version(self) -> tuple[Any, ...]:
        """What :meth:`kept_recordings` depends on, cheaply: the number of sessions, the
        latest stored and the latest recording erased (an added, replaced or erased session,
        or an erased recording, changes one of them)."""
        with self._begin() as conn:
            return tuple(
                conn.execute(
                    select(
                        func.count(),
                        func.max(sessions.c.stored_utc),
                        func.max(sessions.c.recording_erased_utc),
                    )
                ).one()
            )

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
        """The session's recording file, byte for byte (as stored: without raw landmarks
        unless the station kept them).

        Raises
        ------
        UserError
            No such session, or its recording was erased by the retention period.
        """
        with self._begin() as conn:
            r = conn.execute(
                select(sessions.c.recording_gz, sessions.c.recording_erased_utc).where(
                    sessions.c.id == session_id
                )
            ).first()
        if r is None:
            raise UserError(f"no session {session_id} in {self.display_url}")
        if r[1] is not None:
            raise UserError(
                f"session {session_id}: its recording was erased on {r[1]:%Y-%m-%d} "
                "(retention period); the scores and metrics are kept"
            )
        return gzip.decompress(bytes(r[0]))

    def resolve(self, session_id: str) -> str:
        """The full id of a stored session, given it whole or as a unique prefix of at least
        :data:`MIN_ID_PREFIX` characters.

        Raises
        ------
        UserError
            No such session (one line naming the id and the store), or an ambiguous prefix.
        """
        sid = session_id.strip().lower()
        with self._begin() as conn:
            if conn.execute(select(sessions.c.id).where(sessions.c.id == sid)).first():
                return sid
            found: list[str] = []
            if len(sid) >= MIN_ID_PREFIX and all(c in "0123456789abcdef-" for c in sid):
                q = select(sessions.c.id).where(sessions.c.id.startswith(sid)).limit(2)
                found = [str(r[0]) for r in conn.execute(q)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UserError(f"session {session_id}: more than one session starts so")
        raise UserError(f"no session {session_id} in {self.display_url}")

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

    # -- erasure and retention --
    def erase_trainee(
        self, trainee: str, *, tombstone: bool = False, before: dt.datetime | None = None
    ) -> list[str]:
        """Delete a trainee's sessions, their metrics, notes and recordings (and outbox
        entries; without ``before``, the instructors' sign-offs), in one transaction;
        ``before``: only sessions started at or before then.
        ``tombstone`` leaves a record that stations apply at their next sync (the lab
        server's erasure).

        Returns
        -------
        list of str
            The ids of the sessions deleted.
        """
        when = utc_now()
        with self._begin() as conn:
            q = select(sessions.c.id).where(sessions.c.trainee_id == trainee)
            if before is not None:
                q = q.where(sessions.c.started_utc <= before)
            ids = [str(r[0]) for r in conn.execute(q)]
            for chunk in _chunks(ids, 500):
                conn.execute(delete(session_metrics).where(session_metrics.c.session_id.in_(chunk)))
                conn.execute(delete(outbox).where(outbox.c.session_id.in_(chunk)))
                conn.execute(delete(sessions).where(sessions.c.id.in_(chunk)))
                # the audit log keeps who accessed what and when, not the notes' texts
                conn.execute(
                    update(audit_log).where(audit_log.c.session_id.in_(chunk)).values(detail=None)
                )
            if before is None:  # the whole trainee: the instructors' sign-offs too
                conn.execute(delete(sign_offs).where(sign_offs.c.trainee_id == trainee))
                # and the free text of its audit rows (notes, sign-off notes): the rows stay
                # (who, when, what, the pseudonymous trainee id), their detail goes
                conn.execute(
                    update(audit_log).where(audit_log.c.trainee_id == trainee).values(detail=None)
                )
            if tombstone:
                conn.execute(insert(tombstones).values(trainee_id=trainee, erased_utc=when))
        return ids

    def tombstones(self) -> list[tuple[str, dt.datetime]]:
        """The erasures recorded here: (trainee id, when), oldest first."""
        with self._begin() as conn:
            q = select(tombstones.c.trainee_id, tombstones.c.erased_utc).order_by(
                tombstones.c.erased_utc, tombstones.c.trainee_id
            )
            return [(str(r[0]), r[1]) for r in conn.execute(q)]

    def apply_tombstone(self, trainee: str, erased_utc: dt.datetime) -> list[str]:
        """Apply the lab server's erasure of ``trainee`` here (once): delete the sessions
        that started at or before it, and remember it. Returns the ids deleted."""
        if (trainee, erased_utc) in set(self.tombstones()):
            return []
        ids = self.erase_trainee(trainee, before=erased_utc)
        with self._begin() as conn:
            _insert_ignore_pair(conn, trainee, erased_utc)
        return ids

    def erase_recordings_before(self, cutoff: dt.datetime) -> list[str]:
        """Erase the recordings (raw motion data) of sessions started before ``cutoff``,
        keeping their scores, metrics and notes (the retention period). Returns their ids."""
        with self._begin() as conn:
            q = select(sessions.c.id).where(
                and_(sessions.c.started_utc < cutoff, sessions.c.recording_erased_utc.is_(None))
            )
            ids = [str(r[0]) for r in conn.execute(q)]
            for chunk in _chunks(ids, 500):
                conn.execute(
                    update(sessions)
                    .where(sessions.c.id.in_(chunk))
                    .values(recording_gz=b"", recording_erased_utc=utc_now())
                )
        return ids

    # -- the outbox (used by a station's local store) --
    def queue(self, session_id: str, *, replace: bool = False) -> None:
        """Mark a session to be pushed to the lab server (``replace``: in place of the
        server's copy, see :meth:`replace`)."""
        with self._begin() as conn:
            _insert_ignore(
                conn,
                outbox,
                {"session_id": session_id, "queued_utc": utc_now(), "attempts": 0},
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
        """Ids of the sessions waiting to be pushed (not set aside), oldest first."""
        with self._begin() as conn:
            q = (
                select(outbox.c.session_id)
                .where(outbox.c.set_aside_utc.is_(None))
                .order_by(outbox.c.queued_utc, outbox.c.session_id)
            )
            return [str(r[0]) for r in conn.execute(q)]

    def set_aside(self, session_id: str, error: str) -> None:
        """Set an outbox entry aside with its error: later syncs skip it (see
        :meth:`set_aside_entries`, :meth:`retry_set_aside`)."""
        with self._begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.session_id == session_id)
                .values(last_error=error[:500], set_aside_utc=utc_now())
            )

    def set_aside_entries(self) -> list[SetAside]:
        """The outbox entries set aside, oldest first."""
        with self._begin() as conn:
            q = (
                select(outbox)
                .where(outbox.c.set_aside_utc.is_not(None))
                .order_by(outbox.c.set_aside_utc, outbox.c.session_id)
            )
            return [
                SetAside(
                    str(r.session_id), int(r.attempts), str(r.last_error or ""), r.set_aside_utc
                )
                for r in conn.execute(q)
            ]

    def retry_set_aside(self) -> int:
        """Put every set-aside entry back in the queue (attempts from 0); returns how many."""
        with self._begin() as conn:
            return int(
                conn.execute(
                    update(outbox)
                    .where(outbox.c.set_aside_utc.is_not(None))
                    .values(set_aside_utc=None, attempts=0)
                ).rowcount
                or 0
            )

    def attempts(self, session_id: str) -> int:
        """Failed pushes of an outbox entry so far."""
        with self._begin() as conn:
            v = conn.execute(
                select(outbox.c.attempts).where(outbox.c.session_id == session_id)
            ).scalar()
        return int(v or 0)

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


def _is_login_error(exc: BaseException) -> bool:
    msg = str(getattr(exc, "orig", exc)).lower()
    return any(s in msg for s in LOGIN_FAILED)


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

        # neither a conflict target nor a returned column, which need read access to the
        # table (a station login may only insert); the key is the only unique constraint
        stmt: Any = pg_insert(table).values(**values).on_conflict_do_nothing()
        return len(conn.execute(stmt.returning(literal_column("1"))).all())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
    # RETURNING rather than rowcount: psycopg reports -1 for a skipped insert
    return len(conn.execute(stmt.returning(table.c[key])).all())


def _insert_ignore_pair(conn: Connection, trainee: str, erased_utc: dt.datetime) -> None:
    """Record an applied tombstone unless it is there already."""
    have = conn.execute(
        select(tombstones.c.trainee_id).where(
            and_(tombstones.c.trainee_id == trainee, tombstones.c.erased_utc == erased_utc)
        )
    ).first()
    if have is None:
        conn.execute(insert(tombstones).values(trainee_id=trainee, erased_utc=erased_utc))


def _jsonable(v: Any) -> Any:
    """A column value as ``jsonb_populate_record`` reads it back."""
    if isinstance(v, bytes | bytearray | memoryview):
        return "\\x" + bytes(v).hex()
    if isinstance(v, dt.datetime):
        return v.isoformat()
    return v


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
        recorded_score=None if r.get("recorded_score") is None else float(r["recorded_score"]),
        score_differs=bool(r.get("score_differs")),
        recording_erased_utc=r.get("recording_erased_utc"),
        poor_conditions=tuple(p for p in str(r.get("poor_conditions") or "").split(",") if p),
        exam=bool(r.get("exam")),
    )
