"""Venipuncture's live view: what its cue rules and HUD read at each sample."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sim.core.limb import LastMeasure
from sim.core.records import Sample
from sim.core.tourniquet import tourniquet_s
from sim.feedback.cues import LiveView
from sim.procedures.base import Hand
from sim.procedures.venipuncture.task import (
    APPROACH,
    IN_VEIN,
    THROUGH_WALL,
    VenipunctureState,
    VenipunctureTask,
)


@dataclass(frozen=True, slots=True)
class VenipunctureView(LiveView):
    """The shared view (``angle_deg``: insertion angle to the skin) and venipuncture's own.

    Attributes
    ----------
    roll_deg : float
        Bevel roll from bevel-up, degrees.
    offset_mm : float
        Lateral distance of the aim point (the tip, once inserted) from the vein
        centreline, mm (negative: towards the trainee).
    tourniquet_s : float
        Time the tourniquet has been on, s (0 when off).
    in_vein, through_wall : bool
        The tip is in the lumen / beyond the vein's far wall.
    drawn : bool
        Blood has been drawn (kept once reached).
    probe_mm : float
        How far the shaft has moved sideways from where it went in, mm (0 out of the skin).
    blown : bool
        The back wall was pierced in this attempt (until the needle is out: no blood can be
        drawn through a blown vein).
    entries_left : int
        Entries into the vein a drill still asks after this one (0 for a venipuncture).
    """

    roll_deg: float = 0.0
    offset_mm: float = 0.0
    tourniquet_s: float = 0.0
    in_vein: bool = False
    through_wall: bool = False
    drawn: bool = False
    probe_mm: float = 0.0
    blown: bool = False
    entries_left: int = 0


class VenipunctureLive:
    """Measures :class:`VenipunctureView` from the task's state and a sample."""

    def __init__(self, task: VenipunctureTask) -> None:
        self.task = task
        self._measure = LastMeasure(task.limb)

    def approach(self, state: VenipunctureState, sample: Sample) -> tuple[float, bool]:
        return self._measure(sample).distance_to_skin_mm, state.position != APPROACH

    def view(self, state: VenipunctureState, sample: Sample, hand: Hand) -> VenipunctureView:
        task = self.task
        m = self._measure(sample)
        inserted = state.position != APPROACH  # the task's view, with its exit margin
        return VenipunctureView(
            *hand,
            angle_deg=m.angle_deg,
            depth_mm=m.depth_mm,
            distance_to_skin_mm=m.distance_to_skin_mm,
            inserted=inserted,
            roll_deg=m.roll_deg,
            offset_mm=sample.tip_mm[2] - task.site.limb_of(state).vein_z
            if inserted
            else m.offset_mm,
            tourniquet_s=tourniquet_s(state, hand.t_s),
            in_vein=state.position == IN_VEIN,
            through_wall=state.position == THROUGH_WALL,
            drawn=state.drawn,
            probe_mm=task.probe_mm(state, sample),
            blown=state.back_wall and inserted,
            entries_left=max(task.tol.entries_required - state.entries - 1, 0),
            patient=task.site.view(state, hand.t_s),
        )

    def at(self, state: VenipunctureState, last: VenipunctureView, hand: Hand) -> VenipunctureView:
        return replace(
            last,
            t_s=hand.t_s,
            phase=hand.phase,
            done=hand.done,
            tourniquet_s=tourniquet_s(state, hand.t_s),
            patient=self.task.site.view(state, hand.t_s),
        )
