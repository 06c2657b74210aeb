"""Roles in the lab database: ``procsim lab init`` and what each PostgreSQL role may do.

A lab server grants three group roles (``NOLOGIN``) to its own login roles:

- ``procsim_station``: inserts sessions and their metric rows, reads the erasures
  (``tombstones``) and the schema version, and nothing of ``sessions`` or
  ``session_metrics`` at all. What sync must know about a session already on the server
  (its trainee, station and recording digest, to tell "already there" from "a different
  recording" or "a disagreement") it gets from :data:`DIGEST_FN`, and a re-scored session
  (``sessions import --replace``) goes in through :data:`REPLACE_FN`: two ``SECURITY
  DEFINER`` functions that take a session id, which only a holder of the recording knows
  (a UUID-4 written by the app, or a UUID-5 of the recording's SHA-256), and whose
  recording holds the trainee id anyway. A station can neither list sessions nor delete
  anything, nor change the schema.
- ``procsim_instructor``: reads the cohort (every session, metric and erasure), writes
  instructor notes (``UPDATE (notes)`` only); no ``DELETE``.
- ``procsim_admin``: owns the tables and functions, so it runs migrations and erasures.

Why no row-level security on ``sessions``: no database role sees only some of its rows.
A station sees none (stronger than a policy keyed on its station id, which would need a map
from logins to station ids that someone keeps up to date, and would still let a station read
every trainee who ever used it), and instructors and admins see all. A trainee's own view is
the portal's business (its accounts are not database logins).

PostgreSQL stores are migrated only by an admin (a superuser, or a member of
``procsim_admin``): :func:`open_schema` is what :class:`sim.lab.store.Store` runs on opening
one; a station finding a schema older than its procsim says so in one line. SQLite stores (a
trainee's laptop, a station's own store) are migrated on opening as before.
See ``docs/lab-setup.md``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from sim.errors import UserError
from sim.lab.database import StoreError
from sim.lab.schema import SCHEMA_VERSION, schema_version, upgrade

STATION = "procsim_station"
INSTRUCTOR = "procsim_instructor"
ADMIN = "procsim_admin"
ROLES = (STATION, INSTRUCTOR, ADMIN)
"""The group roles ``lab init`` creates (``NOLOGIN``)."""

DIGEST_FN = "procsim_session_digest"
"""``procsim_session_digest(id) -> (trainee_id, station_id, recording_sha256)``: what sync
needs to know about a session already on the server, without read access to ``sessions``."""
REPLACE_FN = "procsim_replace_session"
"""``procsim_replace_session(row jsonb, metrics jsonb)``: a session and its metric rows in
place of the stored ones with the same id, in the caller's transaction (notes and display
name kept unless the new row brings its own). Always puts a row back: it deletes nothing
for good."""

GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "procsim_schema": {STATION: ("SELECT",), INSTRUCTOR: ("SELECT",)},
    "sessions": {STATION: ("INSERT",), INSTRUCTOR: ("SELECT", "UPDATE (notes)")},
    "session_metrics": {STATION: ("INSERT",), INSTRUCTOR: ("SELECT",)},
    "tombstones": {STATION: ("SELECT",), INSTRUCTOR: ("SELECT",)},
    # the server's outbox stays empty; `sessions show` reads its set-aside entries
    "outbox": {INSTRUCTOR: ("SELECT",)},
    # the portal logs in as an instructor: it checks accounts, writes the audit log and
    # records sign-offs (docs/portal.md)
    "users": {INSTRUCTOR: ("SELECT",)},
    "audit_log": {INSTRUCTOR: ("SELECT", "INSERT")},
    "sign_offs": {INSTRUCTOR: ("SELECT", "INSERT", "UPDATE")},
}
"""Table privileges of the station and instructor roles (``procsim_admin`` owns every
table). A table that is not there yet is skipped; a new table gets its line here."""

ADMIN_LINE = "ask an admin to run `procsim lab init --db ADMIN_URL` (docs/lab-setup.md)"


def _ident(conn: Connection, name: str) -> str:
    return str(conn.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar())


def role_exists(conn: Connection, role: str) -> bool:
    return conn.execute(text("SELECT to_regrole(:r) IS NOT NULL"), {"r": role}).scalar() is True


def is_admin(conn: Connection) -> bool:
    """Whether this login may change the schema: a superuser or a member of
    ``procsim_admin`` (with its privileges)."""
    if conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        return True
    return role_exists(conn, ADMIN) and bool(
        conn.execute(text("SELECT pg_has_role(current_user, :r, 'USAGE')"), {"r": ADMIN}).scalar()
    )


def open_schema(conn: Connection) -> int:
    """What opening a PostgreSQL store does to its schema; returns the version found.

    An admin login upgrades an older schema (then re-applies the grants when the roles
    exist: new tables get theirs); any other login only checks the version.

    Raises
    ------
    StoreError
        The schema is older than this procsim's (or missing) and this login may not
        change it: one line saying to ask an admin; or it is newer than this procsim.
    """
    found = schema_version(conn)
    if found == SCHEMA_VERSION:
        return found
    if found > SCHEMA_VERSION or is_admin(conn):
        old = upgrade(conn)  # raises for a newer schema
        if role_exists(conn, ADMIN):
            apply_grants(conn)
        return old
    have = "has no procsim schema" if found == 0 else f"has schema version {found}"
    raise StoreError(f"the lab database {have}; this procsim needs {SCHEMA_VERSION}: {ADMIN_LINE}")


def _procsim_tables(conn: Connection) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
            " AND c.relkind = 'r' AND c.relname = ANY(:names)"
        ),
        {"names": list(GRANTS)},
    )
    return sorted(str(r[0]) for r in rows)


def _functions_sql(schema: str) -> list[str]:
    head = f"LANGUAGE {{lang}} SECURITY DEFINER SET search_path = {schema}, pg_temp"
    return [
        f"CREATE OR REPLACE FUNCTION {schema}.{DIGEST_FN}(p_id text) "
        "RETURNS TABLE (trainee_id text, station_id text, recording_sha256 text) "
        + head.format(lang="sql")
        + " STABLE AS $f$ SELECT s.trainee_id::text, s.station_id::text, "
        "s.recording_sha256::text FROM sessions s WHERE s.id = p_id $f$",
        f"CREATE OR REPLACE FUNCTION {schema}.{REPLACE_FN}(p_row jsonb, p_metrics jsonb) "
        "RETURNS void "
        + head.format(lang="plpgsql")
        + " AS $f$ DECLARE old_notes text; old_name text; sid text := p_row->>'id'; BEGIN "
        "SELECT s.notes, s.display_name INTO old_notes, old_name FROM sessions s "
        "WHERE s.id = sid FOR UPDATE; "
        "DELETE FROM session_metrics m WHERE m.session_id = sid; "
        "DELETE FROM sessions s WHERE s.id = sid; "
        "INSERT INTO sessions SELECT * FROM jsonb_populate_record(NULL::sessions, p_row "
        "|| jsonb_build_object('notes', coalesce(p_row->>'notes', old_notes), "
        "'display_name', coalesce(p_row->>'display_name', old_name))); "
        "INSERT INTO session_metrics SELECT * FROM "
        "jsonb_populate_recordset(NULL::session_metrics, p_metrics) r WHERE r.session_id = sid; "
        "END $f$",
    ]


def _grant_schema(conn: Connection) -> None:
    """Let the three roles connect to the database and use its schema (``procsim_admin``
    also create in it): run by the database's superuser or owner."""
    db = _ident(conn, str(conn.execute(text("SELECT current_database()")).scalar()))
    schema = _ident(conn, str(conn.execute(text("SELECT current_schema()")).scalar()))
    conn.execute(text(f"GRANT CONNECT ON DATABASE {db} TO {', '.join(ROLES)}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {STATION}, {INSTRUCTOR}"))
    conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {ADMIN}"))


