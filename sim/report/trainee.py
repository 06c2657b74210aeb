"""A trainee's progress: ``procsim report --trainee ID -o FILE.html``.

Per scenario: the learning curve (score of every session in order), the sessions, the
proficiency sign-off status under the scenario's own rule, and where the trainee stands
against the cohort (every trainee in the same store who practised the scenario).

Only sessions that count (complete and not empty, :attr:`SessionRow.counts`) enter the
curve, the sign-off and the cohort standing; the others are listed, marked "incomplete" or
"empty".

The cohort standing compares like with like: the same scenario **and the same input kind**.
A mouse session's score leaves out the metrics the mouse cannot measure (the hand's tremor
and smoothness, :mod:`sim.metrics.catalog`), so its score and a webcam session's are not on
one scale: a trainee who practised with both stands in each input's cohort separately.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sim.errors import UserError
from sim.lab.proficiency import Proficiency, proficiency
from sim.lab.store import SessionRow, Store
from sim.metrics.catalog import can_measure, input_words
from sim.procedures.registry import format_value, metric_order
from sim.procedures.registry import metric_info as info
from sim.report import plots
from sim.report.html import esc, img, page, table, td, verdict, words
from sim.report.progress import ProcedureProgress
from sim.words import plural

COHORT_LAST_N = 5
"""A trainee's standing is the mean score of their last this many sessions."""


def _rule(store: Store, rows: Sequence[SessionRow]) -> tuple[int, int, float | None]:
    """(consecutive, further, pass score) of the scenario the latest session was made with;
    2, 10 and unknown if it cannot be read."""
    from sim.core.scenario import ScenarioError
    from sim.scenarios import embedded_cases, find_scenario, parse_scenario

    latest = rows[-1]
    try:
        head = store.recording_header(latest.id)
        text = str(head.get("scenario_toml") or "")
        sc = (
            parse_scenario(
                text.encode("utf-8"),
                f"session {latest.id}",
                case_text=embedded_cases(head)[0],
                default_case_text=embedded_cases(head)[1],
            )
            if text
            else find_scenario(latest.scenario)
        )
    except (ScenarioError, UserError, ValueError):
        return 2, 10, None
    return (
        sc.proficiency.consecutive_passes,
        sc.proficiency.further_passes,
        sc.scoring.pass_score,
    )


def standing(
    rows: Sequence[SessionRow], input_kind: str, last_n: int = COHORT_LAST_N
) -> dict[str, float]:
    """Per trainee, the mean score of their last ``last_n`` sessions that count made with
    ``input_kind`` (rows oldest first, of one scenario); a trainee without one has no
    standing. Sessions of another input kind are left out: their scores weigh other metrics."""
    by: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r.counts and r.input_kind == input_kind:
            by[r.trainee_id].append(r.score)
    return {k: statistics.fmean(v[-last_n:]) for k, v in by.items()}


def with_input(input_kind: str) -> str:
    """``"with the mouse"``, ``"with the webcam"``: how an input kind is named in a sentence."""
    return f"with {input_words(input_kind)}"


def percentile_rank(values: Sequence[float], mine: float) -> float:
    """Percentage of ``values`` strictly below ``mine`` plus half of those equal to it."""
    if not values:
        return 0.0
    below = sum(v < mine for v in values)
    equal = sum(v == mine for v in values)
    return 100.0 * (below + 0.5 * equal) / len(values)


def signed_off(rows: Sequence[SessionRow], consecutive: int, further: int) -> Proficiency:
    """The sign-off rule applied to the sessions of one trainee and scenario that count
    (oldest first); incomplete and empty sessions neither pass nor break a run. Session
    numbers in the answer are positions in ``rows`` (as the report's table numbers them)."""
    number = [i for i, r in enumerate(rows, start=1) if r.counts]
    p = proficiency([r.passed for r in rows if r.counts], consecutive, further)
    return replace(
        p,
        streak_at=None if p.streak_at is None else number[p.streak_at - 1],
        signed_off_at=None if p.signed_off_at is None else number[p.signed_off_at - 1],
    )


