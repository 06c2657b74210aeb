"""Recording a session while it runs, and re-scoring a recording afterwards."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim import __version__
from sim.core.records import Cue, Event, Item
from sim.core.scenario import Scenario, ScenarioError
from sim.errors import read_bytes
from sim.metrics.scoring import ScoreResult, verdict_word
from sim.pipeline import Pipeline, Step
from sim.procedures import registry
from sim.storage.recording import (
    Recording,
    RecordingError,
    RecordingHeader,
    RecordingSource,
    RecordingWriter,
    _clean,
    load_recording,
    make_header,
    parse_recording,
    session_id_for,
)


class SessionRecorder:
    """Feeds a pipeline and appends everything to a recording as it happens.

    A crash loses at most the writer's flush interval; :meth:`finish` writes the result and
    the end record. The header's input kind is the pipeline's. ``header`` replaces the
    header made from the other arguments (a re-scored recording keeps its original's). The
    header's noise floor is the pipeline's: a ``calibration`` naming another is refused
    (ValueError), since the recording would then re-score differently from the session.
    ``keep_raw`` keeps the raw hand landmarks of webcam samples (see
    :class:`~sim.storage.recording.RecordingWriter`).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        path: str | Path,
        *,
        trainee: str = "anonymous",
        station: str = "",
        calibration: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
        keep_raw: bool = False,
    ) -> None:
        self.pipeline = pipeline
        cal = dict(calibration or {})
        if cal.get("noise_floor_mm", pipeline.noise_floor_mm) != pipeline.noise_floor_mm:
            # the recording would re-score with another floor than the session was scored with
            raise ValueError(
                f"calibration noise floor {cal['noise_floor_mm']} mm is not the pipeline's "
                f"{pipeline.noise_floor_mm} mm"
            )
        cal["noise_floor_mm"] = pipeline.noise_floor_mm
        if header is None:
            header = make_header(
                pipeline.scenario,
                trainee=trainee,
                station=station,
                input_kind=pipeline.input_kind,
                calibration=cal,
                meta=meta,
            )
        self.writer = RecordingWriter(path, header, keep_raw=keep_raw)
        self.path = self.writer.path
        self.result: ScoreResult | None = None

    def feed(self, item: Item) -> Step:
        step = self.pipeline.feed(item)
        self.writer.item(item)
        self.writer.events(step.events)
        self.writer.cues(step.cues)
        return step

    def finish(self) -> ScoreResult:
        """Close active cues, score, write the result and end the recording (its ``end``
        record says whether the procedure was complete)."""
        if self.result is not None:
            return self.result
        self.writer.cues(self.pipeline.close_cues())
        self.result = self.pipeline.result()
        self.writer.result(self.result.as_dict())
        self.writer.close(complete=self.result.complete)
        return self.result


def run_session(
    pipeline: Pipeline, source: Iterable[Item], path: str | Path, **header: Any
) -> ScoreResult:
    """Push every item of an offline source through ``pipeline`` into a new recording."""
    rec = SessionRecorder(pipeline, path, **header)
    try:
        for item in source:
            rec.feed(item)
    except BaseException:
        rec.finish()
        raise
    return rec.finish()


