"""Scenario files: TOML data parsed once into frozen, validated specs.

See ``docs/scenarios.md`` for the format. Every problem is reported as a
:class:`ScenarioError` whose message is one line naming the file, the key and what was
expected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.core.error_kinds import known_error_kinds
from sim.errors import read_bytes
from sim.metrics.catalog import metrics_for_task

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SCHEMA_VERSION = 1
TASKS = ("venipuncture", "suturing")
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"

INPUT_KINDS = ("mouse", "webcam", "video", "scripted", "recording")
"""The input kinds a session can come from (the ``input_kind`` of every source); a scenario
may give scoring anchors per input kind (``[scoring.metrics.NAME.webcam]``)."""

MAX_FILE_BYTES = 65_536
"""Largest scenario file read (our choice: the shipped ones are under 3 kB). A recording
carries its scenario's text in its header line, so this also bounds that line."""
MAX_LINE_CHARS = 4_096
"""Longest line of a scenario file (our choice: the longest shipped line is under 200)."""
MAX_STITCHES = 50
"""Most stitches a suturing scenario may plan (our choice)."""
ANCHOR_LIMIT = 1e6
"""Largest magnitude of an expert or novice anchor value (our choice: every metric's real
values are far smaller, and points computed from such anchors stay finite)."""


class ScenarioError(ValueError):
    """A scenario file is missing, unreadable or invalid (one-line message)."""