def _status_cell(r: SessionRow) -> str:
    from sim.tracking.quality import poor_words

    poor = (
        f'<br><span class="incomplete">{esc(poor_words(r.poor_conditions))}</span>'
        if r.poor_conditions
        else ""
    )
    if r.counts:
        return td(verdict(r.passed) + poor, raw=True)
    text = f"{r.status}: not scored for sign-off"
    return td(f'<span class="incomplete">{esc(text)}</span>{poor}', raw=True)


def _metric_cell(r: SessionRow, name: str) -> str:
    """A stored metric's value as every view shows it, or why it has none."""
    m = r.metric(name)
    if m is not None and m.value is not None:
        return td(format_value(name, m.value), numeric=True)
    if not can_measure(info(name).needs, r.input_kind):
        why = f"not measured {with_input(r.input_kind)}"
    else:
        why = "not done"
    return td(f'<span class="why">{esc(why)}</span>', numeric=True, raw=True)


def metrics_table(counted: Sequence[tuple[int, SessionRow]]) -> str:
    """The scored metrics of the first and the latest session that count, beside the
    expert's value (100 points), in the catalogue's words, order and rounding."""
    (i0, first), (i1, last) = counted[0], counted[-1]
    shown = [(i0, first), (i1, last)] if i0 != i1 else [(i1, last)]
    rows = []
    for m in sorted(last.metrics, key=lambda m: metric_order(m.name)):
        if m.points is None:  # carries no weight: not part of the score
            continue
        expert = "-" if m.expert is None else format_value(m.name, m.expert)
        rows.append(
            [
                td(info(m.name).label),
                *(_metric_cell(r, m.name) for _, r in shown),
                td(expert, numeric=True),
            ]
        )
    names = ["first", "latest"] if len(shown) == 2 else ["only"]
    head = ["metric", *(f"{w} (session {i})" for w, (i, _) in zip(names, shown)), "expert"]
    title = "first and latest complete session" if len(shown) == 2 else "the complete session"
    return f"<h3>Scored metrics: {title}</h3>\n" + table(
        head, rows, cls="metrics", numeric=tuple(range(1, len(head)))
    )


