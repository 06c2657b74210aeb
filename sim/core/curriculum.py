"""The curriculum: per procedure a ladder of cases and drills, and what to practise next.

Pure and deterministic: no I/O and no clock (callers pass ``now_utc``). The file format is
read by :mod:`sim.curriculum` (``docs/curriculum.md``); this module holds the validated
model and :func:`decide_next`.

How the next session is chosen (one procedure's ladder, the trainee's counted sessions on it,
oldest first):

- The *frontier* is the highest case (or the exam) whose entry rule the history meets: the
  first case is always open; another opens once its ``entry_after`` rung was passed
  ``entry_passes`` times (in a row at the end, when ``entry_in_a_row``), each with at least
  ``entry_min_score``.
- After a pass: the frontier (the next harder case when the pass just opened it, else the
  same case again, or back up from an easier one).
- After a failure on a case: after ``fail_easier_after`` failures of it in a row, the easier
  case ``fail_easier``; else after ``fail_drill_after`` failures in a row, the drill whose
  targets include the metric that lost the most points in the failed session (the next most
  costly metric when no drill trains that one), but only when the failure is concentrated
  there: that metric lost at least the ladder's ``drill_min_share`` of the session's points
  lost, or it lost the most points both in this failure and in the trainee's failed case
  before (a repeated, specific weakness). A failure spread over many metrics gets the same
  case again: the whole procedure is what needs practice.
- After a drill: the same drill again after a failure (at most ``drill_retries`` times in a
  row), else back to the case the trainee was working on.
- Once the exam rung was passed ``qualify_passes`` times in exam mode (a pass with cues
  and guides is practice, not the exam) and until the LC-CUSUM signs the trainee off
  (:func:`sim.core.competency.track` over the procedure's full cases, the same trace
  ``procsim progress`` shows): practice of full cases in rotation, the exam and the harder
  half of the ladder's cases, the one practised least recently first; a failure is
  handled as above. Every reason then says where the LC-CUSUM stands.
- Signed off (the LC-CUSUM's latest event is a sign-off, not a relapse): when ``decay_days``
  have gone by without practice, a refresher on the exam; else maintenance on the case
  practised least recently; a failure is handled as above. A relapse flagged by the relapse
  CUSUM ends the sign-off: back to practice, with the relapse in the reason.

"Signed off" has that one meaning (LC-CUSUM); passing the exam is a step on the way to it.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sim.core.competency import (
    Attempt,
    CompetencyTrace,
    SignOffSpec,
    WarningSpec,
    days_since,
    signoff_weights,
    track,
)
from sim.core.inputs import POSITION, can_measure
from sim.words import plural

CASE, DRILL, EXAM = "case", "drill", "exam"
RUNG_KINDS = (CASE, DRILL, EXAM)
"""The kinds of rung: a full case, a part-task drill, the exam (the ladder's last case)."""

# the kinds of recommendation (Recommendation.kind)
START, ADVANCE, REPEAT, RETURN, REMEDIATE, EASIER, QUALIFY, PRACTISE, MAINTAIN, REFRESH = (
    "start",
    "advance",
    "repeat",
    "return",
    "drill",
    "easier",
    "exam",
    "practice",
    "maintenance",
    "refresher",
)
RECOMMENDATION_KINDS = (
    START,
    ADVANCE,
    REPEAT,
    RETURN,
    REMEDIATE,
    EASIER,
    QUALIFY,
    PRACTISE,
    MAINTAIN,
    REFRESH,
)


@dataclass(frozen=True, slots=True)
class Rung:
    """One rung of a ladder: a scenario and its rules.

    Attributes
    ----------
    id : str
        The rung's name, unique in its ladder.
    scenario : str
        The scenario id played on this rung (each scenario on at most one rung of a ladder).
    kind : str
        "case", "drill" or "exam" (:data:`RUNG_KINDS`).
    title : str
        The scenario's title (what the trainee is told).
    targets : tuple of str
        A drill's target metrics (its scenario's ``[drill] targets``); empty for a case.
    entry_after : str or None
        A case or the exam opens after this rung (a case or exam rung's id); None: always
        open (the first case).
    entry_passes : int
        ...was passed this many times,
    entry_in_a_row : bool
        ...in a row at the end of the trainee's sessions on it (else in all),
    entry_min_score : float
        ...each with at least this score (0-100; 0: the pass alone).
    fail_drill_after : int
        Failures of this case in a row before a remediation drill (0: never).
    fail_easier_after : int
        Failures of this case in a row before the easier case (0: never).
    fail_easier : str or None
        The easier case's rung id (None: no easier case).
    qualify_passes : int
        The exam only: passes of the exam before practice towards sign-off (sign-off itself
        is the LC-CUSUM's).
    drill_retries : int
        A drill only: how many times in a row a failed drill is given again before going
        back to the case.
    """

    id: str
    scenario: str
    kind: str
    title: str
    targets: tuple[str, ...] = ()
    entry_after: str | None = None
    entry_passes: int = 2
    entry_in_a_row: bool = True
    entry_min_score: float = 0.0
    fail_drill_after: int = 1
    fail_easier_after: int = 3
    fail_easier: str | None = None
    qualify_passes: int = 1
    drill_retries: int = 1


@dataclass(frozen=True, slots=True)
class Ladder:
    """One procedure's ladder, sign-off and warning parameters.

    Attributes
    ----------
    task : str
        The procedure id.
    title : str
        The procedure in words ("Venipuncture").
    rungs : tuple of Rung
        In order, easiest case first; drills anywhere (their order is the tie-break between
        drills training the same metric).
    signoff : SignOffSpec
        LC-CUSUM sign-off parameters.
    warnings : WarningSpec
        Early-warning parameters (``decay_days`` also drives refreshers here).
    labels : mapping of str to str
        Metric name -> its label in words ("Angle error"), for the reasons.
    needs : mapping of str to str
        Metric name -> what it needs measured (:attr:`sim.metrics.catalog.MetricInfo.needs`):
        no drill is given for a metric the session's input cannot measure.
    drill_min_share : float
        A failure gets a remediation drill only when the metric the drill trains lost at
        least this share (0-1) of the session's points lost, or was the drill's metric in the
        failure before too (``docs/curriculum.md``); 0: after every failure.
    """

    task: str
    title: str
    rungs: tuple[Rung, ...]
    signoff: SignOffSpec
    warnings: WarningSpec
    labels: Mapping[str, str] = field(default_factory=dict)
    drill_min_share: float = 0.0
    needs: Mapping[str, str] = field(default_factory=dict)

    def rung(self, rung_id: str) -> Rung:
        """The rung named ``rung_id`` (KeyError when there is none)."""
        for r in self.rungs:
            if r.id == rung_id:
                return r
        raise KeyError(rung_id)

    def of_scenario(self, scenario: str) -> Rung | None:
        """The rung that plays ``scenario``, or None."""
        for r in self.rungs:
            if r.scenario == scenario:
                return r
        return None

    @property
    def cases(self) -> tuple[Rung, ...]:
        """The case and exam rungs, in ladder order."""
        return tuple(r for r in self.rungs if r.kind != DRILL)

    @property
    def exam(self) -> Rung:
        """The exam rung (every ladder has exactly one, its last case rung)."""
        return self.cases[-1]


@dataclass(frozen=True, slots=True)
class Curriculum:
    """Every procedure's ladder, in file order, and where it was read from."""

    ladders: tuple[Ladder, ...]
    source: str = ""

    def procedure(self, task: str) -> Ladder:
        """The ladder of procedure ``task`` (KeyError when the curriculum has none)."""
        for lad in self.ladders:
            if lad.task == task:
                return lad
        raise KeyError(task)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(lad.task for lad in self.ladders)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """What to practise next and why.

    Attributes
    ----------
    scenario : str
        The scenario id to play.
    reason : str
        Why, in words a trainee understands.
    kind : str
        One of :data:`RECOMMENDATION_KINDS`.
    task : str
        The procedure.
    rung : str
        The rung's id.
    title : str
        The scenario's title.
    exam : bool
        The session is the exam (play it in exam mode).
    targets : tuple of str
        A drill's target metrics (empty otherwise).
    notes : tuple of str
        Words about the history (sessions not counted here, and why).
    due_utc : datetime.datetime or None
        For a signed-off trainee: when the next practice is due (naive UTC).
    signoff : SignOffStatus or None
        Where the LC-CUSUM sign-off of the procedure stands (None only for a procedure
        without sessions).
    """

    scenario: str
    reason: str
    kind: str
    task: str
    rung: str
    title: str
    exam: bool = False
    targets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    due_utc: datetime.datetime | None = None
    signoff: SignOffStatus | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (``docs/curriculum.md``, "procsim next --json")."""
        return {
            "task": self.task,
            "scenario": self.scenario,
            "title": self.title,
            "rung": self.rung,
            "kind": self.kind,
            "exam": self.exam,
            "targets": list(self.targets),
            "reason": self.reason,
            "notes": list(self.notes),
            "due_utc": self.due_utc.isoformat() + "Z" if self.due_utc else None,
            "signoff": self.signoff.as_dict() if self.signoff else None,
        }


@dataclass(frozen=True, slots=True)
class SignOffStatus:
    """Where a trainee's LC-CUSUM sign-off in one procedure stands (the trace of
    :func:`sim.core.competency.track` over the procedure's full cases, as ``procsim
    progress`` shows it).

    Attributes
    ----------
    status : str
        ``"signed_off"``, ``"relapsed"`` (flagged, back in practice) or ``"not_yet"``.
    sessions : int
        The trainee's counted sessions of the procedure (cases and drills).
    cases : int
        Its counted full cases: what the CUSUMs ran over (drills never count).
    lc_cusum : float or None
        The LC-CUSUM S_n after the latest case; None while the relapse CUSUM runs.
    signoff_limit : float
        Its decision limit h.
    relapse_cusum : float or None
        The relapse CUSUM after the latest case; None while the LC-CUSUM runs.
    relapse_limit : float
        Its decision limit.
    signed_off_at, relapsed_at : tuple of int
        Case numbers (1-based) of each sign-off and each relapse.
    passes_to_signoff : int or None
        Passes in a row that would sign the trainee off from here; None when signed off.
    line : str
        The status in words, as ``procsim progress`` words it.
    """

    status: str
    sessions: int
    cases: int
    lc_cusum: float | None
    signoff_limit: float
    relapse_cusum: float | None
    relapse_limit: float
    signed_off_at: tuple[int, ...]
    relapsed_at: tuple[int, ...]
    passes_to_signoff: int | None
    line: str

    @property
    def signed_off(self) -> bool:
        return self.status == "signed_off"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (``docs/curriculum.md``, the ``signoff`` object of ``next --json``)."""
        return {
            "signed_off": self.signed_off,
            "status": self.status,
            "sessions": self.sessions,
            "cases": self.cases,
            "lc_cusum": self.lc_cusum,
            "signoff_limit": self.signoff_limit,
            "relapse_cusum": self.relapse_cusum,
            "relapse_limit": self.relapse_limit,
            "signed_off_at": list(self.signed_off_at),
            "relapsed_at": list(self.relapsed_at),
            "passes_to_signoff": self.passes_to_signoff,
            "line": self.line,
        }

    def standing(self) -> str:
        """Where the LC-CUSUM stands, short: "LC-CUSUM 2.9 of 3.8: 6 more passes in a row
        sign you off"."""
        s, n = self.lc_cusum or 0.0, self.passes_to_signoff
        more = "1 more pass signs" if n == 1 else f"{n} more passes in a row sign"
        return f"LC-CUSUM {s:.1f} of {self.signoff_limit:.1f}: {more} you off"


