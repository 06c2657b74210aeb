"""The replay model: a recording opened for seeking, with no window and no OpenGL.

:class:`Timeline` reads a recording into arrays once (fast: one ``json.loads`` call for the
whole file) and answers "what was recorded at time t" by binary search over the sample times
(``np.searchsorted``): the instrument pose, the events so far and the cues on screen.

What the trainee saw beyond that (task phase and state, the live view with speed, tremor,
angle and depth) is re-derived by running the very :class:`~sim.pipeline.Pipeline` the
session ran, which is deterministic. :class:`Derived` keeps checkpoints (copies of the
pipeline every ``checkpoint_every`` items) so that a seek replays at most that many items
after the first pass, and playing forward costs one item per sample.
"""

from __future__ import annotations

import copy
import json
import math
import re
import time
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.core.records import Cue, Event, Item, Sample
from sim.core.scenario import Scenario, ScenarioError
from sim.errors import read_bytes
from sim.feedback.cues import LiveView
from sim.metrics.catalog import HAND, can_measure
from sim.metrics.streaming import speed_series_mm_s, tremor_series_mm
from sim.pipeline import Pipeline
from sim.scenarios import parse_scenario
from sim.storage.recording import (
    MAX_LINE_BYTES,
    MAX_POSITION_MM,
    MAX_TIME_S,
    UNIT_TOL,
    RecordingError,
    check_header,
    check_result,
    is_torn,
    load_recording,
    loads,
    parse_cue,
    parse_event,
    parse_item,
    split_lines,
)

FloatArray = NDArray[np.float64]

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Playback speeds the viewer steps through."""
MIN_SPEED, MAX_SPEED = SPEEDS[0], SPEEDS[-1]


@dataclass(frozen=True, slots=True)
class Marker:
    """A mark on the replay timeline.

    Attributes
    ----------
    t_s : float
        Time, s.
    category : str
        ``"event"``, ``"error"`` (an event that is a procedural error) or ``"cue"`` (a cue
        appeared).
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


_SAMPLE_PREFIX = b'{"type":"s","t":'
# In a sample line (the writer's fixed layout: t, p, a, n, g, k), every byte that is not part
# of a number or a separator becomes a space, leaving 12 comma-separated numbers.
_NUMBERS_ONLY = bytes.maketrans(b'"pangk:[]}', b" " * 10)
_COLUMNS = 12
_NUM = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_VEC = rb"\[" + _NUM + rb"," + _NUM + rb"," + _NUM + rb"\]"
_LINE = (
    rb'\{"type":"s","t":'
    + _NUM
    + rb',"p":'
    + _VEC
    + rb',"a":'
    + _VEC
    + rb',"n":'
    + _VEC
    + rb',"g":'
    + _NUM
    + rb',"k":[01]\}'
)
_STANDARD_LINES = re.compile(rb"(?:" + _LINE + rb"\n)*" + _LINE)
"""Sample lines exactly in the writer's layout (one per line), numbers as JSON writes them."""


def _columns_ok(cols: FloatArray) -> bool:
    """Whether sample columns hold what :func:`~sim.storage.recording.parse_item` accepts."""
    if not np.all(np.isfinite(cols)):
        return False
    ax_len = np.linalg.norm(cols[:, 4:7], axis=1)
    nm_len = np.linalg.norm(cols[:, 7:10], axis=1)
    return bool(
        np.all(np.abs(cols[:, 0]) <= MAX_TIME_S)
        and np.all(np.abs(cols[:, 1:4]) <= MAX_POSITION_MM)
        and np.all(np.abs(ax_len - 1.0) <= UNIT_TOL)
        and np.all(np.abs(nm_len - 1.0) <= UNIT_TOL)
        and np.all((cols[:, 10] >= 0.0) & (cols[:, 10] <= 1.0))
    )


def _fail_like_core(path: str) -> None:
    """Raise the core reader's one-line error (it names the bad line)."""
    load_recording(path)
    raise RecordingError(f"{path}: corrupt recording")


