"""Venipuncture at the antecubital fossa as a pure state machine.

Geometry (see :class:`sim.core.geometry.Cylinder`): the forearm is a cylinder along x whose
top runs along ``y = 0``; the vein is a straight tube parallel to x at ``y = -depth``,
``z = lateral``, ``|x| <= length / 2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sim.core import geometry as g
from sim.core.limb import Limb
from sim.core.patient import PatientState, Site
from sim.core.records import Action, ActionKind, Event, Item, Sample, Vec3
from sim.core.scenario import Scenario
from sim.core.tourniquet import overdue, released, tourniquet_s
from sim.procedures.venipuncture.spec import parts
from sim.words import plural

APPROACH, IN_SKIN, IN_VEIN, THROUGH_WALL = "approach", "in_skin", "in_vein", "through_wall"


@dataclass(frozen=True, slots=True)
class VenipunctureState:
    """Everything that changes during a venipuncture session."""

    position: str = APPROACH
    last_tip: Vec3 | None = None
    tourniquet_on: bool = False
    tourniquet_since_s: float = 0.0
    tourniquet_warned: bool = False
    tourniquet_off_s: float = -math.inf
    attempts: int = 0
    failed_attempts: int = 0
    flashback: bool = False
    back_wall: bool = False
    missed: bool = False
    ref_axis: Vec3 | None = None
    entry_point: Vec3 | None = None
    probed: bool = False
    lumen_since_s: float | None = None
    drawn: bool = False
    entries: int = 0
    """Entries into the vein held and withdrawn so far (a drill of repeated entries)."""
    flash_s: float | None = None
    """When this entry's flashback came (None: none yet)."""
    hold_from: Vec3 | None = None
    """Where the tip was when the hold in the lumen began (``hold_settle_s`` after the
    flashback); None before."""
    hold_drift_mm: float = 0.0
    """How far the tip has moved from ``hold_from`` since, at most, mm."""
    completed: bool = False
    finished: bool = False
    patient: PatientState = PatientState()
    """The patient (:mod:`sim.core.patient`): discomfort, bruise, the vein rolled..."""


