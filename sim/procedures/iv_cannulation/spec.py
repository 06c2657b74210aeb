"""Scenario spec of peripheral IV cannulation: the site and the cannula, and what counts as
correct technique.

Geometry is the one limb-and-vein model (:class:`sim.core.limb.Limb`): the
limb is a cylinder along x whose top runs along ``y = 0``; the vein is a straight tube
parallel to x at ``y = -vein_depth_mm``, ``z = vein_lateral_mm``, ``|x| <= vein_length_mm /
2``; the site is near x = 0. A forearm is a cylinder of about 30-40 mm radius; the back of a
hand is nearly flat (a large radius) with a shallower vein.

The cannula is a catheter over a needle: loaded, the needle's bevel protrudes
``needle_protrusion_mm`` beyond the catheter tip, so blood flashes back into the needle's
chamber before the catheter tip is in the vein. The needle is ``catheter_length_mm +
needle_protrusion_mm`` long from the catheter hub.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sim.core import patient as pt
from sim.core.limb import Limb
from sim.core.scenario import Scenario, SpecReader, spec_range


@dataclass(frozen=True, slots=True)
class IvGeometry:
    """Limb, vein, tourniquet and cannula (all mm)."""

    arm_radius_mm: float = field(metadata=spec_range(15, 200))
    arm_length_mm: float = field(metadata=spec_range(100, 600))
    vein_depth_mm: float = field(metadata=spec_range(0.5, 15))
    vein_diameter_mm: float = field(metadata=spec_range(0.5, 10))
    vein_lateral_mm: float = field(metadata=spec_range(-30, 30))
    vein_length_mm: float = field(metadata=spec_range(20, 400))
    tourniquet_x_mm: float = field(metadata=spec_range(-300, 300))
    catheter_length_mm: float = field(metadata=spec_range(10, 80))
    catheter_diameter_mm: float = field(metadata=spec_range(0.3, 3))
    needle_protrusion_mm: float = field(metadata=spec_range(0.2, 5))
    catheter_step_mm: float = field(metadata=spec_range(0.05, 5))
    """How far one ``catheter_advance`` action slides the catheter along the needle."""
    vein_visibility: float = field(default=1.0, metadata=spec_range(0, 1))
    """How clearly the vein shows through the skin: 0 not at all, 1 as clearly as its depth
    allows (a patient case's key; default 1, which older scenarios had)."""

    @property
    def needle_length_mm(self) -> float:
        """Needle length from the catheter hub to its tip."""
        return self.catheter_length_mm + self.needle_protrusion_mm


@dataclass(frozen=True, slots=True)
class IvTolerances:
    """What counts as correct technique."""

    angle_min_deg: float = field(metadata=spec_range(0, 90))
    angle_max_deg: float = field(metadata=spec_range(0, 90))
    bevel_roll_tol_deg: float = field(metadata=spec_range(0, 180))
    advance_after_flash_mm: float = field(metadata=spec_range(0, 10))
    """How far to advance after flashback so that the catheter tip is in the vein."""
    thread_angle_max_deg: float = field(metadata=spec_range(0, 90))
    """Largest angle to the skin to thread the catheter at (the angle lowered after flashback)."""
    needle_still_mm: float = field(metadata=spec_range(0.1, 20))
    """How far the needle tip may move forward while the catheter is threaded off it."""
    reinsert_mm: float = field(metadata=spec_range(0.1, 20))
    """Needle pulled back this far into the catheter, then pushed forward this far again,
    is re-inserting the needle into the catheter."""
    tourniquet_max_s: float = field(metadata=spec_range(1, 600))
    max_attempts: int = field(metadata=spec_range(1, 10))
    redirect_deg: float = field(metadata=spec_range(0.5, 90))
    probe_mm: float = field(metadata=spec_range(0.1, 20))
    exit_margin_mm: float = field(metadata=spec_range(0, 10))


def check(reader: SpecReader, geometry: Any, tolerances: Any) -> None:
    """Cross-field checks: raise ``reader.fail(key, expected, got)`` (one line naming the
    file and the key) for the first pair of values that cannot go together.

    Parameters
    ----------
    reader : SpecReader
        The scenario's reader.
    geometry, tolerances : IvGeometry, IvTolerances
        Values each already within its own range.
    """
    geo: IvGeometry = geometry
    tol: IvTolerances = tolerances
    fail = reader.fail
    r = geo.vein_diameter_mm / 2
    if tol.angle_min_deg >= tol.angle_max_deg:
        raise fail(
            "tolerances.angle_max_deg",
            f"a value above angle_min_deg ({tol.angle_min_deg:g})",
            tol.angle_max_deg,
        )
    if tol.thread_angle_max_deg > tol.angle_max_deg:
        raise fail(
            "tolerances.thread_angle_max_deg",
            f"a value at most angle_max_deg ({tol.angle_max_deg:g}): the angle is lowered "
            "after flashback",
            tol.thread_angle_max_deg,
        )
    if geo.vein_depth_mm <= r:
        raise fail(
            "geometry.vein_depth_mm",
            f"a depth greater than half the vein diameter ({r:g})",
            geo.vein_depth_mm,
        )
    if geo.vein_depth_mm + r >= geo.arm_radius_mm:
        raise fail(
            "geometry.vein_depth_mm",
            f"a depth that keeps the vein inside the limb (radius {geo.arm_radius_mm:g})",
            geo.vein_depth_mm,
        )
    if abs(geo.vein_lateral_mm) + r >= geo.arm_radius_mm:
        raise fail(
            "geometry.vein_lateral_mm",
            f"an offset that keeps the vein under the skin (radius {geo.arm_radius_mm:g})",
            geo.vein_lateral_mm,
        )
    if geo.catheter_diameter_mm >= geo.vein_diameter_mm:
        raise fail(
            "geometry.catheter_diameter_mm",
            f"a catheter narrower than the vein ({geo.vein_diameter_mm:g})",
            geo.catheter_diameter_mm,
        )
    if geo.needle_protrusion_mm >= geo.catheter_length_mm:
        raise fail(
            "geometry.needle_protrusion_mm",
            f"a value below catheter_length_mm ({geo.catheter_length_mm:g})",
            geo.needle_protrusion_mm,
        )
    if tol.advance_after_flash_mm < geo.needle_protrusion_mm:
        raise fail(
            "tolerances.advance_after_flash_mm",
            f"at least needle_protrusion_mm ({geo.needle_protrusion_mm:g}): the advance "
            "after flashback brings the catheter tip into the vein",
            tol.advance_after_flash_mm,
        )
    if abs(geo.tourniquet_x_mm) >= geo.arm_length_mm / 2:
        raise fail(
            "geometry.tourniquet_x_mm",
            f"a position on the limb (within +-{geo.arm_length_mm / 2:g})",
            geo.tourniquet_x_mm,
        )


def parts(scenario: Scenario) -> tuple[IvGeometry, IvTolerances]:
    """The geometry and tolerances of an IV cannulation scenario."""
    geo, tol = scenario.geometry, scenario.tolerances
    if not isinstance(geo, IvGeometry) or not isinstance(tol, IvTolerances):
        raise TypeError(f"{scenario.path}: not an IV cannulation scenario ({scenario.task})")
    return geo, tol


def limb(geo: IvGeometry) -> Limb:
    """The limb and vein of ``geo``."""
    return Limb(
        geo.arm_radius_mm,
        geo.vein_depth_mm,
        geo.vein_lateral_mm,
        geo.vein_diameter_mm,
        geo.vein_length_mm,
    )


def mirror(scenario: Scenario) -> Scenario:
    """The scene across the vertical plane along the arm's axis: the vein on the other side of
    the arm's middle, and the patient's artery and nerve too (the other arm)."""
    geo, _ = parts(scenario)
    other = replace(scenario, geometry=replace(geo, vein_lateral_mm=-geo.vein_lateral_mm))
    return pt.mirrored_scenario(other)
