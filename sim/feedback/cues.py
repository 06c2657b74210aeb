"""Cue rules and the engine that turns the live view into cues that are always true.

The contract every rule keeps
-----------------------------
A rule has a *phase gate* (``applies``), a *start* condition (``on``), a *hold* condition
(``hold``: the same test moved by a hysteresis margin, so a value hovering on a limit does
not flicker) and *words* (``text``), all pure functions of one :class:`LiveView`.

- **Start.** A cue appears on the very item where ``applies and on`` becomes true.
- **Words.** Its text is ``text(view)`` of the latest view, on every item it is shown: the
  number follows the live value. Each change of text is reported (a :class:`Cue` with
  ``update`` true) so that the recording, and the replay, show exactly what was seen.
- **Phases.** A cue is never shown outside its phases: on the first item where ``applies``
  is false it ends at once (no minimum time, no release time). The gates only use view flags
  that cannot chatter: ``moved`` and ``done`` change once, ``near`` and ``inserted`` have
  their own hysteresis (``approach_hysteresis_mm``; the task's ``exit_margin_mm``), and
  ``drawn`` is kept once reached. Noisy flags (``in_vein``, ``through_wall``) belong to
  ``on``/``hold``, never to the gate.
- **No flicker.** Within its phases, a cue stays at least ``min_show_s`` after it appeared
  and until ``hold`` has been false on every item for ``release_s``; it ends on the first
  item where both are over. A cue never ends and starts again on the same item; to start
  again after a release, ``on`` must be true again (the value has crossed the whole
  hysteresis band). While ``hold`` is false (the cue stays only so as not to flicker) its
  words say the problem is solved and it shows as ``info``, not as a warning.
- **Nothing before, nothing after.** No cue about the needle before the trainee has moved
  it (``moved``: the tip ``move_start_mm`` from its first tracked pose or the needle turned
  ``move_start_deg``), and no cue at all once the task is done (phase ``"done"``: completed
  or finished).

Numbers: a rule compares a value rounded to one decimal more than it normally shows
(angles, speeds and seconds: whole numbers shown, compared to 0.1; millimetres: one decimal
shown, compared to 0.01). The words show the value with its normal decimals when that
number lies on the same side of the target as the compared value, else with the one more
decimal it was compared at. So a cue that fires at "more than 30°" reads "angle 30.4°:
lower to 15-30°", never "angle 30°: lower to 15-30°". Cues are worded as the value
and its target ("bite 5.3 mm: aim 4 mm (3-5)"), so the words stay true while the value is
back inside the target during the hysteresis and release time. See :func:`shown`.

Venipuncture rules (priority, phases; hysteresis in ``[feedback]``)

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

Suturing rules

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

``near`` is true once the needle is inserted or within ``approach_mm`` of the skin (along
the needle), and stays true until it is farther than ``approach_mm +
approach_hysteresis_mm``. The banner shows the active cue of highest priority.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sim.core import geometry as g
from sim.core.records import Cue, Severity, Vec3
from sim.core.scenario import FeedbackSpec, Scenario


@dataclass(frozen=True, slots=True)
class LiveView:
    """What the live cues and the HUD see at one sample.

    Attributes
    ----------
    t_s : float
        Sample time, s.
    phase : str
        Task phase (``"prepare"``, ``"insert"``, ``"stitch 2: pass"``, ``"done"``...).
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
    moved : bool
        The trainee has moved the needle since the session started (see :class:`Gates`).
    near : bool
        The needle is in the skin or near it (see :class:`Gates`).
    done : bool
        The task has nothing left to do (phase ``"done"``: completed or finished).
    blown : bool
        Venipuncture: the back wall of the vein was pierced in this attempt (until the
        needle is out: no blood can be drawn through a blown vein).
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
    moved: bool = False
    near: bool = False
    done: bool = False
    blown: bool = False


