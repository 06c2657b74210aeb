"""A contract checker for procedures, in the spirit of Gymnasium's ``check_env``.

:func:`check_procedure` runs a procedure's task model through the real pipeline with its
scripted trainees and raises :class:`ProcedureCheckError`, naming the procedure and the
broken promise, at the first one that does not hold:

- **determinism**: a scripted trainee gives the same items for the same seed, and the same
  items give the same events, cues, live views (the patient's included) and score, twice;
- **immutable state**: a task state cannot be changed in place;
- **time order**: events come in time order, none later than the item that caused it;
- **errors**: every declared error kind is provoked by its scripted trainee on demand and
  detected, and no event kind outside the declared ones is an error;
- **the patient**: every reaction of its patient (:attr:`Procedure.reactions`) is provoked
  by its scripted trainee on demand, on the scenario given for it (a patient case whose
  condition allows it: a vein that rolls, a fragile wall);
- **metrics**: every catalogue metric of the procedure is in the result, and an expert's
  complete session measures each one it is scored on;
- **skill**: over several seeds experts complete and pass, and expert > intermediate >
  novice in score, seed by seed;
- **the score contract**: the same sessions stopped half-way are incomplete and never pass
  (their score may be above the complete session's: half a session holds fewer of a
  novice's mistakes; what it earns for steps not done is 0, see ``docs/scoring.md``);
- **mirror invariance**: each skill's session of the first seed, as scripted and turned a
  little about the vertical (:data:`MIRROR_YAW_DEG`), mirrored (the same motion from the
  other side, as a left-handed trainee makes it: :func:`mirrored`, across the vertical plane
  along x through z = 0, the limb's axis or the wound's line) on the mirrored scene
  (:attr:`Procedure.mirror`: a vein off the arm's middle, the artery and the nerve on the
  other side) completes and passes as the original did and scores the same within
  :data:`MIRROR_TOLERANCE_POINTS`. No scene depends on the trainee's hand setting (it only
  tells a tracker which real hand drives the needle, :mod:`sim.tracking.pose`), so the scene
  is mirrored here by its geometry, not by a setting.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.core.records import Action, ActionKind, Item, Sample
from sim.core.scenario import Scenario
from sim.metrics.scoring import ScoreResult
from sim.pipeline import Pipeline
from sim.procedures.base import Procedure

MIRROR_TOLERANCE_POINTS = 0.5
"""How far (score points, 0-100) a mirrored session's score may be from the original's
(issue 14: "scores the same within 0.5 points")."""

MIRROR_YAW_DEG = 12.0
"""How far the checker turns a session about the vertical through the site before mirroring
it too (a trainee approaching from a little to one side; our choice: the scripted trainees
approach straight along the limb)."""

Scripted = Callable[..., list[Item]]
"""``scripted(scenario, skill, seed, errors=...) -> items``, e.g.
:func:`sim.sources.scripted.scripted_items`."""


class ProcedureCheckError(AssertionError):
    """A procedure broke its contract (the message says which procedure and how)."""


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What the checker ran: sessions scored and error kinds provoked."""

    procedure: str
    sessions: int
    errors_provoked: tuple[str, ...]
    scores: dict[str, tuple[float, ...]]


def _fail(proc: Procedure[Any, Any], what: str) -> ProcedureCheckError:
    return ProcedureCheckError(f"procedure '{proc.id}': {what}")


def _run(
    proc: Procedure[Any, Any], scenario: Scenario, items: Sequence[Item]
) -> tuple[Pipeline, ScoreResult]:
    p = Pipeline(scenario, procedure=proc)
    p.feed_all(items)
    p.close_cues()
    return p, p.result()


def mirrored(items: Sequence[Item]) -> list[Item]:
    """``items`` as the same motion made from the other side: every sample's tip, axis and
    normal reflected across the vertical plane along x through z = 0 (the limb's axis, the
    wound's line); actions, grip and tracking unchanged."""
    out: list[Item] = []
    for item in items:
        if isinstance(item, Sample):
            (x, y, z), (ax, ay, az), (nx, ny, nz) = item.tip_mm, item.axis, item.normal
            item = dataclasses.replace(
                item, tip_mm=(x, y, -z), axis=(ax, ay, -az), normal=(nx, ny, -nz)
            )
        out.append(item)
    return out


