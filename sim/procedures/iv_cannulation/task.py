"""Peripheral IV cannulation (catheter over needle) as a pure state machine.

The steps, as taught (see ``scenarios/iv-cannulation.toml`` for the numbers and sources):

1. apply the tourniquet (action ``tourniquet_on``);
2. puncture the skin bevel up at ``angle_min_deg``-``angle_max_deg``;
3. **flashback**: blood shows in the flash chamber as soon as the needle's tip is in the
   vein's lumen; the catheter tip, ``needle_protrusion_mm`` behind it, is not in yet;
4. lower the angle and advance about ``advance_after_flash_mm`` more, until the **catheter
   tip is in the vein**;
5. **thread** the catheter off the needle (actions ``catheter_advance``, each sliding it
   ``catheter_step_mm``) while holding the needle still, until its hub reaches the skin. The
   flexible catheter follows the lumen once its tip is in it;
6. release the tourniquet (``tourniquet_off``);
7. **occlude** the vein above the catheter tip (``occlude``), then **withdraw the needle**
   (the tip leaves the skin by ``exit_margin_mm``);
8. connect and **flush** (``flush``); **secure** the cannula (``secure``): completed.

An attempt fails (the needle comes out with the catheter) when the catheter was not threaded
into the vein: vein missed, back wall pierced, catheter threaded outside the vein, or the
needle withdrawn before threading. After ``max_attempts`` failed attempts the trainee stops
and escalates (``attempt_limit``): the procedure has come to its end.

Errors (events with ``error`` true): ``angle_out_of_range``, ``bevel_down``,
``no_tourniquet``, ``probing``, ``missed_vein``, ``back_wall``, ``threaded_outside_vein``
(threading before the catheter tip is in the vein: it hangs up in the tissue),
``needle_advanced`` (the needle pushed forward with or into the catheter while threading),
``catheter_sheared`` (the needle pulled back into the catheter and pushed in again: its bevel
can cut the catheter), ``tourniquet_too_long``, ``tourniquet_on_at_withdrawal``,
``no_occlusion``, ``attempt_limit`` and ``incomplete``. Time comes only from the items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import Enum

from sim.core import geometry as g
from sim.core.limb import Limb
from sim.core.patient import PatientState, Site
from sim.core.records import Action, ActionKind, Event, Item, Sample, Vec3
from sim.core.scenario import Scenario
from sim.core.tourniquet import overdue, released, tourniquet_s
from sim.procedures.iv_cannulation.spec import limb, parts
from sim.words import plural

APPROACH, IN_SKIN, IN_VEIN, THROUGH_WALL = "approach", "in_skin", "in_vein", "through_wall"

EXIT_HOLD_S = 0.25
"""How long the tip must stay ``exit_margin_mm`` out of the skin to count as withdrawn (our
choice: longer than one cycle of a 4-12 Hz tremor, short against a deliberate withdrawal)."""

PHASES = (
    "prepare",
    "insert",
    "advance",
    "thread",
    "release",
    "occlude",
    "withdraw",
    "flush",
    "secure",
    "done",
)
"""Phase names, in the order a clean cannulation goes through them (for the HUD)."""


class IvAction(str, Enum):
    """IV cannulation's own actions (beside the shared :class:`ActionKind` ones).

    An action's kind is a string (:class:`sim.core.records.Action`); read back from a
    recording it is the plain word, so kinds are compared with ``==``, never ``is``.
    """

    CATHETER_ADVANCE = "catheter_advance"
    OCCLUDE = "occlude"
    FLUSH = "flush"
    SECURE = "secure"


def skin_crossing(limb: Limb, tip: Vec3, axis: Vec3, length_mm: float) -> Vec3 | None:
    """Where the shaft of an inserted needle (``length_mm`` behind its tip, along
    ``axis``) crosses the skin of ``limb``, or None if all of it is under the skin."""
    hub = g.sub(tip, g.scale(axis, length_mm))
    if limb.skin.depth_mm(hub) >= 0.0:
        return None
    return limb.skin.intersect_segment(hub, tip)


@dataclass(frozen=True, slots=True)
class IvState:
    """Everything that changes during an IV cannulation session.

    Per attempt: the needle's ``position``, ``entry_point`` (where the shaft crosses the skin,
    for probing), ``flash_tip`` (needle tip at flashback), the catheter's state and the
    threading measures. ``thread_origin`` / ``thread_axis`` are the needle tip and axis when
    threading began; ``advance_steps`` counts ``catheter_advance`` actions;
    ``thread_target_mm`` is the advance that brings the catheter's hub to the skin.
    ``needle_forward_mm`` is the needle tip's latest displacement along ``thread_axis`` since
    threading began (negative: pulled back into the catheter), ``pulled_back_mm`` the
    furthest it was pulled back, ``needle_motion_mm`` the furthest it moved (any direction)
    while threading.
    """

    position: str = APPROACH
    last_tip: Vec3 | None = None
    last_axis: Vec3 | None = None
    tourniquet_on: bool = False
    tourniquet_since_s: float = 0.0
    tourniquet_warned: bool = False
    attempts: int = 0
    failed_attempts: int = 0
    entry_point: Vec3 | None = None
    ref_axis: Vec3 | None = None
    probed: bool = False
    missed: bool = False
    flashback: bool = False
    flash_tip: Vec3 | None = None
    back_wall: bool = False
    catheter_in_vein: bool = False
    catheter_reached: bool = False
    thread_origin: Vec3 | None = None
    thread_axis: Vec3 | None = None
    thread_target_mm: float = 0.0
    advance_steps: int = 0
    hung_up: bool = False
    threaded: bool = False
    needle_forward_mm: float = 0.0
    pulled_back_mm: float = 0.0
    needle_motion_mm: float = 0.0
    needle_advanced: bool = False
    sheared: bool = False
    occluded: bool = False
    needle_out: bool = False
    flushed: bool = False
    secured: bool = False
    completed: bool = False
    finished: bool = False
    patient: PatientState = PatientState()
    """The patient (:mod:`sim.core.patient`): discomfort, bruise, the vein rolled..."""
    out_since_s: float | None = None
    """When the tip last rose ``exit_margin_mm`` out of the skin (None while it is in): the
    needle counts as withdrawn once it stays out for :data:`EXIT_HOLD_S` or rises three
    margins out, so that a hand's tremor at the surface is not a new puncture."""

    @property
    def threading(self) -> bool:
        """The catheter is being slid off the needle (started, not yet fully in)."""
        return self.thread_origin is not None and not self.threaded

    @property
    def failed(self) -> bool:
        """This attempt cannot succeed any more: the needle comes out next (the back wall
        pierced, the catheter hung up, or the vein collapsed or blew)."""
        return self.back_wall or self.hung_up or self.patient.collapsed or self.patient.blown


