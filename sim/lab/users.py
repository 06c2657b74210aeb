"""The portal's data in the store: accounts, the audit log, sign-offs and the cohort summary.

Accounts (table ``users``, :func:`add_user`) have a role, ``admin``, ``instructor`` or
``trainee``; a trainee account is tied to one trainee id and may see only that trainee's
data. Passwords are kept as argon2id hashes (:mod:`argon2`, its default parameters). Every
view and change of a trainee's data through the portal is written to ``audit_log``
(:func:`audit`), read back by ``procsim lab audit`` (:func:`audit_rows`). The cohort
dashboard's numbers come from one aggregate query per request (:func:`cohort`), so that
the page costs the same whatever the size of the recordings. See ``docs/portal.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, and_, case, cast, delete, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection

from sim.errors import UserError
from sim.lab.proficiency import Proficiency, proficiency
from sim.lab.schema import audit_log, sessions, sign_offs, users, utc_now
from sim.lab.store import Store

ROLES = ("admin", "instructor", "trainee")
"""The portal's roles: an admin and an instructor see every trainee; a trainee account only
its own trainee's pages."""

MIN_PASSWORD_CHARS = 10
"""Shortest password ``lab add-user`` accepts (our choice, after NIST SP 800-63B's 8)."""


@dataclass(frozen=True, slots=True)
class User:
    """A portal account (never its hash).

    Attributes
    ----------
    name : str
        Login name.
    role : str
        One of :data:`ROLES`.
    trainee_id : str or None
        The trainee a ``trainee`` account belongs to.
    """

    name: str
    role: str
    trainee_id: str | None

    @property
    def staff(self) -> bool:
        """May see every trainee and write notes and sign-offs (admin, instructor)."""
        return self.role in ("admin", "instructor")

    def may_see(self, trainee_id: str) -> bool:
        """Whether this account may see the trainee's data."""
        return self.staff or self.trainee_id == trainee_id


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One line of the audit log."""

    at_utc: dt.datetime
    username: str | None
    client: str | None
    action: str
    trainee_id: str | None
    session_id: str | None
    detail: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "at_utc": self.at_utc.isoformat(timespec="seconds") + "Z",
            "username": self.username,
            "client": self.client,
            "action": self.action,
            "trainee_id": self.trainee_id,
            "session_id": self.session_id,
            "detail": self.detail,
        }


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return str(_hasher().hash("procsim: no such user"))


@contextmanager
def _tx(store: Store) -> Iterator[Connection]:
    with store._begin() as conn:  # noqa: SLF001 - the same package's transaction helper
        yield conn


def check_name(name: str, what: str) -> str:
    """A login or trainee id as stored: printable, 1-128 characters."""
    if not 1 <= len(name) <= 128 or not name.isprintable() or name != name.strip():
        raise UserError(f"{what} {name!r}: expected 1 to 128 printable characters")
    return name


def add_user(
    store: Store, name: str, role: str, password: str, trainee_id: str | None = None
) -> bool:
    """Create an account, or set a new role and password for an existing one.

    Returns
    -------
    bool
        True if the account was created, False if it was updated.
    """
    check_name(name, "user")
    if role not in ROLES:
        raise UserError(f"--role {role}: expected one of {', '.join(ROLES)}")
    if role == "trainee" and not trainee_id:
        raise UserError("--role trainee needs --trainee ID (the trainee the account sees)")
    if role != "trainee" and trainee_id:
        raise UserError(f"--trainee is only for --role trainee, not {role}")
    if trainee_id:
        check_name(trainee_id, "--trainee")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password: expected at least {MIN_PASSWORD_CHARS} characters")
    row = {
        "name": name,
        "role": role,
        "trainee_id": trainee_id,
        "password_hash": _hasher().hash(password),
        "created_utc": utc_now(),
    }
    with _tx(store) as conn:
        existed = conn.execute(select(users.c.name).where(users.c.name == name)).first()
        conn.execute(delete(users).where(users.c.name == name))
        conn.execute(insert(users).values(**row))
    return existed is None


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The account if ``password`` is its password, else None. An unknown name costs the
    same argon2 verification as a known one (no timing tells which names exist)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    with _tx(store) as conn:
        r = conn.execute(
            select(users.c.name, users.c.role, users.c.trainee_id, users.c.password_hash).where(
                users.c.name == name
            )
        ).first()
    stored = str(r[3]) if r is not None else _dummy_hash()
    try:
        _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if r is None:
        return None
    return User(str(r[0]), str(r[1]), r[2])


def get_user(store: Store, name: str) -> User | None:
    """The account named so (None: there is none, e.g. removed since the login)."""
    with _tx(store) as conn:
        r = conn.execute(
            select(users.c.name, users.c.role, users.c.trainee_id).where(users.c.name == name)
        ).first()
    return None if r is None else User(str(r[0]), str(r[1]), r[2])


def audit(
    store: Store,
    action: str,
    *,
    user: str | None,
    client: str | None = None,
    trainee_id: str | None = None,
    session_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Write one line to the audit log (its own transaction)."""
    with _tx(store) as conn:
        conn.execute(
            insert(audit_log).values(
                at_utc=utc_now(),
                username=user,
                client=client,
                action=action,
                trainee_id=trainee_id,
                session_id=session_id,
                detail=detail,
            )
        )


