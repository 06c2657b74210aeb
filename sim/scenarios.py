"""Scenario files: TOML read once into a validated :class:`~sim.core.scenario.Scenario`.

The shared tables (``[feedback]``, ``[scoring]``, ``[proficiency]``) are read here; the
``task`` names the procedure (:mod:`sim.procedures.registry`) whose types read
``[geometry]`` and ``[tolerances]`` and whose checks and metric and error names apply. See
``docs/scenarios.md`` for the format. Every problem is one line naming the file, the key and
what was expected (:class:`~sim.core.scenario.ScenarioError`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from pathlib import Path
from typing import Any

from sim.core.assist import DepthAssist
from sim.core.checklist import STEPS, ChecklistSpec
from sim.core.patient import PatientSpec
from sim.core.scenario import (
    INPUT_KINDS,
    MAX_FILE_BYTES,
    MAX_LINE_CHARS,
    SCHEMA_VERSION,
    TRACKED_INPUTS,
    DepthSpec,
    DrillSpec,
    FeedbackSpec,
    MetricAnchor,
    PatientCase,
    ProficiencySpec,
    Scenario,
    ScenarioError,
    ScoringSpec,
    SpecReader,
)
from sim.errors import read_bytes
from sim.procedures import registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
CASE_DIR = SCENARIO_DIR / "cases"
"""The shipped patient cases (``docs/scenarios.md``, "Patient cases")."""
PATIENT_KEYS = (
    "arm_radius_mm",
    "arm_length_mm",
    "vein_depth_mm",
    "vein_diameter_mm",
    "vein_lateral_mm",
    "vein_visibility",
)
"""The ``[geometry]`` keys a patient case may set: the patient's arm and vein."""
DEFAULT_PATIENT = "healthy-adult"
"""The case a scenario that names none stands for: its own ``[geometry]`` is a healthy
adult's (the case is not applied, so such scenarios and their recordings are unchanged)."""
_CASE_TOP = {"title": str, "description": str, "difficulty": int}


def takes_patient(geometry_cls: Any) -> bool:
    """Whether a procedure's ``[geometry]`` type has a patient's arm and vein."""
    names = {f.name for f in dataclasses.fields(geometry_cls)}
    return set(PATIENT_KEYS) <= names


def case_ids(directory: Path = CASE_DIR) -> list[str]:
    """The patient cases in ``directory``, sorted."""
    return sorted(p.stem for p in directory.glob("*.toml"))


def patient_of(scenario: Scenario, directory: Path = CASE_DIR) -> PatientCase | None:
    """The patient case ``scenario`` names, or the default case for a procedure with a
    patient whose scenario names none (its own geometry stands for that case); None for a
    procedure without a patient."""
    if scenario.patient is not None:
        return scenario.patient
    geom_cls = registry.get(scenario.task).geometry
    return load_case(DEFAULT_PATIENT, geom_cls, directory) if takes_patient(geom_cls) else None


def embedded_case(header: Any, key: str = "patient_toml") -> bytes | None:
    """The patient case text a recording's header embeds beside its scenario (``patient_toml``,
    written when the scenario named a case; ``default_patient_toml``, the default case whose
    condition a scenario naming none had); None when it has none."""
    text = header.get(key) if isinstance(header, dict) else None
    return text.encode("utf-8") if isinstance(text, str) and text else None


def embedded_cases(header: Any) -> tuple[bytes | None, bytes | None]:
    """The case texts a recording's header embeds: the named case's and the default
    case's (``parse_scenario``'s ``case_text`` and ``default_case_text``)."""
    return embedded_case(header), embedded_case(header, "default_patient_toml")


def _case_path(r: SpecReader, name: str, directory: Path) -> Path:
    """The file of case ``name``; one line listing the cases when there is none."""
    path = directory / f"{name}.toml"
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise ScenarioError(
            f"{r.path}: key 'patient': unknown patient case '{name}' (expected one of: "
            f"{', '.join(case_ids(directory))}; files in {directory})"
        )
    return path


