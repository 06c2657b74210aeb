"""The ``replay`` command checks its recordings before any window opens: bad input is one
line naming the file, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.pipeline import Pipeline
from sim.scenarios import find_scenario
from sim.sources.scripted import ScriptedSource
from sim.storage.session import run_session


@pytest.fixture(scope="module")
def suturing_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay-commands") / "suturing.jsonl"
    sc = find_scenario("suturing")
    run_session(Pipeline(sc), ScriptedSource(sc, "expert", 1), path, trainee="t-001")
    return path


def test_replay_checks_its_input_first(
    mouse_sessions: dict[str, Path],
    suturing_recording: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such recording" in capsys.readouterr().err
    veni = str(mouse_sessions["complete"])
    assert main(["replay", veni, "--ghost", str(suturing_recording)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be the ghost" in err and "suturing" in err