def complete_from_events(scenario: Scenario | None, events: Sequence[Event]) -> bool:
    """Whether ``events`` show the procedure carried out to its end, as its procedure judges
    it (:attr:`~sim.procedures.base.Procedure.complete_from_events`). False when unsure (no
    scenario).

    This is how a recording made before results carried ``complete`` is judged.
    """
    if scenario is None:
        return False
    return registry.get(scenario.task).complete_from_events(scenario, events)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a score said about a session: score, pass, complete, empty, and which procsim
    version computed it."""

    score: float
    passed: bool
    complete: bool
    empty: bool
    app_version: str

    @property
    def counts(self) -> bool:
        """Whether the session counts for the learning curve and sign-off."""
        return self.complete and not self.empty

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "passed": self.passed,
            "complete": self.complete,
            "empty": self.empty,
            "app_version": self.app_version,
        }

    @property
    def verdict(self) -> str:
        """ "PASS", "FAIL", "INCOMPLETE" or "EMPTY"."""
        return verdict_word(self.passed, self.complete, self.empty)

    def line(self) -> str:
        """``63.2 PASS``, ``8.3 INCOMPLETE``, ``0.0 EMPTY``."""
        return f"{self.score:.1f} {self.verdict}"


def _scenario_or_none(rec: Recording) -> Scenario | None:
    try:
        return rec.scenario()
    except (RecordingError, ScenarioError):
        return None


def recorded_outcome(rec: Recording) -> Outcome | None:
    """The outcome stored in a recording's ``result`` (None without one).

    A result written before the score contract lacks ``complete`` and ``empty``: then the
    session is complete only if the recording was closed normally (its ``end`` record says
    ``complete``) and its events hold the task's completion (:func:`complete_from_events`);
    empty when it holds no samples.
    """
    r = rec.result
    if r is None:
        return None
    complete = r.get("complete")
    if not isinstance(complete, bool):
        complete = rec.complete and complete_from_events(_scenario_or_none(rec), rec.events)
    empty = r.get("empty")
    if not isinstance(empty, bool):
        empty = not rec.samples
    score = r.get("score")
    return Outcome(
        score=float(score) if isinstance(score, (int, float)) else 0.0,
        passed=bool(r.get("passed")),
        complete=complete,
        empty=empty,
        app_version=str(rec.header.get("app_version") or "unknown"),
    )


def today_outcome(result: ScoreResult) -> Outcome:
    """The outcome of a score computed now by this procsim."""
    return Outcome(result.score, result.passed, result.complete, result.empty, __version__)


def pipeline_for(rec: RecordingHeader) -> Pipeline:
    """A fresh pipeline for re-running ``rec`` (a recording read whole or indexed): its own
    scenario, noise floor and input."""
    return Pipeline(
        rec.scenario(), rec.noise_floor_mm, rec.input_kind, noise=rec.noise, guided=rec.guided
    )


@dataclass(frozen=True)
class Rescore:
    """A recording re-run through today's pipeline; ``matches`` compares it with the stored
    events, cues and result; ``recorded`` and ``today`` are the two outcomes side by side
    (``recorded`` None for a recording without a result: an interrupted session)."""

    recording: Recording
    result: ScoreResult
    events: list[Event]
    cues: list[Cue]
    matches: bool
    recorded: Outcome | None
    today: Outcome

    @property
    def differs(self) -> bool:
        """True when the recording has a result and today's re-score is not the same."""
        return self.recorded is not None and not self.matches

    def line(self) -> str:
        """``venipuncture  recorded 63.2 PASS by 0.1.0; today 40.1 FAIL (rules changed
        since)``: the recorded score against today's."""
        name = self.result.scenario
        if self.recorded is None:
            return f"{name}  no recorded score (interrupted); today {self.today.line()}"
        rec = f"{name}  recorded {self.recorded.line()} by {self.recorded.app_version}"
        if self.matches:
            return f"{rec}; today the same"
        if self.recorded.app_version != self.today.app_version:
            why = "rules changed since"
        else:
            why = "same version: the recording was edited, or is not reproducible"
        return f"{rec}; today {self.today.line()} by {self.today.app_version} ({why})"


def _canon(obj: Any) -> str:
    return json.dumps(_clean(obj), sort_keys=True, allow_nan=False)


def same_result(result: ScoreResult, rec: Recording) -> bool:
    """Whether ``rec``'s own result is ``result`` (False for a recording without one)."""
    return rec.result is not None and _canon(result.as_dict()) == _canon(
        {k: v for k, v in rec.result.items() if k != "type"}
    )


def _same(pipeline: Pipeline, result: ScoreResult, rec: Recording) -> bool:
    return (
        _canon([e.as_dict() for e in pipeline.events]) == _canon([e.as_dict() for e in rec.events])
        and _canon([c.as_dict() for c in pipeline.cues]) == _canon([c.as_dict() for c in rec.cues])
        and (
            rec.result is None
            or _canon(result.as_dict())
            == _canon({k: v for k, v in rec.result.items() if k != "type"})
        )
    )


