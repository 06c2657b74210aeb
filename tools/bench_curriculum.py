"""Evidence by simulation: does the adaptive curriculum reach proficiency in fewer sessions?

Run: .venv/bin/python tools/bench_curriculum.py [--learners N] [--seed S] [--procedure ID]
     [--syllabus-repeats K] [--fixed-repeats K]

A cohort of virtual learners practises one procedure three times over, on two fixed
curricula (the syllabus and the cases-only rotation) and on the adaptive one (the same
learners, each arm with its own random stream drawn from the same seed: a paired
comparison). Each arm stops at sign-off or at the session budget; then every arm sits the
same post-test. The bench prints sessions to proficiency (median and IQR per arm, the
adaptive arm's ratio to each fixed arm), the share who reached proficiency and the
post-test score, then a sensitivity sweep of both ratios over the assumptions that drive
them. See docs/curriculum-evidence.md.

The learning model (every number is a :class:`Model` field, "our choice" unless said)
-----------------------------------------------------------------------------------
- **Component skills.** A learner has one skill per scored metric of the procedure's
  scenarios (angle, bevel, offset, attempts, tremor, timing...), each in [0, 1]: 0 performs
  at the scenario's novice anchor, 1 at its expert anchor. Starting skills are drawn around
  ``start_mean`` (SD ``start_sd``), so every learner begins with weak spots of their own.
- **Practice.** A session exercises the metrics its scenario scores: a full case each of
  its scored metrics with intensity ``case_gain`` (1), a drill (``Scenario.drill``) only its
  targets, with intensity ``drill_gain`` (a drill repeats the one movement many times: the
  "drill transfer factor"). After the session a skill ``s`` exercised with intensity ``e``
  moves a fraction ``rate * e`` (capped at 1) of the way to 1: ``s += min(1, rate*e)*(1-s)``,
  an exponential learning curve (a power-law-like curve per component). ``rate`` is the
  learner's own (log-normal around ``rate_mean``, SD of the log ``rate_sd``) times a factor
  per learner and metric (log-normal, SD of the log ``metric_rate_sd``): some components come
  slowly to some learners. ``rate_mean`` (0.12) was calibrated on the fixed arm alone, before
  any comparison: about half the cohort signed off by LC-CUSUM 10 %/25 % within about 50
  sessions, as DOMAIN.md reports for the IV catheter on a mannequin (3 of 6 students in 26-48
  attempts).
- **Forgetting.** Between sessions (``gap_days`` apart) the gain over the starting skill
  decays exponentially: ``s = s0 + (s - s0) * exp(-forget_per_day * days)``. Default: half
  the gain lost in 197 days (DOMAIN.md "Skill decay": half in about 6.5 months, Tatel &
  Ackerman).
- **Performance and noise.** In a session, each metric is performed at
  ``p = s - difficulty_step * (difficulty - 1) + day + e_m``, clipped to [0, 1]: ``day`` is
  the learner's form that day (normal, SD ``day_sd``, shared by all metrics), ``e_m`` noise
  per metric (SD ``metric_sd``), ``difficulty`` the patient case's (1-5,
  ``scenarios/cases``). The metric's value is ``novice + p * (expert - novice)`` between the
  scenario's anchors. A critical error (a kind the scenario lists, chosen at random) happens
  with chance ``crit_max * (1 - mean performance) ** 2``.
- **Scoring.** The values and critical errors are scored with the project's own scoring
  (:func:`sim.metrics.scoring.score` on the scenario's ``[scoring]``) as a complete session,
  so a pass here is what the app calls a pass.

Curricula and proficiency
-------------------------
- Syllabus (the fixed comparator, the same content as the adaptive arm): every rung of the
  curriculum's ladder for the procedure (its cases, drills and exam, read from the
  curriculum file) in ladder order, each a set number of sessions in a row, round again
  until the budget, as a skills lab's fixed syllabus (Hu et al. 2016's fixed arm practised
  every task a set amount). The number per rung is ``--syllabus-repeats``, by default the
  rung's own count (:func:`rung_sessions`): a case, the passes that open the next rung; the
  exam, its ``qualify_passes``; a drill, ``1 + drill_retries``.
- Cases-only (a second fixed comparator): the ladder's full cases in ladder order, each
  ``--fixed-repeats`` times in turn, round again (no drills).
- Adaptive: the real :func:`sim.core.curriculum.decide_next` on the shipped curriculum
  (``scenarios/curriculum.toml``, or ``--curriculum FILE``), fed the arm's history as
  :class:`sim.core.competency.Attempt`.
- Proficiency: the real LC-CUSUM sign-off of :mod:`sim.core.competency` with the
  curriculum's ``signoff`` spec, over the full-case sessions (drills are not counted for
  sign-off, but they are counted as sessions). Sessions to proficiency counts every session.
- Post-test: ``--exam-rounds`` rounds of every full case (each scored, no learning during
  the exam), ``post_delay_days`` after the last practice session.

What drives the result (stated, not tuned): a drill is a whole session that sign-off does
not count, so an arm's sessions to proficiency follow its share of drills unless a drill
shortens the run of full cases sign-off needs; that needs ``drill_gain`` times a drill's few
targets to beat a case's all-metric practice on the metrics that lose the most points, and
learners with uneven component skills (``metric_rate_sd``, ``start_sd``). An easy rung
early passes more, which helps a sign-off over pass/fail (``difficulty_step``). The sweep
prints both ratios for each; one more line sets each drill's transfer factor from its own
scenario file's repetitions (:func:`repetition_gains`).
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np

from sim.core.competency import Attempt, SignOffSpec, signoff_limit, track
from sim.core.curriculum import DRILL, EXAM, Ladder, Rung, decide_next
from sim.core.records import Event
from sim.core.scenario import Scenario, ScenarioError
from sim.curriculum import load_curriculum, points_lost
from sim.metrics.scoring import ScoreResult, score
from sim.scenarios import load_scenario, scenario_paths

START_UTC = datetime.datetime(2026, 1, 5, 9, 0, 0)
"""When every learner's first session ends (naive UTC; any date would do)."""