def _scenario_section(store: Store, trainee: str, scenario: str, rows: list[SessionRow]) -> str:
    consecutive, further, pass_score = _rule(store, rows)
    counted = [(i, r) for i, r in enumerate(rows, start=1) if r.counts]
    left_out = [(i, r) for i, r in enumerate(rows, start=1) if not r.counts]
    prof = signed_off(rows, consecutive, further)
    cohort_rows = store.find(scenario=scenario)
    # the trainee's input kinds, the one used first first; each stands in its own cohort
    inputs = list(dict.fromkeys(r.input_kind for _, r in counted))
    stands = {k: standing(cohort_rows, k) for k in inputs}
    parts = [f"<h2>{esc(scenario)}</h2>"]
    status_cls = "pass" if prof.signed_off else "meta"
    parts.append(
        f'<p class="proficiency">Proficiency (rule: '
        f"{plural(consecutive, 'consecutive pass', 'consecutive passes')}, then "
        f'{further} more): <span class="{status_cls}">{esc(prof.line())}</span></p>'
    )
    summary = plural(len(rows), "session")
    if left_out:
        n_empty = sum(r.empty for _, r in left_out)
        kinds = [
            f"{len(left_out) - n_empty} incomplete" if len(left_out) > n_empty else "",
            f"{n_empty} empty" if n_empty else "",
        ]
        summary += (
            f" ({', '.join(k for k in kinds if k)}: listed below, left out of the curve, "
            "the sign-off and the cohort standing)"
        )
    if counted:
        verb = "counts" if len(counted) == 1 else "count"
        means = "; ".join(
            f"mean of the last {min(COHORT_LAST_N, sum(r.input_kind == k for _, r in counted))}"
            + (f" {with_input(k)}" if len(inputs) > 1 else "")
            + f": {stands[k][trainee]:.1f}"
            for k in inputs
        )
        summary += (
            f"; of the {len(counted)} that {verb}, {sum(r.passed for _, r in counted)} passed; "
            f"best score {max(r.score for _, r in counted):.1f}; {means}."
        )
    else:
        summary += "; none complete yet, so no learning curve or standing."
    parts.append(f'<p class="summary">{esc(summary)}</p>')
    if counted:
        parts.append(
            img(
                plots.learning_curve_plot(
                    [r.score for _, r in counted],
                    [r.passed for _, r in counted],
                    pass_score,
                    f"learning curve: {scenario} (complete sessions)",
                    session_no=[i for i, _ in counted],
                    n_sessions=len(rows),
                ),
                f"learning curve {scenario}",
            )
        )
    if counted:
        parts.append(metrics_table(counted))
    for kind in inputs:
        stand = stands[kind]
        mine, others = stand[trainee], list(stand.values())
        if len(others) == 1:  # the trainee alone: no one to be above or below
            cohort = (
                ": the only trainee with a complete session of this scenario so far "
                f"({with_input(kind)})"
            )
        else:
            signed = sum(
                signed_off(
                    [r for r in cohort_rows if r.trainee_id == t], consecutive, further
                ).signed_off
                for t in stand
            )
            cohort = (
                f" ({plural(len(others), 'trainee')}, {signed} signed off; sessions "
                f"{with_input(kind)} only): above {percentile_rank(others, mine):.0f}% of them "
                f"(median {statistics.median(others):.1f})"
            )
        parts.append(f'<p class="cohort">Against the cohort{esc(cohort)}.</p>')
        title = f"cohort: {scenario}, {with_input(kind)}"
        parts.append(img(plots.cohort_plot(others, mine, title), f"cohort {with_input(kind)}"))
    session_rows = []
    for i, r in enumerate(rows, start=1):
        session_rows.append(
            [
                td(str(i), numeric=True),
                td(r.started_utc.strftime("%Y-%m-%d %H:%M")),
                td(r.station_id or "-"),
                td(r.input_kind),
                td("-" if r.empty else f"{r.score:.1f}", numeric=True),
                _status_cell(r),
                td(", ".join(words(k) for k in r.critical_errors) or "-"),
                td(r.notes or ""),
            ]
        )
    parts.append(
        table(
            ["#", "started (UTC)", "station", "input", "score", "", "critical errors", "notes"],
            session_rows,
            cls="sessions",
            numeric=(0, 4),
        )
    )
    return "\n".join(parts)


def _pct(x: float) -> str:
    return f"{100 * x:g} %"


