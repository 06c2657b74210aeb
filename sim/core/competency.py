"""Competency statistics over a trainee's history: LC-CUSUM sign-off, relapse, early warning.

Pure and deterministic: no I/O, no clock (callers pass ``now_utc``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass


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
    """

    scenario: str
    task: str
    ended_utc: datetime.datetime
    score: float
    passed: bool
    critical_errors: tuple[str, ...]
    points_lost: Mapping[str, float]
    drill: bool


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
