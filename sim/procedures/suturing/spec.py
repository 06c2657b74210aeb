"""Suturing scenario spec: the ``[geometry]`` and ``[tolerances]`` tables, and their checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.core.scenario import Scenario, ScenarioError, SpecReader, spec_range

MAX_STITCHES = 50
"""Most stitches a suturing scenario may plan (our choice)."""


@dataclass(frozen=True, slots=True)
class SuturingGeometry:
    """Skin pad (top face is y = 0) with a straight wound along x at z = 0."""

    pad_length_mm: float = field(metadata=spec_range(20, 400))
    pad_width_mm: float = field(metadata=spec_range(20, 400))
    pad_thickness_mm: float = field(metadata=spec_range(2, 50))
    wound_length_mm: float = field(metadata=spec_range(5, 400))
    needle_radius_mm: float = field(metadata=spec_range(2, 40))
    planned_stitch_x_mm: tuple[float, ...]
    show_targets: bool


@dataclass(frozen=True, slots=True)
class SuturingTolerances:
    """What counts as correct technique."""

    bite_target_mm: float = field(metadata=spec_range(0.5, 20))
    bite_tol_mm: float = field(metadata=spec_range(0, 10))
    symmetry_max_mm: float = field(metadata=spec_range(0, 10))
    spacing_target_mm: float = field(metadata=spec_range(1, 50))
    spacing_tol_mm: float = field(metadata=spec_range(0, 20))
    perpendicular_tol_deg: float = field(metadata=spec_range(0, 90))
    alignment_tol_deg: float = field(metadata=spec_range(0, 90))
    arc_deviation_max_mm: float = field(metadata=spec_range(0.1, 20))
    stitches_required: int = field(metadata=spec_range(1, MAX_STITCHES))
    exit_margin_mm: float = field(metadata=spec_range(0, 10))


def parts(scenario: Scenario) -> tuple[SuturingGeometry, SuturingTolerances]:
    """The geometry and tolerances of a suturing scenario."""
    geo, tol = scenario.geometry, scenario.tolerances
    if not isinstance(geo, SuturingGeometry) or not isinstance(tol, SuturingTolerances):
        raise TypeError(f"{scenario.path}: not a suturing scenario ({scenario.task})")
    return geo, tol


def check(r: SpecReader, geometry: Any, tolerances: Any) -> None:
    """Cross-field checks: planned stitches on the wound, in order, enough of them."""
    geo: SuturingGeometry = geometry
    tol: SuturingTolerances = tolerances
    half = geo.wound_length_mm / 2
    planned = geo.planned_stitch_x_mm
    if not 1 <= len(planned) <= MAX_STITCHES:
        raise ScenarioError(
            f"{r.path}: key 'geometry.planned_stitch_x_mm': expected 1 to {MAX_STITCHES} "
            f"positions, got {len(planned)}"
        )
    for i, x in enumerate(planned):
        if abs(x) > half:
            raise r.fail(
                f"geometry.planned_stitch_x_mm[{i}]", f"a position within +-{half:g} mm", x
            )
        if i and x <= planned[i - 1]:
            raise r.fail(
                f"geometry.planned_stitch_x_mm[{i}]",
                f"positions that increase (after {planned[i - 1]:g})",
                x,
            )
    n = len(planned)
    if tol.stitches_required > n:
        raise r.fail(
            "tolerances.stitches_required",
            f"at most the number of planned stitches ({n})",
            tol.stitches_required,
        )
