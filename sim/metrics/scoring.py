"""Turn metric values into points, a weighted score, pass/fail and advice.

The score contract
------------------
- A session is ``complete`` only when the procedure was carried out to its end (the task
  model says when: :meth:`is_complete` of the task). An incomplete session never passes and
  is not counted for sign-off, learning curves or cohort standing.
- A step that never happened earns no points: a metric whose value is NaN ("not done")
  earns 0 with its full weight. Whole-session metrics (time, path length, smoothness...)
  earn 0 in an incomplete session, since doing less must not score better.
- A metric the input cannot measure (tremor and smoothness with the eased mouse pointer,
  see :mod:`sim.metrics.catalog`) is "not measured": no points, no weight. So is a metric
  read from an axis an assist sets rather than the hand (``InputNoise.guided``).
- A metric the input measures too noisily is "uncertain": its uncertainty (the noise of the
  axes it reads, :mod:`sim.metrics.noise`) is above what its anchor tolerates
  (``MetricAnchor.max_uncertainty``, e.g. the camera's depth across the arm against the
  puncture offset's 0.3-2.5 mm): it is shown with its uncertainty, with no points and no
  weight. A scenario may set anchors for that input kind that its noise can resolve.
- A session with no samples at all is ``empty``: every metric not done, score 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sim.core.checklist import StepResult
from sim.core.records import Event
from sim.core.scenario import Scenario
from sim.metrics.catalog import can_measure, input_words
from sim.metrics.motion import MIN_TREMOR_RATE_HZ
from sim.metrics.noise import InputNoise, where
from sim.procedures import registry
from sim.procedures.registry import format_value

SCORED, NOT_DONE, INCOMPLETE, NOT_MEASURED, UNCERTAIN, INFO = (
    "scored",
    "not done",
    "incomplete",
    "not measured",
    "uncertain",
    "info",
)


VERDICT_LINES = {
    "INCOMPLETE": "incomplete: not scored for sign-off",
    "EMPTY": "empty: no motion was recorded, nothing scored",
}
"""What every view says, in plain words, beside a verdict that is neither a pass nor a
fail."""


def drill_words(labels: Sequence[str]) -> str:
    """What every view says of a drill, from its targets' labels: "Drill: trains insertion
    angle error and bevel roll, scored on them alone"; "" for none (a full scenario)."""
    if not labels:
        return ""
    names = [label[:1].lower() + label[1:] for label in labels]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    alone = "it alone" if len(names) == 1 else "them alone"
    return f"Drill: trains {listed}, scored on {alone}"


def verdict_word(passed: bool, complete: bool, empty: bool) -> str:
    """The verdict: "PASS", "FAIL", "INCOMPLETE" or "EMPTY" (an incomplete or empty session
    has no pass or fail)."""
    if empty:
        return "EMPTY"
    if not complete:
        return "INCOMPLETE"
    return "PASS" if passed else "FAIL"


def shown_value(name: str, value: float | None, status: str, uncertainty: float = 0.0) -> str:
    """A metric's value as every view shows it ("58°", "3.2 mm"; "-" when there is none);
    an uncertain one with its uncertainty ("1.2 ± 4.1 mm")."""
    if status == UNCERTAIN and value is not None and math.isfinite(value):
        return f"{format_value(name, value, unit=False)} ± {format_value(name, uncertainty)}"
    return format_value(name, value)


