"""``[drill]``: a part-task drill names the metrics it trains and is scored on them alone."""

import re
from pathlib import Path

import pytest

from sim.core.scenario import DrillSpec, ScenarioError
from sim.scenarios import SCENARIO_DIR, load_scenario


def _drill_text(keep: tuple[str, ...], drill: str) -> str:
    """venipuncture.toml scoring only the metrics in ``keep``, with ``drill`` appended."""
    text = (SCENARIO_DIR / "venipuncture.toml").read_text()
    tables = re.split(r"(?m)^(?=\[)", text)
    out = []
    for t in tables:
        m = re.match(r"\[scoring\.metrics\.(\w+)\]", t)
        if m and m.group(1) not in keep:
            continue
        out.append(t)
    return "".join(out) + "\n" + drill


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "drill.toml"
    p.write_text(text)
    return p


def test_a_drill_names_its_targets_and_a_full_scenario_has_none(tmp_path, veni):
    text = _drill_text(
        ("angle_error_deg", "bevel_roll_error_deg"),
        '[drill]\ntargets = ["angle_error_deg", "bevel_roll_error_deg"]\n',
    )
    sc = load_scenario(_write(tmp_path, text))
    assert sc.drill == DrillSpec(targets=("angle_error_deg", "bevel_roll_error_deg"))
    assert [a.name for a in sc.scoring.anchors] == ["angle_error_deg", "bevel_roll_error_deg"]
    assert veni.drill is None


@pytest.mark.parametrize(
    ("keep", "drill", "expected"),
    [
        (
            ("angle_error_deg",),
            '[drill]\ntargets = ["charm"]\n',
            "key 'drill.targets[0]': expected a metric of task venipuncture (",
        ),
        (
            ("angle_error_deg",),
            '[drill]\ntargets = ["angle_error_deg", "tremor_rms_mm"]\n',
            "key 'drill.targets[1]': expected a metric scored in [scoring.metrics] "
            "(angle_error_deg); add [scoring.metrics.tremor_rms_mm], got 'tremor_rms_mm'",
        ),
        (
            ("angle_error_deg", "sparc"),
            '[drill]\ntargets = ["angle_error_deg"]\n',
            "key 'scoring.metrics.sparc': expected only the drill's targets scored "
            "(angle_error_deg)",
        ),
        (
            ("angle_error_deg",),
            '[drill]\ntargets = ["angle_error_deg", "angle_error_deg"]\n',
            "key 'drill.targets[1]': expected each metric once",
        ),
        (("angle_error_deg",), "[drill]\ntargets = []\n", "key 'drill.targets': expected at least"),
        (
            ("angle_error_deg",),
            '[drill]\ntargets = "angle_error_deg"\n',
            "key 'drill.targets': expected a list",
        ),
        (("angle_error_deg",), "[drill]\n", "key 'drill.targets': missing"),
        (
            ("angle_error_deg",),
            '[drill]\ntargets = ["angle_error_deg"]\nreps = 3\n',
            "key 'drill.reps': unknown",
        ),
        (("angle_error_deg",), 'drill = "angle"\n', "key 'drill': expected a table"),
    ],
)
def test_bad_drill_targets_are_refused_in_one_line(tmp_path, keep, drill, expected):
    # a top-level key must come before the tables: put `drill = ...` first
    text = _drill_text(keep, drill if drill.startswith("[") else "")
    if not drill.startswith("["):
        text = drill + text
    p = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}: ")
    assert expected in msg
    assert "\n" not in msg
