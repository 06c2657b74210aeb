"""Fixtures for the lab tests: scripted recordings, and a real PostgreSQL server started
from the machine's own binaries (``initdb``, ``pg_ctl``) on a temporary folder and a loopback
port, stopped afterwards."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from sim.core.records import Item
from sim.pipeline import Pipeline
from sim.scenarios import find_scenario
from sim.sources.scripted import ScriptedSource
from sim.storage.session import run_session
from tests.conftest import stopped_after

PG_USER = "procsim_lab"
PG_PASSWORD = "Sup3r-secret-pw"


def make_recording(
    folder: Path,
    scenario: str,
    skill: str,
    seed: int,
    trainee: str,
    errors: tuple[str, ...] = (),
    stop_after: str | None = None,
    **header: object,
) -> Path:
    """A scripted session (making ``errors`` on purpose; stopped right after the first
    ``stop_after`` event if given) written as a recording."""
    tag = "".join("-" + e for e in errors) + (f"-stop-{stop_after}" if stop_after else "")
    path = folder / f"{scenario}-{skill}-{seed}-{trainee}{tag}.jsonl"
    if not path.exists():
        sc = find_scenario(scenario)
        pipeline = Pipeline(sc)
        source: Iterable[Item] = ScriptedSource(sc, skill, seed, errors)
        if stop_after is not None:
            source = stopped_after(pipeline, source, stop_after)
        run_session(pipeline, source, path, trainee=trainee, **header)
    return path


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A handful of recordings: two trainees, both scenarios, passes and fails."""
    d = tmp_path_factory.mktemp("recordings")
    return {
        "exp1": make_recording(d, "venipuncture", "expert", 1, "t-001", station="s1"),
        "exp2": make_recording(d, "venipuncture", "expert", 2, "t-001", station="s1"),
        # pierced the back wall, then stopped: incomplete, with a critical error
        "nov1": make_recording(
            d, "venipuncture", "novice", 1, "t-002", ("back_wall",), "back_wall", station="s2"
        ),
        "sut1": make_recording(d, "suturing", "expert", 1, "t-001", station="s1"),
    }


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    cands = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return cands[-1] if cands else None


def _free_port() -> int:
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
        self.port = _free_port()
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

    def start(self) -> None:
        opts = (
            f"-k {self.base} -p {self.port} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            [self.pg_ctl, "-D", str(self.data), "-l", str(self.base / "log"), "-w", "-o", opts]
            + ["start"]
        )

    def stop(self, mode: str = "fast") -> None:
        self._run([self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the session (skipped, with the reason, if the machine
    has no PostgreSQL server binaries)."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries initdb/pg_ctl not found (apt install postgresql)")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: use the postgres system user
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run initdb as")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="procsim-pg-"))
    server = PgServer(base, initdb, pg_ctl, as_user)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(RuntimeError):
            server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture()
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The server's URL, with an empty database for each test."""
    from sqlalchemy import create_engine, text

    eng = create_engine(
        pg_server.url.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT",
    )
    with eng.connect() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    eng.dispose()
    yield pg_server.url
