"""Cue rules and the engine that turns the live view into cues that never flicker.

A cue appears on the very sample where its ``on`` condition becomes true. It stays while its
``hold`` condition (the same test with a hysteresis margin) is true, for at least
``min_show_s`` after it appeared, and until ``hold`` has been false for ``release_s``
(so a single noisy sample does not end it). The banner shows the active cue of highest
priority.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.core.records import Cue, Severity
from sim.core.scenario import Scenario


@dataclass(frozen=True, slots=True)
class LiveView:
    """What the live cues and the HUD see at one sample.

    Attributes
    ----------
    t_s : float
        Sample time, s.
    phase : str
        Task phase (``"prepare"``, ``"insert"``, ``"stitch 2: pass"``...).
    tracked : bool
        Whether the hand was tracked on this sample.
    speed_mm_s, tremor_mm : float
        Smoothed tip speed (mm/s) and windowed tremor RMS (mm; NaN for an input that cannot
        measure tremor, such as the mouse).
    angle_deg : float
        Needle angle to the skin (venipuncture: insertion angle; suturing: 90 is
        perpendicular).
    roll_deg : float
        Bevel roll from bevel-up, degrees (venipuncture).
    offset_mm : float
        Venipuncture: lateral distance of the aim point (or tip, once inserted) from the vein
        centreline. Suturing: bite at the aim point (distance from the wound edge).
    depth_mm : float
        Tip depth under the skin (negative above it).
    distance_to_skin_mm : float
        Distance along the needle to the skin, 0 once inserted; inf if it does not point at
        the skin.
    inserted : bool
        Tip under the skin.
    arc_deviation_mm : float
        Suturing: distance of the tip from its own arc while in tissue, else 0.
    tourniquet_s : float
        Time the tourniquet has been on, 0 when off.
    in_vein, through_wall, drawn : bool
        Venipuncture state flags.
    probe_mm : float
        Venipuncture: how far the shaft has moved sideways from where it went in, mm (0
        out of the skin).
    """

    t_s: float
    phase: str
    tracked: bool
    speed_mm_s: float
    tremor_mm: float
    angle_deg: float
    roll_deg: float
    offset_mm: float
    depth_mm: float
    distance_to_skin_mm: float
    inserted: bool
    arc_deviation_mm: float = 0.0
    tourniquet_s: float = 0.0
    in_vein: bool = False
    through_wall: bool = False
    drawn: bool = False
    probe_mm: float = 0.0


Cond = Callable[[LiveView], bool]
Text = Callable[[LiveView], str]


@dataclass(frozen=True, slots=True)
class Rule:
    """One cue rule: ``on`` starts it, ``hold`` keeps it (hysteresis), ``text`` words it."""

    name: str
    priority: int
    severity: Severity
    on: Cond
    hold: Cond
    text: Text


def _venipuncture_rules(sc: Scenario) -> list[Rule]:
    _, tol = sc.venipuncture
    fb = sc.feedback
    lo, hi, ha = tol.angle_min_deg, tol.angle_max_deg, fb.angle_hysteresis_deg
    vein_r = sc.venipuncture[0].vein_diameter_mm / 2
    oh = fb.offset_hysteresis_mm
    rng = f"{lo:g}-{hi:g}"

    def aiming(v: LiveView) -> bool:
        return (v.inserted and not v.in_vein and not v.drawn) or (
            not v.inserted and v.distance_to_skin_mm <= fb.approach_mm
        )

    def side(v: LiveView) -> str:
        return "towards you" if v.offset_mm < 0 else "away from you"

    return [
        Rule(
            "back_wall",
            100,
            Severity.DANGER,
            lambda v: v.through_wall,
            lambda v: v.through_wall,
            lambda v: "through the back wall: stop and withdraw",
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
            lambda v: v.tourniquet_s > tol.tourniquet_max_s,
            lambda v: v.tourniquet_s > tol.tourniquet_max_s,
            lambda v: (
                f"tourniquet on {v.tourniquet_s:.0f} s: release it (max {tol.tourniquet_max_s:g})"
            ),
        ),
        Rule(
            "too_steep",
            70,
            Severity.WARNING,
            lambda v: aiming(v) and v.angle_deg > hi,
            lambda v: aiming(v) and v.angle_deg > hi - ha,
            lambda v: f"angle {v.angle_deg:.0f} deg: lower to {rng}",
        ),
        Rule(
            "too_shallow",
            70,
            Severity.WARNING,
            lambda v: aiming(v) and v.angle_deg < lo,
            lambda v: aiming(v) and v.angle_deg < lo + ha,
            lambda v: f"angle {v.angle_deg:.0f} deg: raise to {rng}",
        ),
        Rule(
            "off_vein",
            65,
            Severity.WARNING,
            lambda v: aiming(v) and abs(v.offset_mm) > vein_r,
            lambda v: aiming(v) and abs(v.offset_mm) > vein_r - oh,
            lambda v: f"off the vein by {abs(v.offset_mm) - vein_r:.1f} mm: move {side(v)}",
        ),
        Rule(
            "bevel_down",
            60,
            Severity.WARNING,
            lambda v: aiming(v) and abs(v.roll_deg) > tol.bevel_roll_tol_deg,
            lambda v: aiming(v) and abs(v.roll_deg) > tol.bevel_roll_tol_deg - ha,
            lambda v: f"bevel rolled {abs(v.roll_deg):.0f} deg: turn it bevel up",
        ),
        Rule(
            "too_fast",
            50,
            Severity.WARNING,
            lambda v: v.inserted and v.speed_mm_s > fb.too_fast_mm_s,
            lambda v: v.inserted and v.speed_mm_s > fb.too_fast_release_mm_s,
            lambda v: f"too fast ({v.speed_mm_s:.0f} mm/s): advance slowly",
        ),
        Rule(
            "hold_steady",
            40,
            Severity.WARNING,
            lambda v: v.tremor_mm > fb.steady_tremor_mm,
            lambda v: v.tremor_mm > fb.steady_release_mm,
            lambda v: f"hold steady (tremor {v.tremor_mm:.1f} mm)",
        ),
        Rule(
            "release_tourniquet",
            30,
            Severity.INFO,
            lambda v: v.drawn and v.tourniquet_s > 0,
            lambda v: v.drawn and v.tourniquet_s > 0,
            lambda v: "blood drawn: release the tourniquet, then withdraw",
        ),
        Rule(
            "flashback",
            20,
            Severity.INFO,
            lambda v: v.in_vein and not v.drawn,
            lambda v: v.in_vein and not v.drawn,
            lambda v: "flashback: hold the needle still in the vein",
        ),
    ]


def _suturing_rules(sc: Scenario) -> list[Rule]:
    geo, tol = sc.suturing
    fb = sc.feedback
    ha, oh = fb.angle_hysteresis_deg, fb.offset_hysteresis_mm
    target, btol = tol.bite_target_mm, tol.bite_tol_mm
    perp = 90.0 - tol.perpendicular_tol_deg
    drag = tol.arc_deviation_max_mm / 2

    def aiming(v: LiveView) -> bool:
        return not v.inserted and v.distance_to_skin_mm <= fb.approach_mm

    return [
        Rule(
            "through_pad",
            100,
            Severity.DANGER,
            lambda v: v.depth_mm > geo.pad_thickness_mm,
            lambda v: v.depth_mm > geo.pad_thickness_mm,
            lambda v: "through the whole pad: come back up",
        ),
        Rule(
            "follow_curve",
            75,
            Severity.WARNING,
            lambda v: v.inserted and v.arc_deviation_mm > drag,
            lambda v: v.inserted and v.arc_deviation_mm > drag * 0.7,
            lambda v: f"follow the curve: rotate the wrist ({v.arc_deviation_mm:.1f} mm off)",
        ),
        Rule(
            "bite_short",
            70,
            Severity.WARNING,
            lambda v: aiming(v) and v.offset_mm < target - btol,
            lambda v: aiming(v) and v.offset_mm < target - btol + oh,
            lambda v: f"bite {v.offset_mm:.1f} mm too short: aim {target:g} mm from the edge",
        ),
        Rule(
            "bite_long",
            70,
            Severity.WARNING,
            lambda v: aiming(v) and v.offset_mm > target + btol,
            lambda v: aiming(v) and v.offset_mm > target + btol - oh,
            lambda v: f"bite {v.offset_mm:.1f} mm too long: aim {target:g} mm from the edge",
        ),
        Rule(
            "not_perpendicular",
            65,
            Severity.WARNING,
            lambda v: aiming(v) and v.angle_deg < perp,
            lambda v: aiming(v) and v.angle_deg < perp + ha,
            lambda v: f"angle {v.angle_deg:.0f} deg: enter at 90",
        ),
        Rule(
            "too_fast",
            50,
            Severity.WARNING,
            lambda v: v.inserted and v.speed_mm_s > fb.too_fast_mm_s,
            lambda v: v.inserted and v.speed_mm_s > fb.too_fast_release_mm_s,
            lambda v: f"too fast ({v.speed_mm_s:.0f} mm/s): slow down in the tissue",
        ),
        Rule(
            "hold_steady",
            40,
            Severity.WARNING,
            lambda v: v.tremor_mm > fb.steady_tremor_mm,
            lambda v: v.tremor_mm > fb.steady_release_mm,
            lambda v: f"hold steady (tremor {v.tremor_mm:.1f} mm)",
        ),
    ]


def rules_for(scenario: Scenario) -> list[Rule]:
    """The cue rules of a scenario's task, highest priority first."""
    rules = (
        _venipuncture_rules(scenario)
        if scenario.task == "venipuncture"
        else _suturing_rules(scenario)
    )
    return sorted(rules, key=lambda r: -r.priority)


