"""Precision metrics of each task, computed from the events its model emitted."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.core.records import Event
from sim.core.scenario import Scenario


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def venipuncture_precision(scenario: Scenario, events: Sequence[Event]) -> dict[str, float]:
    """Angle, bevel, offset, attempts, probing, redirections and tourniquet time.

    A step that never happened is NaN ("not done"), never a perfect value: no puncture
    means no angle, no attempts and no redirections to judge; a tourniquet never applied
    has no tourniquet time.
    """
    _, tol = scenario.venipuncture
    punctures = [e for e in events if e.kind == "skin_puncture"]
    angles = [e.value("angle_deg") for e in punctures]
    tourniquet = [e.value("duration_s") for e in events if e.kind == "tourniquet_off"]
    punctured = bool(punctures)
    return {
        "insertion_angle_deg": _mean(angles),
        "angle_error_deg": _mean(
            [max(0.0, tol.angle_min_deg - a, a - tol.angle_max_deg) for a in angles]
        ),
        "bevel_roll_error_deg": _mean([abs(e.value("roll_deg")) for e in punctures]),
        "puncture_offset_mm": _mean([abs(e.value("offset_mm")) for e in punctures]),
        "attempts": float(len(punctures)) if punctured else math.nan,
        "redirections": float(sum(1 for e in events if e.kind == "redirection"))
        if punctured
        else math.nan,
        "probes": float(sum(1 for e in events if e.kind == "probing")) if punctured else math.nan,
        "tourniquet_time_s": max(tourniquet) if tourniquet else math.nan,
    }


def suturing_precision(
    scenario: Scenario, events: Sequence[Event], total_time_s: float
) -> dict[str, float]:
    """Bites, symmetry, perpendicularity, arc following, spacing and alignment."""
    _, tol = scenario.suturing
    st = [e for e in events if e.kind == "stitch_completed"]
    bites = [e.value(k) for e in st for k in ("entry_bite_mm", "exit_bite_mm")]
    angles = [e.value(k) for e in st for k in ("entry_angle_deg", "exit_angle_deg")]
    xs = sorted(e.value("x_mm") for e in st)
    spacing = np.diff(xs) if len(xs) > 1 else np.zeros(0)
    return {
        "stitches": float(len(st)) if st else math.nan,
        "bite_error_mm": _mean([abs(b - tol.bite_target_mm) for b in bites]),
        "symmetry_mm": _mean([e.value("symmetry_mm") for e in st]),
        "perpendicularity_error_deg": _mean([90.0 - a for a in angles]),
        "arc_deviation_mm": _mean([e.value("arc_deviation_mm") for e in st]),
        "spacing_error_mm": _mean([abs(d - tol.spacing_target_mm) for d in spacing]),
        "spacing_sd_mm": float(np.std(spacing)) if len(spacing) else math.nan,
        "alignment_error_deg": _mean([e.value("alignment_deg") for e in st]),
        "time_per_stitch_s": total_time_s / len(st) if st else math.nan,
    }
