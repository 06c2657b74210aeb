"""Suturing under the mouse: a curved needle held over the pad, crossing the wound
(:class:`sim.app.needles.CurvedNeedle`), starting above the first bite's entry."""

from __future__ import annotations

from sim.app.mouse import Instrument, InstrumentMouse, MouseMapping
from sim.app.needles import CURVED_BINDINGS, CurvedNeedle
from sim.core.scenario import Scenario
from sim.procedures.suturing.spec import parts

START_X_MM = -20.0
"""The needle starts this far along the wound, mm (our choice: near its start)."""


def _needle(scenario: Scenario) -> Instrument:
    geo, tol = parts(scenario)
    return CurvedNeedle(
        needle_radius_mm=geo.needle_radius_mm,
        pad_length_mm=geo.pad_length_mm,
        pad_width_mm=geo.pad_width_mm,
        pad_thickness_mm=geo.pad_thickness_mm,
        start_point=(START_X_MM, 0.0, -tol.bite_target_mm),
    )


MOUSE: MouseMapping = InstrumentMouse(CURVED_BINDINGS, _needle)
"""Suturing's :class:`~sim.app.mouse.MouseMapping`."""
