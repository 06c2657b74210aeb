"""Scenario specs: the frozen, validated types every scenario has, and the reader of them.

The procedure-specific parts (``[geometry]``, ``[tolerances]``) are typed by each procedure
(:mod:`sim.procedures`); files are read by :mod:`sim.scenarios`. See ``docs/scenarios.md``
for the format. Every problem is reported as a :class:`ScenarioError` whose message is one
line naming the file, the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sim.core.checklist and sim.core.patient read spec_range from here
    from sim.core.checklist import ChecklistSpec
    from sim.core.patient import PatientSpec

SCHEMA_VERSION = 1

INPUT_KINDS = ("mouse", "webcam", "video", "scripted", "recording")
"""The input kinds a session can come from (the ``input_kind`` of every source); a scenario
may give scoring anchors per input kind (``[scoring.metrics.NAME.webcam]``)."""

MAX_FILE_BYTES = 65_536
"""Largest scenario file read (our choice: the shipped ones are under 3 kB). A recording
carries its scenario's text in its header line, so this also bounds that line."""
MAX_LINE_CHARS = 4_096
"""Longest line of a scenario file (our choice: the longest shipped line is under 200)."""
ANCHOR_LIMIT = 1e6
"""Largest magnitude of an expert or novice anchor value (our choice: every metric's real
values are far smaller, and points computed from such anchors stay finite)."""


class ScenarioError(ValueError):
    """A scenario file is missing, unreadable or invalid (one-line message)."""


