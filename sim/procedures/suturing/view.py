"""Suturing's live view: what its cue rules and HUD read at each sample."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sim.core import geometry as g
from sim.core.records import Sample
from sim.feedback.cues import LiveView
from sim.procedures.base import Hand
from sim.procedures.suturing.task import SuturingState, SuturingTask


@dataclass(frozen=True, slots=True)
class SuturingView(LiveView):
    """The shared view (``angle_deg``: the needle to the skin, 90 = perpendicular) and
    suturing's own.

    Attributes
    ----------
    bite_mm : float
        Bite at the aim point: its distance from the wound edge, mm (the tip's, once in).
    arc_deviation_mm : float
        Distance of the tip from its own arc while in the tissue, else 0, mm.
    stitches : int
        Stitches placed so far.
    """

    bite_mm: float = 0.0
    arc_deviation_mm: float = 0.0
    stitches: int = 0


class SuturingLive:
    """Measures :class:`SuturingView` from the task's state and a sample."""

    def __init__(self, task: SuturingTask) -> None:
        self.task = task

    def _aim(self, state: SuturingState, s: Sample) -> tuple[float, float, bool]:
        """``(distance to the skin along the needle, bite at the aim point, inserted)``."""
        p, ax = s.tip_mm, s.axis
        if state.entry is not None:  # the task's view, with its exit margin
            return 0.0, abs(p[2]), True
        if ax[1] < -1e-9:
            f = p[1] / -ax[1]
            return f, abs(p[2] + ax[2] * f), False
        return math.inf, abs(p[2]), False

    def approach(self, state: SuturingState, sample: Sample) -> tuple[float, bool]:
        dist, _, inserted = self._aim(state, sample)
        return dist, inserted

    def view(self, state: SuturingState, sample: Sample, hand: Hand) -> SuturingView:
        p = sample.tip_mm
        depth = -p[1]
        dist, bite, inserted = self._aim(state, sample)
        entry = state.entry
        dev = self.task.arc_deviation_mm(entry, p) if entry is not None and depth > 0 else 0.0
        return SuturingView(
            *hand,
            angle_deg=g.angle_to_plane_deg(sample.axis, (0.0, 1.0, 0.0)),
            depth_mm=depth,
            distance_to_skin_mm=dist,
            inserted=inserted,
            bite_mm=bite,
            arc_deviation_mm=dev,
            stitches=len(state.stitch_x_mm),
        )

    def at(self, state: SuturingState, last: SuturingView, hand: Hand) -> SuturingView:
        return replace(last, t_s=hand.t_s, phase=hand.phase, done=hand.done)
