"""Venipuncture's live cue rules (the contract they keep: :mod:`sim.feedback.cues`).

Rules (priority, phases; hysteresis in ``[feedback]``)

=================== ==== ================================== ================================
rule                prio applies (phase gate)               on / hold
=================== ==== ================================== ================================
back_wall           100  inserted, not done                 through the back wall / the
                                                            vein blown (until withdrawn)
probing,             90-  aiming ones: moved, near, not     the vein-entry rules every
tourniquet_too_long, 60   drawn, not done                   straight needle into a vein
too_steep, ...                                              shares: sim.feedback.vein
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
from sim.feedback.cues import Rule, hand_rules, inserted
from sim.feedback.vein import vein_entry_rules
from sim.metrics.noise import EXACT, InputNoise
from sim.procedures.venipuncture.spec import parts
from sim.procedures.venipuncture.view import VenipunctureView


def rules(sc: Scenario, noise: InputNoise = EXACT) -> list[Rule[VenipunctureView]]:
    """Venipuncture's cue rules (see the module notes)."""
    geo, tol = parts(sc)
    fb = sc.feedback

    def aiming(v: VenipunctureView) -> bool:
        return v.moved and v.near and not v.drawn and not v.done

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
        *vein_entry_rules(fb, tol, geo.vein_diameter_mm / 2, aiming, noise),
        *hand_rules(fb, "advancing"),
        Rule(
            "release_tourniquet",
            30,
            Severity.INFO,
            lambda v: v.tourniquet_s > 0,
            lambda v: v.tourniquet_s > 0,
            lambda v: "blood drawn: release the tourniquet, then withdraw",
            lambda v: v.drawn and not v.done and v.entries_left == 0,
        ),
        Rule(
            "next_entry",
            30,
            Severity.INFO,
            lambda v: True,
            lambda v: True,
            lambda v: "in the vein: withdraw, then the next entry",
            lambda v: v.drawn and not v.done and v.entries_left > 0,
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