def yawed(items: Sequence[Item], yaw_deg: float, pivot_z_mm: float = 0.0) -> list[Item]:
    """``items`` turned by ``yaw_deg`` about the vertical line through ``(0, 0, pivot_z_mm)``
    (right-handed about y): the same motion approaching the site from a little to one side."""
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))

    def turn(v: tuple[float, float, float], z0: float = 0.0) -> tuple[float, float, float]:
        x, y, z = v[0], v[1], v[2] - z0
        return (c * x + s * z, y, -s * x + c * z + z0)

    out: list[Item] = []
    for item in items:
        if isinstance(item, Sample):
            item = dataclasses.replace(
                item,
                tip_mm=turn(item.tip_mm, pivot_z_mm),
                axis=turn(item.axis),
                normal=turn(item.normal),
            )
        out.append(item)
    return out


def _check_mirror(
    proc: Procedure[Any, Any],
    scenario: Scenario,
    items: Sequence[Item],
    result: ScoreResult,
    what: str,
) -> None:
    """The mirror image of ``items`` (scored ``result`` on ``scenario``) on the mirrored scene
    completes, passes and scores as they did."""
    _, rm = _run(proc, proc.mirror(scenario), mirrored(items))
    if abs(rm.score - result.score) > MIRROR_TOLERANCE_POINTS or (rm.complete, rm.passed) != (
        result.complete,
        result.passed,
    ):
        raise _fail(
            proc,
            f"{what} mirrored (the other hand) scores {rm.score:.2f} (complete {rm.complete}, "
            f"passed {rm.passed}) against {result.score:.2f} (complete {result.complete}, "
            f"passed {result.passed})" + _metric_gaps(result, rm),
        )


def _views(proc: Procedure[Any, Any], scenario: Scenario, items: Sequence[Item]) -> str:
    """The live views of ``items`` (every sample's), as text (NaN equals itself there)."""
    p = Pipeline(scenario, procedure=proc)
    return repr([p.feed(i).view for i in items if isinstance(i, Sample)])


def _check_task(proc: Procedure[Any, Any], scenario: Scenario, items: Sequence[Item]) -> None:
    """Immutable states and events in time order, straight on the task model."""
    task = proc.task(scenario)
    state = task.initial()
    for item in items:
        new, events = task.step(state, item)
        if dataclasses.is_dataclass(state):
            f = dataclasses.fields(state)[0].name
            try:
                setattr(state, f, None)
            except (dataclasses.FrozenInstanceError, AttributeError):
                pass
            else:
                raise _fail(proc, f"its task state can be changed in place ({f})")
        last = -math.inf
        for e in events:
            if e.t_s < last or e.t_s > item.t_s + 1e-9:
                raise _fail(proc, f"event '{e.kind}' at {e.t_s:g} s is out of time order")
            last = e.t_s
        state = new


def _metric_gaps(a: ScoreResult, b: ScoreResult) -> str:
    """The metrics whose values differ between two results, in words (for a failure)."""
    other = {m.name: m for m in b.metrics}
    shown = [
        (m.name, f"{m.value:.3g}", f"{other[m.name].value:.3g}")
        for m in a.metrics
        if m.name in other
    ]
    gaps = [f"{name} {x} vs {y}" for name, x, y in shown if x != y]
    return f"; differing metrics: {', '.join(gaps)}" if gaps else ""


