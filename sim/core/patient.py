"""The virtual patient: what a patient shows at one moment, and the names of its reactions.

The patient model (discomfort 0-10 driven by what the needle does, and reactions as
``patient_*`` events) is shared by every procedure that enters a vein; its state lives in
the task state, so it is pure and deterministic like the task (time from the samples).

This module holds the contract the adapters read: :class:`PatientView` (what the scene, the
HUD and the voice show and say) and the event and action kinds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol, TypeVar

from sim.core.limb import Limb
from sim.core.records import Event, Sample, Vec3
from sim.core.scenario import Scenario, spec_range

# --- event kinds (every patient event's kind starts with PREFIX) ----------------------
PREFIX = "patient_"
SAID = "patient_said"
"""The patient speaks: the event's message is the line, word for word."""
DISCOMFORT = "patient_discomfort"
"""Discomfort changed by a step (values: ``discomfort`` 0-10 and one ``+cause`` value per
cause that raised it)."""
FLINCH = "patient_flinch"
"""The patient flinched (the arm moves a few mm for a moment)."""
BRUISE = "patient_bruise"
"""Blood started leaking into the tissue: a bruise grows at the site."""
BRUISE_STOPPED = "patient_bruise_stopped"
"""Pressure stopped the bruise growing (values: ``diameter_mm``)."""
VEIN_ROLLED = "patient_vein_rolled"
"""The vein rolled away from a tip that arrived without the skin anchored."""
VEIN_COLLAPSED = "patient_vein_collapsed"
"""A fragile vein collapsed under a fast draw."""
VEIN_BLOWN = "patient_vein_blown"
"""A fragile vein blew on a steep entry."""
ARTERY = "patient_artery"
"""The artery was punctured (bright red, pulsing blood; critical)."""
NERVE = "patient_nerve"
"""The needle touched a nerve (the patient cries out; critical)."""

ERRORS = (FLINCH, ARTERY, NERVE)
"""The patient's reactions that are errors: a flinch with the needle in (tissue trauma; a
flinch with the needle out is not), an arterial puncture and a nerve touch (a scenario makes
the last two critical)."""
REACTIONS = (SAID, BRUISE, BRUISE_STOPPED, VEIN_ROLLED, VEIN_COLLAPSED, VEIN_BLOWN)
"""The patient's other reactions (each provokable by a scripted trainee on a case that
allows it: :attr:`sim.procedures.base.Procedure.reactions`)."""

# --- actions the patient model hears (checklist steps with a bodily effect) --------------
ANCHOR = "anchor"
"""The trainee anchors the skin (holds it taut below the site) for this attempt."""
PRESSURE = "pressure"
"""The trainee puts gauze on the site and presses."""


@dataclass(frozen=True, slots=True)
class PatientView:
    """What the patient shows at one moment (drawn by the scene and HUD, spoken by the app).

    Attributes
    ----------
    discomfort : float
        Discomfort now, 0 (none) to 10 (worst).
    line : str
        The latest line the patient said ("" before the first).
    line_t_s : float
        When ``line`` was said, s (-inf before the first).
    flinch_mm : float
        How far the arm is displaced by a flinch now, mm (0 at rest).
    bruise_mm : float
        Diameter of the bruise at the site, mm (0: none).
    bruise_x_mm, bruise_z_mm : float
        Where the bruise is centred on the skin (scene x along the arm, z across it), mm.
    bleeding : bool
        Blood is leaking into the tissue now (the bruise is growing).
    arterial : bool
        The artery has been punctured (bright red, pulsing blood).
    anchored : bool
        The skin is held taut below the site.
    pressure : bool
        Gauze is pressed on the site.
    vein_shift_mm : float
        How far the vein has rolled sideways (scene z) from where it lies at rest, mm.
    collapsed : bool
        The vein has collapsed (no blood can be drawn in this attempt).
    """

    discomfort: float = 0.0
    line: str = ""
    line_t_s: float = -math.inf
    flinch_mm: float = 0.0
    bruise_mm: float = 0.0
    bruise_x_mm: float = 0.0
    bruise_z_mm: float = 0.0
    bleeding: bool = False
    arterial: bool = False
    anchored: bool = False
    pressure: bool = False
    vein_shift_mm: float = 0.0
    collapsed: bool = False