def signoff_status(ladder: Ladder, history: Sequence[Attempt]) -> SignOffStatus:
    """The LC-CUSUM sign-off status of ``ladder``'s procedure over ``history``: the full
    cases of the procedure (any scenario; drills never count), through
    :func:`sim.core.competency.track`, the one implementation ``procsim progress`` uses."""
    mine = [a for a in history if a.task == ladder.task]
    full = [a for a in mine if not a.drill]
    trace: CompetencyTrace = track([a.passed for a in full], ladder.signoff)
    lc = trace.signoff[-1] if trace.signoff else None
    rel = trace.relapse[-1] if trace.relapse else None
    status = "signed_off" if trace.signed_off else "relapsed" if trace.relapsed else "not_yet"
    need = None
    if not trace.signed_off:
        w_pass, _ = signoff_weights(ladder.signoff)
        need = max(1, math.ceil((trace.signoff_limit.h - (lc or 0.0)) / w_pass - 1e-9))
    n = len(full)
    return SignOffStatus(
        status=status,
        sessions=len(mine),
        cases=n,
        lc_cusum=lc,
        signoff_limit=trace.signoff_limit.h,
        relapse_cusum=rel,
        relapse_limit=trace.relapse_limit.h,
        signed_off_at=trace.signed_off_at,
        relapsed_at=trace.relapsed_at,
        passes_to_signoff=need,
        line=f"{trace.line()} ({plural(n, 'full case')})",
    )