def parse_case(text: bytes, path: str, case_id: str, geometry_cls: Any) -> PatientCase:
    """Parse and validate a patient case file for a procedure whose ``[geometry]`` type is
    ``geometry_cls``: each value within that type's range, one line naming the file and the
    key otherwise."""
    data = _read_toml(text, path, "patient case file")
    r = SpecReader(path)
    for key in data:
        if key not in (*_CASE_TOP, "geometry", "patient"):
            raise ScenarioError(
                f"{path}: key '{key}': unknown (expected one of: "
                f"{', '.join([*_CASE_TOP, 'geometry', 'patient'])})"
            )
    vals: dict[str, Any] = {}
    for key, kind in _CASE_TOP.items():
        if key not in data:
            raise ScenarioError(f"{path}: key '{key}': missing")
        meta = {"min": 1, "max": 5} if kind is int else {}
        vals[key] = r.value(key, data[key], kind, meta)
    table = r.table(data, "geometry")
    fields = {f.name: f.metadata for f in dataclasses.fields(geometry_cls)}
    anatomy = []
    for key, raw in table.items():
        if key not in PATIENT_KEYS:
            raise ScenarioError(
                f"{path}: key 'geometry.{key}': unknown (expected one of: "
                f"{', '.join(PATIENT_KEYS)})"
            )
        anatomy.append((key, float(r.value(f"geometry.{key}", raw, float, fields[key]))))
    if not anatomy:
        raise ScenarioError(
            f"{path}: key 'geometry': empty (expected one or more of: {', '.join(PATIENT_KEYS)})"
        )
    condition = PatientSpec(**r.build(PatientSpec, r.table(data, "patient"), "patient."))
    return PatientCase(
        id=case_id,
        anatomy=tuple(anatomy),
        text=text.decode("utf-8"),
        condition=condition,
        **vals,
    )


def load_case(name: str, geometry_cls: Any, directory: Path = CASE_DIR) -> PatientCase:
    """Read and validate one patient case by id (its file in ``directory``)."""
    path = _case_path(SpecReader(str(directory)), name, directory)
    return parse_case(
        read_bytes(path, "patient case file", ScenarioError), str(path), name, geometry_cls
    )


def _read_toml(text: bytes, path: str, what: str) -> dict[str, Any]:
    """The TOML table of a file's bytes, after the size, UTF-8 and line-length checks."""
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
            f"{path}: line {line}: not UTF-8 text (expected a TOML {what})"
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
    return data