def measurement_notes(metrics: Iterable[tuple[str, str, str, str]]) -> tuple[str, ...]:
    """What the results say about metrics the input could not measure well: those too
    uncertain to score, those too few tracked frames or no noise floor left unmeasured, and
    those an assist set instead of the hand.

    Parameters
    ----------
    metrics : iterable of (label, status, note, words)
        The session's metrics (:class:`MetricResult`'s fields).

    Returns
    -------
    tuple of str
        First the words a metric carries on what its value came from, scored or not (the
        procedure's :attr:`~sim.procedures.base.Procedure.notes`: "Patient discomfort peaked
        at 6.5/10: ..."); then up to four lines, one per reason, each naming the metrics
        ("The tracker could not measure these well enough to score (shown ± its noise):
        Bite error."); none when every metric was measured and none has words.
    """
    metrics = list(metrics)
    # what a metric's value came from, in words (the procedure's notes)
    said = [words for *_, words in metrics if words]
    noisy = [label for label, status, *_ in metrics if status == UNCERTAIN]
    guided = [
        label for label, status, note, _ in metrics if status == NOT_MEASURED and "guided" in note
    ]
    out = []
    if noisy:
        out.append(
            "The tracker could not measure these well enough to score (shown ± its noise): "
            + ", ".join(noisy)
            + "."
        )
    slow = [
        lab for lab, status, note, _ in metrics if status == NOT_MEASURED and "frames/s" in note
    ]
    if slow:
        out.append(
            "Too few frames per second were tracked to measure these (the camera and this "
            f"computer's hand tracking together must reach {MIN_TREMOR_RATE_HZ:.0f}): "
            + ", ".join(slow)
            + "."
        )
    floorless = [lab for lab, _, note, _ in metrics if note == "not measured: no noise floor"]
    if floorless:
        out.append(
            "Without a calibration the tracker's own jitter cannot be told from tremor, so "
            "these were not measured: " + ", ".join(floorless) + "."
        )
    if guided:
        out.append(
            "Guided: set by the depth assist, not by the hand, so not scored: "
            + ", ".join(guided)
            + "."
        )
    return (*said, *out)


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One metric in a result.

    ``points`` is None for metrics that carry no weight (``status`` "info", "not
    measured" or "uncertain"); ``status`` says why a metric earned what it did (see the
    module notes) and ``note`` words it; ``uncertainty`` is how far the value may be off
    from the input's noise alone (in its unit; 0 when the input reads it exactly);
    ``words`` is what the value came from, in words, whatever its points (the procedure's
    :attr:`~sim.procedures.base.Procedure.notes`: "Patient discomfort peaked at 6.5/10:
    ..."; "" for most metrics).
    """

    name: str
    value: float
    unit: str
    description: str
    points: float | None = None
    weight: float = 0.0
    expert: float | None = None
    novice: float | None = None
    label: str = ""
    status: str = INFO
    note: str = ""
    uncertainty: float = 0.0
    words: str = ""

    @property
    def shown(self) -> str:
        """The value as every view shows it (:func:`shown_value`)."""
        return shown_value(self.name, self.value, self.status, self.uncertainty)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label,
            "value": None if math.isnan(self.value) else self.value,
            "unit": self.unit,
            "description": self.description,
            "points": self.points,
            "weight": self.weight,
            "expert": self.expert,
            "novice": self.novice,
            "status": self.status,
            "note": self.note,
            "uncertainty": self.uncertainty,
            "words": self.words,
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The outcome of a session: why the trainee got their score.

    ``complete`` is False when the procedure was not carried out to its end; ``empty`` when
    not a single sample was recorded. Neither ever passes.
    """

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
    complete: bool = False
    empty: bool = False
    input_kind: str = "scripted"
    checklist: tuple[StepResult, ...] = ()
    """The scenario's checklist, one result per step (none without one)."""
    drill: tuple[str, ...] = ()
    """A drill's targets (``[drill]``): the metrics it trains, the only ones scored; empty
    for a full scenario."""

    @property
    def drill_line(self) -> str:
        """ "Drill: trains insertion angle error and bevel roll, scored on them alone"; "" for
        a full scenario."""
        labels = {m.name: m.label for m in self.metrics}
        return drill_words([labels.get(n, n) for n in self.drill])

    @property
    def missed_critical(self) -> tuple[StepResult, ...]:
        """The critical steps of the checklist not satisfied (each fails the session)."""
        return tuple(s for s in self.checklist if s.critical and not s.ok)

    @property
    def verdict(self) -> str:
        """The verdict (:func:`verdict_word`)."""
        return verdict_word(self.passed, self.complete, self.empty)

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
            "complete": self.complete,
            "empty": self.empty,
            "input_kind": self.input_kind,
            "pass_score": self.pass_score,
            "critical_errors": [e.as_dict() for e in self.critical_errors],
            "errors": [e.as_dict() for e in self.errors],
            "metrics": {m.name: m.as_dict() for m in self.metrics},
            "phases_s": dict(self.phases_s),
            "advice": list(self.advice),
            "checklist": [s.as_dict() for s in self.checklist],
            # only a drill's result has the key: a full scenario's is as it always was
            **({"drill": list(self.drill)} if self.drill else {}),
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
    *,
    complete: bool = False,
    empty: bool = False,
    input_kind: str = "scripted",
    noise: InputNoise | None = None,
    unmeasured: Mapping[str, str] | None = None,
    checklist: Sequence[StepResult] = (),
) -> ScoreResult:
    """Score metric values against the scenario's anchors and thresholds.

    Parameters
    ----------
    scenario : Scenario
        Anchors, weights, pass score and critical errors.
    values : mapping of str to float
        Metric values by name (NaN: not done).
    events : sequence of Event
        The task's events (errors and critical errors are taken from them).
    phases_s : sequence of (str, float)
        Time spent in each phase, s, in procedure order.
    complete : bool
        Whether the procedure was carried out to its end.
    empty : bool
        No sample was recorded at all: nothing is scored.
    input_kind : str
        The input the session was made with ("mouse", "webcam"...): decides which metrics
        can be measured and which anchors apply.
    noise : InputNoise, optional
        How precisely the input read each axis in this session (default: exactly): decides
        which metrics are too uncertain to score (see the module notes).
    unmeasured : mapping of str to str, optional
        Metrics this session's input could not measure, each with the words why ("not
        measured: 5 frames/s tracked": the hand's tremor and smoothness when too few frames
        were tracked for them): "not measured", no points, no weight.
    checklist : sequence of StepResult
        The session's checklist (:func:`sim.core.checklist.evaluate`). A critical step not
        satisfied (not taken, out of order, or the puncture outside the cleaned area) fails
        the session as a critical error does; the other steps are reported and advised on,
        and cost no points (the points are the needle's metrics against their anchors; a
        step is done or not, with no expert-to-novice span to score on).
    """
    complete = complete and not empty
    results = []
    total_w = total_p = 0.0
    proc = registry.get(scenario.task)
    words = {} if empty else proc.notes(scenario, events)
    for name, mi in registry.metrics_of(proc).items():
        v = math.nan if empty else float(values.get(name, math.nan))
        a = scenario.scoring.anchor(name, input_kind)
        if not can_measure(mi.needs, input_kind):
            who = input_words(input_kind)
            results.append(
                MetricResult(
                    name, math.nan, mi.unit, mi.description, None, 0.0,
                    a.expert if a else None, a.novice if a else None,
                    mi.label, NOT_MEASURED, f"not measured with {who}",
                )
            )  # fmt: skip
            continue
        why_not = (unmeasured or {}).get(name)
        if why_not is not None:
            results.append(
                MetricResult(
                    name, math.nan, mi.unit, mi.description, None, 0.0,
                    a.expert if a else None, a.novice if a else None,
                    mi.label, NOT_MEASURED, why_not,
                )
            )  # fmt: skip
            continue
        if noise is not None and noise.guides(mi.axes):
            results.append(
                MetricResult(
                    name, v, mi.unit, mi.description, None, 0.0,
                    a.expert if a else None, a.novice if a else None,
                    mi.label, NOT_MEASURED, "guided (depth assist)",
                )
            )  # fmt: skip
            continue
        unc = noise.of(mi.axes) if noise is not None else 0.0
        if a is None:
            results.append(
                MetricResult(name, v, mi.unit, mi.description, label=mi.label, uncertainty=unc)
            )
            continue
        if unc > a.max_uncertainty and not math.isnan(v):
            reads = where(mi.axes)
            results.append(
                MetricResult(
                    name, v, mi.unit, mi.description, None, 0.0, a.expert, a.novice,
                    mi.label, UNCERTAIN,
                    f"not scored: the tracker reads {reads} to ±{format_value(name, unc)}, "
                    f"scoring needs ±{format_value(name, a.max_uncertainty)}",
                    unc,
                )
            )  # fmt: skip
            continue
        if math.isnan(v):
            p, status, note = 0.0, NOT_DONE, "not done"
        elif mi.whole_session and not complete:
            p, status, note = 0.0, INCOMPLETE, "no points: the procedure was not completed"
        else:
            p, status, note = points(v, a.expert, a.novice), SCORED, ""
        total_w += a.weight
        total_p += a.weight * p
        results.append(
            MetricResult(
                name, v, mi.unit, mi.description, round(p, 2), a.weight, a.expert, a.novice,
                mi.label, status, note, unc, "" if math.isnan(v) else words.get(name, ""),
            )
        )  # fmt: skip
    total = round(total_p / total_w, 2) if total_w and not empty else 0.0
    crit_kinds = set(scenario.scoring.critical_errors)
    crit = tuple(e for e in events if e.error and e.kind in crit_kinds)
    errors = tuple(e for e in events if e.error and e.kind not in crit_kinds)
    steps = tuple(checklist)
    missed = [s for s in steps if s.critical and not s.ok]
    passed = complete and total >= scenario.scoring.pass_score and not crit and not missed
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
        _advice(scenario, results, values, crit, complete, empty, steps),
        complete,
        empty,
        input_kind,
        steps,
        scenario.drill.targets if scenario.drill is not None else (),
    )