_TIMES = {1: "once", 2: "twice"}


def _times(n: int) -> str:
    return _TIMES.get(n, f"{n} times")


def _q(title: str) -> str:
    return f"'{title}'"


def _trailing(attempts: Sequence[Attempt], passed: bool) -> int:
    """How many of the last ``attempts`` in a row have ``passed`` equal to this."""
    return _trailing_true([a.passed == passed for a in attempts])


def _trailing_true(flags: Sequence[bool]) -> int:
    """How many of the last ``flags`` in a row are true."""
    n = 0
    for f in reversed(flags):
        if not f:
            break
        n += 1
    return n


def _met(rung: Rung, by_rung: Mapping[str, Sequence[Attempt]]) -> bool:
    """Whether ``rung``'s entry rule was ever met (an open rung stays open)."""
    if rung.entry_after is None:
        return True
    good = [a.passed and a.score >= rung.entry_min_score for a in by_rung.get(rung.entry_after, ())]
    if not rung.entry_in_a_row:
        return sum(good) >= rung.entry_passes
    run = 0
    for ok in good:
        run = run + 1 if ok else 0
        if run >= rung.entry_passes:
            return True
    return False


def _frontier(ladder: Ladder, by_rung: Mapping[str, Sequence[Attempt]]) -> Rung:
    """The highest open case or exam rung (a rung is open when the rung its entry rule
    names is open and the rule is met)."""
    best = ladder.cases[0]
    opened: set[str] = set()
    for r in ladder.cases:
        if r.entry_after is None or (r.entry_after in opened and _met(r, by_rung)):
            opened.add(r.id)
            best = r
    return best


