"""Competency statistics over a trainee's history: LC-CUSUM sign-off, relapse, early warning.

Pure and deterministic: no I/O, no clock (callers pass ``now_utc``).
"""

from __future__ import annotations

import datetime
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.words import plural


@dataclass(frozen=True, slots=True)
class Attempt:
    """One counted session in a trainee's history (histories are ordered oldest first).

    Attributes
    ----------
    scenario : str
        Scenario id the session was played on.
    task : str
        Procedure id (e.g. ``"iv"``).
    ended_utc : datetime.datetime
        When the session ended, naive UTC.
    score : float
        Total score, 0-100.
    passed : bool
        Whether the session passed.
    critical_errors : tuple of str
        Critical errors committed (kinds, e.g. ``"through_and_through"``).
    points_lost : Mapping of str to float
        Metric name -> weighted points that metric cost the score (against 100). Only
        scored metrics appear.
    drill : bool
        True when the scenario was a part-task drill (not a full case).
    input_kind : str
        The input the session was played with (``"mouse"``, ``"webcam"``, ...; "" unknown):
        what it can measure (:func:`sim.metrics.catalog.can_measure`).
    exam : bool
        Played in exam mode (the recording's ``meta.exam``).
    """

    scenario: str
    task: str
    ended_utc: datetime.datetime
    score: float
    passed: bool
    critical_errors: tuple[str, ...]
    points_lost: Mapping[str, float]
    drill: bool
    input_kind: str = ""
    exam: bool = False


@dataclass(frozen=True, slots=True)
class SignOffSpec:
    """What LC-CUSUM sign-off and the relapse CUSUM test, per procedure.

    Attributes
    ----------
    acceptable_failure : float
        Failure rate (fraction 0-1) a competent trainee may have (p0).
    unacceptable_failure : float
        Failure rate (fraction 0-1) that is not acceptable (p1 > p0).
    alpha : float
        Wanted rate (fraction) of false sign-off: signing off a trainee whose true failure
        rate is ``unacceptable_failure``; for the relapse CUSUM, of false relapse alarms.
    beta : float
        Wanted rate (fraction) of missing a competent trainee (1 - power).
    """

    acceptable_failure: float
    unacceptable_failure: float
    alpha: float
    beta: float


@dataclass(frozen=True, slots=True)
class WarningSpec:
    """Early-warning (at-risk) rule parameters, per procedure.

    Attributes
    ----------
    plateau_sessions : int
        N: the learning-curve and repeated-critical-error rules look at the last N sessions.
    decay_days : float
        Days without practice after which the trainee is reminded (skill decay interval).
    repeated_critical : int
        k: a critical error of one kind k times among the last N sessions flags the trainee.
    """

    plateau_sessions: int
    decay_days: float
    repeated_critical: int


# --- CUSUM weights and paths ---------------------------------------------------------------


def _check_rates(spec: SignOffSpec) -> None:
    p0, p1 = spec.acceptable_failure, spec.unacceptable_failure
    if not 0.0 < p0 < p1 < 1.0:
        raise ValueError(
            f"signoff: expected 0 < acceptable_failure ({p0}) < unacceptable_failure ({p1}) < 1"
        )
    if not (0.0 < spec.alpha < 1.0 and 0.0 < spec.beta < 1.0):
        raise ValueError(f"signoff: expected alpha ({spec.alpha}) and beta ({spec.beta}) in (0, 1)")


def llr_weights(p_target: float, p_null: float) -> tuple[float, float]:
    """Log-likelihood-ratio weights of one session for a CUSUM testing failure rate
    ``p_target`` against ``p_null``.

    Parameters
    ----------
    p_target : float
        Failure rate (fraction) the CUSUM accumulates evidence for.
    p_null : float
        Failure rate (fraction) it accumulates evidence against.

    Returns
    -------
    (float, float)
        The weight of a success, ``ln((1 - p_target) / (1 - p_null))``, and of a failure,
        ``ln(p_target / p_null)``.
    """
    return math.log((1.0 - p_target) / (1.0 - p_null)), math.log(p_target / p_null)


