"""Recording a session while it runs, and re-scoring a recording afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.records import Cue, Event, Item
from sim.metrics.scoring import ScoreResult
from sim.pipeline import Pipeline, Step
from sim.storage.recording import (
    Recording,
    RecordingSource,
    RecordingWriter,
    _clean,
    load_recording,
    make_header,
)


class SessionRecorder:
    """Feeds a pipeline and appends everything to a recording as it happens.

    A crash loses at most the writer's flush interval; :meth:`finish` writes the result and
    the end record. The header's input kind is the pipeline's (``input_kind``, if given,
    must agree with it).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        path: str | Path,
        *,
        trainee: str = "anonymous",
        station: str = "",
        input_kind: str | None = None,
        calibration: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if input_kind is not None and input_kind != pipeline.input_kind:
            raise ValueError(
                f"input_kind {input_kind!r} differs from the pipeline's {pipeline.input_kind!r}"
            )
        self.pipeline = pipeline
        cal = dict(calibration or {})
        cal.setdefault("noise_floor_mm", pipeline.noise_floor_mm)
        header = make_header(
            pipeline.scenario,
            trainee=trainee,
            station=station,
            input_kind=pipeline.input_kind,
            calibration=cal,
            meta=meta,
        )
        self.writer = RecordingWriter(path, header)
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


@dataclass(frozen=True)
class Rescore:
    """A recording re-run through the pipeline; ``matches`` compares it with the stored
    events, cues and result."""

    recording: Recording
    result: ScoreResult
    events: list[Event]
    cues: list[Cue]
    matches: bool


def _canon(obj: Any) -> str:
    return json.dumps(_clean(obj), sort_keys=True, allow_nan=False)


def rescore(path: str | Path | Recording) -> Rescore:
    """Re-run a recording's items through a fresh pipeline with its own scenario."""
    rec = path if isinstance(path, Recording) else load_recording(path)
    scenario = rec.scenario()
    pipeline = Pipeline(scenario, rec.noise_floor_mm, rec.input_kind)
    pipeline.feed_all(RecordingSource(rec))
    pipeline.close_cues()
    result = pipeline.result()
    same = (
        _canon([e.as_dict() for e in pipeline.events]) == _canon([e.as_dict() for e in rec.events])
        and _canon([c.as_dict() for c in pipeline.cues]) == _canon([c.as_dict() for c in rec.cues])
        and (
            rec.result is None
            or _canon(result.as_dict())
            == _canon({k: v for k, v in rec.result.items() if k != "type"})
        )
    )
    return Rescore(rec, result, pipeline.events, pipeline.cues, same)