class Gates:
    """The phase flags of the cue rules that need memory: ``moved`` and ``near``.

    Parameters
    ----------
    feedback : FeedbackSpec
        ``move_start_mm``, ``move_start_deg``, ``approach_mm`` and
        ``approach_hysteresis_mm``.
    """

    def __init__(self, feedback: FeedbackSpec) -> None:
        self.fb = feedback
        self._first: tuple[Vec3, Vec3] | None = None
        self.moved = False
        self.near = False

    def update(
        self, tracked: bool, tip: Vec3, axis: Vec3, distance_mm: float, inserted: bool
    ) -> tuple[bool, bool]:
        """Feed one sample; return ``(moved, near)``. Untracked samples do not move."""
        fb = self.fb
        if tracked and not self.moved:
            if self._first is None:
                self._first = (tip, axis)
            else:
                tip0, axis0 = self._first
                self.moved = (
                    g.norm(g.sub(tip, tip0)) > fb.move_start_mm
                    or g.angle_between_deg(axis, axis0) > fb.move_start_deg
                )
        if inserted or distance_mm <= fb.approach_mm:
            self.near = True
        elif distance_mm > fb.approach_mm + fb.approach_hysteresis_mm:
            self.near = False
        return self.moved, self.near


def shown(x: float, decimals: int, lo: float = -math.inf, hi: float = math.inf) -> str:
    """The words for value ``x`` checked against the target ``[lo, hi]``.

    Parameters
    ----------
    x : float
        The live value.
    decimals : int
        Decimals it is normally shown with; rules compare ``round(x, decimals + 1)``
        (:func:`compared`).
    lo, hi : float
        The target the rule compares with.

    Returns
    -------
    str
        ``x`` with ``decimals`` decimals if that number is on the same side of the target
        (below, inside, above) as the compared value; else the compared value with one more
        decimal. Never shows a number inside the target for a value the rule finds outside.
    """
    q = compared(x, decimals)
    r = round(x, decimals)

    def side(v: float) -> int:
        return -1 if v < lo else (1 if v > hi else 0)

    if side(r) == side(q):
        return f"{r + 0.0:.{decimals}f}"  # + 0.0: no "-0"
    return f"{q + 0.0:.{decimals + 1}f}"


def compared(x: float, decimals: int) -> float:
    """The value a rule compares: ``x`` rounded to one decimal more than it is shown with."""
    return round(x, decimals + 1)


Cond = Callable[[LiveView], bool]
Text = Callable[[LiveView], str]


def _started(v: LiveView) -> bool:
    """The default phase gate: the trainee has moved, and the task is not done."""
    return v.moved and not v.done


@dataclass(frozen=True, slots=True)
class Rule:
    """One cue rule (see the module docstring for the contract).

    Attributes
    ----------
    name : str
        Identifier, e.g. ``"too_steep"``.
    priority : int
        Higher wins the banner.
    severity : Severity
        Colour of the banner.
    on, hold : callable
        Start condition, and the condition that keeps it (hysteresis).
    text : callable
        The words for a view.
    applies : callable
        Phase gate: outside it the cue is never shown. Default: moved and not done.
    """

    name: str
    priority: int
    severity: Severity
    on: Cond
    hold: Cond
    text: Text
    applies: Cond = _started


# Phase gates both procedures' rules share (see the module notes).
def _inserted(v: LiveView) -> bool:
    return v.inserted and not v.done


def _moving_in(v: LiveView) -> bool:
    return v.moved and v.inserted and not v.done


def _near(v: LiveView) -> bool:
    return v.moved and v.near and not v.done


def _hand_rules(fb: FeedbackSpec, verb: str, where: str = "") -> list[Rule]:
    """The rules about the hand both procedures share: too fast in the tissue ("{verb} 30
    mm/s{where}: slow under 25"), and hold steady near or in it."""
    fast, slow = fb.too_fast_mm_s, fb.too_fast_release_mm_s
    steady, steady_off = fb.steady_tremor_mm, fb.steady_release_mm

    def speed(v: LiveView) -> float:
        return compared(v.speed_mm_s, 0)

    def tremor(v: LiveView) -> float:
        return compared(v.tremor_mm, 1)

    return [
        Rule(
            "too_fast",
            50,
            Severity.WARNING,
            lambda v: speed(v) > fast,
            lambda v: speed(v) > slow,
            lambda v: (
                f"{verb} {shown(v.speed_mm_s, 0, hi=fast)} mm/s{where}: "
                f"{'slow' if speed(v) > fast else 'keep it'} under {fast:g}"
            ),
            _moving_in,
        ),
        Rule(
            "hold_steady",
            40,
            Severity.WARNING,
            lambda v: tremor(v) > steady,
            lambda v: tremor(v) > steady_off,
            lambda v: f"hold steady: tremor {shown(v.tremor_mm, 1, hi=steady)} mm (max {steady:g})",
            _near,
        ),
    ]