def _new_attempt(st: IvState) -> IvState:
    """``st`` with every per-attempt field as at the start of an attempt (a new cannula)."""
    return replace(
        st,
        entry_point=None,
        ref_axis=None,
        probed=False,
        missed=False,
        flashback=False,
        flash_tip=None,
        back_wall=False,
        catheter_in_vein=False,
        catheter_reached=False,
        thread_origin=None,
        thread_axis=None,
        thread_target_mm=0.0,
        advance_steps=0,
        hung_up=False,
        threaded=False,
        needle_forward_mm=0.0,
        pulled_back_mm=0.0,
        needle_motion_mm=0.0,
        needle_advanced=False,
        occluded=False,
    )


class IvCannulationTask:
    """Detects each step of a peripheral IV cannulation and its errors (see the module)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.geo, self.tol = parts(scenario)
        self.limb = limb(self.geo)
        self.site = Site(self.limb, scenario.condition)
        """The limb with the patient: the vein where it lies now, and what the patient feels."""

    def initial(self) -> IvState:
        return IvState()

    def is_complete(self, state: IvState) -> bool:
        """Cannula secured, or the attempt limit reached (the trainee stops and escalates):
        either way the procedure has come to its end."""
        return state.completed or state.failed_attempts >= self.tol.max_attempts

    def is_finished(self, state: IvState) -> bool:
        """Whether the session is over: completed, at the attempt limit, or the trainee
        pressed finish."""
        return state.finished

    def phase(self, state: IvState) -> str:
        """The step the trainee is at (one of :data:`PHASES`)."""
        if state.completed or state.finished:
            return "done"
        if state.needle_out:
            return "secure" if state.flushed else "flush"
        if state.position == APPROACH:
            return "prepare"
        if state.failed:
            return "withdraw"
        if state.threaded:
            if state.tourniquet_on:
                return "release"
            return "withdraw" if state.occluded else "occlude"
        if state.thread_origin is not None or state.catheter_reached:
            return "thread"  # kept once reached: the tip at the lumen's edge must not chatter
        return "advance" if state.flashback else "insert"

    # --- the catheter ------------------------------------------------------------------
    def catheter_tip(self, state: IvState, tip: Vec3, axis: Vec3) -> Vec3:
        """Where the catheter tip is for a needle at ``tip`` along ``axis``: on the needle,
        ``needle_protrusion_mm`` behind its tip; once threading began, slid forward from
        where it was then (drawn straight; the real catheter follows the lumen)."""
        geo = self.geo
        if state.thread_origin is None or state.thread_axis is None:
            return g.sub(tip, g.scale(axis, geo.needle_protrusion_mm))
        along = state.advance_steps * geo.catheter_step_mm - geo.needle_protrusion_mm
        return g.add(state.thread_origin, g.scale(state.thread_axis, along))

    def advance_past_flash_mm(self, state: IvState, tip: Vec3, axis: Vec3) -> float:
        """How far the needle has gone on along itself since flashback, mm (0 before it, and
        never negative). Along the needle: lowering the angle about the skin moves the tip
        sideways, which is not advancing."""
        if state.flash_tip is None:
            return 0.0
        return max(g.dot(g.sub(tip, state.flash_tip), axis), 0.0)

    def catheter_advance_mm(self, state: IvState) -> float:
        """How far the catheter has been slid off the needle."""
        return state.advance_steps * self.geo.catheter_step_mm

    def probe_mm(self, state: IvState, s: Sample) -> float:
        """How far the straight shaft has moved sideways from where it went in, mm."""
        if state.entry_point is None or state.position == APPROACH:
            return 0.0
        return g.distance_point_to_line(state.entry_point, s.tip_mm, s.axis)

    # --- state machine -----------------------------------------------------------------
    def step(self, state: IvState, item: Item) -> tuple[IvState, tuple[Event, ...]]:
        if isinstance(item, Action):
            st, events = self._action(state, item)
            if state.finished:
                return st, events
            return self.site.action(st, item.t_s, item.kind, events)
        st, events = self._sample(state, item)
        if not item.tracked or state.finished:
            return st, events
        return self.site.sample(
            st,
            item,
            events,
            inserted=st.position != APPROACH,
            in_lumen=st.position == IN_VEIN,
            tourniquet_s=tourniquet_s(st, item.t_s),
        )

    def _action(self, st: IvState, a: Action) -> tuple[IvState, tuple[Event, ...]]:
        t, kind = a.t_s, a.kind
        if st.finished:
            return st, ()
        if kind == ActionKind.TOURNIQUET_ON and not st.tourniquet_on:
            st = replace(st, tourniquet_on=True, tourniquet_since_s=t, tourniquet_warned=False)
            return st, (Event(t, "tourniquet_on", "tourniquet applied"),)
        if kind == ActionKind.TOURNIQUET_OFF and st.tourniquet_on:
            return replace(st, tourniquet_on=False), (released(st, t),)
        if kind == ActionKind.FINISH:
            events: list[Event] = []
            if not self.is_complete(st):
                events.append(
                    Event(t, "incomplete", "stopped before the cannula was secured", True)
                )
            return self._end(st, t, "session finished", events), tuple(events)
        if kind == IvAction.CATHETER_ADVANCE:
            events = []
            return self._catheter_advance(st, t, events), tuple(events)
        if kind == IvAction.OCCLUDE and st.threaded and not st.needle_out and not st.occluded:
            return replace(st, occluded=True), (
                Event(t, "occluded", "vein occluded above the catheter tip"),
            )
        if kind == IvAction.FLUSH and st.needle_out and not st.flushed:
            return replace(st, flushed=True), (
                Event(t, "flushed", "connected and flushed: the cannula runs freely"),
            )
        if kind == IvAction.SECURE and st.flushed and not st.secured:
            events = [
                Event(t, "secured", "cannula secured"),
                Event(t, "completed", "IV cannulation completed"),
            ]
            st = replace(st, secured=True, completed=True)
            return self._end(st, t, "cannula in place: task complete", events), tuple(events)
        return st, ()

    def _end(self, st: IvState, t: float, message: str, events: list[Event]) -> IvState:
        """Finish the session: the tourniquet comes off (if on) and a ``finish`` event."""
        if st.tourniquet_on:
            events.append(released(st, t, at_finish=True))
        events.append(Event(t, "finish", message))
        return replace(st, finished=True, tourniquet_on=False)

    def _catheter_advance(self, st: IvState, t: float, events: list[Event]) -> IvState:
        """One ``catheter_advance``: the catheter slides ``catheter_step_mm`` off the needle."""
        if (
            st.position == APPROACH
            or st.needle_out
            or st.hung_up
            or st.threaded
            or st.last_tip is None
            or st.last_axis is None
        ):
            return st  # nothing to slide: the needle is out, or the catheter cannot move
        geo = self.geo
        if st.thread_origin is None:
            tip, axis = st.last_tip, st.last_axis
            cath = g.sub(tip, g.scale(axis, geo.needle_protrusion_mm))
            crossing = skin_crossing(self.limb, tip, axis, geo.needle_length_mm)
            angle = self.limb.angle_deg(axis, crossing if crossing is not None else tip)
            flashed = st.flash_tip is not None
            advance = self.advance_past_flash_mm(st, tip, axis) if flashed else math.nan
            if not self.site.limb_of(st).in_lumen(cath):
                events.append(
                    Event(
                        t,
                        "threaded_outside_vein",
                        "catheter threaded before its tip was in the vein: it hangs up in "
                        "the tissue; withdraw and start again",
                        True,
                        (("advance_mm", advance), ("depth_mm", self.limb.skin.depth_mm(cath))),
                    )
                )
                return replace(st, hung_up=True)
            inside = (
                g.norm(g.sub(cath, crossing)) if crossing is not None else geo.catheter_length_mm
            )
            target = max(geo.catheter_length_mm - inside, geo.catheter_step_mm)
            events.append(
                Event(
                    t,
                    "threading_started",
                    f"threading the catheter at {angle:.0f}°, {advance:.1f} mm past flashback",
                    values=(("angle_deg", angle), ("advance_mm", advance)),
                )
            )
            st = replace(
                st, thread_origin=tip, thread_axis=axis, thread_target_mm=target, advance_steps=0
            )
        steps = st.advance_steps + 1
        st = replace(st, advance_steps=steps)
        if steps * geo.catheter_step_mm >= st.thread_target_mm - 1e-9:
            events.append(
                Event(
                    t,
                    "threaded",
                    "catheter threaded to its hub: release the tourniquet",
                    values=(
                        ("needle_motion_mm", st.needle_motion_mm),
                        ("advance_mm", steps * geo.catheter_step_mm),
                    ),
                )
            )
            st = replace(st, threaded=True)
        return st

    def _sample(self, st: IvState, s: Sample) -> tuple[IvState, tuple[Event, ...]]:
        if not s.tracked or st.finished:
            return st, ()
        t, p = s.t_s, s.tip_mm
        events: list[Event] = []
        tol = self.tol
        too_long = overdue(st, t, tol.tourniquet_max_s)
        if too_long is not None:
            events.append(too_long)
            st = replace(st, tourniquet_warned=True)
        if st.needle_out:  # the needle is away from the site (in the sharps bin)
            return st, tuple(events)
        depth = self.limb.skin.depth_mm(p)
        prev = st.last_tip
        if st.position == APPROACH:
            if depth >= 0.0 and prev is not None and self.limb.skin.depth_mm(prev) < 0.0:
                st = self._puncture(st, s, prev, events)
        elif depth < -tol.exit_margin_mm:
            out = st.out_since_s if st.out_since_s is not None else s.t_s
            if s.t_s - out >= EXIT_HOLD_S or depth < -3.0 * tol.exit_margin_mm:
                st = self._withdraw(replace(st, out_since_s=None), s, events)
            else:
                st = replace(st, out_since_s=out)  # out, unless tremor takes it back in
        else:
            if st.out_since_s is not None:
                st = replace(st, out_since_s=None)
            st = self._advance(st, s, prev, events)
        return replace(st, last_tip=p, last_axis=s.axis), tuple(events)

    def _puncture(self, st: IvState, s: Sample, prev: Vec3, events: list[Event]) -> IvState:
        tol, site = self.tol, self.limb
        attempt = st.attempts + 1
        hit, made = site.puncture(
            prev,
            s,
            attempt,
            angle_min_deg=tol.angle_min_deg,
            angle_max_deg=tol.angle_max_deg,
            bevel_roll_tol_deg=tol.bevel_roll_tol_deg,
            tourniquet_on=st.tourniquet_on,
        )
        events.extend(made)
        st = replace(
            _new_attempt(st), position=IN_SKIN, attempts=attempt, entry_point=hit, ref_axis=s.axis
        )
        return self._advance(st, s, hit, events)

    def _advance(self, st: IvState, s: Sample, prev: Vec3 | None, events: list[Event]) -> IvState:
        t, p, tol = s.t_s, s.tip_mm, self.tol
        st = self.site.arrive(st, s, events)  # a mobile vein may roll away first
        site = self.site.limb_of(st)
        if st.entry_point is not None and site.skin.depth_mm(p) < tol.exit_margin_mm:
            # just under the skin: the shaft may be redirected freely from here
            st = replace(st, entry_point=p, probed=False)
        if not st.probed and self.probe_mm(st, s) > tol.probe_mm:
            lateral = self.probe_mm(st, s)
            events.append(
                Event(
                    t,
                    "probing",
                    f"needle moved {lateral:.1f} mm sideways in the tissue (probing): "
                    "withdraw to just under the skin before redirecting",
                    True,
                    (("lateral_mm", lateral),),
                )
            )
            st = replace(st, probed=True)
        if st.ref_axis is not None and not st.flashback:
            # after flashback the angle is lowered on purpose: not a redirection
            turn = g.angle_between_deg(st.ref_axis, s.axis)
            if turn > tol.redirect_deg:
                events.append(
                    Event(
                        t,
                        "redirection",
                        f"needle redirected by {turn:.0f}°",
                        values=(("angle_deg", turn),),
                    )
                )
                st = replace(st, ref_axis=s.axis)
        st = self._needle_in_vein(st, s, prev, events)
        if st.thread_origin is not None:
            st = self._hold_still(st, s, events)
        elif not st.failed:
            cath_in = site.in_lumen(g.sub(p, g.scale(s.axis, self.geo.needle_protrusion_mm)))
            if cath_in and not st.catheter_reached and st.flash_tip is not None:
                advance = self.advance_past_flash_mm(st, p, s.axis)
                events.append(
                    Event(
                        t,
                        "catheter_in_vein",
                        "catheter tip in the vein: hold the needle still and thread the catheter",
                        values=(("advance_mm", advance),),
                    )
                )
                st = replace(st, catheter_reached=True)
            if cath_in != st.catheter_in_vein:
                st = replace(st, catheter_in_vein=cath_in)
        return st

    def _needle_in_vein(
        self, st: IvState, s: Sample, prev: Vec3 | None, events: list[Event]
    ) -> IvState:
        """Flashback, the back wall and a missed vein, from where the needle tip is."""
        t, p, site = s.t_s, s.tip_mm, self.site.limb_of(st)
        lumen = site.in_lumen(p)
        passed = prev is not None and not lumen and site.crosses_lumen(prev, p)
        position = st.position
        if (lumen or passed) and not st.flashback:
            events.append(
                Event(
                    t,
                    "flashback",
                    "flashback: lower the angle and advance a little more",
                    values=(("depth_mm", site.skin.depth_mm(p)),),
                )
            )
            st = replace(st, flashback=True, flash_tip=p)
        if lumen:
            position = IN_VEIN
        else:
            # through the far wall: from the lumen, across it, or (after the flashback)
            # out through its lower side and on under it
            through = st.position == IN_VEIN or passed or (st.flashback and site.under_vein(p))
            if site.beyond_vein(p) and through:
                position = THROUGH_WALL
                if not st.back_wall:
                    events.append(
                        Event(
                            t,
                            "back_wall",
                            "back wall of the vein pierced: stop and withdraw",
                            True,
                            (("depth_mm", site.skin.depth_mm(p)),),
                        )
                    )
                    st = replace(st, back_wall=True)
            elif position != THROUGH_WALL or not site.beyond_vein(p):
                position = IN_SKIN
            if (
                position == IN_SKIN
                and not st.flashback
                and not st.missed
                and site.passed_beside_vein(p)
            ):
                events.append(
                    Event(
                        t,
                        "missed_vein",
                        "needle passed the vein without entering",
                        True,
                        (("depth_mm", site.skin.depth_mm(p)),),
                    )
                )
                st = replace(st, missed=True)
        return replace(st, position=position) if position != st.position else st

    def _hold_still(self, st: IvState, s: Sample, events: list[Event]) -> IvState:
        """While threading and after: the needle held still, never pushed back in."""
        assert st.thread_origin is not None and st.thread_axis is not None
        t, tol = s.t_s, self.tol
        d = g.sub(s.tip_mm, st.thread_origin)
        forward = g.dot(d, st.thread_axis)
        back = max(st.pulled_back_mm, -forward)
        motion = st.needle_motion_mm if st.threaded else max(st.needle_motion_mm, g.norm(d))
        st = replace(st, needle_forward_mm=forward, pulled_back_mm=back, needle_motion_mm=motion)
        if not st.sheared and back >= tol.reinsert_mm and forward + back >= tol.reinsert_mm:
            events.append(
                Event(
                    t,
                    "catheter_sheared",
                    "needle pushed back into the catheter: its bevel can cut the catheter; "
                    "never re-insert the needle",
                    True,
                    (("reinserted_mm", forward + back),),
                )
            )
            return replace(st, sheared=True)
        if not st.needle_advanced and forward > tol.needle_still_mm:
            where = "into the catheter" if st.threaded else "with the catheter"
            events.append(
                Event(
                    t,
                    "needle_advanced",
                    f"needle pushed {forward:.1f} mm forward {where}: hold the needle still "
                    "and slide only the catheter",
                    True,
                    (("forward_mm", forward),),
                )
            )
            st = replace(st, needle_advanced=True)
        return st

    def _withdraw(self, st: IvState, s: Sample, events: list[Event]) -> IvState:
        t = s.t_s
        success = st.threaded and not st.failed
        if success:
            if st.tourniquet_on:
                events.append(
                    Event(
                        t,
                        "tourniquet_on_at_withdrawal",
                        "needle withdrawn with the tourniquet still on: blood spills from the "
                        "cannula",
                        True,
                    )
                )
            if not st.occluded:
                events.append(
                    Event(
                        t,
                        "no_occlusion",
                        "needle withdrawn without pressing on the vein above the catheter tip",
                        True,
                    )
                )
            events.append(
                Event(
                    t,
                    "needle_withdrawn",
                    "needle withdrawn, catheter in the vein: connect and flush",
                    values=(("attempt", float(st.attempts)), ("success", 1.0)),
                )
            )
            return replace(st, position=APPROACH, needle_out=True)
        events.append(
            Event(
                t,
                "needle_withdrawn",
                "needle and catheter withdrawn: the attempt failed",
                values=(("attempt", float(st.attempts)), ("success", 0.0)),
            )
        )
        failed = st.failed_attempts + 1
        st = replace(_new_attempt(st), position=APPROACH, failed_attempts=failed)
        if failed >= self.tol.max_attempts:
            events.append(
                Event(
                    t,
                    "attempt_limit",
                    f"no cannula after {plural(failed, 'attempt')}: attempt limit reached, "
                    "stop and escalate",
                    True,
                    (("attempts", float(failed)),),
                )
            )
            return self._end(st, t, "attempt limit reached: task ended", events)
        return st