def parse_scenario(
    text: bytes,
    path: str,
    case_text: bytes | None = None,
    case_dir: Path | None = None,
    default_case_text: bytes | None = None,
) -> Scenario:
    """Parse and validate scenario file contents; ``path`` is used in error messages.

    A scenario that names a patient case (``patient = "ID"``) reads ``case_dir / ID.toml``
    (default ``scenarios/cases/``), or ``case_text`` when given (the case text a recording
    embedded), and the case's values replace the scenario's ``[geometry]`` keys. A scenario
    of a procedure with a patient that names none has the default case's condition
    (:data:`DEFAULT_PATIENT`, or ``default_case_text`` when given: the text a recording
    embedded), not its anatomy; neither changes its ``content_hash``.
    """
    data = _read_toml(text, path, "scenario file")
    r = SpecReader(path)
    top = {
        "schema_version": int,
        "id": str,
        "title": str,
        "task": str,
        "description": str,
        "sample_rate_hz": float,
    }
    allowed = set(top) | {
        "patient",
        "geometry",
        "tolerances",
        "feedback",
        "scoring",
        "proficiency",
        "input",
        "checklist",
        "drill",
    }
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
    try:
        proc = registry.get(vals["task"])
    except registry.UnknownProcedure:
        raise r.fail("task", "one of " + ", ".join(registry.ids()), vals["task"]) from None
    geom_cls, tol_cls = proc.geometry, proc.tolerances
    geometry_table = r.table(data, "geometry")
    patient: PatientCase | None = None
    content_hash = hashlib.sha256(text)
    check_reader = r
    if "patient" in data:
        name = r.value("patient", data["patient"], str, {})
        if not takes_patient(geom_cls):
            raise r.fail("patient", f"no patient key (task {vals['task']} has no patient)", name)
        directory = CASE_DIR if case_dir is None else case_dir
        if case_text is None:
            case_path = _case_path(r, name, directory)
            case_text = read_bytes(case_path, "patient case file", ScenarioError)
            case_label = str(case_path)
        else:
            case_label = f"{path} (embedded patient case {name})"
        patient = parse_case(case_text, case_label, name, geom_cls)
        geometry_table = {**geometry_table, **dict(patient.anatomy)}
        content_hash.update(b"\0patient case\0" + case_text)
        check_reader = SpecReader(f"{path} with patient case {case_label}")
    default_patient = None
    if patient is None and takes_patient(geom_cls):
        default_patient = _default_case(geom_cls, case_dir, default_case_text, path)
    geometry = geom_cls(**r.build(geom_cls, geometry_table, "geometry."))
    tolerances = tol_cls(**r.build(tol_cls, r.table(data, "tolerances"), "tolerances."))
    feedback = FeedbackSpec(**r.build(FeedbackSpec, r.table(data, "feedback"), "feedback."))
    proficiency = ProficiencySpec(
        **r.build(ProficiencySpec, r.table(data, "proficiency"), "proficiency.")
    )
    sc = r.table(data, "scoring")
    score_kwargs = r.build(ScoringSpec, sc, "scoring.", skip=("anchors",), extra=("metrics",))
    known = registry.metrics_of(proc)
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
                resolution=new.get("resolution", anchor.resolution),
            )
            input_anchors.append(_checked_anchor(r, sub_key, merged, sub))
    if not anchors:
        raise ScenarioError(f"{path}: key 'scoring.metrics': expected at least one metric")

    errors = proc.known_error_kinds()
    for i, name in enumerate(score_kwargs["critical_errors"]):
        if name not in errors:
            raise r.fail(
                f"scoring.critical_errors[{i}]", "one of " + ", ".join(sorted(errors)), name
            )
    scoring = ScoringSpec(
        anchors=tuple(anchors), input_anchors=tuple(input_anchors), **score_kwargs
    )
    proc.check(check_reader, geometry, tolerances)
    _check_feedback(r, feedback)
    inputs = _inputs(r, data, proc)
    checklist = _checklist(r, data, proc)
    drill = _drill(r, data, proc, scoring)
    return Scenario(
        drill=drill,
        checklist=checklist,
        inputs=inputs,
        geometry=geometry,
        tolerances=tolerances,
        feedback=feedback,
        scoring=scoring,
        proficiency=proficiency,
        path=path,
        content_hash=content_hash.hexdigest(),
        patient=patient,
        default_patient=default_patient,
        **vals,
    )


def _default_case(
    geom_cls: Any, case_dir: Path | None, text: bytes | None, path: str
) -> PatientCase:
    """The default patient case (its condition) of a scenario naming none: ``text`` (as a
    recording embedded it), else the file in ``case_dir`` (when it has one), else the
    shipped one."""
    if text is not None:
        label = f"{path} (embedded default patient case {DEFAULT_PATIENT})"
        return parse_case(text, label, DEFAULT_PATIENT, geom_cls)
    directory = case_dir if case_dir is not None else CASE_DIR
    if not (directory / f"{DEFAULT_PATIENT}.toml").is_file():
        directory = CASE_DIR
    return load_case(DEFAULT_PATIENT, geom_cls, directory)


def _inputs(r: SpecReader, data: dict[str, Any], proc: Any) -> tuple[tuple[str, DepthSpec], ...]:
    """The ``[input.KIND]`` tables; snapping needs a procedure with a line to snap to."""
    table = data.get("input")
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise r.fail("input", "a table of [input.webcam] / [input.video] tables", table)
    out = []
    for kind, sub in table.items():
        key = f"input.{kind}"
        if kind not in TRACKED_INPUTS:
            raise ScenarioError(
                f"{r.path}: key '{key}': unknown (expected one of: {', '.join(TRACKED_INPUTS)})"
            )
        if not isinstance(sub, dict):
            raise r.fail(key, "a table", sub)
        spec = DepthSpec(**r.build(DepthSpec, sub, key + "."))
        if spec.depth != "camera" and proc.aim_across_mm is None:
            raise r.fail(
                f"{key}.depth",
                f'"camera" (task {proc.id} has no line across to snap to)',
                spec.depth,
            )
        out.append((kind, spec))
    return tuple(out)


