"""Suturing's metrics: catalogue entries, their computation from events, error kinds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from sim.core.records import Event
from sim.core.scenario import Scenario
from sim.metrics.catalog import MetricInfo
from sim.metrics.precision import mean_or_nan
from sim.procedures.base import ReportTable
from sim.procedures.registry import format_value, metric_info
from sim.procedures.suturing.spec import parts

ERRORS = (
    "bite_out_of_range",
    "not_perpendicular",
    "asymmetric_bites",
    "tissue_drag",
    "through_pad",
    "missed_wound",
    "stitch_too_close",
    "stitch_crossing",
    "incomplete",
)
"""The error event kinds the task model emits (each can be provoked on demand by a scripted
trainee: ``procsim simulate --error KIND``)."""

METRICS = (
    MetricInfo("stitches", "Stitches", "", "stitches completed", 0),
    MetricInfo(
        "bite_error_mm",
        "Bite error",
        "mm",
        "entry and exit bites away from the target bite, mean",
        1,
        axes=("z",),
    ),
    MetricInfo(
        "symmetry_mm",
        "Bite asymmetry",
        "mm",
        "difference between entry and exit bite, mean",
        1,
        axes=("z", "z"),
    ),
    MetricInfo(
        "perpendicularity_error_deg",
        "Entry and exit angle error",
        "°",
        "entry and exit angle away from 90°, mean",
        0,
        axes=("angle",),
    ),
    MetricInfo(
        "arc_deviation_mm",
        "Off the needle's arc",
        "mm",
        "largest distance of the tip from its arc in tissue (dragging instead of rotating), mean",
        1,
        axes=("x", "y", "z"),
    ),
    MetricInfo(
        "spacing_error_mm",
        "Spacing error",
        "mm",
        "stitch spacing away from the target, mean",
        1,
        axes=("x", "x"),
    ),
    MetricInfo(
        "spacing_sd_mm",
        "Spacing unevenness",
        "mm",
        "standard deviation of stitch spacing",
        1,
        axes=("x",),
    ),
    MetricInfo(
        "alignment_error_deg",
        "Stitch alignment error",
        "°",
        "stitch direction away from perpendicular to the wound, mean",
        0,
    ),
    MetricInfo(
        "time_per_stitch_s",
        "Time per stitch",
        "s",
        "total time divided by stitches completed",
        0,
        whole_session=True,
    ),
)


def precision(scenario: Scenario, events: Sequence[Event], total_time_s: float) -> dict[str, float]:
    """Bites, symmetry, perpendicularity, arc following, spacing and alignment."""
    _, tol = parts(scenario)
    st = [e for e in events if e.kind == "stitch_completed"]
    bites = [e.value(k) for e in st for k in ("entry_bite_mm", "exit_bite_mm")]
    angles = [e.value(k) for e in st for k in ("entry_angle_deg", "exit_angle_deg")]
    xs = sorted(e.value("x_mm") for e in st)
    spacing = np.diff(xs) if len(xs) > 1 else np.zeros(0)
    return {
        "stitches": float(len(st)) if st else math.nan,
        "bite_error_mm": mean_or_nan([abs(b - tol.bite_target_mm) for b in bites]),
        "symmetry_mm": mean_or_nan([e.value("symmetry_mm") for e in st]),
        "perpendicularity_error_deg": mean_or_nan([90.0 - a for a in angles]),
        "arc_deviation_mm": mean_or_nan([e.value("arc_deviation_mm") for e in st]),
        "spacing_error_mm": mean_or_nan([abs(d - tol.spacing_target_mm) for d in spacing]),
        "spacing_sd_mm": float(np.std(spacing)) if len(spacing) else math.nan,
        "alignment_error_deg": mean_or_nan([e.value("alignment_deg") for e in st]),
        "time_per_stitch_s": total_time_s / len(st) if st else math.nan,
    }


def target_words(scenario: Scenario, name: str, values: Mapping[str, float]) -> str | None:
    """The debrief's words for the bite error: the bite against its target."""
    if name != "bite_error_mm":
        return None
    _, tol = parts(scenario)
    return (
        f"{metric_info(name).label}: {format_value(name, values.get(name))} (bites of "
        f"{tol.bite_target_mm:g} mm, within {tol.bite_tol_mm:g} mm)"
    )


def complete_from_events(scenario: Scenario, events: Sequence[Event]) -> bool:
    """A recording without ``complete``: as many stitches as the scenario requires."""
    _, tol = parts(scenario)
    return sum(1 for e in events if e.kind == "stitch_completed") >= tol.stitches_required


def report(scenario: Scenario, events: Sequence[Event]) -> tuple[ReportTable, ...]:
    """The report's "Stitches": each completed stitch with its position, bites, angles and
    how far the tip left its arc."""
    _, tol = parts(scenario)
    done = [e for e in events if e.kind == "stitch_completed"]
    if not done:
        return ()
    rows = tuple(
        (
            f"{n + 1}",
            f"{e.t_s:.1f}",
            f"{e.value('x_mm'):.1f}",
            f"{e.value('entry_bite_mm'):.1f}",
            f"{e.value('exit_bite_mm'):.1f}",
            f"{e.value('entry_angle_deg'):.0f}",
            f"{e.value('exit_angle_deg'):.0f}",
            f"{e.value('arc_deviation_mm'):.1f}",
        )
        for n, e in enumerate(done)
    )
    return (
        ReportTable(
            "Stitches",
            f"Each stitch placed: bites of {tol.bite_target_mm:g} mm (within "
            f"{tol.bite_tol_mm:g}) on both sides, entry and exit at 90° (within "
            f"{tol.perpendicular_tol_deg:g}), the tip on the needle's arc.",
            (
                "stitch",
                "time (s)",
                "along the wound (mm)",
                "entry bite (mm)",
                "exit bite (mm)",
                "entry angle (°)",
                "exit angle (°)",
                "off the arc (mm)",
            ),
            rows,
            numeric=(0, 1, 2, 3, 4, 5, 6, 7),
        ),
    )