# --- the patient's condition (a case file's [patient] table) ----------------------------
@dataclass(frozen=True, slots=True)
class PatientSpec:
    """A patient's condition: how they feel the needle, how they react, where the artery
    and the nerve run, and what they say (a patient case's ``[patient]`` table; every
    number's source is in the case file, ``docs/scenarios.md`` documents each key).

    Discomfort (0-10) rises with each thing the needle does (each ``*_pain`` key, times
    ``pain_sensitivity``) and falls by ``decay_per_s`` while nothing hurts (the needle out
    and the tourniquet not yet aching). Positions are in the scene frame: ``*_z_mm`` across
    the arm, ``*_depth_mm`` under the top of the skin to the centreline.
    """

    pain_sensitivity: float = field(metadata=spec_range(0.1, 5))
    puncture_pain: float = field(metadata=spec_range(0, 10))
    failed_attempt_pain: float = field(metadata=spec_range(0, 10))
    fast_entry_mm_s: float = field(metadata=spec_range(0.5, 200))
    fast_entry_pain: float = field(metadata=spec_range(0, 10))
    depth_pain_per_mm: float = field(metadata=spec_range(0, 5))
    redirect_pain: float = field(metadata=spec_range(0, 10))
    probe_pain: float = field(metadata=spec_range(0, 10))
    dwell_pain_per_s: float = field(metadata=spec_range(0, 5))
    bevel_down_pain: float = field(metadata=spec_range(0, 10))
    nerve_near_mm: float = field(metadata=spec_range(0, 20))
    nerve_near_pain_per_s: float = field(metadata=spec_range(0, 20))
    nerve_pain: float = field(metadata=spec_range(0, 10))
    artery_pain: float = field(metadata=spec_range(0, 10))
    tourniquet_ache_s: float = field(metadata=spec_range(0, 600))
    tourniquet_pain_per_s: float = field(metadata=spec_range(0, 5))
    decay_per_s: float = field(metadata=spec_range(0, 10))
    speed_window_s: float = field(metadata=spec_range(0.01, 5))
    flinch_at: float = field(metadata=spec_range(0, 11))
    flinch_mm: float = field(metadata=spec_range(0, 30))
    flinch_s: float = field(metadata=spec_range(0.05, 5))
    vein_roll_mm: float = field(metadata=spec_range(0, 20))
    roll_reach_mm: float = field(metadata=spec_range(0, 10))
    collapse_speed_mm_s: float = field(metadata=spec_range(0.5, 1000))
    blow_angle_deg: float = field(metadata=spec_range(1, 90))
    bruise_mm_s: float = field(metadata=spec_range(0, 20))
    bruise_max_mm: float = field(metadata=spec_range(0, 100))
    pressure_s: float = field(metadata=spec_range(0, 600))
    artery_z_mm: float = field(metadata=spec_range(-60, 60))
    artery_depth_mm: float = field(metadata=spec_range(0.5, 60))
    artery_radius_mm: float = field(metadata=spec_range(0.1, 10))
    nerve_z_mm: float = field(metadata=spec_range(-60, 60))
    nerve_depth_mm: float = field(metadata=spec_range(0.5, 60))
    nerve_radius_mm: float = field(metadata=spec_range(0.1, 10))
    line_mild_at: float = field(metadata=spec_range(0, 11))
    line_mild: str
    line_strong_at: float = field(metadata=spec_range(0, 11))
    line_strong: str
    line_nerve: str
    line_artery: str
    line_flinch: str