def _owns_schema(conn: Connection) -> bool:
    return bool(
        conn.execute(
            text(
                "SELECT pg_has_role(n.nspowner, 'USAGE') AND pg_has_role(d.datdba, 'USAGE') "
                "FROM pg_namespace n, pg_database d WHERE n.oid = current_schema()::regnamespace "
                "AND d.datname = current_database()"
            )
        ).scalar()
    )


def apply_grants(conn: Connection) -> None:
    """Give procsim's tables and functions to ``procsim_admin`` and grant the station and
    instructor roles their privileges (:data:`GRANTS`); idempotent. Run by an admin after
    each migration, and by ``lab init``."""
    if _owns_schema(conn):  # a superuser, or the owner of the database and schema
        _grant_schema(conn)
    schema = _ident(conn, str(conn.execute(text("SELECT current_schema()")).scalar()))
    for table in _procsim_tables(conn):
        t = f"{schema}.{_ident(conn, table)}"
        conn.execute(text(f"ALTER TABLE {t} OWNER TO {ADMIN}"))
        conn.execute(text(f"REVOKE ALL ON {t} FROM PUBLIC, {STATION}, {INSTRUCTOR}"))
        for role, privs in GRANTS[table].items():
            conn.execute(text(f"GRANT {', '.join(privs)} ON {t} TO {role}"))
        _grant_sequences(conn, schema, table)
    if "sessions" in _procsim_tables(conn):
        for sql in _functions_sql(schema):
            conn.execute(text(sql))
        for fn, args in ((DIGEST_FN, "text"), (REPLACE_FN, "jsonb, jsonb")):
            f = f"{schema}.{fn}({args})"
            conn.execute(text(f"ALTER FUNCTION {f} OWNER TO {ADMIN}"))
            conn.execute(text(f"REVOKE ALL ON FUNCTION {f} FROM PUBLIC"))
            conn.execute(text(f"GRANT EXECUTE ON FUNCTION {f} TO {STATION}"))