def audit_rows(store: Store, trainee_id: str | None = None) -> list[AuditRow]:
    """The audit log, oldest first (of one trainee if given)."""
    q = select(
        audit_log.c.at_utc,
        audit_log.c.username,
        audit_log.c.client,
        audit_log.c.action,
        audit_log.c.trainee_id,
        audit_log.c.session_id,
        audit_log.c.detail,
    ).order_by(audit_log.c.at_utc, audit_log.c.id)
    if trainee_id is not None:
        q = q.where(audit_log.c.trainee_id == trainee_id)
    with _tx(store) as conn:
        return [AuditRow(*r) for r in conn.execute(q)]


def sign_off(store: Store, trainee_id: str, scenario: str, by: str, note: str | None) -> None:
    """Record an instructor's sign-off of a trainee on a scenario (a later one replaces it).

    One upsert (``INSERT ... ON CONFLICT DO UPDATE``, on PostgreSQL and SQLite alike): the
    ``procsim_instructor`` role may insert and update sign-offs but not delete them."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert = postgresql.insert if store.dialect == "postgresql" else sqlite.insert
    values = {"signed_by": by, "signed_utc": utc_now(), "note": note or None}
    stmt = dialect_insert(sign_offs).values(trainee_id=trainee_id, scenario=scenario, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[sign_offs.c.trainee_id, sign_offs.c.scenario], set_=values
    )
    with _tx(store) as conn:
        conn.execute(stmt)


def sign_offs_of(store: Store, trainee_id: str | None = None) -> list[dict[str, Any]]:
    """Instructors' sign-offs (of one trainee if given): trainee_id, scenario, signed_by,
    signed_utc, note."""
    q = select(sign_offs).order_by(sign_offs.c.trainee_id, sign_offs.c.scenario)
    if trainee_id is not None:
        q = q.where(sign_offs.c.trainee_id == trainee_id)
    with _tx(store) as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


@dataclass(frozen=True, slots=True)
class CohortRow:
    """One trainee on the cohort dashboard.

    Attributes
    ----------
    trainee_id, display_name : str, str or None
        Who.
    sessions : int
        Sessions stored.
    counted : int
        Complete, non-empty sessions (those that count for the curve and sign-off).
    passed : int
        Passes among them.
    last_utc : datetime
        Start of the latest session.
    incomplete : int
        Sessions that do not count (incomplete or empty).
    critical : int
        Sessions with a critical error.
    differs : int
        Sessions whose recording claimed another score than today's re-score.
    proficiency : tuple of (scenario, Proficiency)
        The proficiency rule's status per scenario practised.
    signed : tuple of (scenario, signed_by)
        Instructors' sign-offs.
    """

    trainee_id: str
    display_name: str | None
    sessions: int
    counted: int
    passed: int
    last_utc: dt.datetime
    incomplete: int
    critical: int
    differs: int
    proficiency: tuple[tuple[str, Proficiency], ...]
    signed: tuple[tuple[str, str], ...]

    @property
    def pass_rate(self) -> float | None:
        """Passes per session that counts (None: none counts yet)."""
        return self.passed / self.counted if self.counted else None


@lru_cache(maxsize=64)
def _rule(scenario: str) -> tuple[int, int]:
    """(consecutive, further) of a scenario's proficiency rule from its file; 2 and 10 (the
    FLS default) when it is not installed here."""
    from sim.core.scenario import ScenarioError
    from sim.scenarios import find_scenario

    try:
        sc = find_scenario(scenario)
    except (ScenarioError, UserError):
        return 2, 10
    return sc.proficiency.consecutive_passes, sc.proficiency.further_passes


def cohort(store: Store, trainee_ids: Sequence[str] | None = None) -> list[CohortRow]:
    """The dashboard's rows, one per trainee, by trainee id.

    Two queries: one aggregate per trainee (counts, passes, flags: computed by the
    database), and the pass/fail sequence of the sessions that count, only two narrow
    columns, for the proficiency rule (which depends on the order of passes). The rule is the
    installed scenario file's (``procsim report --trainee`` uses the one the trainee's latest
    session was recorded with).
    """
    s = sessions.c
    counts = and_(s.complete, ~s.empty)
    one = cast(1, Integer)
    agg = select(
        s.trainee_id,
        func.max(s.display_name),
        func.count(),
        func.sum(case((counts, one), else_=0)),
        func.sum(case((and_(counts, s.passed), one), else_=0)),
        func.max(s.started_utc),
        func.sum(case((s.critical_errors != "[]", one), else_=0)),
        func.sum(case((s.score_differs, one), else_=0)),
    ).group_by(s.trainee_id)
    seq = (
        select(s.trainee_id, s.scenario, s.passed)
        .where(counts)
        .order_by(s.trainee_id, s.scenario, s.started_utc, s.stored_utc, s.id)
    )
    if store.dialect == "postgresql":  # one string of passes per trainee and scenario
        flag = case((s.passed, "1"), else_="0")
        sep: Any = aggregate_order_by(literal_column("''"), s.started_utc, s.stored_utc, s.id)
        seq = (
            select(s.trainee_id, s.scenario, func.string_agg(flag, sep))
            .where(counts)
            .group_by(s.trainee_id, s.scenario)
        )
    if trainee_ids is not None:
        agg = agg.where(s.trainee_id.in_(list(trainee_ids)))
        seq = seq.where(s.trainee_id.in_(list(trainee_ids)))
    passes: dict[str, dict[str, list[bool]]] = {}
    with _tx(store) as conn:
        aggs = conn.execute(agg).all()
        if store.dialect == "postgresql":
            for t, sc, flags in conn.execute(seq):
                passes.setdefault(t, {})[sc] = [c == "1" for c in flags]
        else:  # SQLite (a station's own store) has no ordered aggregate before 3.44
            for t, sc, p in conn.execute(seq):
                passes.setdefault(t, {}).setdefault(sc, []).append(bool(p))
        signed: dict[str, list[tuple[str, str]]] = {}
        for t, sc, by in conn.execute(
            select(sign_offs.c.trainee_id, sign_offs.c.scenario, sign_offs.c.signed_by)
        ):
            signed.setdefault(t, []).append((sc, by))
    out = []
    for t, name, n, counted, passed, last, crit, differs in aggs:
        profs = tuple(
            (sc, proficiency(seq_, *_rule(sc))) for sc, seq_ in sorted(passes.get(t, {}).items())
        )
        out.append(
            CohortRow(
                trainee_id=str(t),
                display_name=name,
                sessions=int(n),
                counted=int(counted or 0),
                passed=int(passed or 0),
                last_utc=last,
                incomplete=int(n) - int(counted or 0),
                critical=int(crit or 0),
                differs=int(differs or 0),
                proficiency=profs,
                signed=tuple(sorted(signed.get(t, []))),
            )
        )
    out.sort(key=lambda r: r.trainee_id)
    return out


def cohort_version(store: Store) -> tuple[Any, ...]:
    """What the dashboard's numbers depend on, cheaply: the number of sessions and the
    latest time one was stored (a new, replaced or erased session changes one of them), and
    the same of the sign-offs. Two indexed aggregates."""
    with _tx(store) as conn:
        a = conn.execute(select(func.count(), func.max(sessions.c.stored_utc))).one()
        b = conn.execute(select(func.count(), func.max(sign_offs.c.signed_utc))).one()
    return (*a, *b)
