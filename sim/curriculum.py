"""The curriculum file (TOML, ``docs/curriculum.md``) read into :class:`~sim.core.curriculum.
Curriculum`, and the session store's rows turned into a trainee's history.

Every problem with the file is one line naming the file, the key and what was expected
(:class:`CurriculumError`, exit status 2 from the commands). Each rung's scenario is read from
the scenario files (its title, whether it is a drill and what it trains).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.core.competency import Attempt, SignOffSpec, WarningSpec
from sim.core.curriculum import CASE, DRILL, EXAM, RUNG_KINDS, Curriculum, Ladder, Rung
from sim.core.scenario import Scenario, ScenarioError, SpecReader
from sim.errors import read_bytes
from sim.procedures import registry
from sim.scenarios import SCENARIO_DIR, _read_toml, load_scenario, scenario_paths

if TYPE_CHECKING:
    from sim.lab.store import SessionRow

CURRICULUM_FILE = SCENARIO_DIR / "curriculum.toml"
"""The shipped curriculum (``procsim next`` and the apps use it unless told another)."""
SCHEMA_VERSION = 1

_LADDER_KEYS = ("title", "drill_min_share", "signoff", "warnings", "rungs")
_RUNG_KEYS: dict[str, tuple[Any, dict[str, Any]]] = {
    # key: (type, range metadata for SpecReader.value)
    "id": (str, {}),
    "scenario": (str, {}),
    "kind": (str, {"choices": RUNG_KINDS}),
    "entry_after": (str, {}),
    "entry_passes": (int, {"min": 1, "max": 100}),
    "entry_in_a_row": (bool, {}),
    "entry_min_score": (float, {"min": 0, "max": 100}),
    "fail_drill_after": (int, {"min": 0, "max": 100}),
    "fail_easier_after": (int, {"min": 0, "max": 100}),
    "fail_easier": (str, {}),
    "qualify_passes": (int, {"min": 1, "max": 100}),
    "drill_retries": (int, {"min": 0, "max": 100}),
}
_CASE_ONLY = ("entry_after", "entry_passes", "entry_in_a_row", "entry_min_score",
              "fail_drill_after", "fail_easier_after", "fail_easier")  # fmt: skip
_SIGNOFF: dict[str, dict[str, Any]] = {
    "acceptable_failure": {"min": 0, "max": 1, "above": True},
    "unacceptable_failure": {"min": 0, "max": 1, "above": True},
    "alpha": {"min": 0, "max": 0.5, "above": True},
    "beta": {"min": 0, "max": 0.5, "above": True},
}
_WARNINGS: dict[str, tuple[Any, dict[str, Any]]] = {
    "plateau_sessions": (int, {"min": 2, "max": 1000}),
    "decay_days": (float, {"min": 1, "max": 3650}),
    "repeated_critical": (int, {"min": 1, "max": 1000}),
}


class CurriculumError(ScenarioError):
    """A curriculum file is missing, unreadable or invalid (one-line message)."""


def _fail(r: SpecReader, key: str, expected: str, got: object = None) -> CurriculumError:
    return CurriculumError(
        str(r.fail(key, expected, got) if got is not None else r.fail(key, expected))
    )


def _value(r: SpecReader, key: str, raw: object, kind: Any, meta: dict[str, Any]) -> Any:
    try:
        return r.value(key, raw, kind, meta)
    except ScenarioError as exc:
        raise CurriculumError(str(exc)) from None


def _table(r: SpecReader, data: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    if name not in data:
        raise CurriculumError(f"{r.path}: key '{key}': missing (expected a table [{key}])")
    if not isinstance(data[name], dict):
        raise _fail(r, key, "a table", data[name])
    return dict(data[name])


def _unknown(r: SpecReader, table: dict[str, Any], prefix: str, allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    for key in table:
        if key not in allowed:
            raise CurriculumError(
                f"{r.path}: key '{prefix}{key}': unknown (expected one of: {', '.join(allowed)})"
            )


def _scenarios(directory: Path) -> dict[str, Scenario]:
    """The valid scenarios in ``directory`` by id (invalid ones are `scenarios check`'s)."""
    out = {}
    for p in scenario_paths(directory):
        try:
            sc = load_scenario(p)
        except ScenarioError:
            continue
        out[sc.id] = sc
    return out


def parse_curriculum(
    text: bytes, path: str, scenarios: dict[str, Scenario] | None = None
) -> Curriculum:
    """Parse and validate a curriculum file's contents (``path`` names it in errors).

    Parameters
    ----------
    text : bytes
        The file's contents.
    path : str
        The file's name, for the messages.
    scenarios : dict of str to Scenario, optional
        The scenarios rungs may name, by id (default: the shipped ones).

    Returns
    -------
    Curriculum
    """
    try:
        data = _read_toml(text, path, "curriculum file")
    except ScenarioError as exc:
        raise CurriculumError(str(exc)) from None
    if scenarios is None:
        scenarios = _scenarios(SCENARIO_DIR)
    r = SpecReader(path)
    tasks = registry.ids()
    if "schema_version" not in data:
        raise CurriculumError(f"{path}: key 'schema_version': missing")
    if _value(r, "schema_version", data["schema_version"], int, {}) != SCHEMA_VERSION:
        raise _fail(r, "schema_version", str(SCHEMA_VERSION), data["schema_version"])
    _unknown(r, data, "", ("schema_version", *tasks))
    ladders = [_ladder(r, task, data[task], scenarios) for task in data if task in tasks]
    if not ladders:
        raise CurriculumError(
            f"{path}: no procedure (expected one or more tables named by procedure: "
            f"{', '.join(tasks)})"
        )
    return Curriculum(tuple(ladders), path)


def _ladder(r: SpecReader, task: str, raw: object, scenarios: dict[str, Scenario]) -> Ladder:
    if not isinstance(raw, dict):
        raise _fail(r, task, "a table", raw)
    _unknown(r, raw, f"{task}.", _LADDER_KEYS)
    title = _value(r, f"{task}.title", raw.get("title", task), str, {})
    # absent: 0, a drill after every failure (what files written before the key meant)
    min_share = _value(
        r, f"{task}.drill_min_share", raw.get("drill_min_share", 0.0), float, {"min": 0, "max": 1}
    )
    so = _table(r, raw, f"{task}.signoff", "signoff")
    _unknown(r, so, f"{task}.signoff.", _SIGNOFF)
    so_vals = {}
    for key, meta in _SIGNOFF.items():
        if key not in so:
            raise CurriculumError(f"{r.path}: key '{task}.signoff.{key}': missing")
        so_vals[key] = _value(r, f"{task}.signoff.{key}", so[key], float, meta)
    if so_vals["unacceptable_failure"] <= so_vals["acceptable_failure"]:
        raise _fail(
            r, f"{task}.signoff.unacceptable_failure",
            "a rate above acceptable_failure", so_vals["unacceptable_failure"],
        )  # fmt: skip
    wa = _table(r, raw, f"{task}.warnings", "warnings")
    _unknown(r, wa, f"{task}.warnings.", _WARNINGS)
    wa_vals = {}
    for key, (kind, meta) in _WARNINGS.items():
        if key not in wa:
            raise CurriculumError(f"{r.path}: key '{task}.warnings.{key}': missing")
        wa_vals[key] = _value(r, f"{task}.warnings.{key}", wa[key], kind, meta)
    rungs_raw = raw.get("rungs")
    if not isinstance(rungs_raw, list) or not rungs_raw:
        raise _fail(r, f"{task}.rungs", "one or more [[" + task + ".rungs]] tables", rungs_raw)
    proc = registry.get(task)
    rungs: list[Rung] = []
    for i, rr in enumerate(rungs_raw):
        rungs.append(_rung(r, _rung_key(task, i, rr), rr, task, scenarios, rungs))
    cases = [x for x in rungs if x.kind != DRILL]
    exams = [x for x in rungs if x.kind == EXAM]
    if len(exams) != 1 or cases[-1].kind != EXAM:
        raise _fail(
            r, f"{task}.rungs", "exactly one rung of kind \"exam\", after every case",
            f"{len(exams)} exam rungs",
        )  # fmt: skip
    # the first case has no entry rule; easier cases exist and come earlier
    ids = [x.id for x in rungs]
    for i, x in enumerate(rungs):
        key = _rung_key(task, i, {"id": x.id})
        if x.fail_easier is not None:
            e = next((y for y in rungs if y.id == x.fail_easier), None)
            if e is None or e.kind != CASE or ids.index(e.id) >= i:
                raise _fail(
                    r, f"{key}.fail_easier", "the id of an earlier case rung", x.fail_easier
                )
    infos = registry.metrics_of(proc)
    labels = {name: mi.label for name, mi in infos.items()}
    return Ladder(
        task=task,
        title=title,
        rungs=tuple(rungs),
        signoff=SignOffSpec(**so_vals),
        warnings=WarningSpec(**wa_vals),
        labels=labels,
        drill_min_share=min_share,
        needs={name: mi.needs for name, mi in infos.items()},
    )


def _rung_key(task: str, index: int, raw: object) -> str:
    """How a rung is named in messages: by its 1-based position in the ladder and its id,
    e.g. ``venipuncture rung 5 (elderly)`` (the position alone when it has no id)."""
    rid = raw.get("id") if isinstance(raw, dict) else None
    return f"{task} rung {index + 1}" + (f" ({rid})" if isinstance(rid, str) and rid else "")


def _rung(
    r: SpecReader, key: str, raw: object, task: str, scenarios: dict[str, Scenario],
    before: list[Rung],
) -> Rung:  # fmt: skip
    if not isinstance(raw, dict):
        raise _fail(r, key, "a table", raw)
    _unknown(r, raw, f"{key}.", _RUNG_KEYS)
    for need in ("id", "scenario", "kind"):
        if need not in raw:
            raise CurriculumError(f"{r.path}: key '{key}.{need}': missing")
    vals = {k: _value(r, f"{key}.{k}", v, *_RUNG_KEYS[k]) for k, v in raw.items()}
    kind = vals["kind"]
    if any(x.id == vals["id"] for x in before):
        raise _fail(r, f"{key}.id", "an id no other rung of the ladder has", vals["id"])
    sc = scenarios.get(vals["scenario"])
    if sc is None:
        raise _fail(r, f"{key}.scenario", "the id of a scenario in scenarios/", vals["scenario"])
    if sc.task != task:
        raise CurriculumError(
            f"{r.path}: key '{key}.scenario': expected a scenario of task {task}, got "
            f"'{sc.id}', a scenario of task {sc.task}"
        )
    if any(x.scenario == sc.id for x in before):
        raise _fail(r, f"{key}.scenario", "a scenario no other rung of the ladder plays", sc.id)
    drill = getattr(sc, "drill", None)
    if (kind == DRILL) != (drill is not None):
        want = (
            "a drill scenario (with [drill])" if kind == DRILL else "a full scenario (no [drill])"
        )
        raise _fail(r, f"{key}.scenario", f'{want} for kind "{kind}"', sc.id)
    if kind == DRILL:
        bad = [k for k in raw if k in (*_CASE_ONLY, "qualify_passes")]
    elif kind == EXAM:
        bad = [k for k in raw if k == "drill_retries"]
    else:
        bad = [k for k in raw if k in ("qualify_passes", "drill_retries")]
    if bad:
        raise CurriculumError(f"{r.path}: key '{key}.{bad[0]}': not a key of a {kind} rung")
    cases_before = [x for x in before if x.kind != DRILL]
    if kind != DRILL:
        if cases_before and "entry_after" not in vals:
            vals["entry_after"] = cases_before[-1].id
        after = vals.get("entry_after")
        if not cases_before and after is not None:
            raise _fail(r, f"{key}.entry_after", "no entry rule on the first case", after)
        if after is not None and after not in [x.id for x in cases_before]:
            raise _fail(r, f"{key}.entry_after", "the id of an earlier case rung", after)
        if "fail_easier" not in vals:
            easier = [x for x in cases_before if x.kind == CASE]
            vals["fail_easier"] = easier[-1].id if easier else None
    targets = tuple(drill.targets) if drill is not None else ()
    return Rung(title=sc.title, targets=targets, **vals)


def load_curriculum(path: Path | None = None, scenario_dir: Path | None = None) -> Curriculum:
    """Read and validate a curriculum file.

    Parameters
    ----------
    path : Path, optional
        The file (default: the shipped ``scenarios/curriculum.toml``).
    scenario_dir : Path, optional
        Where the scenarios the rungs name are (default: the shipped ``scenarios/``).

    Returns
    -------
    Curriculum
    """
    p = Path(path) if path is not None else CURRICULUM_FILE
    text = read_bytes(p, "curriculum file", CurriculumError)
    return parse_curriculum(text, str(p), _scenarios(scenario_dir or SCENARIO_DIR))


def points_lost(row: SessionRow) -> dict[str, float]:
    """What each scored metric cost a stored session's score, in points against 100: its
    weight's share times the points it missed (``weight * (100 - points) / sum of weights``,
    as :func:`sim.metrics.scoring.score` weighs them), so the losses of a session add up
    to 100 minus its score (to rounding). Metrics without points or weight cost nothing."""
    scored = [
        m for m in row.metrics
        if m.points is not None and m.weight > 0 and math.isfinite(m.points)
    ]  # fmt: skip
    total_w = sum(m.weight for m in scored)
    if total_w <= 0:
        return {}
    return {m.name: m.weight * (100.0 - float(m.points or 0.0)) / total_w for m in scored}


def session_order(row: SessionRow) -> tuple[object, ...]:
    """The one order of a trainee's sessions (oldest first): by start time, then end time,
    then id, as the store lists them; ``procsim next``, ``progress`` and the report use it."""
    return (row.started_utc, row.ended_utc, row.id)


def attempts_from_rows(
    rows: Iterable[SessionRow], scenarios: dict[str, Scenario] | None = None
) -> list[Attempt]:
    """A trainee's history from their stored sessions: one :class:`Attempt` per session
    that counts (complete, not empty), in the order they started (the store's listing
    order: start time, then end time, then id). Simulated or imported recordings can
    overlap (a long drill that ends after the next case started); the session started last
    is the trainee's last session.

    Parameters
    ----------
    rows : iterable of SessionRow
        Stored sessions (any order).
    scenarios : dict of str to Scenario, optional
        Scenarios by id, for each session's procedure and whether it is a drill (default:
        the shipped ones). A session of a scenario not among them keeps the procedure its
        id starts with, or its id, and is not a drill.

    Returns
    -------
    list of Attempt
    """
    if scenarios is None:
        scenarios = _scenarios(SCENARIO_DIR)
    tasks = registry.ids()
    out = []
    for row in sorted(rows, key=session_order):
        if not row.counts:
            continue
        sc = scenarios.get(row.scenario)
        if sc is not None:
            task, drill = sc.task, getattr(sc, "drill", None) is not None
        else:
            task = next((t for t in tasks if row.scenario.startswith(t)), row.scenario)
            drill = False
        out.append(
            Attempt(
                scenario=row.scenario,
                task=task,
                ended_utc=row.ended_utc,
                score=row.score,
                passed=row.passed,
                critical_errors=tuple(row.critical_errors),
                points_lost=points_lost(row),
                drill=drill,
                input_kind=row.input_kind,
                exam=row.exam,
            )
        )
    return out