class Timeline:
    """A recording opened for replay.

    Opening indexes the file (the order of samples and actions, events and cues) and parses
    the per-sample arrays (``t``, ``pos``, ``axis``, ``normal``, ``grip``, ``tracked``) all
    at once, checking every number as the core reader does, so that a bad recording is
    refused with the core reader's one line before any window opens. A single sample
    (:meth:`sample`) is parsed from its own line.

    Attributes
    ----------
    header : dict
        The recording's header.
    t : (n,) float array
        Sample times, s, non-decreasing.
    events, cues : list
        The recorded events and cue changes, in order; ``event_t`` and ``cue_t`` are their
        times as arrays.
    item_t : (m,) float array
        Times of the items (samples and actions) in recording order.
    complete, truncated : bool
        As in :class:`~sim.storage.recording.Recording`.
    """

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        self.path = str(p)
        data = read_bytes(p, "recording", RecordingError)
        lines = split_lines(data)
        if any(len(ln) > MAX_LINE_BYTES for ln in lines):
            _fail_like_core(self.path)
        self.truncated = False
        if lines and lines[-1] and is_torn(lines[-1]):  # no newline at the end: a crash
            lines.pop()
            self.truncated = True
        lines = [ln for ln in lines if ln]
        if not lines:  # empty, or nothing but a torn header
            _fail_like_core(self.path)
        try:
            header = loads(lines[0])
        except (ValueError, UnicodeDecodeError, RecursionError):
            _fail_like_core(self.path)
        if not isinstance(header, dict) or "type" not in header:
            _fail_like_core(self.path)
        self.header: dict[str, Any] = check_header(header, str(p))
        self._lines: list[bytes] = []  # sample lines, as written
        self._items: list[int | dict[str, Any]] = []  # sample index, or an action record
        self.events: list[Event] = []
        self.cues: list[Cue] = []
        self.result: dict[str, Any] | None = None
        self.complete = False
        prefix = _SAMPLE_PREFIX
        self._standard = True  # every sample line in the writer's own layout
        action_t = -math.inf
        try:
            for ln in lines[1:]:
                if ln.startswith(prefix) and ln.endswith(b"}"):
                    self._items.append(len(self._lines))
                    self._lines.append(ln)
                    continue
                r = loads(ln)
                kind = r["type"]
                if kind == "s":  # a sample written some other way: keep it exact
                    self._standard = False
                    self._items.append(len(self._lines))
                    self._lines.append(ln)
                elif kind == "action":
                    a = parse_item(r)
                    if a.t_s < action_t:
                        raise ValueError("actions out of order")
                    action_t = a.t_s
                    self._items.append(r)
                elif kind == "event":
                    self.events.append(parse_event(r))
                elif kind == "cue":
                    self.cues.append(parse_cue(r))
                elif kind == "result":
                    self.result = check_result(r)
                elif kind == "end":
                    self.complete = bool(r.get("complete"))
        except (UnicodeDecodeError, RecursionError, KeyError, ValueError, TypeError):
            _fail_like_core(self.path)
        if not self._lines:
            raise RecordingError(f"{p}: the recording has no samples to replay")
        # Every sample's numbers, parsed and checked now, so that a bad number is reported
        # (by line) before any window opens rather than in the middle of a replay.
        self._arrays: tuple[FloatArray, ...] | None = None
        self._has_raw = any(b'"raw"' in ln for ln in self._lines)
        self.t = self._arr(0)
        if np.any(np.diff(self.t) < 0):
            _fail_like_core(self.path)
        self.item_t = np.array(
            [self.t[x] if isinstance(x, int) else float(x["t"]) for x in self._items],
            dtype=np.float64,
        )
        self.event_t = np.array([e.t_s for e in self.events], dtype=np.float64)
        self.cue_t = np.array([c.t_s for c in self.cues], dtype=np.float64)
        self._lists: tuple[list[Any], ...] | None = None
        self._scenario: Scenario | None = None

    def _parse_arrays(self) -> tuple[FloatArray, ...]:
        """(t, pos, axis, normal, grip, tracked) of every sample, checked as the core reader
        checks them: a fast path for the writer's own layout (every sample line matches
        :data:`_STANDARD_LINES`, so its numbers are exactly JSON's), else line by line."""
        n = len(self._lines)
        cols: FloatArray | None = None
        if self._standard and _STANDARD_LINES.fullmatch(b"\n".join(self._lines)):
            body = b",".join(ln[len(_SAMPLE_PREFIX) :] for ln in self._lines)
            flat = np.array(body.translate(_NUMBERS_ONLY).split(b","), dtype=np.float64)
            cols = flat.reshape(n, _COLUMNS)
            if not _columns_ok(cols):
                _fail_like_core(self.path)
        else:
            cols = np.array([self._row(i) for i in range(n)], dtype=np.float64).reshape(n, _COLUMNS)
        return (
            cols[:, 0].copy(),
            cols[:, 1:4].copy(),
            cols[:, 4:7].copy(),
            cols[:, 7:10].copy(),
            cols[:, 10].copy(),
            cols[:, 11] != 0,
        )

    def _row(self, i: int) -> FloatArray:
        s = self.sample(i)
        return np.array(
            [s.t_s, *s.tip_mm, *s.axis, *s.normal, s.grip, 1.0 if s.tracked else 0.0],
            dtype=np.float64,
        )

    def _arr(self, k: int) -> Any:
        if self._arrays is None:
            self._arrays = self._parse_arrays()
        return self._arrays[k]

    @property
    def pos(self) -> FloatArray:
        """(n, 3) tip positions, mm."""
        return np.asarray(self._arr(1))

    @property
    def axis(self) -> FloatArray:
        """(n, 3) needle direction at the tip (unit)."""
        return np.asarray(self._arr(2))

    @property
    def normal(self) -> FloatArray:
        """(n, 3) roll vector (unit)."""
        return np.asarray(self._arr(3))

    @property
    def grip(self) -> FloatArray:
        """(n,) grip closure, 0-1."""
        return np.asarray(self._arr(4))

    @property
    def tracked(self) -> NDArray[np.bool_]:
        """(n,) whether the hand was tracked."""
        return np.asarray(self._arr(5))

    # -- basics --
    @property
    def n(self) -> int:
        """Number of samples."""
        return len(self._lines)

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

    @property
    def noise_floor_mm(self) -> float:
        cal = self.header.get("calibration") or {}
        return float(cal.get("noise_floor_mm", 0.0) or 0.0)

    @property
    def input_kind(self) -> str:
        """What drove the instrument ("mouse", "webcam", "video", "scripted")."""
        return str(self.header.get("input") or "mouse")

    def scenario(self) -> Scenario:
        """The scenario the recording was made with (its text travels in the header)."""
        if self._scenario is None:
            text = self.header.get("scenario_toml") or ""
            try:
                if text:
                    self._scenario = parse_scenario(
                        text.encode("utf-8"), f"{self.path} (embedded scenario)"
                    )
                else:
                    from sim.scenarios import find_scenario

                    self._scenario = find_scenario(str(self.header.get("scenario")))
            except ScenarioError as exc:
                raise RecordingError(str(exc)) from None
        return self._scenario

    def index_at(self, t_s: float) -> int:
        """Index of the last sample at or before ``t_s`` (0 before the first): binary search."""
        i = int(np.searchsorted(self.t, t_s, side="right")) - 1
        return min(max(i, 0), self.n - 1)

    def sample(self, i: int) -> Sample:
        """Sample ``i`` exactly as recorded (parsed from its own line)."""
        try:
            item = parse_item(json.loads(self._lines[i]))
        except (json.JSONDecodeError, KeyError, ValueError, TypeError):
            _fail_like_core(self.path)
            raise
        assert isinstance(item, Sample)
        return item

    def item(self, j: int) -> Item:
        """Item ``j`` (sample or action), in recording order."""
        x = self._items[j]
        return self.sample(x) if isinstance(x, int) else parse_item(x)

    def items_from(self, j: int) -> Iterator[Item]:
        """Items from ``j`` on, in order: built from the arrays (the same numbers the lines
        hold) unless samples carry raw tracker data, which only the lines have."""
        if self._has_raw:
            for k in range(j, len(self._items)):
                yield self.item(k)
            return
        if self._lists is None:
            self._lists = tuple(self._arr(k).tolist() for k in range(6))
        t, pos, ax, nm, grip, tr = self._lists
        items = self._items
        for k in range(j, len(items)):
            x = items[k]
            if isinstance(x, int):
                yield Sample(t[x], tuple(pos[x]), tuple(ax[x]), tuple(nm[x]), grip[x], tr[x])
            else:
                yield parse_item(x)

    @property
    def n_items(self) -> int:
        return len(self._items)

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
        """Timeline marks: every event (errors apart) and every cue that appeared (not each
        change of its words)."""
        out = [
            Marker(e.t_s, "error" if e.error else "event", e.kind, e.message)
            for e in self.events
            if e.kind != "finish"
        ]
        out += [
            Marker(c.t_s, "cue", c.rule, c.message) for c in self.cues if c.active and not c.update
        ]
        return sorted(out, key=lambda m: (m.t_s, m.category, m.kind))

    # -- series for the plots under the timeline --
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
            hand_measured=can_measure(HAND, self.input_kind),
        )


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
        scenario = timeline.scenario()
        self._fresh = Pipeline(scenario, timeline.noise_floor_mm, timeline.input_kind)
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