def _lost_words(ladder: Ladder, attempt: Attempt, metric: str) -> str:
    lost = attempt.points_lost.get(metric, 0.0)
    return f"{plural(round(lost), 'point')} on {_label(ladder, metric)}"


def _label(ladder: Ladder, metric: str) -> str:
    """The metric's label in words, lower case ("angle error")."""
    label = ladder.labels.get(metric, metric.replace("_", " "))
    return label[:1].lower() + label[1:]


def _top_loser(attempt: Attempt) -> str | None:
    """The metric that lost ``attempt`` the most points (by name on a tie); None: none lost."""
    costly = [(lost, m) for m, lost in attempt.points_lost.items() if lost > 0]
    return min(costly, key=lambda lm: (-lm[0], lm[1]))[1] if costly else None


def loss_share(attempt: Attempt, metric: str) -> float:
    """The share (0-1) of ``attempt``'s points lost that ``metric`` lost (0 when it lost
    nothing)."""
    total = sum(v for v in attempt.points_lost.values() if v > 0)
    return attempt.points_lost.get(metric, 0.0) / total if total > 0 else 0.0


def _drill_for(ladder: Ladder, attempt: Attempt) -> tuple[Rung, str] | None:
    """The drill aimed at the metric that cost ``attempt`` the most points (the next most
    costly when no drill trains it), with the metric; None when no drill trains any."""
    drills = [r for r in ladder.rungs if r.kind == DRILL]
    costly = sorted(
        ((lost, m) for m, lost in attempt.points_lost.items() if lost > 0),
        key=lambda lm: (-lm[0], lm[1]),
    )
    for _, metric in costly:
        if attempt.input_kind and not can_measure(
            ladder.needs.get(metric, POSITION), attempt.input_kind
        ):
            continue  # the input cannot measure it: no drill for what was not measured
        for d in drills:
            if metric in d.targets:
                return d, metric
    return None


def _rec(
    ladder: Ladder, rung: Rung, kind: str, reason: str, notes: tuple[str, ...], **kw: object
) -> Recommendation:
    return Recommendation(
        scenario=rung.scenario,
        reason=reason,
        kind=kind,
        task=ladder.task,
        rung=rung.id,
        title=rung.title,
        exam=rung.kind == EXAM,
        targets=rung.targets,
        notes=notes,
        **kw,  # type: ignore[arg-type]
    )


