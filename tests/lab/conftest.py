"""Fixtures for the lab tests: scripted recordings, and a real PostgreSQL server started
from the machine's own binaries (``initdb``, ``pg_ctl``) on a temporary folder and a loopback
port, stopped afterwards."""

from __future__ import annotations

import contextlib
import shutil
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

from .pgserver import NoServer, PgServer, throwaway_server


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the session (skipped, with the reason, if the machine
    has no PostgreSQL server binaries)."""
    base = Path(tempfile.mkdtemp(prefix="procsim-pg-"))
    try:
        server = throwaway_server(base)
    except NoServer as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(str(exc))
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
