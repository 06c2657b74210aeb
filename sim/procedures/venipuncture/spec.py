"""Venipuncture scenario spec: the ``[geometry]`` and ``[tolerances]`` tables, and their checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.core.scenario import Scenario, SpecReader, spec_range


@dataclass(frozen=True, slots=True)
class VenipunctureGeometry:
    """Forearm and vein. The forearm is a cylinder along x; the site is at x = 0."""

    arm_radius_mm: float = field(metadata=spec_range(15, 80))
    arm_length_mm: float = field(metadata=spec_range(100, 600))
    vein_depth_mm: float = field(metadata=spec_range(0.5, 15))
    vein_diameter_mm: float = field(metadata=spec_range(0.5, 10))
    vein_lateral_mm: float = field(metadata=spec_range(-30, 30))
    vein_length_mm: float = field(metadata=spec_range(20, 400))
    tourniquet_x_mm: float = field(metadata=spec_range(-300, 300))
    needle_length_mm: float = field(metadata=spec_range(5, 80))
    vein_visibility: float = field(default=1.0, metadata=spec_range(0, 1))
    """How clearly the vein shows through the skin: 0 not at all, 1 as clearly as its depth
    allows (a patient case's key; default 1, which older scenarios had)."""


@dataclass(frozen=True, slots=True)
class VenipunctureTolerances:
    """What counts as correct technique."""

    angle_min_deg: float = field(metadata=spec_range(0, 90))
    angle_max_deg: float = field(metadata=spec_range(0, 90))
    bevel_roll_tol_deg: float = field(metadata=spec_range(0, 180))
    tourniquet_max_s: float = field(metadata=spec_range(1, 600))
    max_attempts: int = field(metadata=spec_range(1, 10))
    redirect_deg: float = field(metadata=spec_range(0.5, 90))
    draw_hold_s: float = field(metadata=spec_range(0, 60))
    exit_margin_mm: float = field(metadata=spec_range(0, 10))
    # Keys added after schema 1 was first written have defaults, so that scenarios embedded
    # in older recordings still load.
    tourniquet_rest_s: float = field(default=120.0, metadata=spec_range(0, 3600))
    probe_mm: float = field(default=3.0, metadata=spec_range(0.1, 20))
    entries_required: int = field(default=1, metadata=spec_range(1, 20))
    """Entries into the vein (each held ``draw_hold_s`` and withdrawn) that complete the
    session: 1 for a venipuncture; more for a drill of repeated entries."""
    hold_settle_s: float = field(default=2.0, metadata=spec_range(0, 10))
    """Time after the flashback to stop advancing: the hold in the lumen, whose drift is
    measured, starts then."""


def parts(scenario: Scenario) -> tuple[VenipunctureGeometry, VenipunctureTolerances]:
    """The geometry and tolerances of a venipuncture scenario."""
    geo, tol = scenario.geometry, scenario.tolerances
    if not isinstance(geo, VenipunctureGeometry) or not isinstance(tol, VenipunctureTolerances):
        raise TypeError(f"{scenario.path}: not a venipuncture scenario ({scenario.task})")
    return geo, tol


def check(r: SpecReader, geometry: Any, tolerances: Any) -> None:
    """Cross-field checks: an angle range, and a vein under the skin and inside the arm."""
    geo: VenipunctureGeometry = geometry
    tol: VenipunctureTolerances = tolerances
    if tol.angle_min_deg >= tol.angle_max_deg:
        raise r.fail(
            "tolerances.angle_max_deg",
            f"a value above angle_min_deg ({tol.angle_min_deg:g})",
            tol.angle_max_deg,
        )
    if geo.vein_depth_mm <= geo.vein_diameter_mm / 2:
        raise r.fail(
            "geometry.vein_depth_mm",
            f"a depth greater than half the vein diameter ({geo.vein_diameter_mm / 2:g})",
            geo.vein_depth_mm,
        )
    if geo.vein_depth_mm + geo.vein_diameter_mm / 2 >= geo.arm_radius_mm:
        raise r.fail(
            "geometry.vein_depth_mm",
            f"a depth that keeps the vein inside the arm (radius {geo.arm_radius_mm:g})",
            geo.vein_depth_mm,
        )