def phase_starts(tl: Timeline) -> list[tuple[str, float]]:
    """(phase, start time) of every phase the task went through, in order (runs the task
    state machine only, not the whole pipeline)."""
    from sim.procedures import registry

    scenario = tl.scenario()
    task = registry.get(scenario.task).task(scenario)
    state = task.initial()
    out: list[tuple[str, float]] = []
    last = None
    for j in range(tl.n_items):
        item = tl.item(j)
        state, _ = task.step(state, item)
        ph = task.phase(state)
        if ph != last:
            out.append((ph, item.t_s))
            last = ph
    return out


class GhostAlignment:
    """Maps the replayed recording's time to a reference (expert) recording's time, aligned
    at the start of each phase: in phase P, the ghost is as far into its own phase P as the
    trainee is into theirs, and waits at the end of it if the trainee is slower.

    Parameters
    ----------
    main, ghost : sequence of (phase, start time)
        From :func:`phase_starts`. Phases are matched by name and occurrence (the second
        "insert" of the trainee to the ghost's second, or its last one).
    ghost_end_s : float
        Last time of the ghost recording.
    """

    def __init__(
        self,
        main: Sequence[tuple[str, float]],
        ghost: Sequence[tuple[str, float]],
        ghost_end_s: float,
    ) -> None:
        self.main = list(main)
        self._main_t = [t for _, t in self.main]
        spans: dict[str, list[tuple[float, float]]] = {}
        for k, (ph, t0) in enumerate(ghost):
            t1 = ghost[k + 1][1] if k + 1 < len(ghost) else ghost_end_s
            spans.setdefault(ph, []).append((t0, t1))
        self._spans = spans
        self._occurrence = []
        seen: dict[str, int] = {}
        for ph, _ in self.main:
            self._occurrence.append(seen.get(ph, 0))
            seen[ph] = seen.get(ph, 0) + 1

    def ghost_time(self, t_s: float) -> float | None:
        """The ghost's time to draw at the trainee's ``t_s``; None when the ghost never went
        through the trainee's current phase."""
        k = bisect_right(self._main_t, t_s) - 1
        if k < 0:
            k = 0
        phase, start = self.main[k]
        spans = self._spans.get(phase)
        if not spans:
            return None
        g0, g1 = spans[min(self._occurrence[k], len(spans) - 1)]
        return min(g0 + max(t_s - start, 0.0), g1)


