"""Suturing's live cue rules (the contract they keep: :mod:`sim.feedback.cues`).

Rules (priority, phases; hysteresis in ``[feedback]``)

=================== ==== ================================== ================================
through_pad         100  inserted, not done                 tip deeper than the pad
follow_curve         75  inserted, not done                 tip off its arc > half the
                                                            allowed deviation / > 0.7 of that
bite_short           70  moved, near, not inserted, not done bite < target - tol / + hyst.
bite_long            70  same                               bite > target + tol / - hyst.
not_perpendicular    65  same                               angle < 90 - tol / + hysteresis
too_fast             50  moved, inserted, not done          as venipuncture
hold_steady          40  moved, near, not done              as venipuncture
=================== ==== ================================== ================================
"""

from __future__ import annotations

from sim.core.records import Severity
from sim.core.scenario import Scenario
from sim.feedback.cues import Rule, coached, compared, hand_rules, inserted, noise_margin, shown
from sim.metrics.noise import EXACT, InputNoise
from sim.procedures.suturing.spec import parts
from sim.procedures.suturing.view import SuturingView


def rules(sc: Scenario, noise: InputNoise = EXACT) -> list[Rule[SuturingView]]:
    """Suturing's cue rules (see the module notes)."""
    geo, tol = parts(sc)
    fb = sc.feedback
    ha, oh = fb.angle_hysteresis_deg, fb.offset_hysteresis_mm
    target, btol = tol.bite_target_mm, tol.bite_tol_mm
    blo, bhi = target - btol, target + btol
    perp = 90.0 - tol.perpendicular_tol_deg
    drag = tol.arc_deviation_max_mm / 2

    def aiming(v: SuturingView) -> bool:
        return v.moved and v.near and not v.inserted and not v.done

    def bite(v: SuturingView) -> float:
        return compared(v.bite_mm, 1)

    def bite_text(v: SuturingView) -> str:
        return f"bite {shown(v.bite_mm, 1, blo, bhi)} mm: aim {target:g} mm ({blo:g}-{bhi:g})"

    def angle(v: SuturingView) -> float:
        return compared(v.angle_deg, 0)

    def dev(v: SuturingView) -> float:
        return compared(v.arc_deviation_mm, 1)

    # with a noisy input the thresholds rise above the noise (sim.feedback.cues, noise)
    m_dev = noise_margin(noise, ("x", "y", "z"), drag)
    m_bite = noise_margin(noise, ("z",), btol)
    m_perp = noise_margin(noise, ("angle",), tol.perpendicular_tol_deg)
    drag_on = drag + (m_dev or 0.0)
    short_on, long_on = blo - (m_bite or 0.0), bhi + (m_bite or 0.0)
    perp_on = perp - (m_perp or 0.0)
    return [
        Rule(
            "through_pad",
            100,
            Severity.DANGER,
            lambda v: v.depth_mm > geo.pad_thickness_mm,
            lambda v: v.depth_mm > geo.pad_thickness_mm,
            lambda v: "through the whole pad: come back up",
            inserted,
        ),
        *coached(
            m_dev,
            [
                Rule(
                    "follow_curve",
                    75,
                    Severity.WARNING,
                    lambda v: dev(v) > drag_on,
                    lambda v: dev(v) > drag_on * 0.7,
                    lambda v: (
                        f"{shown(v.arc_deviation_mm, 1, hi=drag)} mm off the needle's curve "
                        f"(max {drag:g}): "
                        + (
                            "bring the hand back and turn only the wrist"
                            if dev(v) > drag
                            else "keep following it"
                        )
                    ),
                    inserted,
                    shows=lambda v: (v.arc_deviation_mm, 1),
                    axes=("x", "y", "z"),
                )
            ],
            noise,
            "turn the needle with the wrist along its curve",
        ),
        *coached(
            m_bite,
            [
                Rule(
                    "bite_short",
                    70,
                    Severity.WARNING,
                    lambda v: bite(v) < short_on,
                    lambda v: bite(v) < short_on + oh,
                    bite_text,
                    aiming,
                    shows=lambda v: (v.bite_mm, 1),
                    axes=("z",),
                ),
                Rule(
                    "bite_long",
                    70,
                    Severity.WARNING,
                    lambda v: bite(v) > long_on,
                    lambda v: bite(v) > long_on - oh,
                    bite_text,
                    aiming,
                    shows=lambda v: (v.bite_mm, 1),
                    axes=("z",),
                ),
            ],
            noise,
            f"enter {target:g} mm from the wound edge",
        ),
        *coached(
            m_perp,
            [
                Rule(
                    "not_perpendicular",
                    65,
                    Severity.WARNING,
                    lambda v: angle(v) < perp_on,
                    lambda v: angle(v) < perp_on + ha,
                    lambda v: (
                        f"angle {shown(v.angle_deg, 0, lo=perp)}°: enter at 90° (min {perp:g}°)"
                    ),
                    aiming,
                    shows=lambda v: (v.angle_deg, 0),
                    axes=("angle",),
                )
            ],
            noise,
            "enter at 90° to the skin",
        ),
        *hand_rules(fb, "moving", " in the tissue"),
    ]