@dataclass(frozen=True, slots=True)
class Model:
    """The learning model's numbers (all "our choice" unless the module notes say)."""

    start_mean: float = 0.25
    start_sd: float = 0.1
    rate_mean: float = 0.12
    rate_sd: float = 0.35
    metric_rate_sd: float = 0.4
    case_gain: float = 1.0
    drill_gain: float = 2.5
    forget_per_day: float = math.log(2.0) / 197.0
    gap_days: float = 3.5
    day_sd: float = 0.06
    metric_sd: float = 0.12
    difficulty_step: float = 0.04
    crit_max: float = 0.3
    post_delay_days: float = 7.0
    drill_gains: tuple[tuple[str, float], ...] = ()
    """Per drill scenario id, a transfer factor in place of ``drill_gain`` (the sensitivity
    line from the drills' own repetitions, :func:`repetition_gains`)."""


@dataclass(slots=True)
class Learner:
    """One virtual learner: skills in [0, 1] by metric, their starting values, and rates."""

    skills: dict[str, float]
    start: dict[str, float]
    rates: dict[str, float]

    def copy(self) -> Learner:
        return Learner(dict(self.skills), dict(self.start), dict(self.rates))


def new_learner(metrics: Sequence[str], model: Model, rng: np.random.Generator) -> Learner:
    """A learner with starting skills and learning rates drawn from ``model``."""
    own = model.rate_mean * math.exp(rng.normal(0.0, model.rate_sd))
    start = {
        m: float(np.clip(rng.normal(model.start_mean, model.start_sd), 0.0, 0.9)) for m in metrics
    }
    rates = {m: own * math.exp(rng.normal(0.0, model.metric_rate_sd)) for m in metrics}
    return Learner(dict(start), start, rates)


def practised(skill: float, rate: float, intensity: float) -> float:
    """Skill after one session exercising it with ``intensity`` (0: not exercised)."""
    step = min(1.0, max(0.0, rate * intensity))
    return skill + step * (1.0 - skill)


def forgotten(skill: float, start: float, days: float, per_day: float) -> float:
    """Skill after ``days`` without practice: the gain over ``start`` decays exponentially."""
    if skill <= start:
        return skill
    return start + (skill - start) * math.exp(-per_day * max(0.0, days))


def drill_targets(scenario: Scenario) -> tuple[str, ...] | None:
    """The metrics a drill scenario trains; None for a full case."""
    drill = getattr(scenario, "drill", None)
    return None if drill is None else tuple(drill.targets)


def scored_metrics(scenario: Scenario) -> tuple[str, ...]:
    """The metrics the scenario's ``[scoring]`` anchors (scores)."""
    return tuple(a.name for a in scenario.scoring.anchors)


