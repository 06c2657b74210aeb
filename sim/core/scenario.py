"""Scenario files: TOML data parsed once into frozen, validated specs.

See ``docs/scenarios.md`` for the format. Every problem is reported as a
:class:`ScenarioError` whose message is one line naming the file, the key and what was
expected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import read_bytes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SCHEMA_VERSION = 1
TASKS = ("venipuncture", "suturing")
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


class ScenarioError(ValueError):
    """A scenario file is missing, unreadable or invalid (one-line message)."""


def _rng(lo: float | None = None, hi: float | None = None) -> dict[str, float | None]:
    return {"min": lo, "max": hi}


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
    stitches_required: int = field(metadata=_rng(1, 50))
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
    expert: float
    novice: float
    weight: float = field(metadata=_rng(0, 100))


@dataclass(frozen=True, slots=True)
class ScoringSpec:
    """How metrics become a score and a pass."""

    pass_score: float = field(metadata=_rng(0, 100))
    critical_errors: tuple[str, ...]
    anchors: tuple[MetricAnchor, ...]

    def anchor(self, name: str) -> MetricAnchor | None:
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
        got_text = "" if got is dataclasses.MISSING else f", got {got!r}"
        return ScenarioError(f"{self.path}: key '{key}': expected {expected}{got_text}")

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            raise ScenarioError(f"{self.path}: key '{key}': missing (expected a table [{key}])")
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return value

    def value(self, key: str, raw: object, kind: Any, meta: Any) -> Any:
        if kind is float:
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise self.fail(key, "a number", raw)
            result: Any = float(raw)
        elif kind is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise self.fail(key, "an integer", raw)
            result = raw
        elif kind is bool:
            if not isinstance(raw, bool):
                raise self.fail(key, "true or false", raw)
            return raw
        elif kind is str:
            if not isinstance(raw, str) or not raw:
                raise self.fail(key, "a non-empty string", raw)
            return raw
        elif typing.get_origin(kind) is tuple:
            inner = typing.get_args(kind)[0]
            if not isinstance(raw, list):
                raise self.fail(key, "a list", raw)
            return tuple(self.value(f"{key}[{i}]", v, inner, {}) for i, v in enumerate(raw))
        else:  # pragma: no cover - programming error
            raise TypeError(kind)
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and result < lo) or (hi is not None and result > hi):
            raise self.fail(key, f"a value between {lo:g} and {hi:g}", raw)
        return result

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
    from sim.metrics.catalog import metrics_for_task

    try:
        data = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text (expected a TOML scenario file)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: invalid TOML ({exc})") from None
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
    anchors = []
    for name, table in metric_tables.items():
        key = f"scoring.metrics.{name}"
        if name not in known:
            raise ScenarioError(
                f"{path}: key '{key}': unknown metric for task {vals['task']} (expected one "
                f"of: {', '.join(sorted(known))})"
            )
        if not isinstance(table, dict):
            raise r.fail(key, "a table with expert, novice and weight", table)
        kw = r.build(MetricAnchor, table, key + ".", skip=("name",))
        if kw["expert"] == kw["novice"]:
            raise r.fail(key + ".novice", "a value different from expert", table["novice"])
        anchors.append(MetricAnchor(name=name, **kw))
    if not anchors:
        raise ScenarioError(f"{path}: key 'scoring.metrics': expected at least one metric")
    from sim.core.tasks import error_kinds_for_task

    errors = error_kinds_for_task(vals["task"])
    for i, name in enumerate(score_kwargs["critical_errors"]):
        if name not in errors:
            raise r.fail(
                f"scoring.critical_errors[{i}]", "one of " + ", ".join(sorted(errors)), name
            )
    scoring = ScoringSpec(anchors=tuple(anchors), **score_kwargs)
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
    if isinstance(geometry, SuturingGeometry):
        half = geometry.wound_length_mm / 2
        for i, x in enumerate(geometry.planned_stitch_x_mm):
            if abs(x) > half:
                raise r.fail(
                    f"geometry.planned_stitch_x_mm[{i}]", f"a position within +-{half:g} mm", x
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
