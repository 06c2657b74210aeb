"""Venipuncture's metrics: catalogue entries, their computation from events, error kinds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from sim.core import patient as pt
from sim.core.records import Event
from sim.core.scenario import Scenario
from sim.metrics.catalog import PATIENT, VEIN_PUNCTURE, VEIN_SESSION, MetricInfo
from sim.metrics.precision import discomfort_peak, discomfort_words, mean_or_nan, vein_entry
from sim.procedures.base import ReportTable
from sim.procedures.registry import format_value, metric_info
from sim.procedures.venipuncture.spec import parts

ERRORS = (
    "back_wall",
    "missed_vein",
    "angle_out_of_range",
    "bevel_down",
    "no_tourniquet",
    "tourniquet_too_long",
    "tourniquet_reapplied_early",
    "tourniquet_on_at_withdrawal",
    "probing",
    "attempt_limit",
    "incomplete",
    *pt.ERRORS,
)
"""The error event kinds the task model emits (each can be provoked on demand by a scripted
trainee: ``procsim simulate --error KIND``)."""
LEGACY_ERRORS = ("attempts_exceeded",)
"""Kinds the model emitted before: still accepted in scenario files (and the scenarios
embedded in old recordings), never emitted now. A venipuncture now ends at the attempt
limit, so another attempt after it cannot happen."""

HOLD = MetricInfo(
    "hold_drift_mm",
    "Drift while holding",
    "mm",
    "how far the tip moved while held in the vein for the draw (from hold_settle_s after the "
    "flashback until blood came), mean over entries",
    1,
    axes=("x", "y", "z"),
)
"""The steady hold in the lumen (a steady-hold drill's target): NaN ("not done") when no
blood was drawn, as a hold that never held."""

METRICS = VEIN_PUNCTURE + VEIN_SESSION + PATIENT + (HOLD,)


def precision(scenario: Scenario, events: Sequence[Event], total_time_s: float) -> dict[str, float]:
    """Angle, bevel, offset, attempts, probing, redirections and tourniquet time.

    A step that never happened is NaN ("not done"), never a perfect value: no puncture
    means no angle, no attempts and no redirections to judge; a tourniquet never applied
    has no tourniquet time.
    """
    _, tol = parts(scenario)
    values = vein_entry(events, tol.angle_min_deg, tol.angle_max_deg)
    values["patient_discomfort"] = discomfort_peak(events)
    drifts = [e.value("hold_drift_mm", math.nan) for e in events if e.kind == "blood_drawn"]
    values["hold_drift_mm"] = mean_or_nan([d for d in drifts if not math.isnan(d)])
    return values


def target_words(scenario: Scenario, name: str, values: Mapping[str, float]) -> str | None:
    """The debrief's words for the angle error: the angle itself against its range."""
    if name != "angle_error_deg":
        return None
    _, tol = parts(scenario)
    shown = format_value("insertion_angle_deg", values.get("insertion_angle_deg"))
    target = f"{tol.angle_min_deg:g}-{tol.angle_max_deg:g}°"
    return f"{metric_info('insertion_angle_deg').label}: {shown} (target {target})"


def complete_from_events(scenario: Scenario, events: Sequence[Event]) -> bool:
    """A recording without ``complete``: blood drawn and the needle out (``completed``), or
    the attempt limit reached (as :meth:`VenipunctureTask.is_complete
    <sim.procedures.venipuncture.task.VenipunctureTask.is_complete>`)."""
    return any(e.kind in ("completed", "attempt_limit") for e in events)


OUTCOMES = {
    "flashback": "flashback",
    "blood_drawn": "blood drawn",
    "back_wall": "through the back wall",
    "missed_vein": "missed the vein",
}
"""What an attempt came to, by the events that follow its puncture (in this order)."""


def report(scenario: Scenario, events: Sequence[Event]) -> tuple[ReportTable, ...]:
    """The report's "Attempts": each skin puncture with its angle, bevel, aim, redirections,
    probing and what it came to."""
    _, tol = parts(scenario)
    starts = [i for i, e in enumerate(events) if e.kind == "skin_puncture"]
    rows = []
    for n, i in enumerate(starts):
        e = events[i]
        after = events[i + 1 : starts[n + 1] if n + 1 < len(starts) else len(events)]
        kinds = {a.kind for a in after}
        came = [words for kind, words in OUTCOMES.items() if kind in kinds] or ["withdrawn"]
        angle = e.value("angle_deg")
        rows.append(
            (
                f"{n + 1}",
                f"{e.t_s:.1f}",
                format_value("insertion_angle_deg", angle, unit=False)
                + ("" if tol.angle_min_deg <= angle <= tol.angle_max_deg else " (off target)"),
                f"{abs(e.value('roll_deg')):.0f}",
                format_value("puncture_offset_mm", abs(e.value("offset_mm")), unit=False),
                f"{sum(1 for a in after if a.kind == 'redirection')}",
                f"{sum(1 for a in after if a.kind == 'probing')}",
                ", ".join(came),
            )
        )
    if not rows:
        return ()
    return (
        ReportTable(
            "Attempts",
            f"Each skin puncture: target angle {tol.angle_min_deg:g}-{tol.angle_max_deg:g}°, "
            f"bevel within {tol.bevel_roll_tol_deg:g}° of up, on the vein's centreline.",
            (
                "attempt",
                "time (s)",
                "angle (°)",
                "bevel from up (°)",
                "off the centreline (mm)",
                "redirections",
                "probing",
                "came to",
            ),
            tuple(rows),
            numeric=(0, 1, 2, 3, 4, 5, 6),
        ),
    )


def notes(scenario: Scenario, events: Sequence[Event]) -> dict[str, str]:
    """What the patient felt and why (the results' line on ``patient_discomfort``)."""
    words = discomfort_words(events)
    return {"patient_discomfort": words} if words else {}