@dataclass(frozen=True, slots=True)
class PatientState:
    """Everything about the patient that changes during a session (in the task state).

    Per attempt (set at the puncture or reset when the needle comes out): ``anchored``,
    ``vein_shift_mm``, ``collapsed``, ``blown``, ``deepest_mm``, ``entry_*``,
    ``nerve_touched``, ``flinched``, ``said`` (thresholds already spoken: 1 mild, 2 strong).
    ``tick_tip`` and ``speed_mm_s``: the tip at the last tick, and its speed over that tick.
    """

    discomfort: float = 0.0
    peak: float = 0.0
    reported: float = 0.0
    """Discomfort at the last ``patient_discomfort`` event."""
    pending: tuple[tuple[str, float], ...] = ()
    """Rises from continuous causes not yet reported, by cause."""
    line: str = ""
    line_t_s: float = -math.inf
    flinch_t_s: float = -math.inf
    flinched: bool = False
    said: int = 0
    bruise_mm: float = 0.0
    bruise_x_mm: float = 0.0
    bruise_z_mm: float = 0.0
    bleeding: bool = False
    arterial: bool = False
    pressure_since_s: float | None = None
    anchored: bool = False
    vein_shift_mm: float = 0.0
    rolled: bool = False
    collapsed: bool = False
    blown: bool = False
    entered: bool = False
    """The vein (or artery) was entered in this attempt: withdrawing leaves a hole that bleeds."""
    inserted: bool = False
    entry_angle_deg: float = 0.0
    entry_x_mm: float = 0.0
    entry_z_mm: float = 0.0
    deepest_mm: float = 0.0
    nerve_touched: bool = False
    entry_t_s: float = 0.0
    entry_tip: Vec3 | None = None
    entry_judged: bool = False
    """The entry's speed has been judged (``speed_window_s`` after the puncture)."""
    tick_tip: Vec3 | None = None
    """The tip at the last tick while inserted (its speed is judged over a tick)."""
    speed_mm_s: float = 0.0
    last_t_s: float | None = None
    """The last tick: continuous effects (dwell, decay, aches, bruise growth, the tip's speed)
    advance once every ``speed_window_s``, not at every sample."""

    def fields(self) -> dict[str, Any]:
        """Every field by name (a step's working copy starts from it)."""
        return {name: getattr(self, name) for name in _NAMES}

    def view(self, spec: PatientSpec, t_s: float) -> PatientView:
        """What the patient shows at ``t_s``."""
        since = t_s - self.flinch_t_s
        flinch = 0.0
        if 0.0 <= since < spec.flinch_s:
            flinch = spec.flinch_mm * math.sin(math.pi * since / spec.flinch_s)
        return PatientView(
            discomfort=self.discomfort,
            line=self.line,
            line_t_s=self.line_t_s,
            flinch_mm=flinch,
            bruise_mm=self.bruise_mm,
            bruise_x_mm=self.bruise_x_mm,
            bruise_z_mm=self.bruise_z_mm,
            bleeding=self.bleeding and self.pressure_since_s is None,
            arterial=self.arterial,
            anchored=self.anchored,
            pressure=self.pressure_since_s is not None,
            vein_shift_mm=self.vein_shift_mm,
            collapsed=self.collapsed or self.blown,
        )


REPORT_STEP = 0.1
"""A continuous rise of discomfort (dwell, depth, nerve proximity, tourniquet) is reported
in a ``patient_discomfort`` event once it adds up to this much (0-10 scale): the events'
largest ``discomfort`` is the session's peak to within it."""

CAUSE_WORDS = {
    "puncture": "the puncture",
    "fast_entry": "a fast entry",
    "depth": "a deep needle",
    "redirection": "redirecting",
    "probing": "probing",
    "dwell": "the needle kept in",
    "bevel_down": "bevel down",
    "nerve_near": "the needle near a nerve",
    "nerve": "a nerve touch",
    "artery": "the artery punctured",
    "tourniquet": "the tourniquet left on",
    "failed_attempt": "a failed attempt",
}
"""How each cause of discomfort reads in the results (the ``+CAUSE`` values of
``patient_discomfort`` events)."""
COUNTED = ("redirection", "probing", "bevel_down", "nerve", "failed_attempt", "puncture")
"""Causes the results count ("probing twice"): each is one event, not a rise over time."""
_DISCRETE = ("puncture", "fast_entry", "redirection", "probing", "bevel_down", "nerve",
             "artery", "failed_attempt")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Needle:
    """What the needle did at one sample, as the task measured it (what the patient feels).

    Attributes
    ----------
    inserted : bool
        The tip is under the skin (the task's view, with its exit margin).
    in_lumen : bool
        The tip is in the vein's lumen (blood is flowing into the tube or chamber).
    depth_mm : float
        The tip's depth under the skin, mm.
    tourniquet_s : float
        How long the tourniquet has been on, s (0 when off).
    """

    inserted: bool
    in_lumen: bool
    depth_mm: float
    tourniquet_s: float


