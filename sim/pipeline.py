"""The one-way pipeline: items -> task -> live view -> cues; samples + events -> score.

Pure and deterministic: the app, replay, re-scoring and tests all push items through this
same class, so a recording re-scores to exactly what the trainee saw.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sim.core.checklist import SITE, evaluate, step_event
from sim.core.records import Action, Cue, Event, Item, Sample
from sim.core.scenario import Scenario
from sim.feedback.cues import CueEngine, Gates, LiveView
from sim.metrics.catalog import EXACT_INPUTS, HAND, can_measure, tremor_measured
from sim.metrics.motion import MAX_GAP_S, MIN_TREMOR_RATE_HZ, motion_metrics, nominal_rate_hz
from sim.metrics.noise import EXACT, InputNoise, measure_noise
from sim.metrics.scoring import ScoreResult, score
from sim.metrics.streaming import StreamingSpeed, StreamingTremor, probed_rate_hz
from sim.procedures import registry
from sim.procedures.base import Hand, Procedure


@dataclass(frozen=True, slots=True)
class Step:
    """What one item produced: task events, cue changes and the live view (samples only)."""

    events: tuple[Event, ...]
    cues: tuple[Cue, ...]
    view: LiveView | None


class Pipeline:
    """Runs a scenario's task, live estimators and cue rules over a stream of items.

    Parameters
    ----------
    scenario : Scenario
        The scenario being practised.
    noise_floor_mm : float
        Tracker noise floor in the tremor band (mm RMS), from calibration; 0 for mouse and
        scripted input.
    input_kind : str
        What drives the instrument ("mouse", "webcam", "video", "scripted"): decides which
        metrics can be measured (see :mod:`sim.metrics.catalog`) and which anchors apply.
    procedure : Procedure, optional
        The scenario's procedure (default: the registry's, by the scenario's ``task``); the
        contract checker passes the one under test.
    noise : InputNoise, optional
        How precisely the input reads each axis and needle angle (from calibration). The
        cue rules raise their thresholds above it and the score leaves out metrics it
        cannot resolve. Default: exact for the mouse and a scripted trainee
        (:data:`~sim.metrics.catalog.EXACT_INPUTS`); for a tracker without a calibration,
        the live cues assume none and the score uses the session's own jitter
        (:meth:`session_noise`), an upper bound.
    guided : frozenset of str
        Quantities an assist set instead of the hand (``{"z"}`` with the depth snapped to the
        vein, :mod:`sim.core.assist`): the metrics reading them are not scored.

    Notes
    -----
    Every rate comes from the samples themselves, never from a nominal setting: a 25 fps
    camera and a 60 Hz mouse both get a tremor band of 4-12 Hz at their own rate. The live
    tremor filter is designed once the first ``RATE_PROBE`` intervals have been seen (the
    median interval), so the same samples always give the same live values.

    The session's clock (``started_s`` to ``completed_s``) starts when the trainee first
    acts (an action, or moving the needle: the cue gates' ``moved``, see
    :class:`sim.feedback.cues.Gates`) and stops when the task is complete: time spent
    before starting or after completing is not the trainee's, and the motion metrics see
    only the samples in between.
    """

    RATE_PROBE = 8

    def __init__(
        self,
        scenario: Scenario,
        noise_floor_mm: float = 0.0,
        input_kind: str = "scripted",
        procedure: Procedure[Any, Any] | None = None,
        noise: InputNoise | None = None,
        guided: frozenset[str] = frozenset(),
    ) -> None:
        self.scenario = scenario
        self.noise_floor_mm = noise_floor_mm
        self.input_kind = input_kind
        self._hand_measured = can_measure(HAND, input_kind)
        self._tremor_measured = tremor_measured(input_kind, noise_floor_mm)
        self.guided = guided | (noise.guided if noise is not None else frozenset())
        self.noise = replace(noise, guided=self.guided) if noise is not None else None
        self.started_s: float | None = None
        self.completed_s: float | None = None
        self.procedure = procedure if procedure is not None else registry.get(scenario.task)
        self.task = self.procedure.task(scenario)
        self.live = self.procedure.live(self.task)
        self.state: Any = self.task.initial()
        self._tremor: StreamingTremor | None = None
        self._intervals: list[float] = []
        self._speed = StreamingSpeed()
        self.cues_engine = CueEngine(
            self.procedure.rules(scenario, self.noise or replace(EXACT, guided=self.guided)),
            scenario.feedback,
        )
        self._gates = Gates(scenario.feedback)
        self.samples: list[Sample] = []
        self.events: list[Event] = []
        self.cues: list[Cue] = []
        self.view: LiveView | None = None
        self._phase_time: dict[str, float] = {}
        self._last_t: float | None = None
        self._last_tracked_t: float | None = None
        self._site: Event | None = None  # the latest checklist step_site event

    @property
    def phase(self) -> str:
        return self.task.phase(self.state)

    @property
    def finished(self) -> bool:
        return self.task.is_finished(self.state)

    @property
    def complete(self) -> bool:
        """Whether the procedure has been carried out to its end (the score contract)."""
        return self.completed_s is not None

    def feed(self, item: Item) -> Step:
        """Consume one sample or action.

        An action that takes a step of the scenario's checklist becomes its ``step_<id>``
        event (:func:`sim.core.checklist.step_event`), before the task's events for it (the
        task hears the action too: the patient model listens for ``anchor`` and
        ``pressure``). Checklist steps do not start the session's clock: it times the work
        with the needle, which the time metrics' anchors were set for.
        """
        checklist = self.scenario.checklist
        taken: tuple[Event, ...] = ()
        if isinstance(item, Action) and checklist is not None and checklist.takes(item.kind):
            tip = self.samples[-1].tip_mm if self.samples else None
            taken = (step_event(checklist, item, tip, self._site),)
            if item.kind == SITE:
                self._site = taken[0]
        elif self.started_s is None and not isinstance(item, Sample):
            self.started_s = item.t_s  # the first action starts the clock
        was = self.task.phase(self.state)  # the time up to this item was spent in it
        was_complete = self.completed_s is not None
        self.state, events = self.task.step(self.state, item)
        events = taken + events
        if self.completed_s is None and self.task.is_complete(self.state):
            self.completed_s = item.t_s
        if events:
            self.events.extend(events)
        if not isinstance(item, Sample):
            return Step(events, self._cues_after(item), None)
        s = item
        if (
            self._last_t is not None
            and s.t_s > self._last_t
            and self.started_s is not None
            and not was_complete
        ):
            self._phase_time[was] = self._phase_time.get(was, 0.0) + (s.t_s - self._last_t)
        self._last_t = s.t_s
        self.samples.append(s)
        view = self._view(s)
        self.view = view
        if self.started_s is None and view.moved:
            self.started_s = s.t_s  # the first move starts the clock
        cues = self.cues_engine.update(view)
        if cues:
            self.cues.extend(cues)
        return Step(events, tuple(cues), view)

    def clock_s(self, t_s: float) -> float:
        """The session's clock at recording time ``t_s``: 0 until the trainee first moves or
        acts, then running, and stopped at completion."""
        if self.started_s is None:
            return 0.0
        end = self.completed_s if self.completed_s is not None else t_s
        return max(min(t_s, end) - self.started_s, 0.0)

    def _cues_after(self, a: Action) -> tuple[Cue, ...]:
        """Cue changes an action causes at once (finishing ends every cue; a tourniquet
        changes the view's tourniquet time): the last view, updated, fed to the cues."""
        last = self.cues_engine.view
        if last is None or a.t_s < last.t_s:
            return ()
        ph = self.task.phase(self.state)
        hand = Hand(
            a.t_s, ph, last.tracked, last.speed_mm_s, last.tremor_mm, last.moved, last.near,
            ph == "done",
        )  # fmt: skip
        view = self.live.at(self.state, last, hand)
        cues = self.cues_engine.update(view)
        self.cues.extend(cues)
        return tuple(cues)

    def feed_all(self, items: Iterable[Item]) -> None:
        for item in items:
            self.feed(item)

    def discomfort_series(self, items: Iterable[Item]) -> np.ndarray:
        """Feed ``items``; the patient's discomfort (0-10) at each of their samples, as the
        live view showed it, shape (samples,); NaN throughout for a procedure without a
        patient (:attr:`sim.feedback.cues.LiveView.patient` None)."""
        out: list[float] = []
        for item in items:
            view = self.feed(item).view
            if view is not None:
                out.append(view.patient.discomfort if view.patient is not None else math.nan)
        return np.array(out, dtype=np.float64)

    def _view(self, s: Sample) -> LiveView:
        if s.tracked:
            last = self._last_tracked_t
            if last is not None and s.t_s - last > MAX_GAP_S:
                if self._tremor is not None:
                    self._tremor.reset()
                self._speed.reset()
            elif last is not None and self._tremor is None and s.t_s > last:
                self._intervals.append(s.t_s - last)
                if len(self._intervals) == self.RATE_PROBE:
                    self._tremor = StreamingTremor(
                        probed_rate_hz(self._intervals),
                        self.scenario.feedback.tremor_window_s,
                        self.noise_floor_mm,
                    )
            self._last_tracked_t = s.t_s
            tremor = self._tremor.update(s.tip_mm) if self._tremor is not None else 0.0
            if not self._tremor_measured:
                # an eased pointer's jitter is the filter's, and a tracker's without a noise
                # floor is mostly the tracker's: neither is the hand's tremor
                tremor = math.nan
            speed = self._speed.update(s.t_s, s.tip_mm)
        else:
            tremor, speed = 0.0, 0.0
        ph = self.task.phase(self.state)
        distance, inserted = self.live.approach(self.state, s)
        # the cue rules' phase flags: moved, near (see Gates), done
        moved, near = self._gates.update(s.tracked, s.tip_mm, s.axis, distance, inserted)
        hand = Hand(s.t_s, ph, s.tracked, speed, tremor, moved, near, ph == "done")
        return self.live.view(self.state, s, hand)

    def close_cues(self) -> list[Cue]:
        """End all active cues (at the time of the last sample)."""
        t = self._last_t if self._last_t is not None else 0.0
        if self.cues_engine.view is not None:  # an action may have come after the last sample
            t = max(t, self.cues_engine.view.t_s)
        ended = self.cues_engine.close(t)
        self.cues.extend(ended)
        return ended

    @property
    def tremor_why(self) -> str:
        """Why the live tremor is not measured, in a few words for the HUD: "only N
        frames/s" (too few tracked for the band), "not calibrated", or "no noise floor"
        (calibrated, but the hold could not measure it); "" when it is measured."""
        if self._tremor is not None and not self._tremor.measurable:
            return f"only {probed_rate_hz(self._intervals):.0f} frames/s"
        if not self._tremor_measured:
            # calibrated, but too few frames in the hold to measure its noise floor
            return "not calibrated" if self.noise is None else "no noise floor"
        return ""

    @property
    def empty(self) -> bool:
        """No tracked sample at all: nothing the trainee did was measured."""
        return not any(s.tracked for s in self.samples)

    def metric_values(self) -> dict[str, float]:
        """Every metric of the session so far, by name (motion over the session's clock)."""
        values: dict[str, float] = {}
        start = self.started_s
        end = self.completed_s if self.completed_s is not None else self._last_t
        timed = (
            [s for s in self.samples if start <= s.t_s <= end]
            if start is not None and end is not None
            else []
        )
        n = len(timed)
        if n >= 2:
            t = np.fromiter((s.t_s for s in timed), dtype=np.float64, count=n)
            pos = np.array([s.tip_mm for s in timed], dtype=np.float64)
            tr = np.fromiter((s.tracked for s in timed), dtype=bool, count=n)
            mm = motion_metrics(t, pos, tr, self.noise_floor_mm)  # at the samples' own rate
            values.update(mm.as_dict())
        if start is not None and end is not None:
            values["total_time_s"] = max(end - start, 0.0)
        total = values.get("total_time_s", 0.0)
        values.update(self.procedure.precision(self.scenario, self.events, total))
        return values

    def session_noise(self) -> InputNoise:
        """The noise the score assumes: the calibration's; exact for an input that reads the
        instrument exactly (mouse, scripted trainee: :data:`EXACT_INPUTS`); else the jitter
        of the session's own tracked samples (motion included, so an upper bound on the
        tracker's)."""
        if self.noise is not None:
            return self.noise
        ok = [s for s in self.samples if s.tracked]
        if self.input_kind in EXACT_INPUTS or len(ok) < 3:
            return replace(EXACT, guided=self.guided)
        t, tips = [s.t_s for s in ok], [s.tip_mm for s in ok]
        noise = measure_noise(t, tips, [s.axis for s in ok], [s.normal for s in ok])
        return replace(noise, guided=self.guided)

    def result(self) -> ScoreResult:
        """Score the session as it stands."""
        phases = tuple(self._phase_time.items())  # in the order the procedure went through them
        spec = self.scenario.checklist
        steps = (
            evaluate(spec, self.events, dict(self.procedure.milestones)) if spec is not None else ()
        )
        return score(
            self.scenario,
            self.metric_values(),
            self.events,
            phases,
            complete=self.complete,
            empty=self.empty,
            input_kind=self.input_kind,
            noise=self.session_noise(),
            unmeasured={**self._no_floor(), **self._too_slow()},
            checklist=steps,
        )

    def _no_floor(self) -> dict[str, str]:
        """The tremor metrics of a tracker session without a noise floor (calibration
        skipped, or too few frames tracked in it), with the words why."""
        if self._tremor_measured or not self._hand_measured:
            return {}
        note = "not measured: no noise floor"
        return {name: note for name in ("tremor_rms_mm", "tremor_peak_hz")}

    def _too_slow(self) -> dict[str, str]:
        """The hand's metrics (tremor, smoothness) when a tracker delivered too few frames
        per second to measure them (:data:`~sim.metrics.motion.MIN_TREMOR_RATE_HZ`), each
        with the words why; none for an exact input or a fast enough one."""
        if self.input_kind in EXACT_INPUTS or not self._hand_measured:
            return {}
        t = np.fromiter((s.t_s for s in self.samples if s.tracked), dtype=np.float64)
        rate = nominal_rate_hz(t) if len(t) > 1 else 0.0
        if rate == 0.0 or rate >= MIN_TREMOR_RATE_HZ:
            return {}
        note = f"not measured: {rate:.0f} frames/s tracked"
        return {
            name: note
            for name, mi in registry.metrics_of(self.procedure).items()
            if mi.needs == HAND
        }
