"""What the trainee saw, re-derived: the replayed recording run through the pipeline.

Task phase and state, the live view (speed, tremor, angle, depth), the banner and the
events detected are re-derived by running the very :class:`~sim.pipeline.Pipeline` the
session ran, which is deterministic. :class:`Derived` keeps checkpoints (copies of the
pipeline every ``checkpoint_every`` items) so that a seek replays at most that many items
after the first pass, and playing forward costs one item per sample.
"""

from __future__ import annotations

import copy
import math
import time
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.core.records import Cue, Event
from sim.feedback.cues import LiveView
from sim.pipeline import Pipeline
from sim.replay.timeline import Timeline
from sim.storage.session import pipeline_for


@dataclass(frozen=True, slots=True)
class DerivedState:
    """What the pipeline shows after the item at ``item_index``: phase, task state, live
    view (None before the first sample), banner and the events it has detected so far."""

    item_index: int
    phase: str
    task_state: Any
    view: LiveView | None
    banner: Cue | None
    events: tuple[Event, ...]


class Derived:
    """Re-derives task state and live view by running the pipeline, with checkpoints.

    Parameters
    ----------
    timeline : Timeline
        The recording.
    checkpoint_every : int
        Items between checkpoints: a seek replays at most this many items once the pass has
        gone that far.
    """

    def __init__(self, timeline: Timeline, checkpoint_every: int = 600) -> None:
        self.tl = timeline
        self.every = max(1, int(checkpoint_every))
        self._fresh = pipeline_for(timeline)
        # checkpoints[k]: the pipeline after items[: k * every]
        self._checkpoints: list[Pipeline] = [self._snapshot(self._fresh)]
        self._cursor = self._snapshot(self._fresh)
        self._pos = 0  # items fed to the cursor
        self._events: list[Event] = []  # every event the re-run detected, in order
        self._event_t: list[float] = []
        self._events_pos = 0  # items whose events are in self._events
        self._scout: Pipeline | None = None  # the pass that warm() pushes on
        self._scout_pos = 0

    def _snapshot(self, p: Pipeline) -> Pipeline:
        """A copy of the pipeline's running state; the scenario is shared and the lists of
        past samples, events and cues (not needed to go on) are left out."""
        memo: dict[int, Any] = {
            id(p.scenario): p.scenario,
            id(p.samples): [],
            id(p.events): [],
            id(p.cues): [],
        }
        return copy.deepcopy(p, memo)

    @property
    def checkpoints(self) -> int:
        return len(self._checkpoints)

    def _run(self, p: Pipeline, pos: int, target: int, deadline: float | None = None) -> int:
        """Feed ``p`` (which has seen ``pos`` items) up to ``target`` items or until
        ``deadline`` (``time.perf_counter``); saves checkpoints and collects events the first
        time through. Returns the new position."""
        every = self.every
        if pos >= target:
            return pos
        items = self.tl.items_from(pos)
        while pos < target:
            step = p.feed(next(items))
            if pos == self._events_pos:  # first time through this item
                self._events.extend(step.events)
                self._event_t.extend(e.t_s for e in step.events)
                self._events_pos += 1
            pos += 1
            if pos % every == 0 and pos // every == len(self._checkpoints):
                self._checkpoints.append(self._snapshot(p))
            if deadline is not None and pos % 64 == 0 and time.perf_counter() > deadline:
                break
        return pos

    def ready(self, t_s: float) -> bool:
        """Whether :meth:`at` answers for ``t_s`` within one checkpoint interval of work
        (the first pass has got that far, or the cursor is just before it)."""
        target = int(np.searchsorted(self.tl.item_t, t_s, side="right"))
        return target <= self._events_pos + self.every or 0 <= target - self._pos <= self.every

    @property
    def complete(self) -> bool:
        """Whether the pipeline has been through the whole recording once."""
        return self._events_pos >= self.tl.n_items

    def warm(self, budget_s: float) -> bool:
        """Run the first pass further for at most ``budget_s`` seconds (a viewer calls this
        between frames, so that far seeks soon become fast); True once it is complete."""
        if self.complete:
            return True
        k = len(self._checkpoints) - 1
        if self._scout is None or self._scout_pos < k * self.every:
            self._scout = self._snapshot(self._checkpoints[k])
            self._scout_pos = k * self.every
        deadline = time.perf_counter() + budget_s
        self._scout_pos = self._run(self._scout, self._scout_pos, self.tl.n_items, deadline)
        return self.complete

    def _seek_items(self, target: int) -> None:
        """Bring the cursor to ``target`` items: straight on when that is near ahead, else
        from the last checkpoint at or before it (or from the cursor, if that is nearer)."""
        target = min(max(target, 0), self.tl.n_items)
        if not 0 <= target - self._pos <= self.every:
            k = min(target // self.every, len(self._checkpoints) - 1)
            if not k * self.every <= self._pos <= target:
                self._cursor = self._snapshot(self._checkpoints[k])
                self._pos = k * self.every
        self._pos = self._run(self._cursor, self._pos, target)

    def at(self, t_s: float) -> DerivedState:
        """Phase, task state, live view and banner after every item at or before ``t_s``."""
        target = int(np.searchsorted(self.tl.item_t, t_s, side="right"))
        self._seek_items(max(target, 1))
        cur = self._cursor
        k = bisect_right(self._event_t, self._pos_time())
        return DerivedState(
            self._pos - 1,
            cur.phase,
            cur.state,
            cur.view,
            cur.cues_engine.banner(),
            tuple(self._events[:k]),
        )

    def _pos_time(self) -> float:
        return float(self.tl.item_t[self._pos - 1]) if self._pos else -math.inf