class ReplayClock:
    """Playback time: play, pause, speed 0.25x-4x, seek, frame steps. Pure: the caller
    passes the wall-clock time that went by."""

    def __init__(self, timeline: Timeline) -> None:
        self.tl = timeline
        self.t_s = timeline.start_s
        self.speed = 1.0
        self.playing = False

    def advance(self, wall_dt_s: float) -> float:
        """Move on by ``wall_dt_s`` of wall-clock time (if playing); stops at the end."""
        if self.playing:
            self.t_s = min(self.t_s + wall_dt_s * self.speed, self.tl.end_s)
            if self.t_s >= self.tl.end_s:
                self.playing = False
        return self.t_s

    def toggle(self) -> None:
        if not self.playing and self.t_s >= self.tl.end_s:
            self.t_s = self.tl.start_s
        self.playing = not self.playing

    def set_speed(self, speed: float) -> float:
        self.speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        return self.speed

    def faster(self) -> float:
        up = [s for s in SPEEDS if s > self.speed]
        return self.set_speed(up[0] if up else MAX_SPEED)

    def slower(self) -> float:
        down = [s for s in SPEEDS if s < self.speed]
        return self.set_speed(down[-1] if down else MIN_SPEED)

    def seek(self, t_s: float) -> float:
        self.t_s = min(max(float(t_s), self.tl.start_s), self.tl.end_s)
        return self.t_s

    def step(self, frames: int) -> float:
        """Pause and move ``frames`` samples forward (negative: back)."""
        self.playing = False
        self.t_s = self.tl.step_time(self.t_s, frames)
        return self.t_s