def intensities(scenario: Scenario, model: Model) -> dict[str, float]:
    """How hard a session of ``scenario`` exercises each metric (the module notes)."""
    targets = drill_targets(scenario)
    if targets is None:
        return {m: model.case_gain for m in scored_metrics(scenario)}
    gain = dict(model.drill_gains).get(scenario.id, model.drill_gain)
    return {m: gain for m in targets}


def repetition_gains(
    drills: Iterable[Scenario], case: Scenario
) -> tuple[tuple[str, float, str], ...]:
    """A transfer factor per drill from its own scenario file: how many times more of the
    trained movement a drill session asks than a session of ``case`` (the ladder's first
    case, whose arm the drills copy): entries (``entries_required``) and seconds held in the
    lumen (``draw_hold_s``), the larger ratio. Drills of a procedure without these tolerances
    are left out. Each with its words ("entries_required 3 vs 1")."""
    out = []
    ct = getattr(case, "tolerances", None)
    for d in drills:
        dt_ = getattr(d, "tolerances", None)
        ratios = []
        for key in ("entries_required", "draw_hold_s"):
            dv, cv = getattr(dt_, key, None), getattr(ct, key, None)
            if isinstance(dv, (int, float)) and isinstance(cv, (int, float)) and cv > 0:
                ratios.append((float(dv) / float(cv), f"{key} {dv:g} vs {cv:g}"))
        if ratios:
            best = max(ratios)
            out.append((d.id, best[0], best[1]))
    return tuple(out)


def difficulty(scenario: Scenario) -> int:
    """The patient case's difficulty (1-5); 1 for a scenario without a patient."""
    case = scenario.patient or scenario.default_patient
    return case.difficulty if case is not None else 1


def learn(learner: Learner, scenario: Scenario, model: Model) -> None:
    """Apply one session's practice to ``learner``."""
    for m, e in intensities(scenario, model).items():
        if m in learner.skills:
            learner.skills[m] = practised(learner.skills[m], learner.rates[m], e)


def forget(learner: Learner, days: float, model: Model) -> None:
    """Apply ``days`` without practice to ``learner``."""
    for m, s in learner.skills.items():
        learner.skills[m] = forgotten(s, learner.start[m], days, model.forget_per_day)


def perform(
    learner: Learner, scenario: Scenario, model: Model, rng: np.random.Generator
) -> ScoreResult:
    """One session's metric values drawn from the learner's skills, scored as the app does."""
    day = rng.normal(0.0, model.day_sd)
    handicap = model.difficulty_step * (difficulty(scenario) - 1)
    values: dict[str, float] = {}
    perf = []
    for a in scenario.scoring.anchors:
        s = learner.skills.get(a.name, model.start_mean)
        p = float(np.clip(s - handicap + day + rng.normal(0.0, model.metric_sd), 0.0, 1.0))
        values[a.name] = a.novice + p * (a.expert - a.novice)
        perf.append(p)
    events: list[Event] = []
    kinds = scenario.scoring.critical_errors
    mean_p = sum(perf) / len(perf) if perf else 1.0
    if kinds and rng.random() < model.crit_max * (1.0 - mean_p) ** 2:
        kind = kinds[int(rng.integers(len(kinds)))]
        events.append(Event(1.0, kind, f"{kind} (simulated)", error=True))
    return score(scenario, values, events, complete=True)


def attempt_of(
    result: ScoreResult, scenario: Scenario, ended_utc: datetime.datetime, exam: bool = False
) -> Attempt:
    """A scored session as the curriculum and the statistics read it (the points each
    metric lost as :func:`sim.curriculum.points_lost` counts them for a stored session);
    ``exam``: played in exam mode, as ``procsim next`` says to play the ladder's exam."""
    lost = points_lost(cast(Any, result))  # reads .metrics' name, points, weight alone
    return Attempt(
        scenario=scenario.id,
        task=scenario.task,
        ended_utc=ended_utc,
        score=result.score,
        passed=result.passed,
        critical_errors=tuple(e.kind for e in result.critical_errors),
        points_lost=lost,
        drill=drill_targets(scenario) is not None,
        input_kind="scripted",
        exam=exam,
    )


Chooser = Callable[[Sequence[Attempt], datetime.datetime], str]
"""A curriculum: the history so far and the time of the next session -> its scenario id."""
SignOff = Callable[[Sequence[Attempt]], bool]
"""A sign-off rule: whether a history (oldest first) signs the trainee off."""


