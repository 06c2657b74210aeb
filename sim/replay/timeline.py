"""The recorded timeline: a recording opened for seeking, with no window and no OpenGL.

:class:`Timeline` reads a recording with the recording reader's columnar form
(:class:`~sim.storage.recording.IndexedRecording`: the samples as arrays, parsed at once)
and answers "what was recorded at time t" by binary search over the sample times
(``np.searchsorted``): the instrument pose, the events so far and the cues on screen; and
the speed and tremor series the live view showed, for the plots under the timeline.

What the trainee saw beyond that is re-derived by :mod:`sim.replay.derived`; the playback
clock is :mod:`sim.replay.clock`, the ghost's alignment :mod:`sim.replay.ghost`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sim.core import patient
from sim.core.records import Cue, Event, Sample
from sim.core.scenario import Scenario
from sim.metrics.catalog import tremor_measured
from sim.metrics.streaming import speed_series_mm_s, tremor_series_mm
from sim.pipeline import Pipeline
from sim.storage.recording import IndexedRecording

FloatArray = NDArray[np.float64]


def _category(e: Event) -> str:
    """A marker's category: ``"error"`` for a procedural error, ``"patient"`` for the
    patient's other reactions, else ``"event"``."""
    if e.error:
        return "error"
    return "patient" if e.kind.startswith(patient.PREFIX) else "event"


def _label(e: Event) -> str:
    """A marker's words: the event's message; a spoken line in quotes, said by whom."""
    return f'the patient said: "{e.message}"' if e.kind == patient.SAID else e.message


@dataclass(frozen=True, slots=True)
class Marker:
    """A mark on the replay timeline.

    Attributes
    ----------
    t_s : float
        Time, s.
    category : str
        ``"event"``, ``"error"`` (an event that is a procedural error), ``"patient"`` (the
        patient's reaction: words, a bruise, a rolled vein...) or ``"cue"`` (a cue appeared).
    kind : str
        Event kind or cue rule.
    label : str
        The event's message or the cue's text.
    """

    t_s: float
    category: str
    kind: str
    label: str


@dataclass(frozen=True, slots=True)
class RecordedState:
    """What the recording says at one time: the latest sample at or before it, the events
    so far, and the cues on screen (highest priority first; ``banner`` is the first)."""

    t_s: float
    index: int
    sample: Sample
    events: tuple[Event, ...]
    cues: tuple[Cue, ...]

    @property
    def banner(self) -> Cue | None:
        return self.cues[0] if self.cues else None


class Timeline(IndexedRecording):
    """A recording opened for replay.

    Opening reads the file with :class:`~sim.storage.recording.IndexedRecording` (the
    order of samples and actions, events and cues; the per-sample arrays ``t``, ``pos``,
    ``axis``, ``normal``, ``grip``, ``tracked``, every number checked), so that a bad
    recording is refused with the recording reader's one line before any window opens.

    Parameters
    ----------
    path : str or Path
        The recording file.

    Attributes
    ----------
    event_t, cue_t : float array
        Times of the recorded events and cue changes.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.event_t = np.array([e.t_s for e in self.events], dtype=np.float64)
        self.cue_t = np.array([c.t_s for c in self.cues], dtype=np.float64)
        self._scenario: Scenario | None = None

    @property
    def start_s(self) -> float:
        return float(self.t[0])

    @property
    def end_s(self) -> float:
        """Time of the last item (the last sample, or a later action such as finish)."""
        return max(float(self.t[-1]), float(self.item_t[-1]))

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def scenario(self) -> Scenario:
        """The scenario the recording was made with (read once)."""
        if self._scenario is None:
            self._scenario = super().scenario()
        return self._scenario

    def index_at(self, t_s: float) -> int:
        """Index of the last sample at or before ``t_s`` (0 before the first): binary search."""
        i = int(np.searchsorted(self.t, t_s, side="right")) - 1
        return min(max(i, 0), self.n - 1)

    def step_time(self, t_s: float, frames: int) -> float:
        """The time of the sample ``frames`` samples after (or before, if negative) the one
        shown at ``t_s`` (frame stepping)."""
        i = min(max(self.index_at(t_s) + frames, 0), self.n - 1)
        return float(self.t[i])

    # -- what was recorded --
    def events_until(self, t_s: float) -> tuple[Event, ...]:
        k = int(np.searchsorted(self.event_t, t_s, side="right"))
        return tuple(self.events[:k])

    def cues_at(self, t_s: float) -> tuple[Cue, ...]:
        """The cues on screen at ``t_s`` (started at or before it and not yet ended),
        highest priority first, with the words they had at ``t_s`` (the latest record of
        each: its appearance or its last ``update``), as recorded."""
        k = int(np.searchsorted(self.cue_t, t_s, side="right"))
        active: dict[str, Cue] = {}
        for c in self.cues[:k]:
            if c.active:
                active[c.rule] = c
            else:
                active.pop(c.rule, None)
        return tuple(sorted(active.values(), key=lambda c: (-c.priority, c.t_s, c.rule)))

    def state_at(self, t_s: float) -> RecordedState:
        """The recorded state at ``t_s``: O(log n) in the samples."""
        i = self.index_at(t_s)
        t = float(self.t[i])
        return RecordedState(t, i, self.sample(i), self.events_until(t), self.cues_at(t))

    def markers(self) -> list[Marker]:
        """Timeline marks: every event (errors and the patient's reactions apart; the
        discomfort readings are the discomfort curve) and every cue that appeared (not each
        change of its words)."""
        out = [
            Marker(e.t_s, _category(e), e.kind, _label(e))
            for e in self.events
            if e.kind not in ("finish", patient.DISCOMFORT)  # discomfort: its own curve
        ]
        out += [
            Marker(c.t_s, "cue", c.rule, c.message) for c in self.cues if c.active and not c.update
        ]
        return sorted(out, key=lambda m: (m.t_s, m.category, m.kind))

    # -- series for the plots under the timeline --
    def discomfort(self) -> FloatArray:
        """The patient's discomfort at every sample, 0-10, as the live view showed it (the
        recording re-run through its pipeline); NaN throughout for a procedure without a
        patient, which is not re-run."""
        if self.scenario().condition is None:
            return np.full(self.n, np.nan)
        from sim.storage.session import pipeline_for

        return pipeline_for(self).discomfort_series(self.items_from(0))

    def speed_mm_s(self, tau_s: float = 0.1) -> FloatArray:
        """Tip speed at every sample, mm/s: the value the live view showed (see
        :func:`sim.metrics.streaming.speed_series_mm_s`; 0 where the hand was not
        tracked)."""
        return speed_series_mm_s(self.t, self.pos, self.tracked, tau_s)

    def tremor_mm(self, window_s: float | None = None) -> FloatArray:
        """Tremor at every sample, mm RMS: the value the live view showed (see
        :func:`sim.metrics.streaming.tremor_series_mm`), NaN where it was not measured
        (an input that cannot measure the hand, such as the mouse, or too low a rate).
        ``window_s`` defaults to the scenario's ``feedback.tremor_window_s``."""
        if window_s is None:
            window_s = self.scenario().feedback.tremor_window_s
        return tremor_series_mm(
            self.t,
            self.pos,
            self.tracked,
            window_s,
            self.noise_floor_mm,
            rate_probe=Pipeline.RATE_PROBE,
            hand_measured=tremor_measured(self.input_kind, self.noise_floor_mm),
        )