class _Work:
    """A mutable copy of a :class:`PatientState` while one step works on it (built back
    into a frozen state once, at the end: one copy per step, not one per change)."""

    def __init__(self, st: PatientState) -> None:
        self.__dict__.update(st.fields())

    def frozen(self) -> PatientState:
        return PatientState(**self.__dict__)


_NAMES = tuple(f.name for f in fields(PatientState))


class Patient:
    """The patient model: discomfort and reactions, a pure function of the task's
    measurements and events (its state lives in the task state; time from the samples).

    A vein task calls :meth:`arrive` before it judges whether the tip is in the vein (a
    mobile vein may roll away first), :meth:`sample` after each sample with that sample's
    task events, and :meth:`action` for each action (through :class:`Site`). Reactions come
    back as ``patient_*`` events; ``patient_artery``, ``patient_nerve`` and a
    ``patient_flinch`` with the needle in are errors (:data:`ERRORS`).
    """

    def __init__(self, spec: PatientSpec) -> None:
        self.spec = spec

    # --- the vein rolls ----------------------------------------------------------------
    def arrive(
        self, st: PatientState, t_s: float, tip_z_mm: float, wall_mm: float, vein_z_mm: float
    ) -> tuple[PatientState, tuple[Event, ...]]:
        """The tip is ``wall_mm`` from the vein's wall (negative: inside it): a mobile vein
        that is not anchored rolls away from it, once per attempt, by ``vein_roll_mm``
        sideways (away from the tip's side, ``vein_z_mm`` its resting centreline)."""
        sp = self.spec
        if st.rolled or st.anchored or sp.vein_roll_mm <= 0.0 or wall_mm > sp.roll_reach_mm:
            return st, ()
        side = 1.0 if vein_z_mm + st.vein_shift_mm >= tip_z_mm else -1.0
        shift = st.vein_shift_mm + side * sp.vein_roll_mm
        ev = Event(
            t_s,
            VEIN_ROLLED,
            f"the vein rolled {sp.vein_roll_mm:.0f} mm away from the needle: anchor the skin "
            "below the site before the stick",
            values=(("shift_mm", shift),),
        )
        return replace(st, rolled=True, vein_shift_mm=shift), (ev,)

    # --- actions -----------------------------------------------------------------------
    def action(
        self, st: PatientState, t_s: float, kind: str
    ) -> tuple[PatientState, tuple[Event, ...]]:
        """``anchor`` (the skin held taut for this attempt) and ``pressure`` (gauze pressed
        on the site: a growing bruise stops growing)."""
        if kind == ANCHOR and not st.anchored:
            return replace(st, anchored=True), ()
        if kind == PRESSURE and st.pressure_since_s is None:
            events: tuple[Event, ...] = ()
            if st.bleeding:
                events = (
                    Event(
                        t_s,
                        BRUISE_STOPPED,
                        f"pressure on the site: the bruise stopped growing at {st.bruise_mm:.0f} mm"
                        if st.bruise_mm >= 1.0
                        else "pressure on the site at once: no bruise",
                        values=(("diameter_mm", st.bruise_mm),),
                    ),
                )
            return replace(st, pressure_since_s=t_s, last_t_s=None), events
        return st, ()

    # --- samples -----------------------------------------------------------------------
    def idle(self, st: PatientState, needle: Needle, task_events: Sequence[Event]) -> bool:
        """Nothing about the patient can change at this sample: the needle out and nothing
        happening, no discomfort left to fade, no blood leaking, pressure not being timed and
        the tourniquet not aching (most of the approach: the state is kept as it is)."""
        return (
            not needle.inserted
            and not st.inserted
            and not task_events
            and st.discomfort == 0.0
            and not st.bleeding
            and needle.tourniquet_s <= self.spec.tourniquet_ache_s
            and st.pending == ()
        )

    def sample(
        self,
        st: PatientState,
        t_s: float,
        tip: Vec3,
        needle: Needle,
        task_events: Sequence[Event],
    ) -> tuple[PatientState, tuple[Event, ...]]:
        """The patient after one sample: ``needle`` as the task measured it, ``task_events``
        the events the task made of this sample.

        Continuous effects (dwell, decay, the tourniquet's ache, nerve proximity, bruise
        growth, the tip's speed) advance in ticks of ``speed_window_s``; between ticks only
        something discrete (a task event, the needle in or out, the nerve or artery touched)
        changes the state, so most samples leave it as it is. After an idle stretch
        (:meth:`idle`) the first sample starts the clock again (``last_t_s`` None)."""
        if self.idle(st, needle, task_events):
            return (st if st.last_t_s is None else replace(st, last_t_s=None)), ()
        sp = self.spec
        last = st.last_t_s
        tick = last is None or t_s - last >= sp.speed_window_s
        if not (tick or task_events or needle.inserted != st.inserted or self._touch(st, tip)):
            return st, ()
        w: Any = _Work(st)
        out: list[Event] = []
        dt = t_s - last if tick and last is not None else 0.0
        if tick:
            w.last_t_s = t_s
        rise: dict[str, float] = {}
        kinds = {e.kind: e for e in task_events}
        punct = kinds.get("skin_puncture")
        if punct is not None:  # a new attempt
            w.inserted = True
            w.entry_t_s = t_s
            w.entry_tip = tip
            w.entry_judged = False
            w.entry_angle_deg = punct.value("angle_deg", 0.0)
            w.entry_x_mm = punct.value("x_mm", tip[0])
            w.entry_z_mm = punct.value("z_mm", tip[2])
            w.deepest_mm = 0.0
            w.said = 0
            w.flinched = False
            w.nerve_touched = False
            w.tick_tip = tip
            w.speed_mm_s = 0.0
            if w.pressure_since_s is not None:  # the hand leaves the gauze for the stick
                w.pressure_since_s = None
                if w.bleeding:
                    out.append(
                        _bleed_event(t_s, "the site bleeds again: pressure held too briefly")
                    )
            rise["puncture"] = sp.puncture_pain
        if "bevel_down" in kinds:
            rise["bevel_down"] = sp.bevel_down_pain
        if "redirection" in kinds:
            rise["redirection"] = sp.redirect_pain
        if "probing" in kinds:
            rise["probing"] = sp.probe_pain
        if needle.inserted and w.inserted:
            if dt > 0.0:
                self._speed(w, t_s, tip, dt, rise)
            deeper = needle.depth_mm - w.deepest_mm
            if deeper > 0.0:
                rise["depth"] = sp.depth_pain_per_mm * deeper
                w.deepest_mm = needle.depth_mm
            rise["dwell"] = sp.dwell_pain_per_s * dt
            self._vein(w, t_s, needle, kinds, out, dt > 0.0)
            self._artery_nerve(w, t_s, tip, dt, rise, out)
        withdrawn = next(
            (e for e in task_events if e.kind in ("withdrawal", "needle_withdrawn")), None
        )
        if withdrawn is not None or (w.inserted and not needle.inserted):
            success = withdrawn is not None and withdrawn.value("success", 0.0) > 0.0
            if withdrawn is not None and not success:
                rise["failed_attempt"] = sp.failed_attempt_pain
            # the hole in the vein bleeds into the tissue until pressure: after a failed
            # attempt and after a blood draw (a cannula left in the vein plugs its hole)
            plugged = success and withdrawn is not None and withdrawn.kind != "withdrawal"
            if w.entered and not plugged and w.pressure_since_s is None:
                self._bleed(w, t_s, "blood leaks from the puncture: press on the site", out)
            w.inserted = w.anchored = w.rolled = w.collapsed = w.blown = w.entered = False
            w.vein_shift_mm = 0.0
        if needle.tourniquet_s > sp.tourniquet_ache_s:
            rise["tourniquet"] = sp.tourniquet_pain_per_s * dt
        if w.bleeding:  # the bruise
            since = w.pressure_since_s
            if since is not None and t_s - since >= sp.pressure_s and not w.inserted:
                w.bleeding = False  # held long enough: the bleeding stopped
            elif since is None and w.bruise_mm < sp.bruise_max_mm:
                w.bruise_mm = min(w.bruise_mm + sp.bruise_mm_s * dt, sp.bruise_max_mm)
        self._feel(w, t_s, needle, dt, rise, out)
        return w.frozen(), tuple(out)

    def _touch(self, st: PatientState, tip: Vec3) -> bool:
        """The tip has just reached the artery or the nerve (a discrete reaction)."""
        if not st.inserted:
            return False
        sp = self.spec
        artery = math.hypot(tip[1] + sp.artery_depth_mm, tip[2] - sp.artery_z_mm)
        nerve = math.hypot(tip[1] + sp.nerve_depth_mm, tip[2] - sp.nerve_z_mm)
        return (not st.arterial and artery < sp.artery_radius_mm) or (
            not st.nerve_touched and nerve < sp.nerve_radius_mm
        )

    def _speed(self, w: Any, t_s: float, tip: Vec3, dt: float, rise: dict[str, float]) -> None:
        """At a tick: the entry's speed, judged once ``speed_window_s`` after the puncture
        (how far the tip went in that time: a hand's tremor is not speed), and the tip's
        speed over the tick (what a fragile vein collapses under)."""
        sp = self.spec
        if w.tick_tip is not None:
            w.speed_mm_s = math.dist(tip, w.tick_tip) / dt
        w.tick_tip = tip
        since = t_s - w.entry_t_s
        if not w.entry_judged and since >= sp.speed_window_s and w.entry_tip is not None:
            w.entry_judged = True
            speed = math.dist(tip, w.entry_tip) / since
            if speed > sp.fast_entry_mm_s:
                over = min(1.0, (speed - sp.fast_entry_mm_s) / sp.fast_entry_mm_s)
                rise["fast_entry"] = sp.fast_entry_pain * over

    def _bleed(self, w: Any, t_s: float, why: str, out: list[Event]) -> None:
        """Blood starts leaking into the tissue at this attempt's site (a bruise grows)."""
        if w.bleeding:
            return
        out.append(_bleed_event(t_s, why))
        if w.bruise_mm == 0.0:
            w.bruise_x_mm, w.bruise_z_mm = w.entry_x_mm, w.entry_z_mm
        w.bleeding = True

    def _vein(
        self,
        w: Any,
        t_s: float,
        needle: Needle,
        kinds: dict[str, Event],
        out: list[Event],
        tick: bool,
    ) -> None:
        """Entering the vein: a steep entry blows a fragile one, a fast draw collapses it; a
        pierced back wall bleeds."""
        sp = self.spec
        if "flashback" in kinds:
            w.entered = True
            if w.entry_angle_deg > sp.blow_angle_deg and not w.blown:
                out.append(
                    Event(
                        t_s,
                        VEIN_BLOWN,
                        f"the fragile vein blew on a {w.entry_angle_deg:.0f}° entry (steeper "
                        f"than {sp.blow_angle_deg:g}°): no blood, a bruise grows",
                        values=(("angle_deg", w.entry_angle_deg),),
                    )
                )
                w.blown = True
                self._bleed(w, t_s, "the vein blew", out)
        speed = w.speed_mm_s
        fast = tick and speed > sp.collapse_speed_mm_s
        if needle.in_lumen and not w.collapsed and not w.blown and fast:
            out.append(
                Event(
                    t_s,
                    VEIN_COLLAPSED,
                    f"the vein collapsed: the needle moved at {speed:.0f} mm/s in it (keep "
                    f"under {sp.collapse_speed_mm_s:g}); no blood this attempt",
                    values=(("speed_mm_s", speed),),
                )
            )
            w.collapsed = True
        if "back_wall" in kinds:
            self._bleed(w, t_s, "the back wall of the vein was pierced", out)

    def _artery_nerve(
        self, w: Any, t_s: float, tip: Vec3, dt: float, rise: dict[str, float], out: list[Event]
    ) -> None:
        """The tip in the artery (bright red pulsing blood; critical) or on the nerve (the
        patient cries out; critical); near the nerve it hurts more the closer it is."""
        sp = self.spec
        artery = math.hypot(tip[1] + sp.artery_depth_mm, tip[2] - sp.artery_z_mm)
        if artery < sp.artery_radius_mm and not w.arterial:
            rise["artery"] = sp.artery_pain
            out.append(
                Event(
                    t_s,
                    ARTERY,
                    "the brachial artery was punctured: bright red, pulsing blood; withdraw and "
                    "press for at least 5 minutes",
                    True,
                    (("depth_mm", -tip[1]),),
                )
            )
            w.arterial = w.entered = True
            self._bleed(w, t_s, "the artery bleeds into the tissue", out)
            _say(w, t_s, sp.line_artery, out)
        nerve = math.hypot(tip[1] + sp.nerve_depth_mm, tip[2] - sp.nerve_z_mm) - sp.nerve_radius_mm
        if nerve < 0.0 and not w.nerve_touched:
            rise["nerve"] = sp.nerve_pain
            out.append(
                Event(
                    t_s,
                    NERVE,
                    "the needle touched a nerve: the patient cried out; withdraw at once",
                    True,
                    (("depth_mm", -tip[1]),),
                )
            )
            w.nerve_touched = True
            _say(w, t_s, sp.line_nerve, out)
        elif 0.0 <= nerve < sp.nerve_near_mm:
            rise["nerve_near"] = sp.nerve_near_pain_per_s * (1.0 - nerve / sp.nerve_near_mm) * dt

    def _feel(
        self,
        w: Any,
        t_s: float,
        needle: Needle,
        dt: float,
        rise: dict[str, float],
        out: list[Event],
    ) -> None:
        """Discomfort after the rises (or the decay when nothing hurts); the events it gives:
        a ``patient_discomfort`` report, the lines at thresholds, a flinch."""
        sp = self.spec
        k = sp.pain_sensitivity
        rises = {c: v * k for c, v in rise.items() if v > 0.0}
        before = w.discomfort
        if rises:
            level = min(10.0, before + sum(rises.values()))
        elif not needle.inserted:
            level = max(0.0, before - sp.decay_per_s * dt)
        else:
            level = before
        w.discomfort = level
        w.peak = max(w.peak, level)
        if rises:
            pending = dict(w.pending)
            for c, v in rises.items():
                pending[c] = pending.get(c, 0.0) + v
            if any(c in _DISCRETE for c in rises) or level - w.reported >= REPORT_STEP:
                values = (("discomfort", level), *((f"+{c}", v) for c, v in pending.items()))
                causes = ", ".join(CAUSE_WORDS[c] for c in pending)
                out.append(
                    Event(t_s, DISCOMFORT, f"discomfort {level:.1f}/10 ({causes})", values=values)
                )
                w.pending, w.reported = (), level
            else:
                w.pending = tuple(pending.items())
        elif level < w.reported:
            w.reported = level
            if level == 0.0:
                w.pending = ()  # faded away: what was not reported no longer matters
        if level > before:
            if not w.said & 1 and before < sp.line_mild_at <= level:
                w.said |= 1
                _say(w, t_s, sp.line_mild, out)
            if not w.said & 2 and before < sp.line_strong_at <= level:
                w.said |= 2
                _say(w, t_s, sp.line_strong, out)
            if not w.flinched and before < sp.flinch_at <= level:
                with_needle = needle.inserted
                what = ": the needle moved in the tissue (tissue trauma)" if with_needle else ""
                out.append(
                    Event(
                        t_s,
                        FLINCH,
                        f"the patient flinched{what}",
                        with_needle,
                        (("discomfort", level), ("displacement_mm", sp.flinch_mm)),
                    )
                )
                w.flinched, w.flinch_t_s = True, t_s
                _say(w, t_s, sp.line_flinch, out)


