"""Live cue rules of IV cannulation, under the contract of :mod:`sim.feedback.cues` (phase
gates from flags that cannot chatter, hysteresis, words that say the value and its target).

=================== ==== ===================================== ================================
rule                prio applies (phase gate)                  on / hold
=================== ==== ===================================== ================================
back_wall           100  inserted, not done                    tip through the back wall /
                                                               the vein blown (until out)
reinserting          95  inserted, threading began, not done   needle pulled back >=
                                                               reinsert_mm, then pushed in
                                                               > half of it / > a quarter
hung_up              95  inserted, catheter hung up, not done  always (withdraw and restart)
probing              90  moved, not done                       sim.feedback.vein
hold_needle_still    85  threading, not done                   needle forward > half of
                                                               needle_still_mm / > a quarter
tourniquet_too_long  80  not done                              sim.feedback.vein
too_steep            70  moved, near, no flashback, needle not sim.feedback.vein
                         out, not done
too_shallow          70  same                                  sim.feedback.vein
off_vein             65  same                                  sim.feedback.vein
bevel_down           60  same                                  sim.feedback.vein
lower_angle          55  flashback, not threading, not blown   angle > thread_angle_max_deg /
                         or hung up, not done                  > it - angle_hysteresis_deg
too_fast             50  moved, inserted, not done             as venipuncture
hold_steady          40  moved, near, not done                 as venipuncture
release_tourniquet   30  threaded, needle in, not done         tourniquet on
occlude_withdraw     28  threaded, needle in, not done         tourniquet off
advance_catheter     25  flashback, not threading, not blown   catheter tip not in the vein
                         or hung up, not done
thread_catheter      20  catheter tip reached, not threading,  catheter tip in the vein
                         not blown or hung up, not done
flush                20  needle out, not done                  not flushed
secure               20  needle out, not done                  flushed
=================== ==== ===================================== ================================
"""

from __future__ import annotations

from sim.core.records import Severity
from sim.core.scenario import Scenario
from sim.feedback.cues import Rule, coached, compared, hand_rules, inserted, noise_margin, shown
from sim.feedback.vein import vein_entry_rules
from sim.metrics.noise import EXACT, InputNoise
from sim.procedures.iv_cannulation.spec import parts
from sim.procedures.iv_cannulation.view import IvView