def _after_pass(
    ladder: Ladder, last: Attempt, rung: Rung, by_rung: Mapping[str, Sequence[Attempt]],
    notes: tuple[str, ...],
) -> Recommendation:  # fmt: skip
    front = _frontier(ladder, by_rung)
    order = [r.id for r in ladder.cases]
    run = _trailing(by_rung[rung.id], True)
    if front.id == rung.id and rung.kind == EXAM:
        done = _exam_passes(ladder, by_rung)
        if not last.exam:
            return _rec(
                ladder, rung, QUALIFY,
                f"You passed {_q(rung.title)} without exam mode; the exam counts only in exam "
                f"mode ({done} of {rung.qualify_passes} so far): take it in exam mode.",
                notes,
            )  # fmt: skip
        return _rec(
            ladder, rung, QUALIFY,
            f"You passed the exam {_q(rung.title)} in exam mode ({done} of "
            f"{rung.qualify_passes} passes needed): take it again.",
            notes,
        )  # fmt: skip
    if front.id == rung.id:
        nxt = ladder.cases[order.index(rung.id) + 1]
        need = nxt.entry_passes
        more = f"{_times(need)} in a row" if nxt.entry_in_a_row else _times(need)
        if nxt.entry_min_score > 0:
            more += f" with {nxt.entry_min_score:.0f} or more"
        assert nxt.entry_after is not None  # only the first case has no entry rule
        gate = ladder.rung(nxt.entry_after)
        if gate.id != rung.id:
            return _rec(
                ladder, gate, REPEAT,
                f"You passed {_q(rung.title)}; {_q(nxt.title)} opens once you pass "
                f"{_q(gate.title)} {more}.",
                notes,
            )  # fmt: skip
        good = [a.passed and a.score >= nxt.entry_min_score for a in by_rung[rung.id]]
        least = f" with {nxt.entry_min_score:.0f} or more" if nxt.entry_min_score > 0 else ""
        have = _trailing_true(good) if nxt.entry_in_a_row else sum(good)
        return _rec(
            ladder, rung, REPEAT,
            f"You passed {_q(rung.title)} ({have} of the {need} passes"
            f"{' in a row' if nxt.entry_in_a_row else ''}{least} needed): pass it again to "
            "move on "
            f"to {_q(nxt.title)}.",
            notes,
        )  # fmt: skip
    before = {k: (v[:-1] if k == rung.id else v) for k, v in by_rung.items()}
    if _frontier(ladder, before).id != front.id:  # this pass opened it
        kind = QUALIFY if front.kind == EXAM else ADVANCE
        what = "the exam, " if front.kind == EXAM else ""
        said = _times(run) + " in a row" if front.entry_in_a_row else "enough times"
        return _rec(
            ladder, front, kind,
            f"You passed {_q(rung.title)} {said}: next, {what}{_q(front.title)}.",
            notes,
        )  # fmt: skip
    kind = QUALIFY if front.kind == EXAM else RETURN
    where = "back" if by_rung.get(front.id) else "on"
    return _rec(
        ladder, front, kind,
        f"You passed {_q(rung.title)}: {where} to your place on the ladder, {_q(front.title)}.",
        notes,
    )  # fmt: skip