def _drill(
    r: SpecReader, data: dict[str, Any], proc: Any, scoring: ScoringSpec
) -> DrillSpec | None:
    """The ``[drill]`` table (None: a full scenario). Each target is a metric of the
    procedure scored in ``[scoring.metrics]``, each once; a drill scores its targets alone,
    so every scored metric is a target."""
    if "drill" not in data:
        return None
    spec = DrillSpec(**r.build(DrillSpec, r.table(data, "drill"), "drill."))
    if not spec.targets:
        raise r.fail("drill.targets", "at least one metric the drill trains", [])
    known = registry.metrics_of(proc)
    scored = [a.name for a in scoring.anchors]
    for i, name in enumerate(spec.targets):
        key = f"drill.targets[{i}]"
        if name not in known:
            raise r.fail(key, f"a metric of task {proc.id} ({', '.join(sorted(known))})", name)
        if name not in scored:
            raise r.fail(
                key,
                f"a metric scored in [scoring.metrics] ({', '.join(scored)}); add "
                f"[scoring.metrics.{name}]",
                name,
            )
        if name in spec.targets[:i]:
            raise r.fail(key, "each metric once", name)
    for name in scored:
        if name not in spec.targets:
            raise r.fail(
                f"scoring.metrics.{name}",
                "only the drill's targets scored (" + ", ".join(spec.targets) + "): a drill "
                "is scored on what it trains; remove it or add it to drill.targets",
            )
    return spec


def _checklist(r: SpecReader, data: dict[str, Any], proc: Any) -> ChecklistSpec | None:
    """The ``[checklist]`` table (None when the scenario has none): its steps and the
    procedure's milestones in order, each named once; critical steps among its steps."""
    if "checklist" not in data:
        return None
    table = r.table(data, "checklist")
    spec = ChecklistSpec(**r.build(ChecklistSpec, table, "checklist."))
    known = [*STEPS, *proc.milestones]
    seen: set[str] = set()
    for i, item in enumerate(spec.order):
        if item not in known:
            raise r.fail(
                f"checklist.order[{i}]",
                f"a step ({', '.join(STEPS)}) or a milestone of task {proc.id} ("
                + (", ".join(proc.milestones) or "none")
                + ")",
                item,
            )
        if item in seen:
            raise r.fail(f"checklist.order[{i}]", "each step or milestone once", item)
        seen.add(item)
    if not spec.steps:
        raise r.fail("checklist.order", "at least one step (" + ", ".join(STEPS) + ")")
    for i, item in enumerate(spec.critical):
        if item not in spec.steps:
            raise r.fail(
                f"checklist.critical[{i}]",
                "one of the steps in checklist.order (" + ", ".join(spec.steps) + ")",
                item,
            )
    return spec


def depth_assist(scenario: Scenario, input_kind: str) -> DepthAssist:
    """The depth assist a tracked input of ``input_kind`` uses in ``scenario``."""
    spec = scenario.depth_spec(input_kind)
    if spec.depth == "camera":
        return DepthAssist()
    line = registry.get(scenario.task).aim_across_mm
    assert line is not None  # checked when the scenario was read
    return DepthAssist(spec.depth, line(scenario), spec.depth_snap_mm)


_ANCHOR_KEYS = ("expert", "novice", "weight", "resolution")


def _split_anchor_table(
    r: SpecReader, key: str, table: dict[str, Any]
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


def _anchor_overrides(r: SpecReader, key: str, sub: dict[str, Any]) -> dict[str, float]:
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
    r: SpecReader, key: str, anchor: MetricAnchor, table: dict[str, Any]
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


def _check_feedback(r: SpecReader, fb: FeedbackSpec) -> None:
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
    """Scenario files shipped in ``directory``, sorted by name (not the curriculum,
    ``curriculum.toml``, which lives beside them: ``docs/curriculum.md``)."""
    return sorted(p for p in directory.glob("*.toml") if p.name != "curriculum.toml")


def find_scenario(name: str, directory: Path = SCENARIO_DIR) -> Scenario:
    """A scenario by id (a file in ``directory``) or by path to a ``.toml`` file."""
    if name.endswith(".toml") or "/" in name:
        return load_scenario(name)
    for p in scenario_paths(directory):
        if p.stem == name:
            return load_scenario(p)
    ids = ", ".join(p.stem for p in scenario_paths(directory))
    raise ScenarioError(f"unknown scenario '{name}' (expected one of: {ids}, or a .toml path)")