def _venipuncture_rules(sc: Scenario) -> list[Rule]:
    _, tol = sc.venipuncture
    fb = sc.feedback
    lo, hi, ha = tol.angle_min_deg, tol.angle_max_deg, fb.angle_hysteresis_deg
    vein_r = sc.venipuncture[0].vein_diameter_mm / 2
    oh = fb.offset_hysteresis_mm
    rng = f"{lo:g}-{hi:g}°"
    roll_tol = tol.bevel_roll_tol_deg
    tq_max = tol.tourniquet_max_s

    def aiming(v: LiveView) -> bool:
        return v.moved and v.near and not v.drawn and not v.done

    def angle(v: LiveView) -> float:
        return compared(v.angle_deg, 0)

    def angle_text(v: LiveView) -> str:
        a = angle(v)
        word = "lower to" if a > hi else "raise to" if a < lo else "keep it within"
        return f"angle {shown(v.angle_deg, 0, lo, hi)}°: {word} {rng}"

    def beyond_edge(v: LiveView) -> float:  # mm outside the vein's edge (negative: over it)
        return abs(v.offset_mm) - vein_r

    def off_text(v: LiveView) -> str:
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

    def roll(v: LiveView) -> float:
        return compared(abs(v.roll_deg), 0)

    def tq(v: LiveView) -> float:
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
            _inserted,
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
        ),
        Rule(
            "too_steep",
            70,
            Severity.WARNING,
            lambda v: not v.in_vein and angle(v) > hi,
            lambda v: not v.in_vein and angle(v) > hi - ha,
            angle_text,
            aiming,
        ),
        Rule(
            "too_shallow",
            70,
            Severity.WARNING,
            lambda v: not v.in_vein and angle(v) < lo,
            lambda v: not v.in_vein and angle(v) < lo + ha,
            angle_text,
            aiming,
        ),
        Rule(
            "off_vein",
            65,
            Severity.WARNING,
            lambda v: not v.in_vein and compared(beyond_edge(v), 1) > 0,
            lambda v: not v.in_vein and compared(beyond_edge(v), 1) > -oh,
            off_text,
            aiming,
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
        ),
        *_hand_rules(fb, "advancing"),
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