def task_scenarios(task: str, directory: Path | None = None) -> dict[str, Scenario]:
    """The shipped scenarios of procedure ``task`` (full cases and drills) by id."""
    paths = scenario_paths() if directory is None else scenario_paths(directory)
    out = {}
    for p in paths:
        sc = load_scenario(p)
        if sc.task == task:
            out[sc.id] = sc
    return out


def full_cases(scenarios: Mapping[str, Scenario]) -> list[Scenario]:
    """The full cases (no drills) in order of difficulty, then id."""
    cases = [sc for sc in scenarios.values() if drill_targets(sc) is None]
    return sorted(cases, key=lambda sc: (difficulty(sc), sc.id))


def fixed_curriculum(cases: Sequence[Scenario], repeats: int) -> Chooser:
    """Each case ``repeats`` times in turn, in the given order, round again."""
    return rotation([sc.id for sc in cases for _ in range(repeats)])


def rotation(order: Sequence[str]) -> Chooser:
    """A fixed curriculum: the scenario ids of ``order`` one session each, round again
    (it reads only how many sessions came before)."""
    seq = tuple(order)
    return lambda history, now: seq[len(history) % len(seq)]


def rung_sessions(ladder: Ladder, rung: Rung) -> int:
    """The sessions a syllabus gives ``rung`` per round: what the ladder itself asks of it.

    A case: the passes the rung that opens after it needs (its ``entry_passes``; the most of
    them if several name it; the rung's own ``entry_passes`` default when none does). The
    exam: its ``qualify_passes``. A drill: ``1 + drill_retries``, the most sessions in a row
    the adaptive curriculum gives it.
    """
    if rung.kind == DRILL:
        return 1 + rung.drill_retries
    if rung.kind == EXAM:
        return rung.qualify_passes
    after = [r.entry_passes for r in ladder.rungs if r.entry_after == rung.id]
    return max(after) if after else rung.entry_passes


def syllabus_order(ladder: Ladder, repeats: int | None) -> tuple[str, ...]:
    """One round of the syllabus: every rung of ``ladder`` (cases, drills and the exam) in
    ladder order, each ``repeats`` sessions in a row (None: :func:`rung_sessions`)."""
    return tuple(
        r.scenario
        for r in ladder.rungs
        for _ in range(rung_sessions(ladder, r) if repeats is None else repeats)
    )


def metric_names(scenarios: Iterable[Scenario]) -> list[str]:
    """Every metric any of ``scenarios`` scores, in first-seen order."""
    out: dict[str, None] = {}
    for sc in scenarios:
        out.update(dict.fromkeys(scored_metrics(sc)))
    return list(out)


@dataclass(frozen=True, slots=True)
class ArmResult:
    """One learner's run through one curriculum.

    ``to_proficiency`` is the 1-based session of sign-off (None: not within the budget);
    ``sessions`` how many were practised; ``drills`` how many of them were drills;
    ``post_scores`` and ``post_passed`` the post-test sessions' scores and verdicts;
    ``played`` the practice sessions' scenario ids, in order.
    """

    to_proficiency: int | None
    sessions: int
    drills: int
    post_scores: tuple[float, ...]
    post_passed: tuple[bool, ...]
    played: tuple[str, ...] = ()


def run_arm(
    learner: Learner,
    choose: Chooser,
    signed_off: SignOff,
    scenarios: Mapping[str, Scenario],
    exam: Sequence[Scenario],
    model: Model,
    rng: np.random.Generator,
    budget: int,
    exam_mode: frozenset[str] = frozenset(),
) -> ArmResult:
    """Practise ``learner`` (a copy) on ``choose`` until sign-off or ``budget`` sessions,
    then the post-test ``exam`` (scored, no learning) ``model.post_delay_days`` later."""
    me = learner.copy()
    history: list[Attempt] = []
    reached = None
    for i in range(budget):
        now = START_UTC + datetime.timedelta(days=i * model.gap_days)
        if i:
            forget(me, model.gap_days, model)
        sid = choose(history, now)
        sc = scenarios.get(sid)
        if sc is None:
            raise SystemExit(
                f"the curriculum names scenario '{sid}', not a shipped {exam[0].task} scenario"
            )
        result = perform(me, sc, model, rng)
        learn(me, sc, model)
        history.append(attempt_of(result, sc, now, exam=sc.id in exam_mode))
        if signed_off(history):
            reached = i + 1
            break
    forget(me, model.post_delay_days, model)
    post = [perform(me, sc, model, rng) for sc in exam]
    return ArmResult(
        reached,
        len(history),
        sum(a.drill for a in history),
        tuple(r.score for r in post),
        tuple(r.passed for r in post),
        tuple(a.scenario for a in history),
    )


