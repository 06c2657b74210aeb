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
  novice's mistakes; what it earns for steps not done is 0, see ``docs/scoring.md``).
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