def _short(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters so an error stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _rng(
    lo: float | None = None, hi: float | None = None, *, above: bool = False
) -> dict[str, Any]:
    """Field metadata: the documented range ``lo``-``hi`` (``above``: strictly above ``lo``)."""
    return {"min": lo, "max": hi, "above": above}


@dataclass(frozen=True, slots=True)
class VenipunctureGeometry:
    """Forearm and vein. The forearm is a cylinder along x; the site is at x = 0."""

    arm_radius_mm: float = field(metadata=_rng(15, 80))
    arm_length_mm: float = field(metadata=_rng(100, 600))
    vein_depth_mm: float = field(metadata=_rng(0.5, 15))
    vein_diameter_mm: float = field(metadata=_rng(0.5, 10))
    vein_lateral_mm: float = field(metadata=_rng(-30, 30))
    vein_length_mm: float = field(metadata=_rng(20, 400))
    tourniquet_x_mm: float = field(metadata=_rng(-300, 300))
    needle_length_mm: float = field(metadata=_rng(5, 80))


@dataclass(frozen=True, slots=True)
class VenipunctureTolerances:
    """What counts as correct technique."""

    angle_min_deg: float = field(metadata=_rng(0, 90))
    angle_max_deg: float = field(metadata=_rng(0, 90))
    bevel_roll_tol_deg: float = field(metadata=_rng(0, 180))
    tourniquet_max_s: float = field(metadata=_rng(1, 600))
    max_attempts: int = field(metadata=_rng(1, 10))
    redirect_deg: float = field(metadata=_rng(0.5, 90))
    draw_hold_s: float = field(metadata=_rng(0, 60))
    exit_margin_mm: float = field(metadata=_rng(0, 10))
    # Keys added after schema 1 was first written have defaults, so that scenarios embedded
    # in older recordings still load.
    tourniquet_rest_s: float = field(default=120.0, metadata=_rng(0, 3600))
    probe_mm: float = field(default=3.0, metadata=_rng(0.1, 20))


@dataclass(frozen=True, slots=True)
class SuturingGeometry:
    """Skin pad (top face is y = 0) with a straight wound along x at z = 0."""

    pad_length_mm: float = field(metadata=_rng(20, 400))
    pad_width_mm: float = field(metadata=_rng(20, 400))
    pad_thickness_mm: float = field(metadata=_rng(2, 50))
    wound_length_mm: float = field(metadata=_rng(5, 400))
    needle_radius_mm: float = field(metadata=_rng(2, 40))
    planned_stitch_x_mm: tuple[float, ...]
    show_targets: bool


@dataclass(frozen=True, slots=True)
class SuturingTolerances:
    """What counts as correct technique."""

    bite_target_mm: float = field(metadata=_rng(0.5, 20))
    bite_tol_mm: float = field(metadata=_rng(0, 10))
    symmetry_max_mm: float = field(metadata=_rng(0, 10))
    spacing_target_mm: float = field(metadata=_rng(1, 50))
    spacing_tol_mm: float = field(metadata=_rng(0, 20))
    perpendicular_tol_deg: float = field(metadata=_rng(0, 90))
    alignment_tol_deg: float = field(metadata=_rng(0, 90))
    arc_deviation_max_mm: float = field(metadata=_rng(0.1, 20))
    stitches_required: int = field(metadata=_rng(1, MAX_STITCHES))
    exit_margin_mm: float = field(metadata=_rng(0, 10))


@dataclass(frozen=True, slots=True)
class FeedbackSpec:
    """Thresholds of the live cues. ``*_release`` values give the hysteresis."""

    approach_mm: float = field(metadata=_rng(0, 100))
    tremor_window_s: float = field(metadata=_rng(0.5, 10))
    steady_tremor_mm: float = field(metadata=_rng(0, 20))
    steady_release_mm: float = field(metadata=_rng(0, 20))
    too_fast_mm_s: float = field(metadata=_rng(1, 1000))
    too_fast_release_mm_s: float = field(metadata=_rng(1, 1000))
    angle_hysteresis_deg: float = field(metadata=_rng(0, 20))
    offset_hysteresis_mm: float = field(metadata=_rng(0, 10))
    min_show_s: float = field(metadata=_rng(0, 10))
    release_s: float = field(metadata=_rng(0, 10))
    # Keys added after schema 1 was first written have defaults, so that scenarios embedded
    # in older recordings still load.
    approach_hysteresis_mm: float = field(default=3.0, metadata=_rng(0, 50))
    move_start_mm: float = field(default=3.0, metadata=_rng(0, 50))
    move_start_deg: float = field(default=5.0, metadata=_rng(0, 90))


@dataclass(frozen=True, slots=True)
class MetricAnchor:
    """Scoring anchor of one metric: value of a typical expert and novice, and weight."""

    name: str
    expert: float = field(metadata=_rng(-ANCHOR_LIMIT, ANCHOR_LIMIT))
    novice: float = field(metadata=_rng(-ANCHOR_LIMIT, ANCHOR_LIMIT))
    weight: float = field(metadata=_rng(0, 100, above=True))
    input_kind: str | None = None
    """None for the base anchor; else the input kind this (merged) anchor applies to."""


@dataclass(frozen=True, slots=True)
class ScoringSpec:
    """How metrics become a score and a pass."""

    pass_score: float = field(metadata=_rng(0, 100))
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

    consecutive_passes: int = field(metadata=_rng(1, 100))
    further_passes: int = field(metadata=_rng(0, 1000))


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario.

    ``content_hash`` is the SHA-256 of the file's bytes, stored in every recording so that
    a recording is always scored against the scenario it was made with.
    """

    schema_version: int
    id: str
    title: str
    task: str
    description: str
    geometry: VenipunctureGeometry | SuturingGeometry
    tolerances: VenipunctureTolerances | SuturingTolerances
    feedback: FeedbackSpec
    scoring: ScoringSpec
    proficiency: ProficiencySpec
    sample_rate_hz: float
    path: str
    content_hash: str

    @property
    def venipuncture(self) -> tuple[VenipunctureGeometry, VenipunctureTolerances]:
        assert isinstance(self.geometry, VenipunctureGeometry)
        assert isinstance(self.tolerances, VenipunctureTolerances)
        return self.geometry, self.tolerances

    @property
    def suturing(self) -> tuple[SuturingGeometry, SuturingTolerances]:
        assert isinstance(self.geometry, SuturingGeometry)
        assert isinstance(self.tolerances, SuturingTolerances)
        return self.geometry, self.tolerances


class _Reader:
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
            if not math.isfinite(result):
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


def _task_types(task: str) -> tuple[type, type]:
    if task == "venipuncture":
        return VenipunctureGeometry, VenipunctureTolerances
    return SuturingGeometry, SuturingTolerances


def parse_scenario(text: bytes, path: str) -> Scenario:
    """Parse and validate scenario file contents; ``path`` is used in error messages."""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{path}: file of {len(text)} bytes is too large (expected at most "
            f"{MAX_FILE_BYTES} bytes of TOML)"
        )
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = text[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{path}: line {line}: not UTF-8 text (expected a TOML scenario file)"
        ) from None
    for no, line_text in enumerate(decoded.splitlines(), start=1):
        if len(line_text) > MAX_LINE_CHARS:
            raise ScenarioError(
                f"{path}: line {no}: {len(line_text)} characters long (expected at most "
                f"{MAX_LINE_CHARS})"
            )
    try:
        data = tomllib.loads(decoded)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: invalid TOML ({exc})") from None
    except RecursionError:
        raise ScenarioError(f"{path}: invalid TOML (nested too deeply)") from None
    r = _Reader(path)
    top = {
        "schema_version": int,
        "id": str,
        "title": str,
        "task": str,
        "description": str,
        "sample_rate_hz": float,
    }
    allowed = set(top) | {"geometry", "tolerances", "feedback", "scoring", "proficiency"}
    for key in data:
        if key not in allowed:
            raise ScenarioError(
                f"{path}: key '{key}': unknown (expected one of: {', '.join(sorted(allowed))})"
            )
    vals: dict[str, Any] = {}
    for key, kind in top.items():
        if key not in data:
            raise ScenarioError(f"{path}: key '{key}': missing")
        vals[key] = r.value(key, data[key], kind, {"min": 1, "max": 1000} if kind is float else {})
    if vals["schema_version"] != SCHEMA_VERSION:
        raise r.fail("schema_version", f"{SCHEMA_VERSION}", vals["schema_version"])
    if vals["task"] not in TASKS:
        raise r.fail("task", "one of " + ", ".join(TASKS), vals["task"])
    geom_cls, tol_cls = _task_types(vals["task"])
    geometry = geom_cls(**r.build(geom_cls, r.table(data, "geometry"), "geometry."))
    tolerances = tol_cls(**r.build(tol_cls, r.table(data, "tolerances"), "tolerances."))
    feedback = FeedbackSpec(**r.build(FeedbackSpec, r.table(data, "feedback"), "feedback."))
    proficiency = ProficiencySpec(
        **r.build(ProficiencySpec, r.table(data, "proficiency"), "proficiency.")
    )
    sc = r.table(data, "scoring")
    score_kwargs = r.build(ScoringSpec, sc, "scoring.", skip=("anchors",), extra=("metrics",))
    known = metrics_for_task(vals["task"])
    metric_tables = r.table(sc, "scoring.metrics")
    anchors: list[MetricAnchor] = []
    input_anchors: list[MetricAnchor] = []
    for name, table in metric_tables.items():
        key = f"scoring.metrics.{name}"
        if name not in known:
            raise ScenarioError(
                f"{path}: key '{key}': unknown metric for task {vals['task']} (expected one "
                f"of: {', '.join(sorted(known))})"
            )
        if not isinstance(table, dict):
            raise r.fail(key, "a table with expert, novice and weight", table)
        base, overrides = _split_anchor_table(r, key, table)
        kw = r.build(MetricAnchor, base, key + ".", skip=("name", "input_kind"))
        anchor = _checked_anchor(r, key, MetricAnchor(name=name, **kw), base)
        anchors.append(anchor)
        for input_kind, sub in overrides.items():
            sub_key = f"{key}.{input_kind}"
            new = _anchor_overrides(r, sub_key, sub)
            merged = MetricAnchor(
                name=name,
                expert=new.get("expert", anchor.expert),
                novice=new.get("novice", anchor.novice),
                weight=new.get("weight", anchor.weight),
                input_kind=input_kind,
            )
            input_anchors.append(_checked_anchor(r, sub_key, merged, sub))
    if not anchors:
        raise ScenarioError(f"{path}: key 'scoring.metrics': expected at least one metric")

    errors = known_error_kinds(vals["task"])
    for i, name in enumerate(score_kwargs["critical_errors"]):
        if name not in errors:
            raise r.fail(
                f"scoring.critical_errors[{i}]", "one of " + ", ".join(sorted(errors)), name
            )
    scoring = ScoringSpec(
        anchors=tuple(anchors), input_anchors=tuple(input_anchors), **score_kwargs
    )
    _cross_check(r, geometry, tolerances, feedback)
    return Scenario(
        geometry=geometry,
        tolerances=tolerances,
        feedback=feedback,
        scoring=scoring,
        proficiency=proficiency,
        path=path,
        content_hash=hashlib.sha256(text).hexdigest(),
        **vals,
    )


_ANCHOR_KEYS = ("expert", "novice", "weight")


def _split_anchor_table(
    r: _Reader, key: str, table: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The base keys of a metric's table, and its per-input-kind sub-tables."""
    base: dict[str, Any] = {}
    overrides: dict[str, dict[str, Any]] = {}
    for k, v in table.items():
        if k in INPUT_KINDS:
            if not isinstance(v, dict):
                raise r.fail(f"{key}.{k}", "a table of anchors for that input kind", v)
            overrides[k] = v
        elif k in _ANCHOR_KEYS:
            base[k] = v
        else:
            raise ScenarioError(
                f"{r.path}: key '{key}.{k}': unknown (expected one of: "
                f"{', '.join(_ANCHOR_KEYS)}, or an input kind: {', '.join(INPUT_KINDS)})"
            )
    return base, overrides


def _anchor_overrides(r: _Reader, key: str, sub: dict[str, Any]) -> dict[str, float]:
    """The keys a per-input-kind anchor table overrides, each checked like the base's."""
    meta = {f.name: f.metadata for f in dataclasses.fields(MetricAnchor)}
    out = {}
    for k, v in sub.items():
        if k not in _ANCHOR_KEYS:
            raise ScenarioError(
                f"{r.path}: key '{key}.{k}': unknown (expected one of: {', '.join(_ANCHOR_KEYS)})"
            )
        out[k] = r.value(f"{key}.{k}", v, float, meta[k])
    return out


def _checked_anchor(
    r: _Reader, key: str, anchor: MetricAnchor, table: dict[str, Any]
) -> MetricAnchor:
    """``anchor`` if its expert and novice values differ (points run between them)."""
    if anchor.expert == anchor.novice:
        bad = "novice" if "novice" in table else "expert"
        raise r.fail(
            f"{key}.{bad}",
            f"a value different from {'expert' if bad == 'novice' else 'novice'}",
            getattr(anchor, bad),
        )
    return anchor


def _cross_check(r: _Reader, geometry: object, tolerances: object, fb: FeedbackSpec) -> None:
    if (
        isinstance(tolerances, VenipunctureTolerances)
        and tolerances.angle_min_deg >= tolerances.angle_max_deg
    ):
        raise r.fail(
            "tolerances.angle_max_deg",
            f"a value above angle_min_deg ({tolerances.angle_min_deg:g})",
            tolerances.angle_max_deg,
        )
    if (
        isinstance(geometry, VenipunctureGeometry)
        and geometry.vein_depth_mm <= geometry.vein_diameter_mm / 2
    ):
        raise r.fail(
            "geometry.vein_depth_mm",
            f"a depth greater than half the vein diameter ({geometry.vein_diameter_mm / 2:g})",
            geometry.vein_depth_mm,
        )
    if isinstance(geometry, VenipunctureGeometry) and (
        geometry.vein_depth_mm + geometry.vein_diameter_mm / 2 >= geometry.arm_radius_mm
    ):
        raise r.fail(
            "geometry.vein_depth_mm",
            f"a depth that keeps the vein inside the arm (radius {geometry.arm_radius_mm:g})",
            geometry.vein_depth_mm,
        )
    if isinstance(geometry, SuturingGeometry):
        half = geometry.wound_length_mm / 2
        planned = geometry.planned_stitch_x_mm
        if not 1 <= len(planned) <= MAX_STITCHES:
            raise ScenarioError(
                f"{r.path}: key 'geometry.planned_stitch_x_mm': expected 1 to {MAX_STITCHES} "
                f"positions, got {len(planned)}"
            )
        for i, x in enumerate(planned):
            if abs(x) > half:
                raise r.fail(
                    f"geometry.planned_stitch_x_mm[{i}]", f"a position within +-{half:g} mm", x
                )
            if i and x <= planned[i - 1]:
                raise r.fail(
                    f"geometry.planned_stitch_x_mm[{i}]",
                    f"positions that increase (after {planned[i - 1]:g})",
                    x,
                )
    if isinstance(geometry, SuturingGeometry) and isinstance(tolerances, SuturingTolerances):
        n = len(geometry.planned_stitch_x_mm)
        if tolerances.stitches_required > n:
            raise r.fail(
                "tolerances.stitches_required",
                f"at most the number of planned stitches ({n})",
                tolerances.stitches_required,
            )
    if fb.steady_release_mm > fb.steady_tremor_mm:
        raise r.fail(
            "feedback.steady_release_mm", "a value at most steady_tremor_mm", fb.steady_release_mm
        )
    if fb.too_fast_release_mm_s > fb.too_fast_mm_s:
        raise r.fail(
            "feedback.too_fast_release_mm_s",
            "a value at most too_fast_mm_s",
            fb.too_fast_release_mm_s,
        )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file."""
    p = Path(path)
    return parse_scenario(read_bytes(p, "scenario file", ScenarioError), str(p))


def scenario_paths(directory: Path = SCENARIO_DIR) -> list[Path]:
    """Scenario files shipped in ``directory``, sorted by name."""
    return sorted(directory.glob("*.toml"))


def find_scenario(name: str, directory: Path = SCENARIO_DIR) -> Scenario:
    """A scenario by id (a file in ``directory``) or by path to a ``.toml`` file."""
    if name.endswith(".toml") or "/" in name:
        return load_scenario(name)
    for p in scenario_paths(directory):
        if p.stem == name:
            return load_scenario(p)
    ids = ", ".join(p.stem for p in scenario_paths(directory))
    raise ScenarioError(f"unknown scenario '{name}' (expected one of: {ids}, or a .toml path)")