def counted(history: Sequence[Attempt]) -> list[bool]:
    """The pass/fail sequence sign-off reads: the full-case sessions (not drills)."""
    return [a.passed for a in history if not a.drill]


def lc_cusum_rule(spec: SignOffSpec) -> tuple[SignOff, str]:
    """The LC-CUSUM sign-off (:func:`sim.core.competency.track`) with ``spec`` over the
    full-case sessions (signed off at its first signal), and its words."""

    def rule(history: Sequence[Attempt]) -> bool:
        return bool(track(counted(history), spec).signed_off_at)

    h = signoff_limit(spec).h
    return rule, (
        f"LC-CUSUM (acceptable failure {spec.acceptable_failure:.0%}, unacceptable "
        f"{spec.unacceptable_failure:.0%}, alpha {spec.alpha:g}, beta {spec.beta:g}; "
        f"limit {h:.2f})"
    )


@dataclass(frozen=True, slots=True)
class Setup:
    """What the arms share: the scenarios, the curricula, the sign-off rule and the exam.

    ``syllabus`` is the fixed curriculum on the same content as the adaptive one (every rung
    of the ladder in turn, one round: ``syllabus_round``); ``fixed`` the cases-only rotation.
    """

    task: str
    scenarios: Mapping[str, Scenario]
    metrics: tuple[str, ...]
    fixed: Chooser
    adaptive: Chooser
    signed_off: SignOff
    signoff_words: str
    exam: tuple[Scenario, ...]
    cases: tuple[Scenario, ...] = field(default=())
    drills: tuple[str, ...] = field(default=())
    """The ladder's drill scenarios (those the adaptive arm may give)."""
    syllabus: Chooser | None = None
    syllabus_round: tuple[str, ...] = field(default=())
    exam_mode: frozenset[str] = field(default=frozenset())
    """Scenarios every arm plays in exam mode: the ladder's exam (only then it counts)."""


@dataclass(frozen=True, slots=True)
class Arms:
    """Each arm's learners (the same learners, in the same order, in every arm)."""

    syllabus: list[ArmResult]
    fixed: list[ArmResult]
    adaptive: list[ArmResult]


def compare(setup: Setup, model: Model, learners: int, seed: int, budget: int) -> Arms:
    """Run ``learners`` learners through the three arms (syllabus, cases-only fixed,
    adaptive), paired: the same learner in each, each arm with its own random stream."""
    syllabus, fixed, adaptive = [], [], []
    assert setup.syllabus is not None
    for i in range(learners):
        person = new_learner(setup.metrics, model, np.random.default_rng([seed, i, 0]))
        syllabus.append(
            run_arm(person, setup.syllabus, setup.signed_off, setup.scenarios, setup.exam,
                    model, np.random.default_rng([seed, i, 3]), budget, setup.exam_mode)
        )  # fmt: skip
        fixed.append(
            run_arm(person, setup.fixed, setup.signed_off, setup.scenarios, setup.exam, model,
                    np.random.default_rng([seed, i, 1]), budget, setup.exam_mode)
        )  # fmt: skip
        adaptive.append(
            run_arm(person, setup.adaptive, setup.signed_off, setup.scenarios, setup.exam,
                    model, np.random.default_rng([seed, i, 2]), budget, setup.exam_mode)
        )  # fmt: skip
    return Arms(syllabus, fixed, adaptive)


@dataclass(frozen=True, slots=True)
class ArmSummary:
    """An arm's figures: sessions to proficiency (non-reachers counted as budget + 1),
    the share signed off, sessions practised, drills, and the post-test."""

    median: float
    q1: float
    q3: float
    reached: float
    mean_sessions: float
    drill_share: float
    post_mean: float
    post_sd: float
    post_pass: float