def signoff_weights(spec: SignOffSpec) -> tuple[float, float]:
    """(success, failure) weights of the LC-CUSUM: evidence for the acceptable failure rate p0
    against the unacceptable p1 (Biau et al. 2008). A success adds
    ``ln((1 - p0) / (1 - p1)) > 0``, a failure adds ``ln(p0 / p1) < 0``."""
    _check_rates(spec)
    return llr_weights(spec.acceptable_failure, spec.unacceptable_failure)


def relapse_weights(spec: SignOffSpec) -> tuple[float, float]:
    """(success, failure) weights of the relapse (Page) CUSUM: evidence for the unacceptable
    failure rate p1 against the acceptable p0. A failure adds ``ln(p1 / p0) > 0``, a success
    adds ``ln((1 - p1) / (1 - p0)) < 0``."""
    _check_rates(spec)
    return llr_weights(spec.unacceptable_failure, spec.acceptable_failure)


def cusum_path(passed: Sequence[bool], w_success: float, w_failure: float) -> list[float]:
    """The CUSUM ``S_n = max(0, S_{n-1} + w_n)`` from ``S_0 = 0`` over pass/fail outcomes.

    Parameters
    ----------
    passed : sequence of bool
        Outcome of each session, oldest first (True: success).
    w_success, w_failure : float
        Weight added for a success and for a failure.

    Returns
    -------
    list of float
        ``S_1 ... S_n`` (one per session).
    """
    s = 0.0
    out = []
    for ok in passed:
        s = max(0.0, s + (w_success if ok else w_failure))
        out.append(s)
    return out


# --- decision limits -----------------------------------------------------------------------

GRID_STEPS_PER_WEIGHT = 100
"""The Markov chain's grid: this many steps in the smaller of the two weights (our choice:
rounding moves each weight by at most 0.5 %, checked against simulation in the tests)."""

MAX_HORIZON_SESSIONS = 5000
"""The design gives up (ValueError) if a competent trainee needs more sessions than this to
signal with the wanted power (our choice; no published rate pair comes near it)."""


@dataclass(frozen=True, slots=True)
class CusumLimit:
    """A CUSUM's decision limit and the error rates it was designed for.

    Attributes
    ----------
    h : float
        Decision limit: the CUSUM signals at the first session with ``S_n >= h``.
    horizon_sessions : int
        H: the number of sessions in which the CUSUM signals with probability ``1 - beta``
        when the failure rate is the one it looks for.
    false_signal : float
        Probability (fraction) of a signal within H sessions when the failure rate is the
        other one (the achieved alpha).
    power : float
        Probability (fraction) of a signal within H sessions when the failure rate is the
        one it looks for (at least ``1 - beta``).
    """

    h: float
    horizon_sessions: int
    false_signal: float
    power: float


def signal_probability(
    w_success: float,
    w_failure: float,
    p_failure: float,
    h: float,
    sessions: int,
    stop_at: float | None = None,
) -> list[float]:
    """Probability that the CUSUM has signalled (``S_n >= h``) by session 1, 2, ...,
    ``sessions`` when every session fails with probability ``p_failure``.

    Computed exactly on a Markov chain whose states are the CUSUM's values on a grid (Brook &
    Evans 1972, Biometrika 59:539): the step is 1/``GRID_STEPS_PER_WEIGHT`` of the smaller
    weight, both weights and ``h`` are rounded to it, and mass at or above ``h`` is absorbed.

    ``stop_at``: stop early after the first session whose probability reaches it.

    Returns
    -------
    list of float
        Cumulative signal probability after each session (non-decreasing).
    """
    step = min(abs(w_success), abs(w_failure)) / GRID_STEPS_PER_WEIGHT
    up, down = round(w_success / step), round(w_failure / step)
    if w_success < 0:  # the relapse CUSUM: failures push it up
        up, down = round(w_failure / step), round(w_success / step)
        p_up = p_failure
    else:
        p_up = 1.0 - p_failure
    m = max(1, math.ceil(h / step - 1e-9))  # states 0 .. m-1 are below h
    dist = np.zeros(m)
    dist[0] = 1.0
    absorbed = 0.0
    out = []
    for _ in range(sessions):
        new = np.zeros(m)
        # a step up: states below m - up stay below h, the rest signal
        if up < m:
            new[up:] += p_up * dist[: m - up]
            absorbed += p_up * float(dist[m - up :].sum())
        else:
            absorbed += p_up * float(dist.sum())
        # a step down (down < 0): clipped at 0
        k = -down
        if k < m:
            new[: m - k] += (1.0 - p_up) * dist[k:]
            new[0] += (1.0 - p_up) * float(dist[:k].sum())
        else:
            new[0] += (1.0 - p_up) * float(dist.sum())
        dist = new
        out.append(absorbed)
        if stop_at is not None and absorbed >= stop_at:
            break
    return out


