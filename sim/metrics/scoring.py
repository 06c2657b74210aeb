"""Turn metric values into points, a weighted score, pass/fail and advice."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sim.core.records import Event
from sim.core.scenario import Scenario
from sim.metrics.catalog import metrics_for_task


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One metric in a result. ``points`` is None for metrics that are not scored."""

    name: str
    value: float
    unit: str
    description: str
    points: float | None = None
    weight: float = 0.0
    expert: float | None = None
    novice: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": None if math.isnan(self.value) else self.value,
            "unit": self.unit,
            "description": self.description,
            "points": self.points,
            "weight": self.weight,
            "expert": self.expert,
            "novice": self.novice,
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The outcome of a session: why the trainee got their score."""

    scenario: str
    scenario_hash: str
    score: float
    passed: bool
    pass_score: float
    critical_errors: tuple[Event, ...]
    errors: tuple[Event, ...]
    metrics: tuple[MetricResult, ...]
    phases_s: tuple[tuple[str, float], ...]
    advice: tuple[str, ...]

    def metric(self, name: str) -> MetricResult:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)

    def as_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "scenario_hash": self.scenario_hash,
            "score": self.score,
            "passed": self.passed,
            "pass_score": self.pass_score,
            "critical_errors": [e.as_dict() for e in self.critical_errors],
            "errors": [e.as_dict() for e in self.errors],
            "metrics": {m.name: m.as_dict() for m in self.metrics},
            "phases_s": dict(self.phases_s),
            "advice": list(self.advice),
        }


def points(value: float, expert: float, novice: float) -> float:
    """0-100 points: 100 at (or beyond) the expert anchor, 0 at (or beyond) the novice one.

    A value that could not be measured (NaN) earns 0 points.
    """
    if math.isnan(value):
        return 0.0
    p = 100.0 * (novice - value) / (novice - expert)
    return min(100.0, max(0.0, p))


def score(
    scenario: Scenario,
    values: Mapping[str, float],
    events: Sequence[Event],
    phases_s: Sequence[tuple[str, float]] = (),
) -> ScoreResult:
    """Score metric values against the scenario's anchors and thresholds."""
    info = metrics_for_task(scenario.task)
    results = []
    total_w = total_p = 0.0
    for name, mi in info.items():
        v = float(values.get(name, math.nan))
        a = scenario.scoring.anchor(name)
        if a is None:
            results.append(MetricResult(name, v, mi.unit, mi.description))
            continue
        p = points(v, a.expert, a.novice)
        total_w += a.weight
        total_p += a.weight * p
        results.append(
            MetricResult(
                name, v, mi.unit, mi.description, round(p, 2), a.weight, a.expert, a.novice
            )
        )
    total = round(total_p / total_w, 2) if total_w else 0.0
    crit_kinds = set(scenario.scoring.critical_errors)
    crit = tuple(e for e in events if e.error and e.kind in crit_kinds)
    errors = tuple(e for e in events if e.error and e.kind not in crit_kinds)
    passed = total >= scenario.scoring.pass_score and not crit
    return ScoreResult(
        scenario.id,
        scenario.content_hash,
        total,
        passed,
        scenario.scoring.pass_score,
        crit,
        errors,
        tuple(results),
        tuple(phases_s),
        _advice(results, crit),
    )


def _fmt(v: float) -> str:
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"


def _advice(results: Sequence[MetricResult], crit: Sequence[Event]) -> tuple[str, ...]:
    """Up to three things to work on first: critical errors, then the most points lost."""
    out = [f"{e.message} (critical)" for e in dict((e.kind, e) for e in crit).values()]
    lost = sorted(
        (m for m in results if m.points is not None and m.points < 90),
        key=lambda m: -(m.weight * (100.0 - (m.points or 0.0))),
    )
    for m in lost:
        if len(out) >= 3:
            break
        assert m.expert is not None
        if math.isnan(m.value):
            out.append(f"{m.description}: not measured this time")
        else:
            unit = f" {m.unit}" if m.unit and m.unit != "count" else ""
            out.append(
                f"{m.description}: {_fmt(m.value)}{unit}, an expert gets {_fmt(m.expert)}{unit}"
            )
    return tuple(out[:3])