def summarise(results: Sequence[ArmResult], budget: int) -> ArmSummary:
    """The figures of one arm."""
    to = np.array([r.to_proficiency or budget + 1 for r in results], dtype=float)
    q1, med, q3 = np.percentile(to, [25, 50, 75])
    post = np.array([np.mean(r.post_scores) for r in results])
    passes = [p for r in results for p in r.post_passed]
    sessions = sum(r.sessions for r in results)
    return ArmSummary(
        float(med),
        float(q1),
        float(q3),
        sum(r.to_proficiency is not None for r in results) / len(results),
        sessions / len(results),
        sum(r.drills for r in results) / max(1, sessions),
        float(post.mean()),
        float(post.std(ddof=1)) if len(post) > 1 else 0.0,
        sum(passes) / len(passes),
    )


def post_difference(
    fixed: Sequence[ArmResult], adaptive: Sequence[ArmResult]
) -> tuple[float, float]:
    """Paired mean post-test difference (adaptive - fixed, points) and its 95 % half-width."""
    d = np.array([np.mean(a.post_scores) - np.mean(f.post_scores) for f, a in zip(fixed, adaptive)])
    half = 1.96 * float(d.std(ddof=1)) / math.sqrt(len(d)) if len(d) > 1 else math.inf
    return float(d.mean()), half


def ratio_interval(
    fixed: Sequence[ArmResult], adaptive: Sequence[ArmResult], budget: int, seed: int
) -> tuple[float, float]:
    """95 % paired bootstrap interval (2000 resamples of the learners) of the ratio of
    median sessions to proficiency, adaptive / fixed."""
    f = np.array([r.to_proficiency or budget + 1 for r in fixed], dtype=float)
    a = np.array([r.to_proficiency or budget + 1 for r in adaptive], dtype=float)
    idx = np.random.default_rng([seed, 99]).integers(0, len(f), size=(2000, len(f)))
    ratios = np.median(a[idx], axis=1) / np.median(f[idx], axis=1)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return float(lo), float(hi)


def sessions_words(v: float, budget: int) -> str:
    return f">{budget}" if v > budget else f"{v:.1f}"


def build_setup(
    task: str,
    curriculum: Path | None,
    repeats: int,
    exam_rounds: int,
    syllabus_repeats: int | None = None,
) -> Setup:
    """Read the scenarios and the curriculum's ladder of ``task`` and put the arms
    together: the syllabus plays every rung of the ladder in ladder order
    (:func:`syllabus_order`, ``syllabus_repeats`` sessions each, None: the rung's own
    count); the cases-only arm and the exam play the ladder's cases (and its exam rung) in
    ladder order; the adaptive arm follows :func:`sim.core.curriculum.decide_next`."""
    scenarios = task_scenarios(task)
    if not scenarios:
        raise SystemExit(f"--procedure: no shipped scenario of '{task}'")
    cur = load_curriculum(curriculum)
    try:
        ladder = cur.procedure(task)
    except KeyError:
        raise SystemExit(f"{cur.source}: no ladder for procedure '{task}'") from None
    missing = [r.scenario for r in ladder.rungs if r.scenario not in scenarios]
    if missing:
        raise SystemExit(f"{cur.source}: rung scenarios not shipped for {task}: {missing}")
    cases = [scenarios[r.scenario] for r in ladder.cases]

    def adaptive(history: Sequence[Attempt], now: datetime.datetime) -> str:
        return decide_next(cur, history, now, task).scenario

    signed_off, words = lc_cusum_rule(ladder.signoff)
    return Setup(
        task,
        scenarios,
        tuple(metric_names(scenarios.values())),
        fixed_curriculum(cases, repeats),
        adaptive,
        signed_off,
        words,
        tuple(sc for _ in range(exam_rounds) for sc in cases),
        tuple(cases),
        tuple(r.scenario for r in ladder.rungs if r.kind == DRILL),
        rotation(syllabus_order(ladder, syllabus_repeats)),
        syllabus_order(ladder, syllabus_repeats),
        frozenset({ladder.exam.scenario}),
    )


SWEEP: tuple[tuple[str, str, tuple[float, ...]], ...] = (
    ("drill_gain", "drill transfer factor: a drill's gain on a target / a case's",
     (1.0, 2.5, 5.0, 10.0)),
    ("forget_per_day", "forgetting per day (default: half the gain in 197 days)",
     (0.0, math.log(2.0) / 197.0, math.log(2.0) / 40.0, math.log(2.0) / 10.0)),
    ("metric_rate_sd", "spread of a learner's rates across metrics (SD of log)", (0.0, 0.4, 0.8)),
    ("start_sd", "spread of starting skills across metrics", (0.0, 0.1, 0.2)),
    ("difficulty_step", "skill handicap per step of case difficulty", (0.0, 0.04, 0.08)),
    ("rate_mean", "mean learning rate per session", (0.06, 0.12, 0.24)),
)  # fmt: skip
"""The sensitivity sweep: model field, what it is, the values tried (one at a time)."""


