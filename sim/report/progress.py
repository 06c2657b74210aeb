"""Competency per trainee and procedure: LC-CUSUM sign-off, relapse and the at-risk list.

``procsim progress --cohort`` prints it for every trainee in the session store; the trainee
report (:mod:`sim.report.trainee`) shows one trainee's. The statistics are in
:mod:`sim.core.competency`; the rates and rule parameters come from the curriculum
(``signoff`` and ``warnings`` of each procedure, :func:`sim.curriculum.load_curriculum`).

Only full cases that count (complete, not empty, not drills) enter the CUSUMs and the
learning curve; drills count as practice and for repeated critical errors.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sim.core.competency import Attempt, CompetencyTrace, Risk, SignOffSpec, risks, track
from sim.lab.store import SessionRow


@dataclass(frozen=True, slots=True)
class ProcedureProgress:
    """One trainee's competency in one procedure.

    Attributes
    ----------
    trainee_id : str
        The trainee.
    display_name : str or None
        Their name as last stored, if any.
    task : str
        Procedure id.
    title : str
        The procedure in words (the curriculum's title, e.g. "IV cannulation").
    sessions : int
        Counted sessions of the procedure (full cases and drills).
    cases : tuple of Attempt
        The counted full cases, oldest first: what the CUSUMs ran over (case n of the
        trace is ``cases[n - 1]``).
    trace : CompetencyTrace
        LC-CUSUM sign-off and relapse CUSUM.
    risks : tuple of Risk
        Why the trainee is at risk in this procedure (empty: not at risk).
    last_utc : datetime.datetime
        When the latest session ended (naive UTC).
    spec : SignOffSpec
        The rates the CUSUMs used (from the curriculum).
    """

    trainee_id: str
    display_name: str | None
    task: str
    title: str
    sessions: int
    cases: tuple[Attempt, ...]
    trace: CompetencyTrace
    risks: tuple[Risk, ...]
    last_utc: dt.datetime
    spec: SignOffSpec

    @property
    def status(self) -> str:
        """``"signed_off"``, ``"relapsed"`` or ``"not_yet"``."""
        if self.trace.signed_off:
            return "signed_off"
        return "relapsed" if self.trace.relapsed else "not_yet"

    def line(self) -> str:
        """The sign-off status in words, with the number of full cases it rests on."""
        n = len(self.cases)
        return f"{self.trace.line()} ({n} full case{'' if n == 1 else 's'})"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; documented in docs/progress.md."""
        t = self.trace
        return {
            "task": self.task,
            "sessions": self.sessions,
            "cases": len(self.cases),
            "last_utc": self.last_utc.isoformat() + "Z",
            "status": self.status,
            "line": self.line(),
            "signed_off_at": list(t.signed_off_at),
            "relapsed_at": list(t.relapsed_at),
            "lc_cusum": t.signoff[-1] if t.signoff else None,
            "signoff_limit": t.signoff_limit.h,
            "relapse_cusum": t.relapse[-1] if t.relapse else None,
            "relapse_limit": t.relapse_limit.h,
            "at_risk": [{"rule": r.rule, "reason": r.reason} for r in self.risks],
        }


def pass_score_of(scenario: str) -> float | None:
    """The pass line of a shipped scenario, or None when it cannot be read."""
    from sim.core.scenario import ScenarioError
    from sim.errors import UserError
    from sim.scenarios import find_scenario

    try:
        return find_scenario(scenario).scoring.pass_score
    except (ScenarioError, UserError, ValueError, OSError):
        return None


def procedure_progress(
    trainee_id: str,
    display_name: str | None,
    attempts: Sequence[Attempt],
    curriculum: Any,
    now_utc: dt.datetime,
    pass_score: Callable[[str], float | None] = pass_score_of,
) -> list[ProcedureProgress]:
    """Per procedure of the curriculum that the trainee practised: sign-off, relapse and
    risks.

    Parameters
    ----------
    trainee_id, display_name : str, str or None
        Who.
    attempts : sequence of Attempt
        The trainee's counted sessions, oldest first (:func:`sim.curriculum.attempts_from_rows`).
    curriculum : Curriculum
        Gives each procedure's ``signoff`` and ``warnings``; procedures it lacks are left out.
    now_utc : datetime.datetime
        Now, naive UTC (for the no-practice reminder).
    pass_score : callable
        Scenario id -> its pass line (None if unknown); the plateau rule uses the latest
        full case's.

    Returns
    -------
    list of ProcedureProgress
        In the curriculum's order of procedures.
    """
    by: dict[str, list[Attempt]] = defaultdict(list)
    for a in attempts:
        by[a.task].append(a)
    out = []
    for task in curriculum.tasks:
        mine = by.get(task)
        if not mine:
            continue
        ladder = curriculum.procedure(task)
        cases = tuple(a for a in mine if not a.drill)
        line = pass_score(cases[-1].scenario) if cases else None
        out.append(
            ProcedureProgress(
                trainee_id=trainee_id,
                display_name=display_name,
                task=task,
                title=ladder.title or task,
                sessions=len(mine),
                cases=cases,
                trace=track([a.passed for a in cases], ladder.signoff),
                risks=tuple(risks(mine, ladder.signoff, ladder.warnings, line, now_utc)),
                last_utc=max(a.ended_utc for a in mine),
                spec=ladder.signoff,
            )
        )
    return out


def cohort_progress(
    rows: Sequence[SessionRow], curriculum: Any, now_utc: dt.datetime
) -> list[ProcedureProgress]:
    """:func:`procedure_progress` of every trainee in ``rows`` (stored sessions), trainees
    in id order."""
    from sim.curriculum import attempts_from_rows

    by: dict[str, list[SessionRow]] = defaultdict(list)
    for r in rows:
        by[r.trainee_id].append(r)
    out: list[ProcedureProgress] = []
    for trainee in sorted(by):
        names = [r.display_name for r in by[trainee] if r.display_name]
        out += procedure_progress(
            trainee,
            names[-1] if names else None,
            attempts_from_rows(by[trainee]),
            curriculum,
            now_utc,
        )
    return out


def cohort_json(
    progress: Sequence[ProcedureProgress], now_utc: dt.datetime, source: str
) -> dict[str, Any]:
    """The ``--json`` answer of ``procsim progress --cohort`` (docs/progress.md)."""
    trainees: dict[str, dict[str, Any]] = {}
    for p in progress:
        t = trainees.setdefault(
            p.trainee_id,
            {"trainee_id": p.trainee_id, "display_name": p.display_name, "procedures": []},
        )
        t["procedures"].append(p.as_dict())
    return {
        "now_utc": now_utc.replace(microsecond=0).isoformat() + "Z",
        "curriculum": source,
        "trainees": list(trainees.values()),
        "at_risk": [
            {"trainee_id": p.trainee_id, "task": r.task, "rule": r.rule, "reason": r.reason}
            for p in progress
            for r in p.risks
        ],
    }


def cohort_words(progress: Sequence[ProcedureProgress], source: str) -> str:
    """``procsim progress --cohort`` in words: each trainee's procedures, then who is at risk
    and why."""
    trainees = sorted({p.trainee_id for p in progress})
    lines = [
        f"Cohort progress: {len(trainees)} trainee{'' if len(trainees) == 1 else 's'} "
        f"(curriculum {source})"
    ]
    last = None
    for p in progress:
        if p.trainee_id != last:
            name = f" ({p.display_name})" if p.display_name else ""
            lines.append(f"{p.trainee_id}{name}")
            last = p.trainee_id
        lines.append(f"  {p.task}: {p.line()}")
    at_risk = [(p, r) for p in progress for r in p.risks]
    if at_risk:
        lines.append(f"At risk ({len(at_risk)}):")
        lines += [f"  {p.trainee_id}, {r.task}: {r.reason}" for p, r in at_risk]
    else:
        lines.append("At risk: nobody.")
    return "\n".join(lines)
