"""Venipuncture under the mouse: a straight needle aimed at a point on the arm's skin
(:class:`sim.app.needles.StraightNeedle`), starting beside the vein."""

from __future__ import annotations

from sim.app.mouse import Instrument, InstrumentMouse, MouseMapping
from sim.app.needles import STRAIGHT_BINDINGS, StraightNeedle
from sim.core.scenario import Scenario
from sim.procedures.venipuncture.spec import parts

START_X_MM = -12.0
"""The needle starts aimed this far along the arm from the puncture site, mm (our choice)."""
START_BESIDE_VEIN_MM = 6.0
"""... and this far to the side of the vein, so the trainee has to find it (our choice)."""


def _needle(scenario: Scenario) -> Instrument:
    geo, _ = parts(scenario)
    return StraightNeedle(
        skin_radius_mm=geo.arm_radius_mm,
        needle_length_mm=geo.needle_length_mm,
        start_aim=(START_X_MM, 0.0, geo.vein_lateral_mm + START_BESIDE_VEIN_MM),
    )


MOUSE: MouseMapping = InstrumentMouse(STRAIGHT_BINDINGS, _needle)
"""Venipuncture's :class:`~sim.app.mouse.MouseMapping`."""
