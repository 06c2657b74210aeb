"""The shipped part-task drills (``scenarios/drill-*.toml``): each trains named metrics, is
scored on them alone, and says it is a drill wherever its result is shown (the command
line, the report, the list of scenarios). That an expert passes and a novice fails each
drill, and that each keeps the procedure contract: ``tests/procedures/test_check.py``."""

from __future__ import annotations

import pytest

from sim.cli import main, print_result
from sim.pipeline import Pipeline
from sim.procedures.registry import get
from sim.report.session import session_report
from sim.scenarios import find_scenario, scenario_paths
from sim.sources.scripted import ScriptedSource
from sim.storage.session import run_session

DRILLS = [p.stem for p in scenario_paths() if p.stem.startswith("drill-")]


def test_the_four_drills_the_issue_asks_for_are_shipped_and_listed_as_drills(capsys):
    assert {"drill-angle", "drill-steady-hold", "drill-bite-spacing", "drill-curve"} <= set(DRILLS)
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in DRILLS:
        sc = find_scenario(name)
        assert sc.drill is not None, name
        row = next(li for li in lines if li.startswith(name + " "))
        assert f"[drill: {', '.join(sc.drill.targets)}]" in row
    assert not any("[drill" in li for li in lines if li.startswith("venipuncture "))


@pytest.mark.parametrize("name", DRILLS)
def test_only_the_targets_carry_points_and_every_view_says_it_is_a_drill(name, tmp_path, capsys):
    sc = find_scenario(name)
    assert sc.drill is not None
    path = tmp_path / f"{name}.jsonl"
    result = run_session(
        Pipeline(sc, procedure=get(sc.task)), ScriptedSource(sc, "expert", 0), path, trainee="t1"
    )
    assert result.complete and result.passed, (name, result.score)
    scored = {m.name for m in result.metrics if m.points is not None}
    assert scored == set(sc.drill.targets)
    assert result.drill == sc.drill.targets
    labels = [m.label.lower() for m in result.metrics if m.name in sc.drill.targets]
    # the command line (procsim score) and the report name what the drill trains
    print_result(str(path), result)
    line = next(li for li in capsys.readouterr().out.splitlines() if "Drill: trains" in li)
    assert all(label in line.lower() for label in labels), line
    html = session_report(path)
    drill = html[html.index('id="drill"') : html.index("</p>", html.index('id="drill"'))]
    assert "Drill: trains" in drill
    assert all(label.replace("'", "&#x27;") in drill.lower() for label in labels), drill


def test_a_full_scenarios_result_is_as_it_was(veni, tmp_path):
    path = tmp_path / "v.jsonl"
    r = run_session(
        Pipeline(veni, procedure=get(veni.task)), ScriptedSource(veni, "expert", 0), path
    )
    assert r.drill == () and r.drill_line == "" and "drill" not in r.as_dict()
    assert 'id="drill"' not in session_report(path)