class VenipunctureTask:
    """Detects tourniquet use, punctures, flashback, back-wall puncture, misses,
    redirections, blood drawn, withdrawal and completion."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        geo, tol = parts(scenario)
        self.geo, self.tol = geo, tol
        self.limb = Limb(
            geo.arm_radius_mm,
            geo.vein_depth_mm,
            geo.vein_lateral_mm,
            geo.vein_diameter_mm,
            geo.vein_length_mm,
        )
        self.site = Site(self.limb, scenario.condition)
        """The limb with the patient: the vein where it lies now, and what the patient feels."""

    def initial(self) -> VenipunctureState:
        return VenipunctureState()

    def is_complete(self, state: VenipunctureState) -> bool:
        """Blood drawn and the needle withdrawn, or the attempt limit reached (the trainee
        stops and escalates): either way the procedure has come to its end."""
        return state.completed or state.failed_attempts >= self.tol.max_attempts

    def probe_mm(self, state: VenipunctureState, s: Sample) -> float:
        """How far the straight shaft has moved sideways from where it went in, mm (0 out
        of the skin): the puncture point's distance from the needle's line."""
        if state.entry_point is None or state.position == APPROACH:
            return 0.0
        return g.distance_point_to_line(state.entry_point, s.tip_mm, s.axis)

    def is_finished(self, state: VenipunctureState) -> bool:
        """Whether the session is over: completed, or the trainee pressed finish."""
        return state.finished

    def phase(self, state: VenipunctureState) -> str:
        if state.completed or state.finished:
            return "done"
        if state.drawn or (state.back_wall and state.position != APPROACH):
            return "withdraw"  # drawn, or blown: either way the needle comes out next
        if state.position in (IN_VEIN, THROUGH_WALL) or state.flashback:
            return "draw"
        if state.position == IN_SKIN:
            return "insert"
        return "prepare"

    # --- state machine --------------------------------------------------------------
    def step(
        self, state: VenipunctureState, item: Item
    ) -> tuple[VenipunctureState, tuple[Event, ...]]:
        # the patient goes on after the needle work has finished: the puncture bleeds
        # into the tissue until the trainee presses gauze on it
        if isinstance(item, Action):
            st, events = self._action(state, item)
            return self.site.action(st, item.t_s, item.kind, events)
        st, events = self._sample(state, item)
        if not item.tracked:
            return st, events
        return self.site.sample(
            st,
            item,
            events,
            inserted=st.position != APPROACH and not state.finished,
            in_lumen=st.position == IN_VEIN and not state.finished,
            tourniquet_s=tourniquet_s(st, item.t_s),
        )

    def _action(
        self, st: VenipunctureState, a: Action
    ) -> tuple[VenipunctureState, tuple[Event, ...]]:
        t = a.t_s
        if a.kind is ActionKind.TOURNIQUET_ON and not st.tourniquet_on:
            on = Event(t, "tourniquet_on", "tourniquet applied")
            rest = t - st.tourniquet_off_s
            events_on: tuple[Event, ...] = (on,)
            if rest < self.tol.tourniquet_rest_s:
                events_on += (
                    Event(
                        t,
                        "tourniquet_reapplied_early",
                        f"tourniquet re-applied after {rest:.0f} s "
                        f"(wait {self.tol.tourniquet_rest_s:g} s)",
                        True,
                        (("rest_s", rest),),
                    ),
                )
            st = replace(st, tourniquet_on=True, tourniquet_since_s=t, tourniquet_warned=False)
            return st, events_on
        if a.kind is ActionKind.TOURNIQUET_OFF and st.tourniquet_on:
            return replace(st, tourniquet_on=False, tourniquet_off_s=t), (released(st, t),)
        if a.kind is ActionKind.FINISH and not st.finished:
            events: list[Event] = []
            incomplete = not self.is_complete(st)
            if incomplete:
                events.append(Event(t, "incomplete", "stopped before blood was drawn", True))
            return self._end(st, t, "session finished", events), tuple(events)
        return st, ()

    def _end(
        self, st: VenipunctureState, t: float, message: str, events: list[Event]
    ) -> VenipunctureState:
        """Finish the session: the tourniquet comes off (if on) and a ``finish`` event."""
        if st.tourniquet_on:
            events.append(released(st, t, at_finish=True))
        events.append(Event(t, "finish", message))
        return replace(st, finished=True, tourniquet_on=False)

    def _sample(
        self, st: VenipunctureState, s: Sample
    ) -> tuple[VenipunctureState, tuple[Event, ...]]:
        if not s.tracked or st.finished:
            return st, ()
        t, p = s.t_s, s.tip_mm
        events: list[Event] = []
        tol = self.tol
        too_long = overdue(st, t, tol.tourniquet_max_s)
        if too_long is not None:
            events.append(too_long)
            st = replace(st, tourniquet_warned=True)
        depth = self.limb.skin.depth_mm(p)
        prev = st.last_tip
        if st.position == APPROACH:
            if depth >= 0.0 and prev is not None and self.limb.skin.depth_mm(prev) < 0.0:
                st = self._puncture(st, s, prev, events)
            else:
                return replace(st, last_tip=p), tuple(events)
        elif depth < -tol.exit_margin_mm:
            st = self._withdraw(st, s, events)
        else:
            st = self._advance(st, s, prev, events)
        return replace(st, last_tip=p), tuple(events)

    def _puncture(
        self, st: VenipunctureState, s: Sample, prev: Vec3, events: list[Event]
    ) -> VenipunctureState:
        tol = self.tol
        attempt = st.attempts + 1
        hit, made = self.limb.puncture(
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
            st,
            position=IN_SKIN,
            attempts=attempt,
            entry_point=hit,
            probed=False,
            flashback=False,
            flash_s=None,
            hold_from=None,
            back_wall=False,
            missed=False,
            ref_axis=s.axis,
            lumen_since_s=None,
        )
        return self._advance(st, s, hit, events)

    def _advance(
        self, st: VenipunctureState, s: Sample, prev: Vec3 | None, events: list[Event]
    ) -> VenipunctureState:
        t, p = s.t_s, s.tip_mm
        if st.entry_point is not None and self.limb.skin.depth_mm(p) < self.tol.exit_margin_mm:
            # just under the skin: the shaft may be redirected freely from here
            st = replace(st, entry_point=p, probed=False)
        if not st.probed and self.probe_mm(st, s) > self.tol.probe_mm:
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
        if st.ref_axis is not None:
            turn = g.angle_between_deg(st.ref_axis, s.axis)
            if turn > self.tol.redirect_deg:
                events.append(
                    Event(
                        t,
                        "redirection",
                        f"needle redirected by {turn:.0f}°",
                        values=(("angle_deg", turn),),
                    )
                )
                st = replace(st, ref_axis=s.axis)
        st = self.site.arrive(st, s, events)  # a mobile vein may roll away first
        limb = self.site.limb_of(st)
        lumen = limb.in_lumen(p)
        passed = prev is not None and not lumen and limb.crosses_lumen(prev, p)
        position = st.position
        if (lumen or passed) and not st.flashback:
            events.append(
                Event(
                    t,
                    "flashback",
                    "flashback: the needle is in the vein",
                    values=(("depth_mm", self.limb.skin.depth_mm(p)),),
                )
            )
            st = replace(st, flashback=True, flash_s=t)
        st = self._hold(st, s)
        if lumen:
            position = IN_VEIN
            since = st.lumen_since_s if st.lumen_since_s is not None else t
            if (
                not st.drawn
                and t - since >= self.tol.draw_hold_s
                and not st.back_wall
                and not self.site.blocked(st)  # a collapsed or blown vein gives no blood
            ):
                held = st.hold_from is not None  # (a hold shorter than hold_settle_s: none)
                events.append(
                    Event(
                        t,
                        "blood_drawn",
                        "blood drawn: release the tourniquet, then withdraw"
                        if st.entries + 1 >= self.tol.entries_required
                        else "held in the vein: withdraw for the next entry",
                        values=(("hold_drift_mm", st.hold_drift_mm),) if held else (),
                    )
                )
                st = replace(st, drawn=True)
            st = replace(st, lumen_since_s=since)
        else:
            st = replace(st, lumen_since_s=None)
            # through the far wall: from the lumen, across it, or (after the flashback)
            # out through its lower side and on under it
            through = st.position == IN_VEIN or passed or (st.flashback and limb.under_vein(p))
            if limb.beyond_vein(p) and through:
                position = THROUGH_WALL
                if not st.back_wall:
                    events.append(
                        Event(
                            t,
                            "back_wall",
                            "back wall of the vein pierced: stop and withdraw",
                            True,
                            (("depth_mm", self.limb.skin.depth_mm(p)),),
                        )
                    )
                    st = replace(st, back_wall=True)
            elif position != THROUGH_WALL or not limb.beyond_vein(p):
                position = IN_SKIN
            if (
                position == IN_SKIN
                and not st.flashback
                and not st.missed
                and limb.passed_beside_vein(p)
            ):
                events.append(
                    Event(
                        t,
                        "missed_vein",
                        "needle passed the vein without entering",
                        True,
                        (("depth_mm", self.limb.skin.depth_mm(p)),),
                    )
                )
                st = replace(st, missed=True)
        return replace(st, position=position) if position != st.position else st

    def _hold(self, st: VenipunctureState, s: Sample) -> VenipunctureState:
        """The hold after the flashback: from ``hold_settle_s`` after it until blood is drawn,
        how far the tip has drifted from where it was when the hold began."""
        if st.flash_s is None or st.drawn or s.t_s - st.flash_s < self.tol.hold_settle_s:
            return st
        if st.hold_from is None:
            return replace(st, hold_from=s.tip_mm, hold_drift_mm=0.0)
        drift = g.norm(g.sub(s.tip_mm, st.hold_from))
        return replace(st, hold_drift_mm=drift) if drift > st.hold_drift_mm else st

    def _withdraw(self, st: VenipunctureState, s: Sample, events: list[Event]) -> VenipunctureState:
        t = s.t_s
        success = st.drawn and not st.back_wall
        events.append(
            Event(
                t,
                "withdrawal",
                "needle withdrawn",
                values=(("attempt", float(st.attempts)), ("success", 1.0 if success else 0.0)),
            )
        )
        last = st.entries + 1 >= self.tol.entries_required  # the drill's last entry (or the one)
        if success and st.tourniquet_on and last:
            events.append(
                Event(
                    t,
                    "tourniquet_on_at_withdrawal",
                    "needle withdrawn with the tourniquet still on",
                    True,
                )
            )
        failed = st.failed_attempts + (0 if success else 1)
        entries = st.entries + (1 if success else 0)
        if success and entries < self.tol.entries_required:  # a drill: the next entry
            events.append(
                Event(
                    t,
                    "entry_done",
                    f"entry {entries} of {self.tol.entries_required} done: the next one",
                )
            )
            return replace(
                st,
                position=APPROACH,
                entries=entries,
                drawn=False,
                ref_axis=None,
                entry_point=None,
                lumen_since_s=None,
                flashback=False,
                flash_s=None,
                hold_from=None,
            )
        if success:
            events.append(Event(t, "completed", "venipuncture completed"))
        st = replace(
            st,
            position=APPROACH,
            failed_attempts=failed,
            entries=entries,
            flash_s=None,
            hold_from=None,
            completed=success,
            drawn=success,
            ref_axis=None,
            entry_point=None,
            lumen_since_s=None,
            flashback=False,
        )
        if success:
            return self._end(st, t, "blood drawn and needle withdrawn: task complete", events)
        if failed >= self.tol.max_attempts:
            events.append(
                Event(
                    t,
                    "attempt_limit",
                    f"no blood after {plural(failed, 'attempt')}: attempt limit reached, "
                    "stop and escalate",
                    True,
                    (("attempts", float(failed)),),
                )
            )
            return self._end(st, t, "attempt limit reached: task ended", events)
        return st