def _grant_sequences(conn: Connection, schema: str, table: str) -> None:
    """Let the roles that may ``INSERT`` into ``table`` use the sequences of its serial
    columns (``audit_log.id``): without ``USAGE`` on ``audit_log_id_seq`` an insert is
    refused ("permission denied for sequence"). The sequences follow their table's owner."""
    seqs = conn.execute(
        text(
            "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
            "WHERE s.relkind = 'S' AND d.refobjid = to_regclass(:t)"
        ),
        {"t": f"{schema}.{_ident(conn, table)}"},
    )
    inserters = [r for r, privs in GRANTS[table].items() if "INSERT" in privs]
    for (name,) in seqs.all():
        q = f"{schema}.{_ident(conn, str(name))}"
        conn.execute(text(f"REVOKE ALL ON SEQUENCE {q} FROM PUBLIC, {STATION}, {INSTRUCTOR}"))
        if inserters:
            conn.execute(text(f"GRANT USAGE ON SEQUENCE {q} TO {', '.join(inserters)}"))


@dataclass(frozen=True, slots=True)
class InitReport:
    """What ``lab init`` did: the roles it created, the schema version it found."""

    created_roles: tuple[str, ...]
    schema_from: int

    def lines(self, where: str) -> list[str]:
        roles = (
            f"created roles {', '.join(self.created_roles)}"
            if self.created_roles
            else "roles already there"
        )
        if self.schema_from == 0:
            schema = f"schema {SCHEMA_VERSION} created"
        elif self.schema_from == SCHEMA_VERSION:
            schema = f"schema {SCHEMA_VERSION} already current"
        else:
            schema = f"schema upgraded from {self.schema_from} to {SCHEMA_VERSION}"
        return [
            f"lab database {where}: {schema}; {roles} ({', '.join(ROLES)}); grants applied",
            "grant the roles to your logins, e.g. GRANT procsim_station TO station_a03; "
            "see docs/lab-setup.md",
        ]


def init_lab(conn: Connection) -> InitReport:
    """Create the group roles (if missing), the schema (migrations), and the grants, in
    the caller's transaction; idempotent. Needs a superuser, or a login with CREATEROLE
    that owns the database (it becomes a member of ``procsim_admin``)."""
    created = []
    for role in ROLES:
        if not role_exists(conn, role):
            conn.execute(text(f"CREATE ROLE {role} NOLOGIN"))
            created.append(role)
    if not is_admin(conn):
        conn.execute(text(f"GRANT {ADMIN} TO CURRENT_USER"))
    _grant_schema(conn)
    old = upgrade(conn)
    apply_grants(conn)
    return InitReport(tuple(created), old)


# --- the command ----------------------------------------------------------------------------
def _cmd_init(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from sim.lab.config import load_config, resolve_db_url
    from sim.lab.store import Store

    cfg = load_config(getattr(args, "config", None))
    url = resolve_db_url(args.db, cfg)
    store = Store(url, check_schema=False)
    try:
        if store.dialect != "postgresql":
            raise UserError(
                f"lab init: {store.display_url} is a SQLite store, which has no roles "
                "(give the lab's PostgreSQL database: --db postgresql://ADMIN@HOST/DB)"
            )
        try:
            with store.engine.begin() as conn:
                rep = init_lab(conn)
        except SQLAlchemyError as exc:
            msg = store.error(exc)
            hint = (
                " (run it as the database's superuser)" if "denied" in msg or "must " in msg else ""
            )
            raise StoreError(f"lab init: {msg}{hint}") from None
        for line in rep.lines(store.display_url):
            print(line)
    finally:
        store.close()
    return 0


def add_lab_init(lab_actions: Any) -> None:
    """Add ``init`` to the subparsers of the ``lab`` group (each action sets its own
    ``func``, so that other modules can add theirs to the same group)."""
    from sim.lab.commands import add_db_args

    q = lab_actions.add_parser(
        "init",
        help="create or upgrade the schema and the roles (run as an admin)",
        description="Create (idempotently) the schema and the group roles procsim_station, "
        "procsim_instructor, procsim_admin, and grant each its privileges. Run it as the "
        "database's superuser or owner (--db ADMIN_URL), once at set-up and after each "
        "procsim upgrade; stations do not change the schema. See docs/lab-setup.md.",
        epilog="exit status: 0 done; 2 the database cannot be reached, is SQLite, or the "
        "login may not create roles (one line).",
    )
    add_db_args(q)
    q.set_defaults(func=_cmd_init)
