"""IV cannulation's live view: what its cue rules, HUD and side view read at each sample."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sim.core import geometry as g
from sim.core.limb import LastMeasure
from sim.core.records import Sample, Vec3
from sim.core.tourniquet import tourniquet_s
from sim.feedback.cues import LiveView
from sim.procedures.base import Hand
from sim.procedures.iv_cannulation.task import (
    APPROACH,
    IN_VEIN,
    THROUGH_WALL,
    IvCannulationTask,
    IvState,
)


@dataclass(frozen=True, slots=True)
class IvView(LiveView):
    """The shared view (``angle_deg``: insertion angle to the skin; ``inserted``: the
    task's view, with its exit margin) and IV cannulation's own.

    Attributes
    ----------
    roll_deg : float
        Bevel roll from bevel-up, degrees.
    offset_mm : float
        Lateral distance of the aim point (the tip, once inserted) from the vein
        centreline, mm (negative: towards the trainee).
    tourniquet_s : float
        Time the tourniquet has been on, s (0 when off).
    probe_mm : float
        How far the shaft has moved sideways from where it went in, mm (0 out of the skin).
    in_vein, through_wall : bool
        Where the needle tip is now (noisy: for cue conditions, never phase gates).
    blown : bool
        The back wall was pierced in this attempt (until the needle is out).
    flashback : bool
        Blood has flashed back in this attempt (kept until the needle is out).
    catheter_in_vein : bool
        The catheter tip is in the lumen now (noisy); once threading began, true unless the
        catheter hung up (the flexible catheter follows the lumen).
    catheter_reached : bool
        The catheter tip has been in the lumen in this attempt (kept).
    advance_mm : float
        How far the needle tip is from where it was at flashback (0 before flashback).
    threading, threaded, hung_up : bool
        The catheter is being slid off the needle; it is in to its hub; it would not slide
        (threaded before its tip was in the vein).
    catheter_advance_mm, thread_target_mm : float
        How far the catheter has been slid off the needle, and how far brings its hub to the
        skin.
    needle_forward_mm : float
        Since threading began: how far the needle tip moved forward along the needle
        (negative: pulled back into the catheter). 0 before.
    pulled_back_mm : float
        Since threading began: the furthest the needle was pulled back into the catheter.
    needle_motion_mm : float
        While threading: how far the needle tip is from where it was held when threading
        began. 0 otherwise.
    occluded, needle_out, flushed : bool
        The vein pressed above the catheter tip; the needle withdrawn from a threaded
        catheter; the cannula flushed.
    catheter_tip_mm : tuple of 3 float
        Where the catheter tip is (for the side view; see
        :meth:`IvCannulationTask.catheter_tip`).
    """

    roll_deg: float = 0.0
    offset_mm: float = 0.0
    tourniquet_s: float = 0.0
    probe_mm: float = 0.0
    in_vein: bool = False
    through_wall: bool = False
    blown: bool = False
    flashback: bool = False
    catheter_in_vein: bool = False
    catheter_reached: bool = False
    advance_mm: float = 0.0
    threading: bool = False
    threaded: bool = False
    hung_up: bool = False
    catheter_advance_mm: float = 0.0
    thread_target_mm: float = 0.0
    needle_forward_mm: float = 0.0
    pulled_back_mm: float = 0.0
    needle_motion_mm: float = 0.0
    occluded: bool = False
    needle_out: bool = False
    flushed: bool = False
    catheter_tip_mm: Vec3 = (0.0, 0.0, 0.0)


class IvLive:
    """Measures :class:`IvView` from the task's state and a sample."""

    def __init__(self, task: IvCannulationTask) -> None:
        self.task = task
        self._measure = LastMeasure(task.limb)
        self._sample: Sample | None = None  # the latest sample viewed (for ``at``)

    def approach(self, state: IvState, sample: Sample) -> tuple[float, bool]:
        return self._measure(sample).distance_to_skin_mm, state.position != APPROACH

    def view(self, state: IvState, sample: Sample, hand: Hand) -> IvView:
        self._sample = sample
        m = self._measure(sample)
        inserted = state.position != APPROACH
        vein_z = self.task.site.limb_of(state).vein_z
        offset = sample.tip_mm[2] - vein_z if inserted else m.offset_mm
        return self._state_part(
            state,
            sample,
            hand,
            inserted,
            angle_deg=m.angle_deg,
            depth_mm=m.depth_mm,
            distance_to_skin_mm=m.distance_to_skin_mm,
            roll_deg=m.roll_deg,
            offset_mm=offset,
            probe_mm=self.task.probe_mm(state, sample),
            in_vein=state.position == IN_VEIN,
            through_wall=state.position == THROUGH_WALL,
        )

    def at(self, state: IvState, last: IvView, hand: Hand) -> IvView:
        """``last`` (the latest sample's geometry: angle, depth, offset, where the tip is)
        with what an action changes rebuilt from ``state``: the tourniquet time, the
        catheter (threading, threaded, hung up, how far slid), occlusion, flushing, the
        phase."""
        sample = self._sample  # the one ``last`` was measured on
        if sample is None:
            return replace(
                last,
                t_s=hand.t_s,
                phase=hand.phase,
                done=hand.done,
                tourniquet_s=tourniquet_s(state, hand.t_s),
                patient=self.task.site.view(state, hand.t_s),
            )
        return self._state_part(
            state,
            sample,
            hand,
            last.inserted,
            angle_deg=last.angle_deg,
            depth_mm=last.depth_mm,
            distance_to_skin_mm=last.distance_to_skin_mm,
            roll_deg=last.roll_deg,
            offset_mm=last.offset_mm,
            probe_mm=last.probe_mm,
            in_vein=last.in_vein,
            through_wall=last.through_wall,
        )

    def _state_part(
        self, st: IvState, s: Sample, hand: Hand, inserted: bool, **geometry: Any
    ) -> IvView:
        """The view: the fields that follow from the task state (and the sample's tip), with
        ``geometry`` (the needle against the limb: angle, depth, roll, offset...)."""
        task = self.task
        started = st.thread_origin is not None
        motion = (
            g.norm(g.sub(s.tip_mm, st.thread_origin))
            if st.thread_origin is not None and not st.threaded
            else 0.0
        )
        return IvView(
            *hand,
            inserted=inserted,
            tourniquet_s=tourniquet_s(st, hand.t_s),
            blown=st.back_wall and inserted,
            flashback=st.flashback and inserted,
            catheter_in_vein=(not st.hung_up) if started else st.catheter_in_vein,
            catheter_reached=st.catheter_reached and inserted,
            advance_mm=task.advance_past_flash_mm(st, s.tip_mm, s.axis),
            threading=started and not st.threaded and not st.hung_up,
            threaded=st.threaded,
            hung_up=st.hung_up and inserted,
            catheter_advance_mm=task.catheter_advance_mm(st),
            thread_target_mm=st.thread_target_mm,
            needle_forward_mm=st.needle_forward_mm if started else 0.0,
            pulled_back_mm=st.pulled_back_mm,
            needle_motion_mm=motion,
            occluded=st.occluded,
            needle_out=st.needle_out,
            flushed=st.flushed,
            catheter_tip_mm=task.catheter_tip(st, s.tip_mm, s.axis),
            patient=task.site.view(st, hand.t_s),
            **geometry,
        )
