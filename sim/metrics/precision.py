"""What every procedure's precision metrics share (each procedure computes its own in
``sim/procedures/<name>/metrics.py``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

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
