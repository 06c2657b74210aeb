"""The report of one session: ``procsim report RECORDING -o FILE.html``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.records import Sample
from sim.core.scenario import ScenarioError
from sim.report import plots
from sim.report.html import esc, img, num, page, table, td, verdict
from sim.storage.recording import Recording, RecordingError, _clean, load_recording


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


def metric_rows(result: dict[str, Any]) -> list[list[str]]:
    """Table rows: every metric against its expert and novice anchors."""
    rows = []
    metrics = result.get("metrics") or {}
    ordered = sorted(
        metrics.values(), key=lambda m: (m.get("points") is None, -(m.get("weight") or 0))
    )
    for m in ordered:
        pts = m.get("points")
        rows.append(
            [
                td(m.get("description") or m.get("name", "")),
                td(m.get("name", "")),
                td(num(m.get("value")), numeric=True),
                td(m.get("unit", "")),
                td(num(m.get("expert")), numeric=True),
                td(num(m.get("novice")), numeric=True),
                td("" if pts is None else f"{pts:.0f}", numeric=True),
                td("" if pts is None else f"{m.get('weight', 0):g}", numeric=True),
                td(_bar(pts), raw=True),
            ]
        )
    return rows


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
        task = rec.scenario().task
    except (RecordingError, ScenarioError):  # the report still shows everything else
        task = "suturing" if "suturing" in str(h.get("scenario", "")) else "venipuncture"

    parts = [
        f"<h1>{esc(h.get('scenario', 'session'))}: session report</h1>",
        f'<p class="meta">trainee <b class="trainee">{who}</b> &middot; station '
        f"{esc(h.get('station') or '-')} &middot; input {esc(h.get('input', '-'))} &middot; "
        f"{esc(h.get('created_utc', ''))} &middot; {duration:.0f} s"
        f"{'' if rec.complete else ' &middot; <b>interrupted</b>'}</p>",
        f'<p class="verdict" id="score">score <b>{float(result.get("score", 0)):.1f}</b>/100 '
        f"{verdict(bool(result.get('passed')))} (pass at {float(result.get('pass_score', 0)):g})"
        "</p>",
    ]
    if notes:
        parts.append(f'<p class="notes"><b>Notes:</b> {esc(notes)}</p>')
    crit = result.get("critical_errors") or []
    parts.append("<h2>Critical errors</h2>")
    if crit:
        parts.append(
            '<ul class="critical">'
            + "".join(
                f"<li>{esc(e.get('message', e.get('kind', '')))} "
                f"({float(e.get('t_s', 0)):.1f} s)</li>"
                for e in crit
            )
            + "</ul><p>One critical error fails the session whatever the score.</p>"
        )
    else:
        parts.append("<p>None.</p>")
    advice = result.get("advice") or []
    parts.append("<h2>What to work on</h2>")
    parts.append(
        '<ul class="advice">' + "".join(f"<li>{esc(a)}</li>" for a in advice) + "</ul>"
        if advice
        else "<p>Nothing stands out: keep it up.</p>"
    )
    parts.append("<h2>Metrics against the expert and novice anchors</h2>")
    parts.append(
        table(
            ["metric", "name", "value", "unit", "expert", "novice", "points", "weight", ""],
            metric_rows(result),
            cls="metrics",
        )
    )
    parts.append("<h2>Instrument path</h2>")
    parts.append(img(plots.path_plot(pos[tracked], rec.events, task), "instrument path"))
    parts.append("<h2>Speed</h2>")
    parts.append(img(plots.speed_plot(motion, rec.events, rec.cues), "speed profile"))
    parts.append("<h2>Tremor</h2>")
    tm = (result.get("metrics") or {}).get("tremor_rms_mm") or {}
    tv = tm.get("value")
    parts.append(
        img(
            plots.tremor_plot(motion, None if tv is None or math.isnan(tv) else float(tv)),
            "tremor spectrum",
        )
    )
    parts.append("<h2>Timeline: events and cues</h2>")
    parts.append(img(plots.timeline_plot(rec.events, rec.cues, duration), "event timeline"))
    timed: list[tuple[float, int, list[str]]] = [
        (e.t_s, 0, [td("error" if e.error else "event"), td(e.kind), td(e.message)])
        for e in rec.events
    ]
    for start, end, c in plots.cue_spans(rec.cues):
        timed.append(
            (
                start,
                1,
                [
                    td(f"cue ({c.severity.value})"),
                    td(c.rule),
                    td(f"{c.message} (shown {end - start:.1f} s)"),
                ],
            )
        )
    timed.sort(key=lambda x: (x[0], x[1]))
    ev_rows = [[td(f"{t_:.2f}", numeric=True), *cells] for t_, _k, cells in timed]
    parts.append(table(["time (s)", "what", "kind", "message"], ev_rows, cls="timeline"))
    phases = result.get("phases_s") or {}
    if phases:
        parts.append("<h2>Time per phase</h2>")
        parts.append(
            table(
                ["phase", "time (s)"],
                [[td(k), td(f"{float(v):.1f}", numeric=True)] for k, v in phases.items()],
            )
        )
    parts.append(
        f'<p class="meta">scenario {esc(h.get("scenario", ""))} (sha256 '
        f"{esc(str(h.get('scenario_hash', ''))[:12])}), recording {esc(Path(rec.path).name)}</p>"
    )
    return page(title, "\n".join(parts))