def _short(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters so an error stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def spec_range(
    lo: float | None = None, hi: float | None = None, *, above: bool = False
) -> dict[str, Any]:
    """Field metadata of a spec dataclass: the documented range ``lo``-``hi`` (``above``:
    strictly above ``lo``)."""
    return {"min": lo, "max": hi, "above": above}


@dataclass(frozen=True, slots=True)
class FeedbackSpec:
    """Thresholds of the live cues. ``*_release`` values give the hysteresis."""

    approach_mm: float = field(metadata=spec_range(0, 100))
    tremor_window_s: float = field(metadata=spec_range(0.5, 10))
    steady_tremor_mm: float = field(metadata=spec_range(0, 20))
    steady_release_mm: float = field(metadata=spec_range(0, 20))
    too_fast_mm_s: float = field(metadata=spec_range(1, 1000))
    too_fast_release_mm_s: float = field(metadata=spec_range(1, 1000))
    angle_hysteresis_deg: float = field(metadata=spec_range(0, 20))
    offset_hysteresis_mm: float = field(metadata=spec_range(0, 10))
    min_show_s: float = field(metadata=spec_range(0, 10))
    release_s: float = field(metadata=spec_range(0, 10))
    # Keys added after schema 1 was first written have defaults, so that scenarios embedded
    # in older recordings still load.
    approach_hysteresis_mm: float = field(default=3.0, metadata=spec_range(0, 50))
    move_start_mm: float = field(default=3.0, metadata=spec_range(0, 50))
    move_start_deg: float = field(default=5.0, metadata=spec_range(0, 90))


@dataclass(frozen=True, slots=True)
class MetricAnchor:
    """Scoring anchor of one metric: value of a typical expert and novice, and weight."""

    name: str
    expert: float = field(metadata=spec_range(-ANCHOR_LIMIT, ANCHOR_LIMIT))
    novice: float = field(metadata=spec_range(-ANCHOR_LIMIT, ANCHOR_LIMIT))
    weight: float = field(metadata=spec_range(0, 100, above=True))
    input_kind: str | None = None
    """None for the base anchor; else the input kind this (merged) anchor applies to."""
    resolution: float = field(default=0.0, metadata=spec_range(0, ANCHOR_LIMIT))
    """The largest measurement uncertainty (in the metric's unit) at which the metric is
    still scored; 0: a quarter of the expert-novice span (see :attr:`max_uncertainty`)."""

    @property
    def max_uncertainty(self) -> float:
        """The largest uncertainty the metric is scored with: ``resolution``, else a quarter
        of ``|novice - expert|`` (our choice: noise then moves the points by 25 at most)."""
        return self.resolution or abs(self.novice - self.expert) / 4


@dataclass(frozen=True, slots=True)
class ScoringSpec:
    """How metrics become a score and a pass."""

    pass_score: float = field(metadata=spec_range(0, 100))
    critical_errors: tuple[str, ...]
    anchors: tuple[MetricAnchor, ...]
    input_anchors: tuple[MetricAnchor, ...] = ()
    """Anchors for one input kind, already merged with the base anchor of their metric."""

    def anchor(self, name: str, input_kind: str | None = None) -> MetricAnchor | None:
        """The anchor of metric ``name`` for a session from ``input_kind``.

        Parameters
        ----------
        name : str
            Metric name.
        input_kind : str, optional
            One of :data:`INPUT_KINDS`. Where the scenario gives ``[scoring.metrics.NAME.KIND]``
            its keys override the base anchor's; otherwise (or with None) the base anchor.

        Returns
        -------
        MetricAnchor or None
            None when the metric is not scored.
        """
        if input_kind is not None:
            for a in self.input_anchors:
                if a.name == name and a.input_kind == input_kind:
                    return a
        for a in self.anchors:
            if a.name == name:
                return a
        return None


@dataclass(frozen=True, slots=True)
class ProficiencySpec:
    """Sign-off rule: ``consecutive_passes`` in a row, then ``further_passes`` more."""

    consecutive_passes: int = field(metadata=spec_range(1, 100))
    further_passes: int = field(metadata=spec_range(0, 1000))


@dataclass(frozen=True, slots=True)
class DepthSpec:
    """``[input.KIND]``: how a tracked input of that kind (webcam, video) sets z, the axis
    across the arm that the camera reads as depth (:mod:`sim.core.assist`)."""

    depth: str = field(default="camera", metadata={"choices": ("camera", "snap", "fixed")})
    depth_snap_mm: float = field(default=6.0, metadata=spec_range(0, 100))


@dataclass(frozen=True, slots=True)
class DrillSpec:
    """``[drill]``: a part-task drill trains the named metrics and is scored on them alone.

    Attributes
    ----------
    targets : tuple of str
        The metrics the drill trains: each one of its procedure's metrics, scored in its
        ``[scoring.metrics]``, which scores no other metric.
    """

    targets: tuple[str, ...]


TRACKED_INPUTS = ("webcam", "video")
"""The input kinds a scenario's ``[input.KIND]`` tables may name."""


@dataclass(frozen=True, slots=True)
class PatientCase:
    """A patient case (``scenarios/cases/ID.toml``) as a scenario applied it.

    Attributes
    ----------
    id : str
        The case file's name without ``.toml``.
    title, description : str
        Names shown to people.
    difficulty : int
        1 (easiest) to 5, for listing.
    anatomy : tuple of (str, float)
        The ``[geometry]`` keys the case set, and their values, in file order.
    text : str
        The case file's text, embedded in recordings beside the scenario's.
    condition : PatientSpec
        The patient's condition (the case's ``[patient]`` table): what the patient model of
        :mod:`sim.core.patient` feels and does.
    """

    id: str
    title: str
    description: str
    difficulty: int
    anatomy: tuple[tuple[str, float], ...]
    text: str
    condition: PatientSpec


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario.

    ``content_hash`` is the SHA-256 of the file's bytes (with a patient case named, of the
    scenario's bytes followed by the case file's), stored in every recording so that a
    recording is always scored against the scenario it was made with.
    """

    schema_version: int
    id: str
    title: str
    task: str
    description: str
    geometry: object
    """The procedure's ``[geometry]`` (its :attr:`~sim.procedures.base.Procedure.geometry` type)."""
    tolerances: object
    """The procedure's ``[tolerances]`` (its :attr:`~sim.procedures.base.Procedure.tolerances`)."""
    feedback: FeedbackSpec
    scoring: ScoringSpec
    proficiency: ProficiencySpec
    sample_rate_hz: float
    path: str
    content_hash: str
    inputs: tuple[tuple[str, DepthSpec], ...] = ()
    """``[input.KIND]`` tables by input kind (a kind not named: depth from the camera)."""
    patient: PatientCase | None = None
    """The patient case the scenario names (its anatomy is in ``geometry``); None: the
    scenario's own ``[geometry]``, a healthy adult."""
    checklist: ChecklistSpec | None = None
    """The procedure's checklist (``[checklist]``, :mod:`sim.core.checklist`); None: the
    scenario has none (its sessions are scored on the needle alone)."""
    default_patient: PatientCase | None = None
    """For a scenario of a procedure with a patient that names no case: the default case
    (the healthy adult), whose condition it has (its anatomy is not applied: the scenario's
    own ``[geometry]`` stands for it)."""
    drill: DrillSpec | None = None
    """The drill the scenario is (``[drill]``): the metrics it trains; None: a full scenario,
    scored on the whole procedure."""

    @property
    def condition(self) -> PatientSpec | None:
        """The patient's condition: the named case's, else the default case's; None for a
        procedure without a patient (suturing)."""
        case = self.patient if self.patient is not None else self.default_patient
        return case.condition if case is not None else None

    def depth_spec(self, input_kind: str) -> DepthSpec:
        """How a tracked input of ``input_kind`` sets depth (default: the camera's)."""
        return dict(self.inputs).get(input_kind, DepthSpec())