class CueEngine:
    """Evaluates the rules on every live view; reports cues that start and end.

    Deterministic: the same sequence of views gives the same cues.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.rules = rules_for(scenario)
        self.min_show_s = scenario.feedback.min_show_s
        self.release_s = scenario.feedback.release_s
        self._since: dict[str, float] = {}
        self._off_since: dict[str, float] = {}
        self._cues: dict[str, Cue] = {}
        self._last_view: LiveView | None = None

    def update(self, v: LiveView) -> list[Cue]:
        """Feed one live view; return the cues that appeared or ended on it."""
        changes: list[Cue] = []
        since = self._since
        for rule in self.rules:
            name = rule.name
            if name in since:
                if rule.hold(v):
                    self._off_since.pop(name, None)
                    continue
                off = self._off_since.setdefault(name, v.t_s)
                if v.t_s - since[name] < self.min_show_s or v.t_s - off < self.release_s:
                    continue
                del since[name]
                del self._off_since[name]
                old = self._cues.pop(name)
                changes.append(Cue(v.t_s, name, old.message, rule.severity, rule.priority, False))
            elif rule.on(v):
                since[name] = v.t_s
                cue = Cue(v.t_s, name, rule.text(v), rule.severity, rule.priority, True)
                self._cues[name] = cue
                changes.append(cue)
        self._last_view = v
        return changes

    def active(self) -> list[Cue]:
        """Active cues, highest priority first, with their text updated to the last view."""
        v = self._last_view
        out = []
        for rule in self.rules:
            cue = self._cues.get(rule.name)
            if cue is not None:
                msg = rule.text(v) if v is not None else cue.message
                out.append(Cue(cue.t_s, cue.rule, msg, cue.severity, cue.priority, True))
        return out

    def banner(self) -> Cue | None:
        """The cue the banner shows: the active one of highest priority."""
        act = self.active()
        return act[0] if act else None

    def close(self, t_s: float) -> list[Cue]:
        """End every active cue at ``t_s`` (end of session)."""
        out = [
            Cue(t_s, c.rule, c.message, c.severity, c.priority, False) for c in self._cues.values()
        ]
        self._cues.clear()
        self._since.clear()
        self._off_since.clear()
        return out