def rescore(path: str | Path | Recording) -> Rescore:
    """Re-run a recording's items through a fresh pipeline with its own scenario."""
    rec = path if isinstance(path, Recording) else load_recording(path)
    pipeline = pipeline_for(rec)
    pipeline.feed_all(RecordingSource(rec))
    pipeline.close_cues()
    return _rescored(rec, pipeline, pipeline.result())


def end_s(rec: Recording) -> float:
    """The time of a recording's last item (sample or action), s: how long it runs."""
    return max((item.t_s for item in rec.items), default=0.0)


def pipeline_at(path: str | Path | Recording, at_s: float) -> Pipeline:
    """A recording's pipeline as it stood at time ``at_s`` (s): its items up to then fed
    through a fresh pipeline with its own scenario, noise floor and input.

    Parameters
    ----------
    path : str, Path or Recording
        The recording file, or the recording already read.
    at_s : float
        The moment, s (a moment after :func:`end_s` gives the pipeline at the end).

    Raises
    ------
    RecordingError
        The recording cannot be read.
    ValueError
        ``at_s`` is negative.
    """
    if not at_s >= 0:
        raise ValueError(f"expected a time of 0 s or more, got {at_s:g}")
    rec = path if isinstance(path, Recording) else load_recording(path)
    pipeline = pipeline_for(rec)
    for item in RecordingSource(rec):
        if item.t_s > at_s:
            break
        pipeline.feed(item)
    return pipeline


def _rescored(rec: Recording, pipeline: Pipeline, result: ScoreResult) -> Rescore:
    """``rec`` re-run through ``pipeline`` (fed and closed), side by side with its record."""
    return Rescore(
        rec,
        result,
        pipeline.events,
        pipeline.cues,
        _same(pipeline, result, rec),
        recorded_outcome(rec),
        today_outcome(result),
    )


def write_rescored(source: str | Path, output: str | Path) -> Rescore:
    """Write a new recording from the samples and actions of ``source``, with today's
    events, cues and result.

    The header is kept (trainee, station, calibration, scenario text, the time the session
    was made) and ``meta.session_id`` is the original's session id (the one the store keys
    it by, also for a recording that had none written); ``app_version`` becomes this
    procsim's, and ``meta.rescored_from`` names the source: its file name, SHA-256 and the
    version that recorded it. The end record says whether the procedure was complete by
    today's rules, as the result does.

    Raises
    ------
    RecordingError
        When ``source`` cannot be read, ``output`` is ``source`` or already exists.
    """
    src, out = Path(source), Path(output)
    data = read_bytes(src, "recording", RecordingError)
    rec = parse_recording(data, src)
    if out.exists() and out.resolve() == src.resolve():
        raise RecordingError(f"{out}: is the recording being re-scored (write a new file)")
    if out.exists():
        raise RecordingError(f"{out}: already exists (remove it or choose another -o)")
    header = dict(rec.header)
    meta = dict(header.get("meta") or {}) if isinstance(header.get("meta"), dict) else {}
    meta["rescored_from"] = {
        "file": src.name,
        "recording_sha256": hashlib.sha256(data).hexdigest(),
        "app_version": str(rec.header.get("app_version") or "unknown"),
        "rescored_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    # the original's session id, so that the store knows the re-score as the same session
    meta["session_id"] = session_id_for(rec.header, data)
    header["meta"] = meta
    header["app_version"] = __version__
    pipeline = pipeline_for(rec)
    try:
        # a copy of what the original holds: its raw landmarks, if it kept any, stay
        recorder = SessionRecorder(pipeline, out, header=header, keep_raw=True)
    except OSError as exc:
        raise RecordingError(f"{out}: cannot write ({exc.strerror})") from None
    try:
        for item in rec.items:
            recorder.feed(item)
        result = recorder.finish()
    except BaseException:
        recorder.writer.close(complete=False)
        out.unlink(missing_ok=True)  # no half-written re-score left behind
        raise
    return _rescored(rec, pipeline, result)