def _target(scenario: Scenario, m: MetricResult, values: Mapping[str, float]) -> str:
    """What the trainee did and what to aim for, in the catalogue's words and rounding (the
    procedure's own words where it has them)."""
    words = registry.get(scenario.task).target_words(scenario, m.name, values)
    if words is not None:
        return words
    assert m.expert is not None
    return f"{m.label}: {m.shown} (an expert: {format_value(m.name, m.expert)})"


def _advice(
    scenario: Scenario,
    results: Sequence[MetricResult],
    values: Mapping[str, float],
    crit: Sequence[Event],
    complete: bool,
    empty: bool,
    steps: Sequence[StepResult] = (),
) -> tuple[str, ...]:
    """Up to three things to work on first: the session's status and critical errors, the
    metric that lost the most weighted points (with its value and target), the critical
    checklist steps not met (one line), the metrics that lost the next most, then the
    other checklist steps not met (one line). The results and the report list the whole
    checklist besides."""
    if empty:
        return ("No motion was recorded: nothing to score.",)
    out = []
    if not complete:
        out.append(
            "Incomplete: the procedure was not carried out to its end, so this session is "
            "not scored for sign-off."
        )
    out += [f"{e.message} (critical)" for e in dict((e.kind, e) for e in crit).values()]
    lost = sorted(
        (m for m in results if m.points is not None and m.points < 90),
        key=lambda m: -(m.weight * (100.0 - (m.points or 0.0))),
    )
    metric_lines = []
    for m in lost:
        if m.status == INCOMPLETE:
            continue  # said once above
        if m.status == NOT_DONE:
            metric_lines.append(f"{m.label}: not done")
        else:
            metric_lines.append(_target(scenario, m, values))
    missed = [st for st in steps if st.critical and not st.ok]
    others = [st for st in steps if not st.critical and not st.ok]
    out += metric_lines[:1]
    if missed:
        out.append(_steps_words("Critical checklist step", missed))
    out += metric_lines[1:]
    if others:
        out.append(_steps_words("Checklist step", others))
    if not out:
        out.append("Every scored metric at 90 points or more: keep it up.")
    return tuple(out[:3])


def _steps_words(what: str, steps: Sequence[StepResult]) -> str:
    """Checklist steps not met, in one line ("Critical checklist steps: check the patient's
    identity (not done), clean the site (taken after: skin punctured).")."""
    plural = "s" if len(steps) > 1 else ""
    return f"{what}{plural}: " + ", ".join(f"{st.label} ({st.note})" for st in steps) + "."
