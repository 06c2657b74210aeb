"""Every metric the scorer knows: name, unit and a one-line description."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricInfo:
    name: str
    unit: str
    description: str


MOTION = (
    MetricInfo("total_time_s", "s", "time from first to last sample"),
    MetricInfo("idle_time_s", "s", "time with the tip slower than 5 mm/s for over 0.5 s"),
    MetricInfo("untracked_time_s", "s", "time the tracker lost the hand"),
    MetricInfo("path_length_mm", "mm", "distance travelled by the tip (economy of motion)"),
    MetricInfo("movements", "count", "movements: speed above 50 mm/s held for 0.2 s or more"),
    MetricInfo("sparc", "", "spectral arc length of the speed profile (closer to 0: smoother)"),
    MetricInfo("ldlj", "", "log dimensionless jerk (closer to 0: smoother)"),
    MetricInfo("tremor_rms_mm", "mm", "RMS tip motion in the 4-12 Hz band above the noise floor"),
    MetricInfo("tremor_peak_hz", "Hz", "frequency of the tremor peak in the 4-12 Hz band"),
)

VENIPUNCTURE = (
    MetricInfo("angle_error_deg", "deg", "insertion angle outside the target range, mean"),
    MetricInfo("bevel_roll_error_deg", "deg", "bevel roll away from bevel-up, mean"),
    MetricInfo("puncture_offset_mm", "mm", "puncture point off the vein centreline, mean"),
    MetricInfo("attempts", "count", "skin punctures"),
    MetricInfo("redirections", "count", "needle redirections while inserted"),
    MetricInfo("tourniquet_time_s", "s", "longest time the tourniquet stayed on"),
)

SUTURING = (
    MetricInfo("stitches", "count", "stitches completed"),
    MetricInfo("bite_error_mm", "mm", "entry and exit bites away from the target bite, mean"),
    MetricInfo("symmetry_mm", "mm", "difference between entry and exit bite, mean"),
    MetricInfo("perpendicularity_error_deg", "deg", "entry and exit angle away from 90, mean"),
    MetricInfo("arc_deviation_mm", "mm", "largest distance of the tip from its arc, mean"),
    MetricInfo("spacing_error_mm", "mm", "stitch spacing away from the target, mean"),
    MetricInfo("spacing_sd_mm", "mm", "standard deviation of stitch spacing (uniformity)"),
    MetricInfo("alignment_error_deg", "deg", "stitch direction away from perpendicular, mean"),
    MetricInfo("time_per_stitch_s", "s", "total time divided by stitches completed"),
)

_BY_TASK = {"venipuncture": MOTION + VENIPUNCTURE, "suturing": MOTION + SUTURING}


def metrics_for_task(task: str) -> dict[str, MetricInfo]:
    """Metrics available for a task, by name."""
    return {m.name: m for m in _BY_TASK.get(task, MOTION)}


def unit_of(name: str) -> str:
    for infos in _BY_TASK.values():
        for m in infos:
            if m.name == name:
                return m.unit
    return ""