def _suturing_rules(sc: Scenario) -> list[Rule]:
    geo, tol = sc.suturing
    fb = sc.feedback
    ha, oh = fb.angle_hysteresis_deg, fb.offset_hysteresis_mm
    target, btol = tol.bite_target_mm, tol.bite_tol_mm
    blo, bhi = target - btol, target + btol
    perp = 90.0 - tol.perpendicular_tol_deg
    drag = tol.arc_deviation_max_mm / 2

    def aiming(v: LiveView) -> bool:
        return v.moved and v.near and not v.inserted and not v.done

    def bite(v: LiveView) -> float:
        return compared(v.offset_mm, 1)

    def bite_text(v: LiveView) -> str:
        return f"bite {shown(v.offset_mm, 1, blo, bhi)} mm: aim {target:g} mm ({blo:g}-{bhi:g})"

    def angle(v: LiveView) -> float:
        return compared(v.angle_deg, 0)

    def dev(v: LiveView) -> float:
        return compared(v.arc_deviation_mm, 1)

    return [
        Rule(
            "through_pad",
            100,
            Severity.DANGER,
            lambda v: v.depth_mm > geo.pad_thickness_mm,
            lambda v: v.depth_mm > geo.pad_thickness_mm,
            lambda v: "through the whole pad: come back up",
            _inserted,
        ),
        Rule(
            "follow_curve",
            75,
            Severity.WARNING,
            lambda v: dev(v) > drag,
            lambda v: dev(v) > drag * 0.7,
            lambda v: (
                f"{shown(v.arc_deviation_mm, 1, hi=drag)} mm off the needle's curve "
                f"(max {drag:g}): "
                + (
                    "bring the hand back and turn only the wrist"
                    if dev(v) > drag
                    else "keep following it"
                )
            ),
            _inserted,
        ),
        Rule(
            "bite_short",
            70,
            Severity.WARNING,
            lambda v: bite(v) < blo,
            lambda v: bite(v) < blo + oh,
            bite_text,
            aiming,
        ),
        Rule(
            "bite_long",
            70,
            Severity.WARNING,
            lambda v: bite(v) > bhi,
            lambda v: bite(v) > bhi - oh,
            bite_text,
            aiming,
        ),
        Rule(
            "not_perpendicular",
            65,
            Severity.WARNING,
            lambda v: angle(v) < perp,
            lambda v: angle(v) < perp + ha,
            lambda v: f"angle {shown(v.angle_deg, 0, lo=perp)}°: enter at 90° (min {perp:g}°)",
            aiming,
        ),
        *_hand_rules(fb, "moving", " in the tissue"),
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
    """Evaluates the rules on every live view; reports cues that start, change and end.

    Deterministic: the same sequence of views gives the same cues.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.rules = rules_for(scenario)
        self.min_show_s = scenario.feedback.min_show_s
        self.release_s = scenario.feedback.release_s
        self._since: dict[str, float] = {}
        self._off_since: dict[str, float] = {}
        self._cues: dict[str, Cue] = {}  # the latest record of each active cue
        self.view: LiveView | None = None

    def update(self, v: LiveView) -> list[Cue]:
        """Feed one live view; return the cues that appeared, changed their words or ended."""
        changes: list[Cue] = []
        since = self._since
        for rule in self.rules:
            name = rule.name
            if name in since:
                if rule.applies(v):
                    held = rule.hold(v)
                    if held:
                        self._off_since.pop(name, None)
                    else:
                        off = self._off_since.setdefault(name, v.t_s)
                        if v.t_s - since[name] >= self.min_show_s and v.t_s - off >= self.release_s:
                            changes.append(self._end(name, v.t_s))
                            continue
                    text = rule.text(v)
                    # a cue kept on only so that it does not flicker says the problem is
                    # solved, in the colour of good news
                    severity = rule.severity if held else Severity.INFO
                    last = self._cues[name]
                    if text != last.message or severity is not last.severity:
                        cue = Cue(v.t_s, name, text, severity, rule.priority, True, True)
                        self._cues[name] = cue
                        changes.append(cue)
                else:
                    changes.append(self._end(name, v.t_s))
            elif rule.applies(v) and rule.on(v):
                since[name] = v.t_s
                cue = Cue(v.t_s, name, rule.text(v), rule.severity, rule.priority, True)
                self._cues[name] = cue
                changes.append(cue)
        self.view = v
        return changes

    def _end(self, name: str, t_s: float) -> Cue:
        del self._since[name]
        self._off_since.pop(name, None)
        last = self._cues.pop(name)
        return Cue(t_s, name, last.message, last.severity, last.priority, False)

    def active(self) -> list[Cue]:
        """Active cues, highest priority first: the latest record of each (its words are
        those of the last view)."""
        return [self._cues[r.name] for r in self.rules if r.name in self._cues]

    def since(self, rule: str) -> float | None:
        """When the active cue of ``rule`` appeared (None if it is not active)."""
        return self._since.get(rule)

    def banner(self) -> Cue | None:
        """The cue the banner shows: the active one of highest priority."""
        act = self.active()
        return act[0] if act else None

    def close(self, t_s: float) -> list[Cue]:
        """End every active cue at ``t_s`` (end of session)."""
        return [self._end(name, t_s) for name in list(self._cues)]


def rule_named(rules: Sequence[Rule], name: str) -> Rule:
    """The rule called ``name`` (KeyError naming it if there is none)."""
    for r in rules:
        if r.name == name:
            return r
    raise KeyError(name)