def competency_sections(
    progress: Sequence[ProcedureProgress], fixed: dict[str, list[tuple[str, Proficiency]]]
) -> str:
    """The at-risk reasons (top) and, per procedure, the LC-CUSUM sign-off beside the fixed
    count rule, with the CUSUM chart."""
    parts = []
    risks = [(p.title, r) for p in progress for r in p.risks]
    if risks:
        items = "".join(f"<li><b>{esc(t)}</b>: {esc(r.reason)}</li>" for t, r in risks)
        parts.append(f'<div class="at-risk"><h2>At risk</h2><ul>{items}</ul></div>')
    else:
        parts.append('<p class="at-risk none">At risk: no (none of the warning rules fires).</p>')
    for p in progress:
        limit = p.trace.signoff_limit
        ladder_spec = p.spec
        parts.append(f'<h2 class="competency">Sign-off in {esc(p.title)}</h2>')
        cls = "pass" if p.status == "signed_off" else ("fail" if p.status == "relapsed" else "meta")
        parts.append(
            '<p class="rules-relate">Two rules, counted differently. The <b>LC-CUSUM</b> runs '
            "over all of this procedure's full cases together, whatever the scenario (drills "
            "and incomplete sessions left out): it is the sign-off, the one <code>procsim "
            "next</code> and the curriculum use. The <b>fixed-count rule</b> looks at each "
            "scenario on its own (passes in a row, then more, among that scenario's "
            "sessions), shown beside it for comparison.</p>"
        )
        lc = (
            '<div class="rule lc-cusum"><h3>LC-CUSUM: the sign-off</h3>'
            f'<p><span class="{cls}">{esc(p.line())}</span></p>'
            f'<p class="desc">Curriculum: acceptable failure rate '
            f"{_pct(ladder_spec.acceptable_failure)}, unacceptable "
            f"{_pct(ladder_spec.unacceptable_failure)}, false sign-off rate alpha "
            f"{_pct(ladder_spec.alpha)}, beta {_pct(ladder_spec.beta)}; limit h = "
            f"{limit.h:.2f}.</p></div>"
        )
        rules = fixed.get(p.task, [])
        said = "".join(f"<li>{esc(sc)}: {esc(prof.line())}</li>" for sc, prof in rules)
        fx = (
            '<div class="rule fixed-rule"><h3>Fixed-count rule: per scenario, for '
            f"comparison</h3><ul>{said}</ul></div>"
            if rules
            else ""
        )
        parts.append(f'<div class="rules">{lc}{fx}</div>')
        if p.cases:
            parts.append(
                img(
                    plots.cusum_plot(
                        p.trace,
                        list(range(1, len(p.cases) + 1)),
                        f"CUSUM sign-off and relapse: {p.title} (full cases that count)",
                    ),
                    f"CUSUM chart {p.title}",
                )
            )
            parts.append(
                '<p class="desc">LC-CUSUM (Biau et al. 2008): each pass adds '
                "ln((1-p0)/(1-p1)), each failure ln(p0/p1), never below 0; it signs the "
                "trainee off when it reaches h. After sign-off a standard CUSUM watches for a "
                "relapse to the unacceptable rate (failures add ln(p1/p0)). Cases are numbered "
                "among this procedure's full cases that count (drills and incomplete "
                "sessions are left out), so they differ from the per-scenario numbers below.</p>"
            )
    return "\n".join(parts)


def trainee_report(
    store: Store,
    trainee: str,
    curriculum: Any = None,
    now_utc: dt.datetime | None = None,
) -> str:
    """The HTML progress report of one trainee (self-contained, images embedded).

    ``curriculum`` (default: the shipped one) gives each procedure's LC-CUSUM rates and
    warning rules; ``now_utc`` (default: now) dates the no-practice reminder.
    """
    from sim.curriculum import attempts_from_rows, load_curriculum
    from sim.report.progress import procedure_progress

    rows = store.find(trainee=trainee)
    if not rows:
        raise UserError(f"no sessions of trainee {trainee!r} in {store.display_url}")
    names = [r.display_name for r in rows if r.display_name]
    name = names[-1] if names else None
    by: dict[str, list[SessionRow]] = defaultdict(list)
    for r in rows:
        by[r.scenario].append(r)
    who = esc(trainee) + (f" ({esc(name)})" if name else "")
    parts = [
        f'<h1>Progress of <span class="trainee">{who}</span></h1>',
        f'<p class="meta">{plural(len(rows), "session")} from {rows[0].started_utc:%Y-%m-%d} to '
        f"{rows[-1].started_utc:%Y-%m-%d}</p>",
    ]
    if curriculum is None:
        curriculum = load_curriculum()
    now = now_utc or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    attempts = attempts_from_rows(rows)
    task_of = {a.scenario: a.task for a in attempts}
    fixed: dict[str, list[tuple[str, Proficiency]]] = defaultdict(list)
    for scenario in sorted(by):
        if scenario in task_of:
            consecutive, further, _ = _rule(store, by[scenario])
            fixed[task_of[scenario]].append(
                (scenario, signed_off(by[scenario], consecutive, further))
            )
    progress = procedure_progress(trainee, name, attempts, curriculum, now)
    parts.append(competency_sections(progress, fixed))
    for scenario in sorted(by):
        parts.append(_scenario_section(store, trainee, scenario, by[scenario]))
    return page(f"procsim progress: {trainee}", "\n".join(parts))