def check_procedure(
    proc: Procedure[Any, Any],
    scenario: Scenario,
    scripted: Scripted,
    seeds: Collection[int] = range(3),
    cases: Mapping[str, Scenario] | None = None,
) -> CheckReport:
    """Check ``proc`` on ``scenario`` with its scripted trainees; see the module notes.

    Parameters
    ----------
    proc : Procedure
        The procedure under test.
    scenario : Scenario
        A scenario of that procedure.
    scripted : callable
        Its scripted trainee: ``scripted(scenario, skill, seed, errors=...) -> items``.
    seeds : collection of int
        Seeds for the skill ordering and the stopped sessions.
    cases : mapping of str to Scenario, optional
        The scenario to provoke each patient reaction on (by its event kind; default
        ``scenario``): a case whose condition allows it.

    Raises
    ------
    ProcedureCheckError
        At the first broken promise.
    """
    if scenario.task != proc.id:
        raise _fail(proc, f"{scenario.path} is a {scenario.task} scenario")
    sessions = 0
    scores: dict[str, list[float]] = {"expert": [], "intermediate": [], "novice": []}
    for seed in seeds:
        for skill in scores:
            items = scripted(scenario, skill, seed)
            if scripted(scenario, skill, seed) != items:
                raise _fail(proc, f"its scripted {skill} gives other items for seed {seed}")
            _check_task(proc, scenario, items)
            a, ra = _run(proc, scenario, items)
            b, rb = _run(proc, scenario, items)
            sessions += 2
            # repr: NaN ("not done") equals itself there
            if repr((a.events, a.cues, ra)) != repr((b.events, b.cues, rb)):
                raise _fail(proc, f"{skill} seed {seed}: the same items gave different results")
            if seed == min(seeds) and _views(proc, scenario, items) != _views(
                proc, scenario, items
            ):
                raise _fail(proc, f"{skill} seed {seed}: the same items gave different views")
            declared = set(proc.error_kinds)
            stray = {e.kind for e in a.events if e.error} - declared
            if stray:
                raise _fail(proc, f"undeclared error kinds {sorted(stray)}")
            names = {m.name for m in ra.metrics}
            missing = [m.name for m in proc.metrics if m.name not in names]
            if missing:
                raise _fail(proc, f"metrics missing from the result: {missing}")
            if skill == "expert":
                if not (ra.complete and ra.passed):
                    raise _fail(proc, f"an expert (seed {seed}) did not complete and pass")
                unmeasured = [m.name for m in ra.metrics if m.status in ("not done", "incomplete")]
                if unmeasured:
                    raise _fail(proc, f"an expert's complete session left {unmeasured} unmeasured")
            scores[skill].append(ra.score)
            if seed == min(seeds):
                # mirrored once per skill (the seeds differ in noise, not in side)
                _check_mirror(proc, scenario, items, ra, f"{skill} seed {seed}")
                sessions += 1
                # approached from a little to one side, so that the needle's own direction
                # (not only its path) has a side to mirror
                pivot = proc.aim_across_mm(scenario) if proc.aim_across_mm else 0.0
                turned = yawed(items, MIRROR_YAW_DEG, pivot)
                _, rt = _run(proc, scenario, turned)
                _check_mirror(proc, scenario, turned, rt, f"{skill} seed {seed} turned")
                sessions += 2
            # the same session stopped half-way: incomplete, never a pass
            end = a.completed_s if a.completed_s is not None else items[-1].t_s
            half = [i for i in items if i.t_s <= end / 2]
            stop = [*half, Action(half[-1].t_s, ActionKind.FINISH)]
            _, rs = _run(proc, scenario, stop)
            sessions += 1
            if rs.complete or rs.passed:
                raise _fail(proc, f"{skill} seed {seed} stopped half-way counts as complete")
    for better, worse in (("expert", "intermediate"), ("intermediate", "novice")):
        for seed, hi, lo in zip(seeds, scores[better], scores[worse]):
            if not hi > lo:
                raise _fail(proc, f"seed {seed}: {better} {hi:.1f} is not above {worse} {lo:.1f}")
    provoked = []
    for kind in proc.error_kinds:
        p, _ = _run(proc, scenario, scripted(scenario, "expert", 0, errors=(kind,)))
        sessions += 1
        if kind not in {e.kind for e in p.events}:
            raise _fail(proc, f"error '{kind}' asked of its scripted trainee was not detected")
        provoked.append(kind)
    for kind in proc.reactions:
        on = (cases or {}).get(kind, scenario)
        p, _ = _run(proc, on, scripted(on, "expert", 0, errors=(kind,)))
        sessions += 1
        if kind not in {e.kind for e in p.events}:
            raise _fail(
                proc, f"patient reaction '{kind}' asked of its scripted trainee did not happen"
            )
        provoked.append(kind)
    return CheckReport(proc.id, sessions, tuple(provoked), {k: tuple(v) for k, v in scores.items()})
