"""The session report's instrument path is labelled with the procedure's words, and a
recording whose scenario cannot be read still gets its report without a guessed procedure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim.pipeline import Pipeline
from sim.procedures.registry import procedures
from sim.report import plots
from sim.report.session import session_report
from sim.scenarios import find_scenario
from sim.sources.scripted import ScriptedSource
from sim.storage.session import run_session


@pytest.fixture()
def xlabels(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The x-axis labels of every figure the report layer renders, in order."""
    seen: list[list[str]] = []
    real = plots.to_png

    def spy(fig: Any) -> bytes:
        seen.append([ax.get_xlabel() for ax in fig.axes])
        return real(fig)

    monkeypatch.setattr(plots, "to_png", spy)
    return seen


def _recording(tmp_path: Path, scenario_id: str) -> Path:
    sc = find_scenario(scenario_id)
    path = tmp_path / f"{scenario_id}.jsonl"
    run_session(Pipeline(sc), ScriptedSource(sc, "expert", 1), path, trainee="t1")
    return path


@pytest.mark.parametrize("proc", procedures(), ids=lambda p: p.id)
def test_the_path_runs_along_the_procedures_site(
    proc: Any, tmp_path: Path, xlabels: list[list[str]]
) -> None:
    session_report(_recording(tmp_path, proc.id))
    path_axes = [labels for labels in xlabels if len(labels) == 2]  # from above, from the side
    assert path_axes == [[f"x (mm, along {proc.along})"] * 2]


def test_a_recording_whose_scenario_cannot_be_read_gets_a_report_naming_no_procedure(
    tmp_path: Path, xlabels: list[list[str]]
) -> None:
    path = _recording(tmp_path, "suturing")
    lines = path.read_text("utf-8").splitlines()
    header = json.loads(lines[0])
    header["scenario"] = "suturing-old"
    header["scenario_toml"] = "this is not a scenario ["
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", "utf-8")
    html = session_report(path)
    assert "suturing-old: session report" in html
    path_axes = [labels for labels in xlabels if len(labels) == 2]
    assert path_axes == [["x (mm)", "x (mm)"]]  # not "along the wound": nothing guessed