def _after_fail(
    ladder: Ladder, last: Attempt, rung: Rung, by_rung: Mapping[str, Sequence[Attempt]],
    notes: tuple[str, ...], earlier: Attempt | None = None,
) -> Recommendation:  # fmt: skip
    """After a failed case: the easier case, a drill (a failure concentrated in what the drill
    trains, or the same top loser as in ``earlier``, the trainee's failed full case before
    this one), or the same case again."""
    fails = _trailing(by_rung[rung.id], False)
    why = f"{last.score:.0f} points"
    if rung.fail_easier_after and fails >= rung.fail_easier_after and rung.fail_easier:
        easier = ladder.rung(rung.fail_easier)
        return _rec(
            ladder, easier, EASIER,
            f"You did not pass {_q(rung.title)} {_times(fails)} in a row: step back to an "
            f"easier case, {_q(easier.title)}, then try again.",
            notes,
        )  # fmt: skip
    if last.critical_errors:
        # a critical error fails a session whatever its score: that is what to work on, not
        # a drill for whichever metric happened to lose a point or two
        kinds = list(dict.fromkeys(last.critical_errors))
        crit = ", ".join(e.replace("_", " ") for e in kinds)
        what = "A critical error" if len(kinds) == 1 else "Critical errors"
        return _rec(
            ladder, rung, REPEAT,
            f"{what} ({crit}) failed your last session of {_q(rung.title)} (score "
            f"{last.score:.0f}; a critical error fails a session whatever the score): "
            f"try it again and avoid the {crit}.",
            notes,
        )  # fmt: skip
    spread = ""
    if rung.fail_drill_after and fails >= rung.fail_drill_after:
        found = _drill_for(ladder, last)
        if found is not None:
            drill, metric = found
            share = loss_share(last, metric)
            repeated = earlier is not None and _top_loser(earlier) == _top_loser(last) == metric
            if share >= ladder.drill_min_share:
                return _rec(
                    ladder, drill, REMEDIATE,
                    f"Your last session of {_q(rung.title)} lost "
                    f"{_lost_words(ladder, last, metric)}, {100 * share:.0f} % of the points "
                    f"it lost: practise {_q(drill.title)}.",
                    notes,
                )  # fmt: skip
            if repeated:
                return _rec(
                    ladder, drill, REMEDIATE,
                    f"Your last two failed sessions both lost the most on "
                    f"{_label(ladder, metric)} (this one "
                    f"{_lost_words(ladder, last, metric).split(' on ', 1)[0]}): practise "
                    f"{_q(drill.title)}.",
                    notes,
                )  # fmt: skip
            spread = (
                f"; you lost points on many things at once ({_label(ladder, metric)} "
                f"{100 * share:.0f} % of them): the whole procedure again"
            )
    costly = max(last.points_lost.items(), key=lambda kv: (kv[1], kv[0]), default=None)
    focus = ""
    if costly is not None and costly[1] > 0:
        focus = f"; it lost the most on {_lost_words(ladder, last, costly[0]).split(' on ', 1)[1]}"
    if spread:
        return _rec(
            ladder, rung, REPEAT,
            f"You did not pass {_q(rung.title)} ({why}){spread}.",
            notes,
        )  # fmt: skip
    return _rec(
        ladder, rung, REPEAT,
        f"You did not pass {_q(rung.title)} ({why}{focus}): try it again.",
        notes,
    )  # fmt: skip


def _after_drill(
    ladder: Ladder, last: Attempt, drill: Rung, by_rung: Mapping[str, Sequence[Attempt]],
    ours: Sequence[Attempt], notes: tuple[str, ...],
) -> Recommendation:  # fmt: skip
    fails = 0  # failures of this drill since the trainee last played anything else
    for a in reversed(ours):
        if a.scenario != drill.scenario or a.passed:
            break
        fails += 1
    if not last.passed and fails <= drill.drill_retries:
        return _rec(
            ladder, drill, REMEDIATE,
            f"{_q(drill.title)} scored {last.score:.0f}, not yet a pass: once more.",
            notes,
        )  # fmt: skip
    case = next(
        (ladder.of_scenario(a.scenario) for a in reversed(ours) if not a.drill), None
    ) or _frontier(ladder, by_rung)
    if case.kind == DRILL:  # pragma: no cover - attempts on drills are marked drill
        case = _frontier(ladder, by_rung)
    done = "passed" if last.passed else "practised"
    return _rec(
        ladder, case, QUALIFY if case.kind == EXAM else RETURN,
        f"You {done} {_q(drill.title)}: {'back' if by_rung.get(case.id) else 'on'} to "
        f"{_q(case.title)}.",
        notes,
    )  # fmt: skip


def _exam_passes(ladder: Ladder, by_rung: Mapping[str, Sequence[Attempt]]) -> int:
    """Passes of the exam rung that count as the exam: played in exam mode (the curriculum
    gives the exam in exam mode; a pass with cues and guides is practice of the case)."""
    return sum(1 for a in by_rung.get(ladder.exam.id, ()) if a.passed and a.exam)


def _exam_passed(ladder: Ladder, by_rung: Mapping[str, Sequence[Attempt]]) -> bool:
    """Whether the exam rung was passed ``qualify_passes`` times in exam mode."""
    return _exam_passes(ladder, by_rung) >= ladder.exam.qualify_passes