def _bleed_event(t_s: float, why: str) -> Event:
    return Event(t_s, BRUISE, f"bruise growing: {why}")


def _say(w: Any, t_s: float, line: str, out: list[Event]) -> None:
    """The patient says ``line`` (a ``patient_said`` event; the view shows it)."""
    out.append(Event(t_s, SAID, line))
    w.line, w.line_t_s = line, t_s


class WithPatient(Protocol):
    """A vein task's state: it carries the patient's."""

    @property
    def patient(self) -> PatientState: ...


T = TypeVar("T", bound=WithPatient)


class Site:
    """A vein task's limb and patient together: the one place both vein procedures
    (venipuncture, IV cannulation) run the patient model from, as :mod:`sim.core.tourniquet`
    is for the tourniquet. Pure: functions of a task state that carries ``patient``.

    Parameters
    ----------
    limb : Limb
        The limb at rest (the vein where it lies).
    spec : PatientSpec or None
        The patient's condition; None: a patient who feels nothing (a scenario built without
        one), whose views have no patient.
    """

    def __init__(self, limb: Limb, spec: PatientSpec | None) -> None:
        self.limb = limb
        self.model = Patient(spec) if spec is not None else None
        self._rolled: dict[float, Limb] = {0.0: limb}
        self._shown: tuple[PatientState, PatientView] | None = None

    def limb_of(self, st: WithPatient) -> Limb:
        """The limb with the vein where it lies now (rolled sideways in this attempt)."""
        shift = st.patient.vein_shift_mm
        found = self._rolled.get(shift)
        if found is None:
            base = self.limb
            found = Limb(
                base.skin.radius_mm,
                -base.vein_y,
                base.vein_z + shift,
                2 * base.vein_r,
                2 * base.vein_half,
            )
            self._rolled[shift] = found
        return found

    def arrive(self, st: T, s: Sample, events: list[Event]) -> T:
        """Before the task judges whether the tip is in the vein: a mobile vein not anchored
        rolls away from a tip that comes close (the events appended to ``events``)."""
        if self.model is None or self.model.spec.vein_roll_mm <= 0.0:
            return st
        limb = self.limb_of(st)
        wall = limb.vein_distance_mm(s.tip_mm) - limb.vein_r
        pst, made = self.model.arrive(st.patient, s.t_s, s.tip_mm[2], wall, self.limb.vein_z)
        if not made:
            return st
        events.extend(made)
        return _with(st, pst)

    def sample(
        self,
        st: T,
        s: Sample,
        events: tuple[Event, ...],
        *,
        inserted: bool,
        in_lumen: bool,
        tourniquet_s: float,
    ) -> tuple[T, tuple[Event, ...]]:
        """The patient after the task stepped on sample ``s`` (its ``events``): the state
        with the patient's, and the events with the patient's after them."""
        if self.model is None:
            return st, events
        needle = Needle(inserted, in_lumen, self.limb.skin.depth_mm(s.tip_mm), tourniquet_s)
        pst, made = self.model.sample(st.patient, s.t_s, s.tip_mm, needle, events)
        return (st if pst is st.patient else _with(st, pst)), _before_finish(events, made)

    def action(
        self, st: T, t_s: float, kind: str, events: tuple[Event, ...]
    ) -> tuple[T, tuple[Event, ...]]:
        """The patient after action ``kind`` (``anchor``, ``pressure``)."""
        if self.model is None or kind not in (ANCHOR, PRESSURE):
            return st, events
        pst, made = self.model.action(st.patient, t_s, kind)
        return (_with(st, pst) if pst is not st.patient else st), _before_finish(events, made)

    def view(self, st: WithPatient, t_s: float) -> PatientView | None:
        """What the patient shows at ``t_s`` (None without a patient)."""
        if self.model is None:
            return None
        pst, spec = st.patient, self.model.spec
        shown = self._shown  # the same state shows the same, unless a flinch is moving
        if (
            shown is not None
            and shown[0] is pst
            and not 0.0 <= t_s - pst.flinch_t_s <= spec.flinch_s
            and shown[1].flinch_mm == 0.0
        ):
            return shown[1]
        view = pst.view(spec, t_s)
        self._shown = (pst, view)
        return view

    def blocked(self, st: WithPatient) -> bool:
        """No blood can come in this attempt: the vein collapsed or blew."""
        return st.patient.collapsed or st.patient.blown


