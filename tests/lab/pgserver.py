"""A throw-away PostgreSQL server started from the machine's own binaries (``initdb``,
``pg_ctl``) on a temporary folder and a loopback port: used by the lab tests
(``tests/lab/conftest.py``) and the load checks (``tools/bench_portal.py``,
``tools/bench_sync.py``)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from pathlib import Path

PG_USER = "procsim_lab"
PG_PASSWORD = "Sup3r-secret-pw"


class NoServer(Exception):
    """This machine cannot run a throw-away PostgreSQL server (the reason, one line)."""


def pg_bin(name: str) -> str | None:
    """Path of a PostgreSQL server binary (on PATH, else the newest Debian install)."""
    found = shutil.which(name)
    if found:
        return found
    cands = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return cands[-1] if cands else None


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A throw-away PostgreSQL server: ``url`` (with a password), ``stop()``, ``start()``."""

    def __init__(self, base: Path, initdb: str, pg_ctl: str, as_user: list[str]) -> None:
        self.base = base
        self.data = base / "data"
        self.pg_ctl = pg_ctl
        self.as_user = as_user
        self.port = free_port()
        pw = base / "pw"
        pw.write_text(PG_PASSWORD + "\n")
        self._chown(base)
        self._run(
            [
                initdb,
                "-D",
                str(self.data),
                "-U",
                PG_USER,
                f"--pwfile={pw}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        pw.unlink()
        self.url = f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _chown(self, path: Path) -> None:
        if self.as_user:
            shutil.chown(path, "postgres", "postgres")
            for p in path.rglob("*"):
                shutil.chown(p, "postgres", "postgres")

    def _run(self, cmd: list[str]) -> None:
        r = subprocess.run(
            self.as_user + cmd, capture_output=True, text=True, timeout=120, check=False
        )
        if r.returncode != 0:
            log = self.base / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{cmd[0]} failed: {r.stdout}{r.stderr}{tail}")

    def start(self, max_connections: int = 100) -> None:
        opts = (
            f"-k {self.base} -p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c fsync=off -c full_page_writes=off -c max_connections={max_connections}"
        )
        self._run(
            [self.pg_ctl, "-D", str(self.data), "-l", str(self.base / "log"), "-w", "-o", opts]
            + ["start"]
        )

    def stop(self, mode: str = "fast") -> None:
        self._run([self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"])

    def add_login(self, name: str, group: str, password: str) -> str:
        """Create (if absent) the login role ``name`` granted the group role ``group`` (as a
        lab's IT does, docs/lab-setup.md); returns its URL."""
        from sqlalchemy import create_engine, text

        from sim.lab.database import parse_url

        eng = create_engine(parse_url(self.url), isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as c:
                if not c.execute(
                    text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}
                ).first():
                    c.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
                c.execute(text(f"GRANT {group} TO {name}"))
        finally:
            eng.dispose()
        return f"postgresql://{name}:{password}@127.0.0.1:{self.port}/postgres"


def throwaway_server(base: Path) -> PgServer:
    """A new server on the empty folder ``base``, not started yet. Run as root, the server
    runs as the ``postgres`` system user (initdb refuses root).

    Raises
    ------
    NoServer
        No server binaries, or root without a ``postgres`` user.
    """
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise NoServer(
            "PostgreSQL server binaries initdb/pg_ctl not found (apt install postgresql)"
        )
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise NoServer(
                "running as root and there is no 'postgres' user to run initdb as"
            ) from None
        as_user = ["runuser", "-u", "postgres", "--"]
    return PgServer(base, initdb, pg_ctl, as_user)
