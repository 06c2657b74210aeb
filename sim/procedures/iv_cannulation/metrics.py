"""IV cannulation's metrics: catalogue entries, their computation from events, error kinds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from sim.core import patient as pt
from sim.core.records import Event
from sim.core.scenario import Scenario
from sim.metrics.catalog import PATIENT, VEIN_PUNCTURE, VEIN_SESSION, MetricInfo
from sim.metrics.precision import discomfort_peak, discomfort_words, mean_or_nan, vein_entry
from sim.procedures.base import ReportTable
from sim.procedures.iv_cannulation.spec import parts
from sim.procedures.registry import format_value, metric_info

ERRORS = (
    "back_wall",
    "missed_vein",
    "angle_out_of_range",
    "bevel_down",
    "no_tourniquet",
    "tourniquet_too_long",
    "tourniquet_on_at_withdrawal",
    "probing",
    "threaded_outside_vein",
    "needle_advanced",
    "catheter_sheared",
    "no_occlusion",
    "attempt_limit",
    "incomplete",
    *pt.ERRORS,
)
"""The error event kinds the task model emits (each can be provoked on demand by a scripted
trainee: ``procsim simulate iv-cannulation --error KIND``)."""

METRICS = (
    *VEIN_PUNCTURE,
    MetricInfo(
        "advance_after_flashback_mm",
        "Advance after flashback",
        "mm",
        "how far the needle tip moved between flashback and threading, mean",
        1,
        axes=("x", "x"),
    ),
    MetricInfo(
        "advance_error_mm",
        "Advance after flashback error",
        "mm",
        "advance after flashback away from the target, mean",
        1,
        axes=("x", "x"),
    ),
    MetricInfo(
        "threading_angle_deg",
        "Angle when threading",
        "°",
        "needle angle to the skin when the catheter was threaded (lowered after flashback), mean",
        0,
        axes=("angle",),
    ),
    MetricInfo(
        "needle_motion_mm",
        "Needle movement while threading",
        "mm",
        "furthest the needle tip moved while the catheter was slid off it, largest",
        1,
        axes=("x", "y", "z"),
    ),
    *VEIN_SESSION,
    *PATIENT,
)
"""The IV cannulation metrics (after the motion metrics every procedure has), in the order
they are shown. The shared ones (``VEIN_PUNCTURE``, ``VEIN_SESSION``) mean what
venipuncture's do."""


def precision(scenario: Scenario, events: Sequence[Event], total_time_s: float) -> dict[str, float]:
    """Every metric of :data:`METRICS`, from a session's events.

    A step that never happened is NaN ("not done"), never a perfect value: no puncture
    means no angle, no attempts and no redirections; no threading means no advance, no
    threading angle and no needle movement to judge. (Redirections are counted before
    flashback only: lowering the angle after it is the technique.)
    """
    _, tol = parts(scenario)
    starts = [e for e in events if e.kind == "threading_started"]
    advances = [e.value("advance_mm") for e in starts]
    # the needle's movement while threading: measured when threading ends, or when the
    # needle was pushed on with the catheter (threading may never end then)
    motion = [e.value("needle_motion_mm") for e in events if e.kind == "threaded"]
    motion += [e.value("forward_mm") for e in events if e.kind == "needle_advanced"]
    return {
        **vein_entry(events, tol.angle_min_deg, tol.angle_max_deg),
        "advance_after_flashback_mm": mean_or_nan(advances),
        "advance_error_mm": mean_or_nan([abs(a - tol.advance_after_flash_mm) for a in advances]),
        "threading_angle_deg": mean_or_nan([e.value("angle_deg") for e in starts]),
        "needle_motion_mm": max(motion) if motion else math.nan,
        "patient_discomfort": discomfort_peak(events),
    }


def target_words(scenario: Scenario, name: str, values: Mapping[str, float]) -> str | None:
    """The debrief's words for the angle error (the insertion angle against its range),
    the advance error (the advance against its target) and the threading angle (against
    its largest)."""
    _, tol = parts(scenario)
    if name == "angle_error_deg":
        shown = format_value("insertion_angle_deg", values.get("insertion_angle_deg"))
        target = f"{tol.angle_min_deg:g}-{tol.angle_max_deg:g}°"
        return f"{metric_info('insertion_angle_deg').label}: {shown} (target {target})"
    if name == "advance_error_mm":
        shown = format_value("advance_after_flashback_mm", values.get("advance_after_flashback_mm"))
        target = f"about {tol.advance_after_flash_mm:g} mm"
        return f"{metric_info('advance_after_flashback_mm').label}: {shown} (target {target})"
    if name == "threading_angle_deg":
        value = values.get(name)
        shown = format_value(name, value)
        limit = f"{tol.thread_angle_max_deg:g}° or less"
        anchor = scenario.scoring.anchor(name)
        if value is not None and value <= tol.thread_angle_max_deg and anchor is not None:
            # within the limit, but points still lost: say how low an expert goes
            expert = format_value(name, anchor.expert)
            return f"{metric_info(name).label}: {shown} (within {limit}; an expert: {expert})"
        return f"{metric_info(name).label}: {shown} (target {limit})"
    return None


def complete_from_events(scenario: Scenario, events: Sequence[Event]) -> bool:
    """A recording without ``complete``: the cannula secured (``completed``), or the attempt
    limit reached (as :meth:`IvCannulationTask.is_complete
    <sim.procedures.iv_cannulation.task.IvCannulationTask.is_complete>`)."""
    return any(e.kind in ("completed", "attempt_limit") for e in events)


STEPS = {
    "tourniquet_on": "tourniquet on",
    "skin_puncture": "skin punctured",
    "flashback": "flashback",
    "catheter_in_vein": "catheter tip in the vein",
    "threading_started": "threading started",
    "threaded": "catheter threaded",
    "tourniquet_off": "tourniquet off",
    "needle_withdrawn": "needle withdrawn",
    "flushed": "connected and flushed",
    "secured": "secured",
}
"""The steps of the procedure the report lists, by their event, in words."""


def report(scenario: Scenario, events: Sequence[Event]) -> tuple[ReportTable, ...]:
    """The report's "Steps": each step of the cannulation with its time and the time since
    the step before, errors between them named where they happened."""
    rows = []
    last = None
    for e in events:
        if e.kind in STEPS:
            since = "" if last is None else f"{e.t_s - last:.1f}"
            rows.append((STEPS[e.kind], f"{e.t_s:.1f}", since))
            last = e.t_s
        elif e.error:
            rows.append((f"error: {e.message}", f"{e.t_s:.1f}", ""))
    if not rows:
        return ()
    return (
        ReportTable(
            "Steps",
            "Each step of the cannulation in the order it was done, and the errors between.",
            ("step", "time (s)", "since the step before (s)"),
            tuple(rows),
            numeric=(1, 2),
        ),
    )


def notes(scenario: Scenario, events: Sequence[Event]) -> dict[str, str]:
    """What the patient felt and why (the results' line on ``patient_discomfort``)."""
    words = discomfort_words(events)
    return {"patient_discomfort": words} if words else {}