def round_words(order: Sequence[str]) -> str:
    """One round of a fixed curriculum in words: "a x2, b x1, ..."."""
    runs: list[list[Any]] = []
    for sid in order:
        if runs and runs[-1][0] == sid:
            runs[-1][1] += 1
        else:
            runs.append([sid, 1])
    return ", ".join(f"{sid} x{n}" for sid, n in runs)


def versus(arm: Sequence[ArmResult], adaptive: Sequence[ArmResult], budget: int) -> str:
    """Adaptive against one fixed arm in a sweep cell: the ratio of the medians."""
    return f"{summarise(adaptive, budget).median / summarise(arm, budget).median:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Simulate virtual learners on two fixed curricula and the adaptive one "
        "and compare sessions to proficiency and a post-test (see docs/curriculum-evidence.md)."
    )
    ap.add_argument(
        "--procedure", default="venipuncture", help="procedure id (default: venipuncture)"
    )
    ap.add_argument("--learners", type=int, default=200, help="cohort size (default 200)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument(
        "--budget", type=int, default=80, help="most practice sessions per arm (default 80)"
    )
    ap.add_argument(
        "--syllabus-repeats",
        type=int,
        default=0,
        help="syllabus arm: sessions of each rung in turn (default 0: the rung's own count, "
        "a case the passes that open the next, the exam its qualify_passes, a drill "
        "1 + drill_retries)",
    )
    ap.add_argument(
        "--fixed-repeats",
        type=int,
        default=3,
        help="cases-only arm: sessions of each case in turn (default 3)",
    )
    ap.add_argument(
        "--exam-rounds", type=int, default=1, help="post-test: rounds of every case (default 1)"
    )
    ap.add_argument(
        "--curriculum", type=Path, default=None, help="curriculum file (default: the shipped one)"
    )
    ap.add_argument(
        "--sweep-learners",
        type=int,
        default=50,
        help="cohort size per sweep point (default 50; 0: no sweep)",
    )
    ap.add_argument(
        "--sensitivity-learners",
        type=int,
        default=None,
        help="cohort size of the drill-repetition sensitivity line (default: --learners; 0: none)",
    )
    args = ap.parse_args(argv)
    for name in ("learners", "budget", "fixed_repeats", "exam_rounds"):
        if getattr(args, name) < 1:
            print(
                f"--{name.replace('_', '-')}: expected a whole number of at least 1",
                file=sys.stderr,
            )
            return 2
    if args.syllabus_repeats < 0:
        print("--syllabus-repeats: expected a whole number of at least 0", file=sys.stderr)
        return 2
    try:
        setup = build_setup(
            args.procedure,
            args.curriculum,
            args.fixed_repeats,
            args.exam_rounds,
            args.syllabus_repeats or None,
        )
    except (ScenarioError, OSError, ValueError) as e:
        print(str(e).splitlines()[0], file=sys.stderr)
        return 2
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2
    model = Model()
    t0 = time.perf_counter()
    b = args.budget
    arms = compare(setup, model, args.learners, args.seed, b)
    print(f"bench_curriculum: {args.procedure}, {args.learners} learners, seed {args.seed}, "
          f"budget {b} sessions, one every {model.gap_days:g} days")  # fmt: skip
    print(f"  component skills: {', '.join(setup.metrics)}")
    k = args.syllabus_repeats
    each = "its own count of sessions" if not k else f"{k} session{'s' if k > 1 else ''}"
    print(f"  syllabus curriculum (fixed, same content): every rung of the ladder in order, each "
          f"{each} in a row, round again: {round_words(setup.syllabus_round)} "
          f"({len(setup.syllabus_round)} sessions a round)")  # fmt: skip
    print(f"  cases-only curriculum (fixed): {', '.join(sc.id for sc in setup.cases)}, each "
          f"{args.fixed_repeats} times in turn")  # fmt: skip
    print(f"  adaptive curriculum: decide_next on {args.curriculum or 'the shipped curriculum'}; "
          f"drills on its ladder: {', '.join(setup.drills) or 'none'}")  # fmt: skip
    print(f"  sign-off: {setup.signoff_words}, over full-case sessions; post-test: "
          f"{len(setup.exam)} sessions, {model.post_delay_days:g} days after the last "
          "practice")  # fmt: skip
    sa = summarise(arms.adaptive, b)
    for name, results in (
        ("syllabus", arms.syllabus), ("cases-only", arms.fixed), ("adaptive", arms.adaptive)
    ):  # fmt: skip
        sm = summarise(results, b)
        print(f"  {name}: sessions to proficiency median {sessions_words(sm.median, b)} "
              f"(IQR {sessions_words(sm.q1, b)}-{sessions_words(sm.q3, b)}), reached "
              f"{100 * sm.reached:.0f} %, sessions practised {sm.mean_sessions:.1f} "
              f"(drills {100 * sm.drill_share:.0f} %), post-test score {sm.post_mean:.1f} "
              f"(SD {sm.post_sd:.1f}), post-test passes {100 * sm.post_pass:.0f} %")  # fmt: skip
    for name, results in (("syllabus", arms.syllabus), ("cases-only", arms.fixed)):
        ratio = sa.median / summarise(results, b).median
        diff, half = post_difference(results, arms.adaptive)
        lo, hi = ratio_interval(results, arms.adaptive, b, args.seed)
        fewer = (
            f"{100 * (1 - ratio):.0f} % fewer" if ratio <= 1 else f"{100 * (ratio - 1):.0f} % more"
        )
        met = ratio <= 0.8 and diff + half >= 0.0
        print(f"adaptive vs {name}: ratio of median sessions {ratio:.2f} ({fewer}; 95 % "
              f"bootstrap CI {lo:.2f}-{hi:.2f}); post-test difference {diff:+.1f} points (95 % "
              f"CI {diff - half:+.1f} to {diff + half:+.1f}); target (>= 20 % fewer sessions, "
              f"post-test not worse): {'met' if met else 'not met'}")  # fmt: skip
    gains = repetition_gains([setup.scenarios[d] for d in setup.drills], setup.cases[0])
    n = args.learners if args.sensitivity_learners is None else args.sensitivity_learners
    if gains and n > 0:
        m = replace(model, drill_gains=tuple((d, g) for d, g, _ in gains))
        x = compare(setup, m, n, args.seed, b)
        sx = summarise(x.adaptive, b)
        said = ", ".join(f"{d} {g:.2f} ({w})" for d, g, w in gains)
        r = [100 * summarise(a, b).reached for a in (x.syllabus, x.fixed, x.adaptive)]
        print(f"sensitivity, drill transfer from the drills' own repetitions ({said}; default "
              f"{model.drill_gain:g} for all), {n} learners: adaptive median "
              f"{sessions_words(sx.median, b)}, ratio adaptive / syllabus "
              f"{versus(x.syllabus, x.adaptive, b)}, adaptive / cases-only "
              f"{versus(x.fixed, x.adaptive, b)}, post-test difference adaptive - syllabus "
              f"{post_difference(x.syllabus, x.adaptive)[0]:+.1f} points, reached "
              f"{r[0]:.0f}/{r[1]:.0f}/{r[2]:.0f} %")  # fmt: skip
    if args.sweep_learners > 0:
        print("sensitivity: ratio adaptive / syllabus, adaptive / cases-only (post-test "
              "difference adaptive - syllabus, points; share reached syllabus/cases-only/"
              f"adaptive), {args.sweep_learners} learners each, one assumption changed at a "
              "time, * the default")  # fmt: skip
        seen: dict[Model, str] = {}
        for key, words, values in SWEEP:
            cells = []
            for v in values:
                m = replace(model, **{key: v})
                if m not in seen:
                    x = compare(setup, m, args.sweep_learners, args.seed, b)
                    r = [100 * summarise(a, b).reached for a in (x.syllabus, x.fixed, x.adaptive)]
                    seen[m] = (
                        f"{versus(x.syllabus, x.adaptive, b)}, {versus(x.fixed, x.adaptive, b)} "
                        f"(post {post_difference(x.syllabus, x.adaptive)[0]:+.1f}, reached "
                        f"{r[0]:.0f}/{r[1]:.0f}/{r[2]:.0f} %)"
                    )
                mark = "*" if v == getattr(model, key) else ""
                cells.append(f"{v:.3g}{mark}: {seen[m]}")
            print(f"  {key} [{words}]: " + "; ".join(cells))
    print(f"ran in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