def design_limit(
    w_success: float, w_failure: float, p_null: float, p_target: float, alpha: float, beta: float
) -> CusumLimit:
    """The smallest decision limit ``h`` whose false-signal rate is at most ``alpha`` within
    the number of sessions in which the CUSUM signals with power ``1 - beta``.

    For each candidate ``h``, H is the first session by which a process at ``p_target``
    has signalled with probability ``>= 1 - beta``; the candidate is accepted when a process
    at ``p_null`` has signalled by H with probability ``<= alpha``. Probabilities come from
    :func:`signal_probability` (exact on the grid, no simulation). Candidates are the grid's
    values, searched upwards in steps of the smaller weight, then by bisection.

    Raises
    ------
    ValueError
        When no limit reaches the power within ``MAX_HORIZON_SESSIONS`` sessions.
    """
    step = min(abs(w_success), abs(w_failure)) / GRID_STEPS_PER_WEIGHT

    def trial(h_steps: int) -> CusumLimit | None:
        h = h_steps * step
        target = signal_probability(
            w_success, w_failure, p_target, h, MAX_HORIZON_SESSIONS, stop_at=1.0 - beta
        )
        if target[-1] < 1.0 - beta:
            raise ValueError(
                f"no decision limit reaches power {1 - beta:g} within "
                f"{MAX_HORIZON_SESSIONS} sessions"
            )
        horizon = len(target)
        null = signal_probability(w_success, w_failure, p_null, h, horizon)[-1]
        if null > alpha:
            return None
        return CusumLimit(
            h=h, horizon_sessions=horizon, false_signal=null, power=target[horizon - 1]
        )

    coarse = GRID_STEPS_PER_WEIGHT
    lo, hi = 0, coarse
    found = trial(hi)
    while found is None:
        lo, hi = hi, hi + coarse
        found = trial(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        got = trial(mid)
        if got is None:
            lo = mid
        else:
            hi, found = mid, got
    return found


@functools.lru_cache(maxsize=64)
def signoff_limit(spec: SignOffSpec) -> CusumLimit:
    """The LC-CUSUM's decision limit for ``spec``: a trainee whose failure rate is the
    unacceptable one is signed off with probability at most ``alpha`` within the H sessions
    in which a trainee at the acceptable rate is signed off with probability ``1 - beta``
    (:func:`design_limit`)."""
    ws, wf = signoff_weights(spec)
    return design_limit(
        ws, wf, spec.unacceptable_failure, spec.acceptable_failure, spec.alpha, spec.beta
    )


@functools.lru_cache(maxsize=64)
def relapse_limit(spec: SignOffSpec) -> CusumLimit:
    """The relapse CUSUM's decision limit for ``spec``: a trainee still at the acceptable
    failure rate gets a false relapse alarm with probability at most ``alpha`` within the H
    sessions in which a relapse to the unacceptable rate is flagged with probability
    ``1 - beta`` (:func:`design_limit`)."""
    ws, wf = relapse_weights(spec)
    return design_limit(
        ws, wf, spec.acceptable_failure, spec.unacceptable_failure, spec.alpha, spec.beta
    )


@dataclass(frozen=True, slots=True)
class CompetencyTrace:
    """LC-CUSUM sign-off and relapse CUSUM over one trainee's sessions of one procedure.

    The LC-CUSUM runs from the first session; at its signal the trainee is signed off and
    the relapse CUSUM starts from 0 at the next session. A relapse signal flags the trainee
    and starts the LC-CUSUM again from 0 (back to training, as in Hu et al. 2016), so a
    trainee can be signed off again.

    Attributes
    ----------
    signoff : tuple of (float or None)
        LC-CUSUM value after each session; None where it was not running (after sign-off).
    relapse : tuple of (float or None)
        Relapse CUSUM value after each session; None where it was not running.
    signed_off_at : tuple of int
        Session numbers (1-based) at which the LC-CUSUM signalled.
    relapsed_at : tuple of int
        Session numbers (1-based) at which the relapse CUSUM signalled.
    signoff_limit, relapse_limit : CusumLimit
        The two decision limits.
    """

    signoff: tuple[float | None, ...]
    relapse: tuple[float | None, ...]
    signed_off_at: tuple[int, ...]
    relapsed_at: tuple[int, ...]
    signoff_limit: CusumLimit
    relapse_limit: CusumLimit

    @property
    def signed_off(self) -> bool:
        """Signed off now: the latest event is a sign-off (not a relapse)."""
        if not self.signed_off_at:
            return False
        return not self.relapsed_at or self.relapsed_at[-1] < self.signed_off_at[-1]

    @property
    def relapsed(self) -> bool:
        """Flagged now: the latest event is a relapse."""
        return bool(self.relapsed_at) and not self.signed_off

    def line(self) -> str:
        """The status in words, e.g. ``"signed off at session 23; relapse CUSUM 1.20 of
        limit 3.50"``."""
        sl, rl = self.signoff_limit, self.relapse_limit
        if self.relapsed:
            now = self.signoff[-1] if self.signoff else None
            s = f"relapse flagged at session {self.relapsed_at[-1]}, back in training"
            if now is not None and self.relapsed_at[-1] < len(self.signoff):
                s += f"; LC-CUSUM {now:.2f} of limit {sl.h:.2f}"
            return s
        if self.signed_off:
            now = self.relapse[-1]
            s = f"signed off at session {self.signed_off_at[-1]}"
            if now is not None:
                s += f"; relapse CUSUM {now:.2f} of limit {rl.h:.2f}"
            return s
        now = self.signoff[-1] if self.signoff else 0.0
        return f"not yet signed off: LC-CUSUM {now or 0.0:.2f} of limit {sl.h:.2f}"


def track(passed: Sequence[bool], spec: SignOffSpec) -> CompetencyTrace:
    """Run the LC-CUSUM sign-off and, after each sign-off, the relapse CUSUM.

    Parameters
    ----------
    passed : sequence of bool
        Outcome of each counted session of one procedure, oldest first.
    spec : SignOffSpec
        Failure rates and error rates; both limits come from it.

    Returns
    -------
    CompetencyTrace
    """
    lws, lwf = signoff_weights(spec)
    rws, rwf = relapse_weights(spec)
    sl, rl = signoff_limit(spec), relapse_limit(spec)
    lc: list[float | None] = []
    rel: list[float | None] = []
    signed: list[int] = []
    relapsed: list[int] = []
    s, mode = 0.0, "learning"
    for n, ok in enumerate(passed, start=1):
        if mode == "learning":
            s = max(0.0, s + (lws if ok else lwf))
            lc.append(s)
            rel.append(None)
            if s >= sl.h:
                signed.append(n)
                s, mode = 0.0, "watching"
        else:
            s = max(0.0, s + (rws if ok else rwf))
            rel.append(s)
            lc.append(None)
            if s >= rl.h:
                relapsed.append(n)
                s, mode = 0.0, "learning"
    return CompetencyTrace(tuple(lc), tuple(rel), tuple(signed), tuple(relapsed), sl, rl)


# --- learning curve ------------------------------------------------------------------------

_RATES = np.geomspace(0.01, 3.0, 120)
"""Rates c tried by :func:`fit_learning_curve` (per session; our choice: from a curve that
is nearly straight over 100 sessions to one that levels off after one)."""


@dataclass(frozen=True, slots=True)
class LearningCurve:
    """A fitted negative-exponential learning curve ``score(n) = a - b * exp(-c * n)``.

    Attributes
    ----------
    plateau : float
        a: the score the curve levels off at (points of 100).
    gain : float
        b: how far below the plateau the curve starts (points; negative for a decline).
    rate_per_session : float
        c: how fast it levels off.
    """

    plateau: float
    gain: float
    rate_per_session: float

    def at(self, n: float) -> float:
        """The curve's score at session ``n`` (1-based)."""
        return self.plateau - self.gain * math.exp(-self.rate_per_session * n)


def fit_learning_curve(scores: Sequence[float], improving: bool = False) -> LearningCurve:
    """Least-squares fit of ``a - b * exp(-c * n)`` to scores at sessions 1..N.

    For each rate c on a fixed grid (``_RATES``) a and b solve a linear least-squares
    problem; the c with the smallest residual is kept. Deterministic and needs only numpy
    (no iterative optimiser that could fail to converge). Needs at least 3 scores.

    ``improving``: fit only a curve that rises or stays level (``b >= 0``): where the free
    fit falls, the best such curve is the level line at the mean score (its plateau), so a
    falling history is never extrapolated downwards.
    """
    if len(scores) < 3:
        raise ValueError("a learning curve needs at least 3 sessions")
    y = np.asarray(scores, dtype=float)
    n = np.arange(1, len(y) + 1, dtype=float)
    best: tuple[float, LearningCurve] | None = None
    for c in _RATES:
        design = np.column_stack([np.ones_like(n), -np.exp(-c * n)])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        if improving and coef[1] < 0.0:
            coef = np.array([float(np.mean(y)), 0.0])
        sse = float(np.sum((design @ coef - y) ** 2))
        if best is None or sse < best[0] - 1e-12:
            best = (sse, LearningCurve(float(coef[0]), float(coef[1]), float(c)))
    assert best is not None
    return best[1]


# --- early warning -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Risk:
    """One reason a trainee is at risk in one procedure.

    Attributes
    ----------
    rule : str
        ``"plateau"``, ``"relapse"``, ``"repeated_critical"`` or ``"no_practice"``.
    task : str
        Procedure id.
    reason : str
        The reason in words, for the instructor.
    """

    rule: str
    task: str
    reason: str


FALLING_POINTS = 5.0
"""A recent trend line that drops by this many points or more over the last
``plateau_sessions`` sessions is worded "scores falling" (our choice: about the spread of one
trainee's scores from session to session)."""


def plateau_reason(scores: Sequence[float], pass_score: float, spec: WarningSpec) -> str | None:
    """Why the scores have stalled or are falling below the pass line, or None.

    Only when the data show it: at least ``plateau_sessions`` (and at least 3) full sessions,
    the mean of the last ``plateau_sessions`` scores below ``pass_score`` (recent scores at or
    above the pass line are never flagged) and their least-squares trend not upwards. Then,
    when that trend drops by :data:`FALLING_POINTS` or more over the window, "scores
    falling"; else "no improvement", when the learning curve fitted to all sessions, rising or
    level only (:func:`fit_learning_curve` with ``improving``: a falling fit is never
    extrapolated), levels off below ``pass_score``.
    """
    n = max(spec.plateau_sessions, 3)
    if len(scores) < n:
        return None
    last = np.asarray(scores[-n:], dtype=float)
    mean = float(np.mean(last))
    if mean >= pass_score:
        return None
    slope = float(np.polyfit(np.arange(n, dtype=float), last, 1)[0])
    if slope > 0.0:
        return None
    window = f"over the last {plural(n, 'session')} (trend {slope:+.1f} points a session"
    if slope * (n - 1) <= -FALLING_POINTS:
        return f"scores falling {window}, mean {mean:.0f}, below the pass line {pass_score:g})"
    curve = fit_learning_curve(scores, improving=True)
    if curve.plateau >= pass_score:
        return None
    return (
        f"no improvement {window}); the learning curve levels off at {curve.plateau:.0f}, "
        f"below the pass line {pass_score:g}"
    )


def repeated_critical_reason(attempts: Sequence[Attempt], spec: WarningSpec) -> str | None:
    """Which critical error recurs: a kind committed in at least ``repeated_critical`` of the
    last ``plateau_sessions`` sessions (each session counts a kind once), or None."""
    recent = attempts[-spec.plateau_sessions :] if spec.plateau_sessions > 0 else []
    counts: dict[str, int] = {}
    for a in recent:
        for kind in set(a.critical_errors):
            counts[kind] = counts.get(kind, 0) + 1
    hit = sorted(
        (k for k, c in counts.items() if c >= spec.repeated_critical), key=lambda k: (-counts[k], k)
    )
    if not hit or spec.repeated_critical < 1:
        return None
    said = ", ".join(f"{k.replace('_', ' ')} in {counts[k]}" for k in hit)
    return f"the same critical error again: {said} of the last {plural(len(recent), 'session')}"


def days_since(then_utc: datetime.datetime, now_utc: datetime.datetime) -> int:
    """Whole days gone by from ``then_utc`` to ``now_utc`` (naive UTC; rounded down, 0 when
    ``then_utc`` is later): the one "days since" that ``procsim next``, ``progress`` and the
    trainee report say."""
    return max(0, (now_utc - then_utc).days)


def no_practice_reason(
    attempts: Sequence[Attempt], now_utc: datetime.datetime, spec: WarningSpec
) -> str | None:
    """A reminder when the latest session (drills count as practice) ended more than
    ``decay_days`` before ``now_utc`` (naive UTC), or None."""
    if not attempts:
        return None
    last = max(a.ended_utc for a in attempts)
    if (now_utc - last).total_seconds() / 86400.0 <= spec.decay_days:
        return None
    days = days_since(last, now_utc)
    return (
        f"no practice for {plural(days, 'day')} (since {last:%Y-%m-%d}; skills fade after "
        f"{spec.decay_days:g} days): remind them"
    )


def relapse_reason(trace: CompetencyTrace) -> str | None:
    """The relapse flag in words, or None when the trainee is not flagged."""
    if not trace.relapsed:
        return None
    rl = trace.relapse_limit
    return (
        f"relapse: signed off at session {trace.signed_off_at[-1]}, then failures pushed the "
        f"relapse CUSUM over its limit {rl.h:.2f} at session {trace.relapsed_at[-1]}"
    )


def risks(
    attempts: Sequence[Attempt],
    signoff: SignOffSpec,
    warnings: WarningSpec,
    pass_score: float | None,
    now_utc: datetime.datetime,
) -> list[Risk]:
    """Every at-risk reason of one trainee in one procedure.

    Parameters
    ----------
    attempts : sequence of Attempt
        The trainee's counted sessions of one procedure, oldest first. Full cases (not
        drills) feed the CUSUMs and the learning curve; every session counts for critical
        errors and for practice.
    signoff, warnings : SignOffSpec, WarningSpec
        The procedure's rates and rule parameters.
    pass_score : float or None
        The pass line (score of 100) of the procedure's cases; None (unknown) leaves the
        plateau rule out.
    now_utc : datetime.datetime
        Now, naive UTC.

    Returns
    -------
    list of Risk
        In the order relapse, plateau, repeated critical error, no practice; empty when the
        trainee is not at risk.
    """
    if not attempts:
        return []
    task = attempts[-1].task
    full = [a for a in attempts if not a.drill]
    out: list[Risk] = []
    found = [
        ("relapse", relapse_reason(track([a.passed for a in full], signoff))),
        (
            "plateau",
            None
            if pass_score is None
            else plateau_reason([a.score for a in full], pass_score, warnings),
        ),
        ("repeated_critical", repeated_critical_reason(attempts, warnings)),
        ("no_practice", no_practice_reason(attempts, now_utc, warnings)),
    ]
    for rule, reason in found:
        if reason is not None:
            out.append(Risk(rule, task, reason))
    return out
