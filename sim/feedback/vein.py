"""The cue rules of a straight needle put into a vein under a tourniquet, shared by the
procedures that do so (venipuncture, IV cannulation): one definition of each, under the
contract of :mod:`sim.feedback.cues`.

=================== ==== ================================== ================================
rule                prio applies (phase gate)               on / hold
=================== ==== ================================== ================================
probing              90  moved, not done                    shaft moved sideways in the
                                                            tissue > probe_mm / > half of it
tourniquet_too_long  80  not done                           tourniquet on > max (no hyst.)
too_steep            70  the caller's aiming gate           not in vein and angle > max
                                                            / > max - angle_hysteresis_deg
too_shallow          70  same                               angle < min / < min + hysteresis
off_vein             65  same                               aim point (tip once in) beyond
                                                            the vein edge / within
                                                            offset_hysteresis_mm of it
bevel_down           60  same                               roll > tol / > tol - hysteresis
=================== ==== ================================== ================================

A procedure's view must carry the fields of :class:`VeinView`.

With a noisy input (:mod:`sim.feedback.cues`, noise) the aim, angle and bevel thresholds rise
by their axes' noise margin: ``off_vein`` reads ``z`` (across the arm, the camera's depth)
against the vein's radius, ``too_steep``/``too_shallow`` the needle's ``angle`` against half
the target range, ``bevel_down`` the ``roll`` against the bevel tolerance, ``probing`` the
shaft's sideways motion (``z``) against ``probe_mm``. A rule whose margin reaches its
tolerance becomes guidance (priority 10).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sim.core.records import Severity
from sim.core.scenario import FeedbackSpec
from sim.feedback.cues import Rule, coached, compared, noise_margin, shown
from sim.metrics.noise import EXACT, InputNoise


class VeinView(Protocol):
    """The live-view fields the vein-entry rules read (a procedure's view has them)."""

    @property
    def moved(self) -> bool: ...
    @property
    def done(self) -> bool: ...
    @property
    def inserted(self) -> bool: ...
    @property
    def angle_deg(self) -> float: ...
    @property
    def roll_deg(self) -> float: ...
    @property
    def offset_mm(self) -> float: ...
    @property
    def in_vein(self) -> bool: ...
    @property
    def probe_mm(self) -> float: ...
    @property
    def tourniquet_s(self) -> float: ...


class VeinLimits(Protocol):
    """The tolerances the vein-entry rules read (a procedure's ``[tolerances]`` has them)."""

    @property
    def angle_min_deg(self) -> float: ...
    @property
    def angle_max_deg(self) -> float: ...
    @property
    def bevel_roll_tol_deg(self) -> float: ...
    @property
    def probe_mm(self) -> float: ...
    @property
    def tourniquet_max_s(self) -> float: ...


def vein_entry_rules(
    fb: FeedbackSpec,
    tol: VeinLimits,
    vein_radius_mm: float,
    aiming: Callable[[Any], bool],
    noise: InputNoise = EXACT,
) -> list[Rule[Any]]:
    """The rules of the module's table, with the procedure's thresholds and gates.

    Parameters
    ----------
    fb : FeedbackSpec
        Hysteresis of angles and offsets.
    tol : VeinLimits
        The insertion angle's range and the bevel's tolerance (degrees), how far the shaft
        may move sideways in the tissue (mm), the tourniquet's time limit (s).
    vein_radius_mm : float
        The vein's radius, mm.
    aiming : callable
        Gate of the aiming rules (angle, aim, bevel): when the needle is being aimed.
    noise : InputNoise
        The session's tracker noise (default: an exact input).
    """
    lo, hi, ha = tol.angle_min_deg, tol.angle_max_deg, fb.angle_hysteresis_deg
    oh = fb.offset_hysteresis_mm
    rng = f"{lo:g}-{hi:g}°"
    roll_tol, tq_max, probe_mm = tol.bevel_roll_tol_deg, tol.tourniquet_max_s, tol.probe_mm

    def angle(v: VeinView) -> float:
        return compared(v.angle_deg, 0)

    def angle_text(v: VeinView) -> str:
        a = angle(v)
        word = "lower to" if a > hi else "raise to" if a < lo else "keep it within"
        return f"angle {shown(v.angle_deg, 0, lo, hi)}°: {word} {rng}"

    def beyond_edge(v: VeinView) -> float:  # mm outside the vein's edge (negative: over it)
        return abs(v.offset_mm) - vein_radius_mm

    def off_text(v: VeinView) -> str:
        d = beyond_edge(v)
        side = "towards you" if v.offset_mm < 0 else "away from you"
        if compared(d, 1) > 0:
            if v.inserted:  # sliding the needle sideways in the skin would be probing
                return (
                    f"off the vein by {shown(d, 1, hi=0.0)} mm: withdraw to just under "
                    f"the skin, then re-aim {side}"
                )
            return f"off the vein by {shown(d, 1, hi=0.0)} mm: move {side}"
        if compared(d, 1) > off_on - oh:  # still held (hysteresis): still a warning
            return f"at the vein's edge ({shown(-d, 1, lo=0.0)} mm inside): move {side}"
        return f"on the vein ({shown(-d, 1, lo=0.0)} mm inside its edge)"

    def edge_shown(v: VeinView) -> tuple[float, int]:  # "off by" or "inside by"
        d = beyond_edge(v)
        return (d if compared(d, 1) > 0 else -d), 1

    def roll(v: VeinView) -> float:
        return compared(abs(v.roll_deg), 0)

    def tq(v: VeinView) -> float:
        return compared(v.tourniquet_s, 0)

    m_probe = noise_margin(noise, ("z",), probe_mm)
    m_off = noise_margin(noise, ("z",), vein_radius_mm)
    m_angle = noise_margin(noise, ("angle",), (hi - lo) / 2)
    m_roll = noise_margin(noise, ("roll",), roll_tol)

    probe_on = probe_mm + (m_probe or 0.0)
    off_on = m_off or 0.0
    steep_on, shallow_on = hi + (m_angle or 0.0), lo - (m_angle or 0.0)
    roll_on = roll_tol + (m_roll or 0.0)
    return [
        *coached(
            m_probe,
            [
                Rule(
                    "probing",
                    90,
                    Severity.DANGER,
                    lambda v: v.inserted and v.probe_mm > probe_on,
                    lambda v: v.inserted and v.probe_mm > probe_on * 0.5,
                    lambda v: "probing: withdraw to just under the skin before redirecting",
                    axes=("z",),
                )
            ],
            noise,
            "once in, do not slide the needle sideways",
        ),
        Rule(
            "tourniquet_too_long",
            80,
            Severity.WARNING,
            lambda v: tq(v) > tq_max,
            lambda v: tq(v) > tq_max,
            lambda v: (
                f"tourniquet on {shown(v.tourniquet_s, 0, hi=tq_max)} s: "
                f"release it (max {tq_max:g})"
            ),
            lambda v: not v.done,
            shows=lambda v: (v.tourniquet_s, 0),
        ),
        *coached(
            m_angle,
            [
                Rule(
                    "too_steep",
                    70,
                    Severity.WARNING,
                    lambda v: not v.in_vein and angle(v) > steep_on,
                    lambda v: not v.in_vein and angle(v) > steep_on - ha,
                    angle_text,
                    aiming,
                    shows=lambda v: (v.angle_deg, 0),
                    axes=("angle",),
                ),
                Rule(
                    "too_shallow",
                    70,
                    Severity.WARNING,
                    lambda v: not v.in_vein and angle(v) < shallow_on,
                    lambda v: not v.in_vein and angle(v) < shallow_on + ha,
                    angle_text,
                    aiming,
                    shows=lambda v: (v.angle_deg, 0),
                    axes=("angle",),
                ),
            ],
            noise,
            f"hold the needle at {rng} to the skin",
        ),
        *coached(
            m_off,
            [
                Rule(
                    "off_vein",
                    65,
                    Severity.WARNING,
                    lambda v: not v.in_vein and compared(beyond_edge(v), 1) > off_on,
                    lambda v: not v.in_vein and compared(beyond_edge(v), 1) > off_on - oh,
                    off_text,
                    aiming,
                    shows=edge_shown,
                    axes=("z",),
                )
            ],
            noise,
            "line the needle up over the vein",
        ),
        *coached(
            m_roll,
            [
                Rule(
                    "bevel_down",
                    60,
                    Severity.WARNING,
                    lambda v: not v.in_vein and roll(v) > roll_on,
                    lambda v: not v.in_vein and roll(v) > roll_on - ha,
                    lambda v: (
                        f"bevel {shown(abs(v.roll_deg), 0, hi=roll_tol)}° from up: "
                        f"turn it bevel up (max {roll_tol:g}°)"
                    ),
                    aiming,
                    shows=lambda v: (abs(v.roll_deg), 0),
                    axes=("roll",),
                )
            ],
            noise,
            "keep the bevel up",
        ),
    ]