def practice_cases(ladder: Ladder) -> tuple[Rung, ...]:
    """The cases practised between the exam and sign-off: the exam and the harder half of
    the ladder's cases (the exam alone on a one-case ladder)."""
    cases = ladder.cases
    return cases[len(cases) // 2 :]


def _last_time(by_rung: Mapping[str, Sequence[Attempt]], r: Rung) -> datetime.datetime:
    done = by_rung.get(r.id, ())
    return done[-1].ended_utc if done else datetime.datetime.min


def _practise(
    ladder: Ladder, by_rung: Mapping[str, Sequence[Attempt]], st: SignOffStatus,
    notes: tuple[str, ...],
) -> Recommendation:  # fmt: skip
    """After the exam, until sign-off: the practice case practised least recently (never
    first; the harder one on a tie)."""
    pool = list(practice_cases(ladder))
    pick = min(pool, key=lambda r: (_last_time(by_rung, r), -pool.index(r)))
    if st.status == "relapsed":
        where = f"Relapse at session {st.relapsed_at[-1]}: back to practice; "
    else:
        where = "You passed the exam; "
    return _rec(
        ladder, pick, PRACTISE,
        f"{where}{st.standing()}. Next in the rotation of hard cases: {_q(pick.title)}.",
        notes,
    )  # fmt: skip


def _with_standing(rec: Recommendation, st: SignOffStatus) -> Recommendation:
    """A failure or drill recommendation with where sign-off stands added to its reason."""
    if st.status == "signed_off":
        rc = st.relapse_cusum or 0.0
        said = f" Still signed off (relapse CUSUM {rc:.1f} of {st.relapse_limit:.1f})."
        return dataclasses.replace(rec, reason=rec.reason + said)
    if st.status == "relapsed":
        head = f"Relapse at session {st.relapsed_at[-1]}: sign-off withdrawn. "
        # just flagged: the LC-CUSUM starts again from 0 (said short, for the start screen)
        tail = "" if st.relapsed_at[-1] == st.cases else f" {st.standing()}."
        return dataclasses.replace(rec, reason=head + rec.reason + tail)
    return dataclasses.replace(rec, reason=rec.reason + f" {st.standing()}.")


def decide_for(
    ladder: Ladder,
    history: Sequence[Attempt],
    now_utc: datetime.datetime,
    notes: tuple[str, ...] = (),
) -> Recommendation:
    """What to practise next on one ladder, given the trainee's whole history.

    Parameters
    ----------
    ladder : Ladder
        The procedure's ladder.
    history : sequence of Attempt
        The trainee's counted sessions, oldest first (other procedures' are skipped).
    now_utc : datetime.datetime
        Now, naive UTC (for spaced repetition).
    notes : tuple of str
        Words to pass on in the recommendation.

    Returns
    -------
    Recommendation
        With ``signoff``, where the LC-CUSUM sign-off stands (:func:`signoff_status`).
    """
    mine = [a for a in history if a.task == ladder.task]
    ours = [a for a in mine if ladder.of_scenario(a.scenario) is not None]
    unknown = sorted({a.scenario for a in mine} - {a.scenario for a in ours})
    if unknown:
        n = sum(1 for a in mine if a.scenario in unknown)
        notes = (
            *notes,
            f"{n} session{'s' if n != 1 else ''} of {', '.join(map(_q, unknown))} "
            f"{'are' if n != 1 else 'is'} not on the {ladder.title} ladder, so "
            f"{'they do' if n != 1 else 'it does'} not move you up it (full cases still "
            "count toward sign-off).",
        )
    st = signoff_status(ladder, history)
    rec = _decide(ladder, ours, st, now_utc, notes)
    return dataclasses.replace(rec, signoff=st)


def _decide(
    ladder: Ladder, ours: Sequence[Attempt], st: SignOffStatus, now_utc: datetime.datetime,
    notes: tuple[str, ...],
) -> Recommendation:  # fmt: skip
    """:func:`_decide_ladder`, with a long gap said first: more than ``decay_days`` since
    the latest session before sign-off (a signed-off trainee gets a refresher instead)."""
    rec = _decide_ladder(ladder, ours, st, now_utc, notes)
    if not ours or rec.kind in (MAINTAIN, REFRESH):
        return rec
    latest = max(a.ended_utc for a in ours)
    decay = ladder.warnings.decay_days
    if (now_utc - latest).total_seconds() / 86400.0 <= decay:
        return rec
    gap = (
        f"{plural(days_since(latest, now_utc), 'day')} since your last session (skills "
        f"fade after {decay:g} days). "
    )
    return dataclasses.replace(rec, reason=gap + rec.reason)


def _decide_ladder(
    ladder: Ladder, ours: Sequence[Attempt], st: SignOffStatus, now_utc: datetime.datetime,
    notes: tuple[str, ...],
) -> Recommendation:  # fmt: skip
    by_rung: dict[str, list[Attempt]] = {r.id: [] for r in ladder.rungs}
    for a in ours:
        rung = ladder.of_scenario(a.scenario)
        assert rung is not None
        by_rung[rung.id].append(a)
    if not ours:
        first = ladder.cases[0]
        if st.signed_off:  # signed off on scenarios off the ladder: keep it on the ladder
            return _maintain(ladder, by_rung, st, None, now_utc, notes)
        return _rec(
            ladder, first, QUALIFY if first.kind == EXAM else START,
            f"You have no {ladder.title} sessions yet: start with {_q(first.title)}, the "
            "first case of the ladder.",
            notes,
        )  # fmt: skip
    last = ours[-1]
    rung = ladder.of_scenario(last.scenario)
    assert rung is not None
    if st.signed_off and last.passed:
        return _maintain(ladder, by_rung, st, last, now_utc, notes)
    practising = st.signed_off or _exam_passed(ladder, by_rung)
    if rung.kind == DRILL:
        rec = _after_drill(ladder, last, rung, by_rung, ours, notes)
        return _with_standing(rec, st) if practising else rec
    if not last.passed:
        failed = [a for a in ours[:-1] if not a.drill and not a.passed]
        rec = _after_fail(ladder, last, rung, by_rung, notes, failed[-1] if failed else None)
        return _with_standing(rec, st) if practising or st.status == "relapsed" else rec
    if practising:
        return _practise(ladder, by_rung, st, notes)
    return _after_pass(ladder, last, rung, by_rung, notes)


def _maintain(
    ladder: Ladder, by_rung: Mapping[str, Sequence[Attempt]], st: SignOffStatus,
    last: Attempt | None, now_utc: datetime.datetime, notes: tuple[str, ...],
) -> Recommendation:  # fmt: skip
    """Signed off: spaced practice, or a refresher after ``decay_days`` without practice."""
    decay = datetime.timedelta(days=ladder.warnings.decay_days)
    done = [a for rs in by_rung.values() for a in rs]
    latest = max((a.ended_utc for a in done), default=None) if last is None else last.ended_utc
    due = (latest or now_utc) + decay
    since = now_utc - (latest or now_utc)
    if since >= decay:
        days = days_since(latest or now_utc, now_utc)
        return _rec(
            ladder, ladder.exam, REFRESH,
            f"You have not practised {ladder.title} for {plural(days, 'day')}, and skills fade "
            "without "
            f"practice: a refresher on {_q(ladder.exam.title)}.",
            notes,
            due_utc=due,
        )  # fmt: skip

    # spaced practice: the case practised least recently (never practised first)
    cases = list(ladder.cases)
    pick = min(cases, key=lambda r: (_last_time(by_rung, r), cases.index(r)))
    which = (
        f"the case you have gone longest without is {_q(pick.title)}"
        if by_rung.get(pick.id)
        else f"you have not played {_q(pick.title)} yet"
    )
    return _rec(
        ladder, pick, MAINTAIN,
        f"Signed off in {ladder.title} (LC-CUSUM, session {st.signed_off_at[-1]}). To keep it, "
        f"practise by {due.date().isoformat()}; {which}.",
        notes,
        due_utc=due,
    )  # fmt: skip


def decide_next(
    curriculum: Curriculum,
    history: Sequence[Attempt],
    now_utc: datetime.datetime,
    procedure: str | None = None,
) -> Recommendation:
    """What a trainee should practise next, and why in words.

    Parameters
    ----------
    curriculum : Curriculum
        The ladders.
    history : sequence of Attempt
        The trainee's counted sessions, oldest first, any procedure.
    now_utc : datetime.datetime
        Now, naive UTC.
    procedure : str, optional
        The procedure to practise (KeyError when the curriculum has none). Default: the one
        practised last, unless the trainee is signed off there and not yet due, then the first
        (in curriculum order) with something else to do; with no history the first procedure.

    Returns
    -------
    Recommendation
    """
    notes: tuple[str, ...] = ()
    other = sorted({a.task for a in history} - set(curriculum.tasks))
    if other:
        notes = (f"Sessions of {', '.join(other)} are not in this curriculum.",)
    if procedure is not None:
        return decide_for(curriculum.procedure(procedure), history, now_utc, notes)
    known = [a for a in history if a.task in curriculum.tasks]
    if not known:
        return decide_for(curriculum.ladders[0], history, now_utc, notes)
    current = decide_for(curriculum.procedure(known[-1].task), history, now_utc, notes)
    if current.kind != MAINTAIN:
        return current
    for lad in curriculum.ladders:
        rec = decide_for(lad, history, now_utc, notes)
        if rec.kind not in (MAINTAIN,):
            return rec
    return current
