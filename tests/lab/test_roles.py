"""Roles in the lab database, enforced by a real PostgreSQL server: ``procsim lab init``
creates the schema and the group roles (twice is a no-op); a station login syncs with only
``procsim_station`` and can read no trainee's rows, delete nothing, change no schema; an
instructor reads the cohort and writes notes but cannot erase; an admin erases; a station
finding an older schema says so in one line instead of migrating."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from sim.cli import main
from sim.lab.database import StoreError, parse_url
from sim.lab.ingest import session_from_recording
from sim.lab.roles import STATION, apply_grants
from sim.lab.schema import SCHEMA_VERSION, upgrade
from sim.lab.store import Store
from sim.lab.sync import Lab

from .pgserver import PgServer

LOGINS = {
    "station_a": "procsim_station",
    "station_b": "procsim_station",
    "instr_1": "procsim_instructor",
    "admin_1": "procsim_admin",
}
PW = "L0gin-pw"


def _su(pg_server: PgServer) -> Any:
    return create_engine(parse_url(pg_server.url), isolation_level="AUTOCOMMIT")


def _logins(pg_server: PgServer) -> dict[str, str]:
    """One login role per name in LOGINS, granted its group role (as a lab's IT would,
    docs/lab-setup.md); their URLs."""
    return {n: pg_server.add_login(n, group, PW) for n, group in LOGINS.items()}


def _init(pg_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["lab", "init", "--db", pg_url]) == 0
    return capsys.readouterr().out


def _station(root: Path, name: str, url: str) -> Lab:
    folder = root / name
    (folder / "recordings").mkdir(parents=True, exist_ok=True)
    return Lab(f"sqlite:///{folder / 'sessions.sqlite'}", url, recordings=folder / "recordings")


def _put(lab: Lab, rec: Path, **kw: Any) -> str:
    dst = lab.recordings / rec.name
    shutil.copyfile(rec, dst)
    s = session_from_recording(dst, **kw)
    lab.record(s, sync=False)
    return s.id


def _refused(url: str, sql: str) -> str:
    """The server's error for ``sql`` run as the login of ``url`` (the test fails if the
    server runs it)."""
    eng = create_engine(parse_url(url))
    try:
        with eng.begin() as c, pytest.raises(ProgrammingError) as exc:
            c.execute(text(sql))
        return str(exc.value.orig)
    finally:
        eng.dispose()


def _catalog(pg_server: PgServer) -> list[Any]:
    """What lab init sets: the roles, owners and privileges of procsim's tables and
    functions, the schema version."""
    eng = _su(pg_server)
    with eng.connect() as c:
        rows: list[Any] = list(
            c.execute(
                text(
                    "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'procsim\\_%' "
                    "ORDER BY 1"
                )
            )
        )
        rows += list(
            c.execute(
                text(
                    "SELECT relname, relowner::regrole::text, relacl::text, relrowsecurity "
                    "FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1"
                )
            )
        )
        rows += list(
            c.execute(
                text(
                    "SELECT proname, proowner::regrole::text, proacl::text, prosecdef FROM "
                    "pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1"
                )
            )
        )
        rows += list(c.execute(text("SELECT version FROM procsim_schema")))
    eng.dispose()
    return rows


def test_lab_init_creates_the_schema_and_roles_and_twice_is_a_no_op(
    pg_server: PgServer, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _init(pg_url, capsys)
    assert f"schema {SCHEMA_VERSION} created" in out and PW not in out
    assert "postgresql://procsim_lab:***@" in out
    before = _catalog(pg_server)
    assert [r for r in before if len(r) == 2 and r[0] != "procsim_lab"] == [
        ("procsim_admin", False),
        ("procsim_instructor", False),
        ("procsim_station", False),
    ]
    owners = {r[0]: r[1] for r in before if len(r) == 4}
    assert owners["sessions"] == owners["procsim_session_digest"] == "procsim_admin"
    out = _init(pg_url, capsys)
    assert f"schema {SCHEMA_VERSION} already current; roles already there" in out
    assert _catalog(pg_server) == before
    # a station's login may not: one line, exit status 2, nothing changed
    urls = _logins(pg_server)
    capsys.readouterr()
    assert main(["lab", "init", "--db", urls["station_a"]]) == 2
    err = capsys.readouterr().err
    assert "run it as the database's superuser" in err and PW not in err
    assert len(err.strip().splitlines()) == 1
    assert _catalog(pg_server) == before
    # a SQLite store has no roles: one line, exit status 2
    assert main(["lab", "init", "--db", "sqlite:////tmp/x/sessions.sqlite"]) == 2
    err = capsys.readouterr().err
    assert "SQLite store, which has no roles" in err and len(err.strip().splitlines()) == 1


def test_a_station_syncs_with_only_procsim_station_and_reads_deletes_alters_nothing(
    pg_server: PgServer,
    pg_url: str,
    tmp_path: Path,
    recordings: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _init(pg_url, capsys)
    urls = _logins(pg_server)
    # the existing sync path, as the station logins: push, already there, re-score
    # --replace, a disagreement (the erasures' tombstones: the next test)
    with (
        _station(tmp_path, "a", urls["station_a"]) as a,
        _station(tmp_path, "b", urls["station_b"]) as b,
    ):
        ids_a = [_put(a, recordings[k], station="s-a") for k in ("exp1", "sut1")]
        rep = a.sync()
        assert (rep.pushed, rep.error, rep.set_aside) == (2, None, ()), rep
        nov = _put(b, recordings["nov1"], station="s-b")
        assert b.sync().pushed == 1
        # the same recording stored under another trainee at station b: reported
        _put(b, recordings["exp1"], station="s-b", trainee="t-999")
        rep = b.sync()
        assert rep.set_aside == (ids_a[0],), rep
        assert "'t-999' here, 't-001' on the server" in (rep.disagreements[0])
        with Store(pg_url) as su:
            assert su.set_notes(ids_a[0], "good flashback")
        # station a re-imports its session with --replace: pushed in place of the server's
        s = session_from_recording(a.recordings / recordings["exp1"].name, station="s-a")
        a.record(s, sync=False, replace=True)
        assert a.sync().pushed == 1
        # pushed again from scratch: found already there, nothing duplicated
        a.local.queue(ids_a[1])
        assert a.sync().already == 1
    with Store(pg_url) as su:
        assert su.count() == 3
        assert {r.trainee_id for r in su.find()} == {"t-001", "t-002"}
        # the replace kept the session, its metric rows and the instructor's notes
        row = su.get(ids_a[0])
        assert row is not None and len(row.metrics) > 5 and row.notes == "good flashback"
    # read another trainee's rows, or any: refused by the server
    sta = urls["station_a"]
    for sql in (
        "SELECT trainee_id FROM sessions",
        f"SELECT * FROM sessions WHERE id = '{nov}'",
        "SELECT * FROM session_metrics",
        f"DELETE FROM sessions WHERE id = '{nov}'",
        "DELETE FROM session_metrics",
        "UPDATE sessions SET score = 100",
        "DELETE FROM tombstones",
    ):
        assert "permission denied" in _refused(sta, sql), sql
    assert "must be owner" in _refused(sta, "ALTER TABLE sessions ADD COLUMN x int")
    assert "permission denied for schema" in _refused(sta, "CREATE TABLE mine (x int)")
    assert "must be owner" in _refused(sta, "ALTER TABLE sessions DISABLE ROW LEVEL SECURITY")
    # the commands say so in one line, and nothing is gone
    capsys.readouterr()
    assert main(["sessions", "list", "--db", sta]) == 2
    err = capsys.readouterr().err
    assert "permission denied for table sessions" in err and PW not in err
    assert main(["sessions", "erase", "--trainee", "t-002", "--db", sta]) == 2
    assert "permission denied" in capsys.readouterr().err
    with Store(pg_url) as su:
        assert su.count() == 3 and su.tombstones() == []


def test_an_instructor_reads_the_cohort_and_writes_notes_but_cannot_erase_and_an_admin_can(
    pg_server: PgServer,
    pg_url: str,
    tmp_path: Path,
    recordings: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _init(pg_url, capsys)
    urls = _logins(pg_server)
    a = _station(tmp_path, "a", urls["station_a"])
    for k in ("exp1", "nov1"):
        _put(a, recordings[k], station="s-a")
    assert a.sync().pushed == 2
    ins = urls["instr_1"]
    capsys.readouterr()
    assert main(["sessions", "list", "--db", ins, "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["trainee_id"] for r in rows) == ["t-001", "t-002"]
    nov = next(r["id"] for r in rows if r["trainee_id"] == "t-002")
    with Store(ins) as s:
        assert s.set_notes(nov, "angle too steep; see me")
        assert s.get(nov).notes == "angle too steep; see me"  # type: ignore[union-attr]
    assert "permission denied" in _refused(ins, "UPDATE sessions SET score = 100")
    assert "permission denied" in _refused(ins, "DELETE FROM session_metrics")
    assert main(["sessions", "erase", "--trainee", "t-002", "--db", ins]) == 2
    err = capsys.readouterr().err
    assert "erasing needs an admin login (a login role granted procsim_admin" in err
    assert "session_metrics" not in err and len(err.strip().splitlines()) == 1
    with Store(pg_url) as su:
        assert su.count() == 2
    # an admin login (a member of procsim_admin, not a superuser) erases
    assert main(["sessions", "erase", "--trainee", "t-002", "--db", urls["admin_1"]]) == 0
    assert "erased trainee 't-002': 1 session" in capsys.readouterr().out
    with Store(pg_url) as su:
        assert [r.trainee_id for r in su.find()] == ["t-001"]
        assert [t for t, _ in su.tombstones()] == ["t-002"]
    # the station, with only procsim_station, applies the erasure at its next sync
    with a:
        rep = a.sync()
        assert rep.erased == 1 and rep.error is None
        assert [r.trainee_id for r in a.local.find()] == ["t-001"]
        assert sorted(p.name for p in a.recordings.iterdir()) == [recordings["exp1"].name]


def test_a_station_finding_an_older_schema_says_so_and_does_not_migrate(
    pg_server: PgServer,
    pg_url: str,
    tmp_path: Path,
    recordings: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _init(pg_url, capsys)
    urls = _logins(pg_server)
    eng = _su(pg_server)
    with eng.begin() as c:  # the lab database as the previous procsim's lab init left it
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
        upgrade(c, target=SCHEMA_VERSION - 1)
        c.execute(text(f"GRANT USAGE ON SCHEMA public TO {STATION}"))
        apply_grants(c)
    with pytest.raises(StoreError) as exc:
        Store(urls["station_a"])
    msg = str(exc.value)
    assert f"has schema version {SCHEMA_VERSION - 1}; this procsim needs {SCHEMA_VERSION}" in msg
    assert "ask an admin to run `procsim lab init" in msg and "\n" not in msg and PW not in msg
    with _station(tmp_path, "a", urls["station_a"]) as a:
        sid = _put(a, recordings["exp1"])
        rep = a.sync()
        assert rep.pushed == 0 and rep.pending == 1 and "ask an admin" in (rep.error or "")
        with eng.connect() as c:
            assert c.execute(text("SELECT version FROM procsim_schema")).scalar() == (
                SCHEMA_VERSION - 1
            )
        out = _init(pg_url, capsys)
        assert f"schema upgraded from {SCHEMA_VERSION - 1} to {SCHEMA_VERSION}" in out
        assert a.sync().pushed == 1
    with Store(pg_url) as su:
        assert su.ids() == {sid}
    eng.dispose()


def test_a_login_s_password_comes_from_a_pgpass_or_service_file_not_the_url(
    pg_server: PgServer,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # as docs/lab-setup.md says: the URL (in the config, on the command line, in `ps`)
    # names no password; libpq reads it from the station account's private files
    _init(pg_url, capsys)
    _logins(pg_server)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pg_server.port}:postgres:station_a:{PW}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    with Store(f"postgresql://station_a@127.0.0.1:{pg_server.port}/postgres") as s:
        assert s.tombstones() == []
    service = tmp_path / "pg_service.conf"
    service.write_text(
        f"[procsim-lab]\nhost=127.0.0.1\nport={pg_server.port}\ndbname=postgres\n"
        "user=station_a\nsslmode=disable\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(service))
    with Store("postgresql://?service=procsim-lab") as s:
        assert s.tombstones() == []
    # TLS options in the URL reach libpq: verify-full against a server without TLS fails
    with pytest.raises(StoreError) as exc:
        Store(
            f"postgresql://station_a@127.0.0.1:{pg_server.port}/postgres"
            f"?sslmode=verify-full&sslrootcert={tmp_path / 'ca.crt'}"
        )
    assert "SSL was required" in str(exc.value)
    # without the file, the login is refused; no password shows in the message
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    with pytest.raises(StoreError) as exc:
        Store(f"postgresql://station_a@127.0.0.1:{pg_server.port}/postgres")
    assert "login failed for role station_a: no password found" in str(exc.value) and PW not in str(
        exc.value
    )


def test_a_refused_login_says_login_failed_naming_the_role_not_cannot_reach(
    pg_url: str,
    pg_server: PgServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    data_dir: Path,
) -> None:
    _init(pg_url, capsys)
    _logins(pg_server)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    base = f"127.0.0.1:{pg_server.port}/postgres"
    cases = {
        f"postgresql://instr_1@{base}": "no password found",
        f"postgresql://instr_1:Wr0ng-pw-xyz@{base}": "wrong password",
    }
    for url, why in cases.items():
        assert main(["sessions", "list", "--db", url]) == 2
        err = capsys.readouterr().err.strip()
        assert "login failed for role instr_1: " + why in err, err
        assert "cannot reach" not in err and "Wr0ng-pw-xyz" not in err
        assert len(err.splitlines()) == 1
