"""What every procedure's precision metrics share (each procedure computes its own in
``sim/procedures/<name>/metrics.py``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.core import patient as pt
from sim.core.records import Event


def mean_or_nan(values: Sequence[float]) -> float:
    """The mean of ``values``; NaN ("not done") when there are none."""
    return float(np.mean(values)) if len(values) else math.nan


def vein_entry(
    events: Sequence[Event], angle_min_deg: float, angle_max_deg: float
) -> dict[str, float]:
    """The metrics of a straight needle put into a vein (:data:`sim.metrics.catalog.
    VEIN_PUNCTURE` and ``VEIN_SESSION``), from the task's ``skin_puncture``, ``redirection``,
    ``probing`` and ``tourniquet_off`` events.

    A step that never happened is NaN ("not done"), never a perfect value: no puncture
    means no angle, no attempts, no probing and no redirections to judge; a tourniquet
    never applied has no tourniquet time.

    Parameters
    ----------
    events : sequence of Event
        The session's events.
    angle_min_deg, angle_max_deg : float
        The insertion angle's target range, degrees.
    """
    punctures = [e for e in events if e.kind == "skin_puncture"]
    angles = [e.value("angle_deg") for e in punctures]
    tourniquet = [e.value("duration_s") for e in events if e.kind == "tourniquet_off"]
    punctured = bool(punctures)

    def count(kind: str) -> float:
        return float(sum(1 for e in events if e.kind == kind)) if punctured else math.nan

    return {
        "insertion_angle_deg": mean_or_nan(angles),
        "angle_error_deg": mean_or_nan(
            [max(0.0, angle_min_deg - a, a - angle_max_deg) for a in angles]
        ),
        "bevel_roll_error_deg": mean_or_nan([abs(e.value("roll_deg")) for e in punctures]),
        "puncture_offset_mm": mean_or_nan([abs(e.value("offset_mm")) for e in punctures]),
        "attempts": float(len(punctures)) if punctured else math.nan,
        "redirections": count("redirection"),
        "probes": count("probing"),
        "tourniquet_time_s": max(tourniquet) if tourniquet else math.nan,
    }


def discomfort_peak(events: Sequence[Event]) -> float:
    """The patient's peak discomfort (0-10: :data:`sim.metrics.catalog.PATIENT`) from the
    ``patient_discomfort`` events (:mod:`sim.core.patient`); NaN ("not done") when the skin
    was never punctured."""
    if not any(e.kind == "skin_puncture" for e in events):
        return math.nan
    return max((e.value("discomfort", 0.0) for e in events if e.kind == pt.DISCOMFORT), default=0.0)


_TIMES = {1: "", 2: " twice"}


def discomfort_words(events: Sequence[Event]) -> str:
    """What the patient felt and why, in one line for the results ("Patient discomfort
    peaked at 6.5/10: probing twice, a fast entry, a nerve touch; the patient said: "Ow,
    that stings.""): the causes that raised it up to its peak, largest first, and the
    lines the patient said. "" when the skin was never punctured."""
    peak = discomfort_peak(events)
    if math.isnan(peak):
        return ""
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    reports = [e for e in events if e.kind == pt.DISCOMFORT]
    top = max(range(len(reports)), key=lambda i: reports[i].value("discomfort", 0.0), default=-1)
    for e in reports[: top + 1]:
        for key, value in e.values:
            if key.startswith("+"):
                cause = key[1:]
                totals[cause] = totals.get(cause, 0.0) + value
                counts[cause] = counts.get(cause, 0) + 1
    parts = []
    for cause in sorted(totals, key=lambda c: -totals[c]):
        if totals[cause] < pt.REPORT_STEP:  # too small to have been felt: not a reason
            continue
        words = pt.CAUSE_WORDS.get(cause, cause.replace("_", " "))
        n = counts[cause]
        if cause in pt.COUNTED:
            words += _TIMES.get(n, f" {n} times")
        parts.append(words)
    line = f"Patient discomfort peaked at {peak:.1f}/10"
    if parts:
        line += ": " + ", ".join(parts[:5])
    said = list(dict.fromkeys(e.message for e in events if e.kind == pt.SAID))
    if said:  # the words end the line (with their own stop)
        return line + "; the patient said: " + " ".join(f'"{s}"' for s in said[:3])
    return line + "."
