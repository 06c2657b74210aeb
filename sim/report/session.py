"""The report of one session: ``procsim report RECORDING -o FILE.html``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.core import patient
from sim.core.records import Sample
from sim.core.scenario import ScenarioError
from sim.metrics.catalog import HAND, can_measure, input_words
from sim.metrics.scoring import (
    INCOMPLETE,
    INFO,
    NOT_DONE,
    NOT_MEASURED,
    SCORED,
    UNCERTAIN,
    drill_words,
    measurement_notes,
    shown_value,
)
from sim.procedures.registry import UnknownProcedure, format_value
from sim.procedures.registry import get as get_procedure
from sim.procedures.registry import metric_info as info
from sim.report import plots
from sim.report.html import esc, img, page, table, td, verdict_of, words
from sim.storage.recording import Recording, RecordingError, _clean, load_recording
from sim.tracking.quality import poor_words


def session_result(rec: Recording) -> dict[str, Any]:
    """The recording's score result (``ScoreResult.as_dict()`` form): the stored one, or a
    re-score for an interrupted session that has none."""
    if rec.result is not None:
        return {k: v for k, v in rec.result.items() if k != "type"}
    from sim.storage.session import rescore

    return dict(_clean(rescore(rec).result.as_dict()))


def _bar(points: float | None) -> str:
    if points is None:
        return ""
    w = max(0.0, min(100.0, float(points)))
    return f'<div class="bar" title="{w:.0f} of 100"><span style="width:{w:.0f}%"></span></div>'


@dataclass(frozen=True, slots=True)
class MetricView:
    """One metric of a result as a reader sees it.

    Attributes
    ----------
    name : str
        Identifier (never shown).
    label : str
        Catalogue label ("Smoothness (SPARC)").
    shown : str
        Value rounded and with its unit the one way (:func:`format_value`), "-" for none.
    status : str
        "scored", "not done", "incomplete", "not measured", "uncertain" or "info".
    note : str
        Why a metric earned nothing ("not measured with the mouse"); "" otherwise.
    words : str
        What the value came from, in words ("Patient discomfort peaked at ..."); "" for most.
    """

    name: str
    label: str
    shown: str
    status: str
    note: str
    points: float | None
    weight: float
    expert: str
    novice: str
    description: str
    words: str = ""


def metric_view(name: str, m: dict[str, Any]) -> MetricView:
    """A metric of a result's dict form (``MetricResult.as_dict()``) as a reader sees it.

    Label, unit, rounding and description come from the catalogue by ``name``, so a result
    written before results carried labels and statuses (an old recording) reads the same;
    its status is then told from what it stored: no points is "info", points for a value
    that was never measured is "not done".
    """
    mi = info(name)
    value = m.get("value")
    v = float(value) if isinstance(value, (int, float)) else None
    pts = m.get("points")
    p = float(pts) if isinstance(pts, (int, float)) else None
    status = m.get("status")
    if not isinstance(status, str) or not status:
        status = INFO if p is None else (NOT_DONE if v is None else SCORED)
    note = m.get("note")
    if not isinstance(note, str) or not note:
        note = "not done" if status == NOT_DONE else ""

    def anchor(key: str) -> str:
        a = m.get(key)
        return format_value(name, float(a)) if isinstance(a, (int, float)) else "-"

    weight = m.get("weight")
    unc = m.get("uncertainty")
    return MetricView(
        name,
        mi.label,
        shown_value(name, v, status, float(unc) if isinstance(unc, (int, float)) else 0.0),
        status,
        note,
        p,
        float(weight) if isinstance(weight, (int, float)) else 0.0,
        anchor("expert"),
        anchor("novice"),
        mi.description or str(m.get("description") or ""),
        str(m.get("words") or ""),
    )


def metric_views(result: dict[str, Any]) -> list[MetricView]:
    """Every metric of a result, in the order the result holds them (the catalogue's)."""
    metrics = result.get("metrics") or {}
    return [metric_view(str(k), v) for k, v in metrics.items() if isinstance(v, dict)]


def metric_rows(result: dict[str, Any]) -> list[list[str]]:
    """Table rows: every metric's label, value with unit, the expert's and novice's value
    (100 and 0 points), the points and weight; a metric that earned nothing says why."""
    rows = []
    for m in metric_views(result):
        label = f'{esc(m.label)}<div class="desc">{esc(m.description)}</div>'
        if m.status in (NOT_DONE, NOT_MEASURED):
            value = td(f'<span class="why">{esc(m.note)}</span>', numeric=True, raw=True)
        else:
            value = td(m.shown, numeric=True)
        weighted = m.points is not None
        why = (
            td(f'<span class="why">{esc(m.note)}</span>', raw=True)
            if m.status in (INCOMPLETE, UNCERTAIN)
            else td(_bar(m.points), raw=True)
        )
        rows.append(
            [
                td(label, raw=True),
                value,
                td(m.expert if weighted else "", numeric=True),
                td(m.novice if weighted else "", numeric=True),
                td(f"{m.points:.0f}" if m.points is not None else "", numeric=True),
                td(f"{m.weight:g}" if weighted else "", numeric=True),
                why,
            ]
        )
    return rows


def outcome_of(rec: Recording, result: dict[str, Any]) -> tuple[str, str]:
    """The verdict word ("PASS", "FAIL", "INCOMPLETE", "EMPTY") and the plain line that goes
    with it ("incomplete: not scored for sign-off"; "" for a pass or fail).

    A result written before the score contract has no ``complete``/``empty``: they are told
    from the recording as the store does (:func:`sim.storage.session.recorded_outcome`).
    """
    from sim.metrics.scoring import VERDICT_LINES, verdict_word
    from sim.storage.session import recorded_outcome

    complete, empty = result.get("complete"), result.get("empty")
    if not isinstance(complete, bool) or not isinstance(empty, bool):
        o = recorded_outcome(rec)
        complete = o.complete if o is not None else False
        empty = o.empty if o is not None else not rec.samples
    word = verdict_word(bool(result.get("passed")), complete, empty)
    return word, VERDICT_LINES.get(word, "")


def checklist_section(result: dict[str, Any]) -> list[str]:
    """The report's "Checklist": each step of the scenario's checklist, whether it is
    critical, done and in order, when, and the note (none for a result without one)."""
    steps = [st for st in result.get("checklist") or [] if isinstance(st, dict)]
    if not steps:
        return []
    rows = []
    for st in steps:
        t = st.get("t_s")
        rows.append(
            [
                td(str(st.get("label") or words(str(st.get("id", ""))))),
                td("critical" if st.get("critical") else ""),
                td("yes" if st.get("done") else "no"),
                td("yes" if st.get("in_order") else ("-" if not st.get("done") else "no")),
                td(f"{float(t):.1f}" if isinstance(t, (int, float)) else "-", True),
                td(str(st.get("note") or "")),
            ]
        )
    return [
        "<h2>Checklist</h2>",
        "<p>The procedure's steps in the scenario's order. A critical step not done, done out "
        "of order or (cleaning) with the puncture outside the cleaned area fails the session; "
        "the others are reported and cost no points.</p>",
        table(
            ["step", "", "done", "in order", "time (s)", "note"],
            rows,
            cls="checklist",
            numeric=(4,),
        ),
    ]


def _patient_section(rec: Recording, t_s: np.ndarray) -> list[str]:
    """The patient's part of the report: the discomfort curve with the reactions numbered on
    it, and the reactions in a table (nothing for a procedure without a patient, or a
    recording whose scenario cannot be read)."""
    try:
        scenario = rec.scenario()
    except (RecordingError, ScenarioError):
        return []
    if scenario.condition is None or not len(t_s):
        return []
    from sim.storage.session import pipeline_for

    pain = pipeline_for(rec).discomfort_series(rec.items)
    reactions = [
        e for e in rec.events if e.kind.startswith(patient.PREFIX) and e.kind != patient.DISCOMFORT
    ]
    case = scenario.patient or scenario.default_patient
    who = f" ({esc(case.title)})" if case is not None else ""
    out = [
        f"<h2>The patient{who}</h2>",
        f"<p>Discomfort peaked at {float(np.nanmax(pain)):.1f}/10. What the patient felt and "
        "did, moment by moment:</p>",
        img(plots.discomfort_plot(t_s, pain, reactions), "the patient's discomfort"),
    ]
    if reactions:
        rows = [
            [
                td(str(k), numeric=True),
                td(f"{e.t_s:.2f}", numeric=True),
                td("error" if e.error else "reaction"),
                td(f'said: "{e.message}"' if e.kind == patient.SAID else e.message),
            ]
            for k, e in enumerate(reactions, 1)
        ]
        out.append(
            table(["", "time (s)", "what", ""], rows, cls="timeline patient", numeric=(0, 1))
        )
    else:
        out.append("<p>The patient did not react.</p>")
    return out


def session_report(
    recording: str | Path | Recording, *, display_name: str | None = None, notes: str | None = None
) -> str:
    """The HTML report of one recorded session (self-contained, images embedded).

    Parameters
    ----------
    recording : path or Recording
        The session's recording (finished or interrupted).
    display_name : str, optional
        Trainee's name to show beside their id (escaped like all user text).
    notes : str, optional
        Instructor notes to include.
    """
    rec = recording if isinstance(recording, Recording) else load_recording(recording)
    h = rec.header
    result = session_result(rec)
    samples = [i for i in rec.items if isinstance(i, Sample)]
    n = len(samples)
    t = np.fromiter((s.t_s for s in samples), dtype=np.float64, count=n)
    pos = np.array([s.tip_mm for s in samples], dtype=np.float64).reshape(n, 3)
    tracked = np.fromiter((s.tracked for s in samples), dtype=bool, count=n)
    duration = float(t[-1]) if n else 0.0
    motion = plots.motion_runs(t, pos, tracked)
    meta = h.get("meta") if isinstance(h.get("meta"), dict) else {}
    name = display_name if display_name is not None else (meta or {}).get("display_name")
    trainee = str(h.get("trainee", ""))
    who = esc(trainee) + (f" ({esc(name)})" if name else "")
    title = f"{h.get('scenario', '')} - {trainee}"
    try:
        scenario = rec.scenario()
        proc = get_procedure(scenario.task)
        along: str | None = proc.along
        sections = proc.report(scenario, rec.events)
    except (RecordingError, ScenarioError, UnknownProcedure):
        along = None  # the report still shows everything else, the path's axes unnamed
        sections = ()

    word, line = outcome_of(rec, result)
    parts = [
        f"<h1>{esc(h.get('scenario', 'session'))}: session report</h1>",
        f'<p class="meta">trainee <b class="trainee">{who}</b> &middot; '
        # no station (a session outside a lab station): said in words, not a lone "-"
        f"{'station ' + esc(h['station']) if h.get('station') else 'no station'} &middot; "
        f"input {esc(rec.input_kind)} &middot; "
        f"{esc(h.get('created_utc', ''))} &middot; {duration:.0f} s</p>",
        f'<p class="verdict" id="score">score <b>{float(result.get("score", 0)):.1f}</b>/100 '
        f"{verdict_of(word)} (pass at {float(result.get('pass_score', 0)):g})</p>",
    ]
    if result.get("drill"):  # a drill: what it trains, the only metrics scored
        metrics = result.get("metrics") or {}
        labels = [str((metrics.get(n) or {}).get("label", n)) for n in result["drill"]]
        parts.append(f'<p class="drill" id="drill">{esc(drill_words(labels))}</p>')
    if line:
        parts.append(f'<p class="incomplete" id="status">{esc(line)}</p>')
    if rec.poor_conditions:
        parts.append(
            f'<p class="incomplete" id="conditions">{esc(poor_words(rec.poor_conditions))}. '
            "The figures that rest on the camera's tracking are less trustworthy than usual; "
            "the calibration said so before the session.</p>"
        )
    if rec.result is None:
        parts.append(
            '<p class="meta">The recording stopped before its result was written: '
            "scored now from its samples and actions.</p>"
        )
    if notes:
        parts.append(f'<p class="notes"><b>Notes:</b> {esc(notes)}</p>')
    crit = result.get("critical_errors") or []
    parts.append("<h2>Critical errors</h2>")
    if crit:
        parts.append(
            '<ul class="critical">'
            + "".join(
                f"<li>{esc(e.get('message') or words(str(e.get('kind', ''))))} "
                f"({float(e.get('t_s', 0)):.1f} s)</li>"
                for e in crit
            )
            + "</ul><p>One critical error fails the session whatever the score.</p>"
        )
    else:
        parts.append("<p>None.</p>")
    parts += checklist_section(result)
    advice = result.get("advice") or []
    parts.append("<h2>What to work on</h2>")
    parts.append(
        '<ul class="advice">' + "".join(f"<li>{esc(a)}</li>" for a in advice) + "</ul>"
        if advice
        else "<p>Nothing stands out: keep it up.</p>"
    )
    parts.append("<h2>Metrics</h2>")
    parts.append(
        "<p>Each scored metric earns 100 points at the expert's value and 0 at the novice's; "
        "the score is the weighted mean of the points.</p>"
    )
    parts.append(
        table(
            ["metric", "value", "expert", "novice", "points", "weight", ""],
            metric_rows(result),
            cls="metrics",
            numeric=(1, 2, 3, 4, 5),
        )
    )
    views = metric_views(result)
    for line in measurement_notes((m.label, m.status, m.note, m.words) for m in views):
        parts.append(f'<p class="why">{esc(line)}</p>')
    for s in sections:  # the procedure's own: each attempt, each stitch...
        parts.append(f"<h2>{esc(s.title)}</h2>")
        if s.intro:
            parts.append(f"<p>{esc(s.intro)}</p>")
        rows = [[td(c, i in s.numeric) for i, c in enumerate(row)] for row in s.rows]
        parts.append(table(list(s.header), rows, cls="procedure", numeric=s.numeric))
    parts.append("<h2>Instrument path</h2>")
    parts.append(img(plots.path_plot(pos[tracked], rec.events, along), "instrument path"))
    parts.append("<h2>Speed</h2>")
    parts.append(img(plots.speed_plot(motion, rec.events, rec.cues), "speed profile"))
    parts.append("<h2>Tremor</h2>")
    if can_measure(HAND, rec.input_kind):
        tm = (result.get("metrics") or {}).get("tremor_rms_mm")
        tremor = metric_view("tremor_rms_mm", tm if isinstance(tm, dict) else {})
        parts.append(img(plots.tremor_plot(motion, tremor.shown), "tremor spectrum"))
    else:
        who_input = input_words(rec.input_kind)
        parts.append(
            f"<p>Tremor and smoothness are not measured with {esc(who_input)}: its pointer is "
            "eased on its way to the instrument, so they would describe the easing, not the "
            "hand.</p>"
        )
    parts.extend(_patient_section(rec, t))
    parts.append("<h2>Timeline: events and cues</h2>")
    parts.append(img(plots.timeline_plot(rec.events, rec.cues, duration), "event timeline"))
    timed: list[tuple[float, int, list[str]]] = [
        (e.t_s, 0, [td("error" if e.error else "event"), td(e.message)])
        for e in plots.marks(rec.events)
    ]
    for start, end, c in plots.cue_spans(rec.cues):
        timed.append(
            (
                start,
                1,
                [
                    td(f"cue ({c.severity.value})"),
                    td(f"{c.message} (shown {end - start:.1f} s)"),
                ],
            )
        )
    timed.sort(key=lambda x: (x[0], x[1]))
    ev_rows = [[td(f"{t_:.2f}", numeric=True), *cells] for t_, _k, cells in timed]
    parts.append(table(["time (s)", "what", "message"], ev_rows, cls="timeline", numeric=(0,)))
    phases = result.get("phases_s") or {}
    if phases:
        parts.append("<h2>Time per phase</h2>")
        parts.append(
            table(
                ["phase", "time (s)"],
                [
                    [td(words(k)), td(format_value("total_time_s", float(v), unit=False), True)]
                    for k, v in phases.items()
                ],
                cls="narrow",
                numeric=(1,),
            )
        )
    parts.append(
        f'<p class="meta">scenario {esc(h.get("scenario", ""))} (sha256 '
        f"{esc(str(h.get('scenario_hash', ''))[:12])}), recording {esc(Path(rec.path).name)}</p>"
    )
    return page(title, "\n".join(parts))
