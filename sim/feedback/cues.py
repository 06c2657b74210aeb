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

Noise. A rule names the quantities its value reads (``axes``: ``x``, ``y``, ``z``,
``angle``, ``roll``; :mod:`sim.metrics.noise`). With a tracked input whose noise on them is
known (calibration), the rule's threshold rises by :data:`~sim.metrics.noise.NOISE_MARGIN_SD`
times that noise (:func:`noise_margin`), so that tracker noise alone does not start it; when
that margin would reach the rule's own tolerance (the cue could then only speak of gross
errors, and its words of the tracker), the rule is replaced by *guidance* (:func:`guidance`):
a quiet line saying what the camera cannot judge and what to aim for. An axis an assist sets
(``InputNoise.guided``) is not noisy: the scene shows where it was set.

Each procedure's rules, with their priorities, gates and hysteresis, are listed in its
``rules`` module (``sim/procedures/<name>/rules.py``); the hand rules every procedure
shares are :func:`hand_rules`.

``near`` is true once the needle is inserted or within ``approach_mm`` of the skin (along
the needle), and stays true until it is farther than ``approach_mm +
approach_hysteresis_mm``. The banner shows the active cue of highest priority.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sim.core import geometry as g
from sim.core.patient import PatientView
from sim.core.records import Cue, Severity, Vec3
from sim.core.scenario import FeedbackSpec
from sim.metrics.noise import NOISE_MARGIN_SD, UNITS, InputNoise, where


@dataclass(frozen=True, slots=True)
class LiveView:
    """What the live cues and the HUD see at one sample: the part every procedure shares.

    Each procedure's view adds its own fields (``sim/procedures/<name>/view.py``); the
    shared fields come first, in the order of :class:`sim.procedures.base.Hand`.

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
    moved : bool
        The trainee has moved the needle since the session started (see :class:`Gates`).
    near : bool
        The needle is in the tissue or near it (see :class:`Gates`).
    done : bool
        The task has nothing left to do (phase ``"done"``: completed or finished).
    angle_deg : float
        The needle's angle as the procedure judges it (the HUD's dial): to the skin for a
        straight needle, 90 for perpendicular for a curved one.
    depth_mm : float
        Tip depth under the skin (negative above it).
    distance_to_skin_mm : float
        Distance along the needle to the skin, 0 once inserted; inf if it does not point at
        the tissue.
    inserted : bool
        Tip in the tissue (with the task's exit margin).
    patient : PatientView or None
        What the patient shows (discomfort, words, bruise...); None for a procedure
        without a virtual patient (:mod:`sim.core.patient`).
    """

    t_s: float
    phase: str
    tracked: bool
    speed_mm_s: float
    tremor_mm: float
    moved: bool
    near: bool
    done: bool
    angle_deg: float
    depth_mm: float
    distance_to_skin_mm: float
    inserted: bool
    patient: PatientView | None = None


V = TypeVar("V", bound=LiveView)


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


def started(v: LiveView) -> bool:
    """The default phase gate: the trainee has moved, and the task is not done."""
    return v.moved and not v.done


