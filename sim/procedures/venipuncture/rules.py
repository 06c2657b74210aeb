"""Venipuncture's live cue rules (the contract they keep: :mod:`sim.feedback.cues`).

Rules (priority, phases; hysteresis in ``[feedback]``)

=================== ==== ================================== ================================
rule                prio applies (phase gate)               on / hold
=================== ==== ================================== ================================
back_wall           100  inserted, not done                 through the back wall / the
                                                            vein blown (until withdrawn)
tourniquet_too_long  80  not done                           tourniquet on > max (no hyst.)
too_steep            70  moved, near, not drawn, not done   not in vein and angle > max
                                                            / > max - angle_hysteresis_deg
too_shallow          70  same                               angle < min / < min + hysteresis
off_vein             65  same                               aim point (tip once in) beyond
                                                            the vein edge / within
                                                            offset_hysteresis_mm of it
bevel_down           60  same                               roll > tol / > tol - hysteresis
too_fast             50  moved, inserted, not done          speed > too_fast_mm_s /
                                                            > too_fast_release_mm_s
hold_steady          40  moved, near, not done              tremor > steady_tremor_mm /
                                                            > steady_release_mm
release_tourniquet   30  drawn, not done                    tourniquet still on
flashback            20  inserted, not drawn/blown/done     tip in the vein
=================== ==== ================================== ================================
"""

from __future__ import annotations

from sim.core.records import Severity
from sim.core.scenario import Scenario
from sim.feedback.cues import Rule, compared, hand_rules, inserted, shown
from sim.procedures.venipuncture.spec import parts
from sim.procedures.venipuncture.view import VenipunctureView


def rules(sc: Scenario) -> list[Rule[VenipunctureView]]:
    """Venipuncture's cue rules (see the module notes)."""
    geo, tol = parts(sc)
    fb = sc.feedback
    lo, hi, ha = tol.angle_min_deg, tol.angle_max_deg, fb.angle_hysteresis_deg
    vein_r = geo.vein_diameter_mm / 2
    oh = fb.offset_hysteresis_mm
    rng = f"{lo:g}-{hi:g}°"
    roll_tol = tol.bevel_roll_tol_deg
    tq_max = tol.tourniquet_max_s

    def aiming(v: VenipunctureView) -> bool:
        return v.moved and v.near and not v.drawn and not v.done

    def angle(v: VenipunctureView) -> float:
        return compared(v.angle_deg, 0)

    def angle_text(v: VenipunctureView) -> str:
        a = angle(v)
        word = "lower to" if a > hi else "raise to" if a < lo else "keep it within"
        return f"angle {shown(v.angle_deg, 0, lo, hi)}°: {word} {rng}"

    def beyond_edge(v: VenipunctureView) -> float:  # mm outside the vein's edge (negative: over it)
        return abs(v.offset_mm) - vein_r

    def off_text(v: VenipunctureView) -> str:
        d = beyond_edge(v)
        side = "towards you" if v.offset_mm < 0 else "away from you"
        if compared(d, 1) > 0:
            if v.inserted:  # sliding the needle sideways in the skin would be probing
                return (
                    f"off the vein by {shown(d, 1, hi=0.0)} mm: withdraw to just under "
                    f"the skin, then re-aim {side}"
                )
            return f"off the vein by {shown(d, 1, hi=0.0)} mm: move {side}"
        return f"on the vein ({shown(-d, 1, lo=0.0)} mm inside its edge)"

    def edge_shown(v: VenipunctureView) -> tuple[float, int]:  # "off by" or "inside by"
        d = beyond_edge(v)
        return (d if compared(d, 1) > 0 else -d), 1

    def roll(v: VenipunctureView) -> float:
        return compared(abs(v.roll_deg), 0)

    def tq(v: VenipunctureView) -> float:
        return compared(v.tourniquet_s, 0)

    return [
        Rule(
            "back_wall",
            100,
            Severity.DANGER,
            lambda v: v.through_wall,
            # the vein stays blown once pierced: pulling back into the lumen draws no
            # blood, so the cue stays until the needle is out
            lambda v: v.blown,
            lambda v: (
                "through the back wall: stop and withdraw"
                if v.through_wall
                else "vein blown: withdraw, press on the site and try a new stick"
            ),
            inserted,
        ),
        Rule(
            "probing",
            90,
            Severity.DANGER,
            lambda v: v.inserted and v.probe_mm > tol.probe_mm,
            lambda v: v.inserted and v.probe_mm > tol.probe_mm * 0.5,
            lambda v: "probing: withdraw to just under the skin before redirecting",
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
        Rule(
            "too_steep",
            70,
            Severity.WARNING,
            lambda v: not v.in_vein and angle(v) > hi,
            lambda v: not v.in_vein and angle(v) > hi - ha,
            angle_text,
            aiming,
            shows=lambda v: (v.angle_deg, 0),
        ),
        Rule(
            "too_shallow",
            70,
            Severity.WARNING,
            lambda v: not v.in_vein and angle(v) < lo,
            lambda v: not v.in_vein and angle(v) < lo + ha,
            angle_text,
            aiming,
            shows=lambda v: (v.angle_deg, 0),
        ),
        Rule(
            "off_vein",
            65,
            Severity.WARNING,
            lambda v: not v.in_vein and compared(beyond_edge(v), 1) > 0,
            lambda v: not v.in_vein and compared(beyond_edge(v), 1) > -oh,
            off_text,
            aiming,
            shows=edge_shown,
        ),
        Rule(
            "bevel_down",
            60,
            Severity.WARNING,
            lambda v: not v.in_vein and roll(v) > roll_tol,
            lambda v: not v.in_vein and roll(v) > roll_tol - ha,
            lambda v: (
                f"bevel {shown(abs(v.roll_deg), 0, hi=roll_tol)}° from up: "
                f"turn it bevel up (max {roll_tol:g}°)"
            ),
            aiming,
            shows=lambda v: (abs(v.roll_deg), 0),
        ),
        *hand_rules(fb, "advancing"),
        Rule(
            "release_tourniquet",
            30,
            Severity.INFO,
            lambda v: v.tourniquet_s > 0,
            lambda v: v.tourniquet_s > 0,
            lambda v: "blood drawn: release the tourniquet, then withdraw",
            lambda v: v.drawn and not v.done,
        ),
        Rule(
            "flashback",
            20,
            Severity.INFO,
            lambda v: v.in_vein,
            lambda v: v.in_vein,
            lambda v: "flashback: hold the needle still in the vein",
            lambda v: v.inserted and not v.drawn and not v.blown and not v.done,
        ),
    ]