class SpecReader:
    """Reads TOML tables into spec dataclasses, each problem one line naming the file and key.

    Fields carry their documented range as metadata (:func:`spec_range`); ``build`` checks
    types, ranges, finiteness, and unknown and missing keys.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, expected: str, got: object = dataclasses.MISSING) -> ScenarioError:
        got_text = "" if got is dataclasses.MISSING else f", got {_short(got)}"
        return ScenarioError(f"{self.path}: key '{key}': expected {expected}{got_text}")

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            raise ScenarioError(f"{self.path}: key '{key}': missing (expected a table [{key}])")
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return value

    def value(self, key: str, raw: object, kind: Any, meta: Any) -> Any:
        lo, hi = meta.get("min"), meta.get("max")
        if kind is float or kind is int:
            integer = kind is int
            what = "an integer" if integer else "a number"
            if isinstance(raw, bool) or not isinstance(raw, int if integer else (int, float)):
                raise self.fail(key, what, raw)
            span = ""
            if lo is not None and hi is not None:
                span = f" {'above' if meta.get('above') else 'between'} {lo:g} and "
                span += f"{'at most ' if meta.get('above') else ''}{hi:g}"
            try:
                result: Any = raw if integer else float(raw)
            except OverflowError:  # an integer beyond the float range
                raise self.fail(key, "a finite number" + span, raw) from None
            if not integer and not math.isfinite(result):  # (an int is finite, if huge)
                raise self.fail(key, "a finite number" + span, raw)
            if (lo is not None and (result <= lo if meta.get("above") else result < lo)) or (
                hi is not None and result > hi
            ):
                raise self.fail(key, "a value" + span, raw)
            return result
        if kind is bool:
            if not isinstance(raw, bool):
                raise self.fail(key, "true or false", raw)
            return raw
        if kind is str:
            choices = meta.get("choices")
            if choices and raw not in choices:
                raise self.fail(key, "one of " + ", ".join(f'"{c}"' for c in choices), raw)
            if not isinstance(raw, str) or not raw:
                raise self.fail(key, "a non-empty string", raw)
            return raw
        if typing.get_origin(kind) is tuple:
            inner = typing.get_args(kind)[0]
            if not isinstance(raw, list):
                raise self.fail(key, "a list", raw)
            return tuple(self.value(f"{key}[{i}]", v, inner, meta) for i, v in enumerate(raw))
        raise TypeError(kind)  # pragma: no cover - programming error

    def build(
        self,
        cls: Any,
        data: dict[str, Any],
        prefix: str,
        skip: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
    ) -> Any:
        """Constructor arguments of dataclass ``cls`` read from a TOML table.

        ``skip`` names fields filled in by the caller; ``extra`` names keys of the table
        that the caller reads itself.
        """
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls) if f.name not in skip]
        for key in data:
            if (
                key not in names
                and key not in skip
                and not (key == "metrics" and "anchors" in skip)
            ):
                raise ScenarioError(
                    f"{self.path}: key '{prefix}{key}': unknown (expected one of: "
                    f"{', '.join(names)})"
                )
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name in skip:
                continue
            key = prefix + f.name
            if f.name not in data:
                if f.default is not dataclasses.MISSING:
                    continue
                raise ScenarioError(f"{self.path}: key '{key}': missing")
            kwargs[f.name] = self.value(key, data[f.name], hints[f.name], f.metadata)
        return kwargs