@dataclass(frozen=True, slots=True)
class Rule(Generic[V]):
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
    shows : callable, optional
        For words with a number: the value they show and its normal decimals (so the
        number can be checked against the view: :func:`shown`).
    axes : tuple of str
        The quantities its value reads (see the module notes on noise); empty for rules on
        the task's state, time or the hand's speed and tremor.
    """

    name: str
    priority: int
    severity: Severity
    on: Callable[[V], bool]
    hold: Callable[[V], bool]
    text: Callable[[V], str]
    applies: Callable[[V], bool] = started
    shows: Callable[[V], tuple[float, int]] | None = None
    axes: tuple[str, ...] = ()


def noise_margin(noise: InputNoise, axes: Sequence[str], tolerance: float) -> float | None:
    """How far a rule's threshold rises above tracker noise, in the axes' unit.

    Parameters
    ----------
    noise : InputNoise
        The session's noise.
    axes : sequence of str
        The quantities the rule reads (guided ones add no noise).
    tolerance : float
        How far the rule lets the value stray before it speaks (e.g. the vein's radius for
        "off the vein"), same unit.

    Returns
    -------
    float or None
        ``NOISE_MARGIN_SD`` times the axes' noise; None when that reaches ``tolerance``:
        the rule cannot coach on this input and is replaced by :func:`guidance`.
    """
    free = [q for q in axes if q not in noise.guided]
    margin = NOISE_MARGIN_SD * noise.of(free)
    return None if margin >= tolerance else margin


def coached(
    margin: float | None, rules: list[Rule[Any]], noise: InputNoise, aim: str
) -> list[Rule[Any]]:
    """``rules`` (all reading the same axes) when the input can coach them (``margin``, from
    :func:`noise_margin`, is not None); else one :func:`guidance` line in their place, at
    priority 10 with the first rule's name, axes and gate."""
    if margin is not None:
        return rules
    r = rules[0]
    return [guidance(r.name, 10, r.axes, noise, aim, r.applies)]


def guidance(
    name: str,
    priority: int,
    axes: Sequence[str],
    noise: InputNoise,
    aim: str,
    applies: Callable[[Any], bool],
) -> Rule[Any]:
    """The quiet line that replaces a rule the input is too noisy for: what the camera cannot
    judge, to how much, and what to aim for ("across the arm (depth) the camera reads ±4 mm,
    too coarse to coach: line the needle up over the vein"). Shown, as information, whenever
    the replaced rule's phase gate is open; named ``<name>_guidance``."""
    u = noise.of(axes)
    reads = f"±{u:.0f}°" if axes and UNITS[axes[0]] == "°" else f"±{u:.1f} mm"
    text = f"{where(axes)}: the camera reads {reads}, too coarse to coach: {aim}"
    return Rule(
        f"{name}_guidance",
        priority,
        Severity.INFO,
        lambda v: True,
        lambda v: True,
        lambda v: text,
        applies,
        axes=tuple(axes),
    )


# Phase gates every procedure's rules may use (see the module notes).
def inserted(v: LiveView) -> bool:
    """Gate: in the tissue, task not done."""
    return v.inserted and not v.done


def moving_in(v: LiveView) -> bool:
    """Gate: moved, in the tissue, task not done."""
    return v.moved and v.inserted and not v.done


def near(v: LiveView) -> bool:
    """Gate: moved, near or in the tissue, task not done."""
    return v.moved and v.near and not v.done


def hand_rules(fb: FeedbackSpec, verb: str, where: str = "") -> list[Rule[Any]]:
    """The rules about the hand every procedure shares: too fast in the tissue ("{verb} 30
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
            moving_in,
            shows=lambda v: (v.speed_mm_s, 0),
        ),
        Rule(
            "hold_steady",
            40,
            Severity.WARNING,
            lambda v: tremor(v) > steady,
            lambda v: tremor(v) > steady_off,
            lambda v: f"hold steady: tremor {shown(v.tremor_mm, 1, hi=steady)} mm (max {steady:g})",
            near,
            shows=lambda v: (v.tremor_mm, 1),
        ),
    ]


class CueEngine:
    """Evaluates the rules on every live view; reports cues that start, change and end.

    Deterministic: the same sequence of views gives the same cues.
    """

    def __init__(self, rules: Sequence[Rule[Any]], feedback: FeedbackSpec) -> None:
        self.rules = sorted(rules, key=lambda r: -r.priority)
        self.min_show_s = feedback.min_show_s
        self.release_s = feedback.release_s
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


def rule_named(rules: Sequence[Rule[Any]], name: str) -> Rule[Any]:
    """The rule called ``name`` (KeyError naming it if there is none)."""
    for r in rules:
        if r.name == name:
            return r
    raise KeyError(name)
