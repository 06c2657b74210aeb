"""IV cannulation under the mouse: the cannula is a straight needle aimed at a point on the
limb's skin (:class:`sim.app.needles.StraightNeedle`, as venipuncture's), starting beside
the vein.

The catheter is not a mouse control: it slides off the needle with the procedure's key
(``K``, action ``catheter_advance``), so the hand on the mouse holds the needle still while
the other threads. The straight needle's bindings use W/S, Q/E, A/D, the wheel and the drags;
none of the procedure's keys (T, K, O, L, P).
"""

from __future__ import annotations

from sim.app.mouse import Instrument, InstrumentMouse, MouseMapping
from sim.app.needles import STRAIGHT_BINDINGS, StraightNeedle
from sim.core.scenario import Scenario
from sim.procedures.iv_cannulation.spec import parts

START_X_MM = -12.0
"""The cannula starts aimed this far along the limb from the site, mm (our choice, as
venipuncture)."""
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
"""IV cannulation's :class:`~sim.app.mouse.MouseMapping`."""