def rules(sc: Scenario, noise: InputNoise = EXACT) -> list[Rule[IvView]]:
    """The cue rules of an IV cannulation scenario (see the module's table)."""
    geo, tol = parts(sc)
    fb = sc.feedback
    ha = fb.angle_hysteresis_deg
    low = tol.thread_angle_max_deg
    still = tol.needle_still_mm
    back_min = tol.reinsert_mm

    def aiming(v: IvView) -> bool:
        return v.moved and v.near and not (v.flashback or v.needle_out or v.done)

    def flashed(v: IvView) -> bool:  # after flashback, before threading, attempt not lost
        return (
            v.flashback
            and not v.threading
            and not v.threaded
            and not v.blown
            and not (v.hung_up or v.done)
        )

    def forward(v: IvView) -> float:
        return compared(v.needle_forward_mm, 1)

    def pushed_in(v: IvView) -> float:  # how far forward from its most pulled-back point
        return compared(v.needle_forward_mm + v.pulled_back_mm, 1)

    def lowered(v: IvView) -> float:
        return compared(v.angle_deg, 0)

    # with a noisy input the needle-motion thresholds rise above the noise along the arm
    # (sim.feedback.cues, noise)
    m_still = noise_margin(noise, ("x",), still / 2)
    m_back = noise_margin(noise, ("x",), back_min / 2)
    still_on, back_on = still / 2 + (m_still or 0.0), back_min / 2 + (m_back or 0.0)
    out: list[Rule[IvView]] = [
        Rule(
            "back_wall",
            100,
            Severity.DANGER,
            lambda v: v.through_wall,
            lambda v: v.blown,
            lambda v: (
                "through the back wall: stop and withdraw"
                if v.through_wall
                else "vein blown: withdraw the needle and catheter, press on the site"
            ),
            inserted,
        ),
        *coached(
            m_back,
            [
                Rule(
                    "reinserting",
                    95,
                    Severity.DANGER,
                    lambda v: v.pulled_back_mm >= back_min and pushed_in(v) > back_on,
                    lambda v: v.pulled_back_mm >= back_min and pushed_in(v) > back_on / 2,
                    lambda v: "never push the needle back into the catheter: it can cut it",
                    lambda v: v.inserted and (v.threading or v.threaded) and not v.done,
                    axes=("x",),
                )
            ],
            noise,
            "never push the needle back into the catheter",
        ),
        Rule(
            "hung_up",
            95,
            Severity.DANGER,
            lambda v: True,
            lambda v: True,
            lambda v: (
                "the catheter will not thread (its tip was short of the vein): "
                "withdraw and start again"
            ),
            lambda v: v.hung_up and not v.done,
        ),
        *vein_entry_rules(fb, tol, geo.vein_diameter_mm / 2, aiming, noise),
        *coached(
            m_still,
            [
                Rule(
                    "hold_needle_still",
                    85,
                    Severity.WARNING,
                    lambda v: forward(v) > still_on,
                    lambda v: forward(v) > still_on / 2,
                    lambda v: (
                        f"needle {shown(v.needle_forward_mm, 1, hi=still / 2)} mm forward: "
                        f"hold it still, slide only the catheter (max {still:g})"
                    ),
                    lambda v: v.threading and not v.done,
                    shows=lambda v: (v.needle_forward_mm, 1),
                    axes=("x",),
                )
            ],
            noise,
            "hold the needle still, slide only the catheter",
        ),
        Rule(
            "lower_angle",
            55,
            Severity.INFO,  # the next step, said when it is due
            lambda v: lowered(v) > low,
            lambda v: lowered(v) > low - ha,
            lambda v: (
                f"flashback: angle {shown(v.angle_deg, 0, hi=low)}°, "
                + (f"lower it to {low:g}° or less" if lowered(v) > low else "keep it low")
                + " before threading"
            ),
            flashed,
            shows=lambda v: (v.angle_deg, 0),
        ),
        *hand_rules(fb, "advancing"),
        Rule(
            "release_tourniquet",
            30,
            Severity.INFO,
            lambda v: v.tourniquet_s > 0,
            lambda v: v.tourniquet_s > 0,
            lambda v: "catheter threaded: release the tourniquet (T)",
            lambda v: v.threaded and v.inserted and not v.done,
        ),
        Rule(
            "occlude_withdraw",
            28,
            Severity.INFO,
            lambda v: v.tourniquet_s == 0,
            lambda v: v.tourniquet_s == 0,
            lambda v: (
                "withdraw the needle; never push it back in"
                if v.occluded
                else "press on the vein above the catheter tip (O), then withdraw the needle"
            ),
            lambda v: v.threaded and v.inserted and not v.done,
        ),
        Rule(
            "advance_catheter",
            25,
            Severity.INFO,
            lambda v: not v.catheter_in_vein,
            lambda v: not v.catheter_in_vein,
            lambda v: (
                f"flashback: advanced {shown(v.advance_mm, 1)} mm of about "
                f"{tol.advance_after_flash_mm:g}: go on until the catheter tip is in"
                if v.in_vein
                else "the needle tip left the vein: advance gently until the blood returns"
            ),
            flashed,
            shows=lambda v: (v.advance_mm, 1),
        ),
        Rule(
            "thread_catheter",
            20,
            Severity.INFO,
            lambda v: v.catheter_in_vein,
            lambda v: v.catheter_in_vein,
            lambda v: "catheter tip in the vein: hold the needle still, slide the catheter off it",
            lambda v: v.catheter_reached and flashed(v),
        ),
        Rule(
            "flush",
            20,
            Severity.INFO,
            lambda v: not v.flushed,
            lambda v: not v.flushed,
            lambda v: "needle out: connect and flush the cannula",
            lambda v: v.needle_out and not v.done,
        ),
        Rule(
            "secure",
            20,
            Severity.INFO,
            lambda v: v.flushed,
            lambda v: v.flushed,
            lambda v: "flushed: secure the cannula",
            lambda v: v.needle_out and not v.done,
        ),
    ]
    return sorted(out, key=lambda r: -r.priority)
