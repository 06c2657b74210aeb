"""Assisted depth (``sim.core.assist``): the axis the camera cannot resolve is guided, and a
scenario chooses how per input kind."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core import geometry as g
from sim.core.assist import DepthAssist
from sim.scenarios import depth_assist
from tests.conftest import scenario_of

finite = st.floats(-200, 200)


@given(finite, finite, finite, st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1))
def test_snap_is_a_dead_zone_that_keeps_the_needle_along_the_arm(
    x: float, y: float, z: float, ax: float, ay: float, az: float
) -> None:
    """Within the zone the tip is on the line; beyond it, off by the excess (continuous, no
    jump); the axis has no sideways part and stays a unit vector with the normal
    perpendicular to it and the bevel's roll kept; x and y are the camera's."""
    n = math.sqrt(ax * ax + ay * ay + az * az)
    if n < 1e-3 or math.hypot(ax, ay) / n < 1e-3:
        return
    axis = (ax / n, ay / n, az / n)
    ref = (0.0, 1.0, 0.0) if abs(axis[1]) < 0.9 else (1.0, 0.0, 0.0)
    normal = g.scale(g.cross(axis, ref), 1 / g.norm(g.cross(axis, ref)))
    a = DepthAssist("snap", 2.0, 6.0)
    tip, ax2, n2 = a.apply((x, y, z), axis, normal)
    assert tip[:2] == (x, y)
    assert tip[2] == pytest.approx(2.0 + math.copysign(max(abs(z - 2.0) - 6.0, 0.0), z - 2.0))
    assert ax2[2] == 0.0 and g.norm(ax2) == pytest.approx(1.0)
    assert abs(g.dot(ax2, n2)) < 1e-6 and g.norm(n2) == pytest.approx(1.0)
    if abs(ax2[1]) < 0.99:  # the bevel keeps its roll from up (what the HUD and metrics read)
        up = (0.0, 1.0, 0.0)
        before, after = g.signed_roll_deg(normal, up, axis), g.signed_roll_deg(n2, up, ax2)
        assert math.remainder(after - before, 360.0) == pytest.approx(0.0, abs=1e-6)
    fixed, _, _ = DepthAssist("fixed", 2.0).apply((x, y, z), axis, normal)
    assert fixed == (x, y, 2.0)
    assert DepthAssist().apply((x, y, z), axis, normal) == ((x, y, z), axis, normal)


def test_scenarios_choose_the_assist_per_input_kind() -> None:
    """The vein scenarios keep a webcam's aim on the vein's centreline; the mouse is never
    assisted; suturing (bites on both sides of the wound) follows the camera."""
    veni = scenario_of("venipuncture")
    a = depth_assist(veni, "webcam")
    assert a.mode == "fixed" and a.guided == {"z"}
    assert a.line_z_mm == veni.geometry.vein_lateral_mm  # type: ignore[attr-defined]
    assert depth_assist(veni, "mouse").guided == frozenset()
    assert depth_assist(scenario_of("suturing"), "webcam").mode == "camera"


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('[input.webcam]\ndepth = "guess"\n', "key 'input.webcam.depth': expected one of"),
        ("[input.webcam]\ndepth_snap_mm = nan\n", "key 'input.webcam.depth_snap_mm'"),
        ('[input.mouse]\ndepth = "snap"\n', "key 'input.mouse': unknown"),
    ],
)
def test_bad_input_tables_are_one_line(tmp_path, table: str, expected: str) -> None:
    src = scenario_of("suturing").path
    text = Path(src).read_text(encoding="utf-8")
    p = tmp_path / "x.toml"
    p.write_text(text.split("[input.")[0] + table, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "sim", "scenarios", "check", str(p)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2 and expected in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_snap_needs_a_line_to_snap_to(tmp_path) -> None:
    """Suturing has no single line across: a scenario asking to snap is refused."""
    text = Path(scenario_of("suturing").path).read_text(encoding="utf-8")
    p = tmp_path / "s.toml"
    p.write_text(text + '\n[input.webcam]\ndepth = "snap"\n', encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "sim", "scenarios", "check", str(p)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2 and "no line across to snap to" in r.stderr, r.stderr