def _with(st: T, pst: PatientState) -> T:
    out: Any = replace(st, patient=pst)  # type: ignore[type-var]
    return out


def _before_finish(events: tuple[Event, ...], made: tuple[Event, ...]) -> tuple[Event, ...]:
    """The task's events with the patient's inserted before the task's closing ``finish``
    (at the same time: the session's last event stays its end)."""
    if not made:
        return events
    for i, e in enumerate(events):
        if e.kind == "finish":
            return events[:i] + made + events[i:]
    return events + made


def mirrored_scenario(scenario: Scenario) -> Scenario:
    """``scenario``'s patient seen in a mirror across the vertical plane along the arm
    (scene z negated): the other arm, with the artery and the nerve on the other side of the
    vein (``artery_z_mm``, ``nerve_z_mm``). Only the patient's condition changes: a
    procedure mirrors its own ``[geometry]`` (:attr:`sim.procedures.base.Procedure.mirror`)."""

    def other_arm(case: Any) -> Any:
        if case is None:
            return None
        c = case.condition
        return replace(
            case, condition=replace(c, artery_z_mm=-c.artery_z_mm, nerve_z_mm=-c.nerve_z_mm)
        )

    return replace(
        scenario,
        patient=other_arm(scenario.patient),
        default_patient=other_arm(scenario.default_patient),
    )
