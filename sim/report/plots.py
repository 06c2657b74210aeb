"""Plots for the reports, drawn with matplotlib's Agg canvas into PNG bytes.

No pyplot and no global backend switch: each plot builds its own ``Figure`` and renders it
with ``FigureCanvasAgg``, so reports can be made inside a running app or a batch job.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.core.competency import CompetencyTrace
from sim.core.patient import DISCOMFORT
from sim.core.records import Cue, Event
from sim.metrics.motion import (
    TREMOR_BAND_HZ,
    nominal_rate_hz,
    position_spectrum,
    resample,
    segments,
)
from sim.procedures.registry import metric_info as info

FloatArray = NDArray[np.float64]

DPI = 100
COLORS = {
    "event": "#1f77b4",
    "error": "#d62728",
    "cue": "#ff7f0e",
    "pass": "#2ca02c",
    "patient": "#8e44d8",  # violet: apart from the error red and the event blue
}
"""The reports' colours; the replay's markers use the same hues (sim.replay.panel)."""

NOT_MARKS = ("finish", DISCOMFORT)
"""Event kinds that are not marked on the report's plots nor listed in its event table: the
end of the session, and the patient's discomfort readings (the discomfort curve shows them)."""


def marks(events: Sequence[Event]) -> list[Event]:
    """The events the report marks: on the speed profile, the timeline plot and the event
    table (every event but :data:`NOT_MARKS`)."""
    return [e for e in events if e.kind not in NOT_MARKS]


def _figure(w: float = 8.0, h: float = 3.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), dpi=DPI, layout="constrained")


def to_png(fig: Any) -> bytes:
    """Render a matplotlib figure to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


@dataclass(frozen=True)
class Motion:
    """Tracked motion of a session, in uniformly resampled runs.

    Attributes
    ----------
    runs : list of (t, pos, speed)
        Per tracked run: times (m,) s, positions (m, 3) mm, speed (m,) mm/s.
    rate_hz : float
        The resampling rate.
    """

    runs: list[tuple[FloatArray, FloatArray, FloatArray]]
    rate_hz: float


def motion_runs(t_s: FloatArray, pos_mm: FloatArray, tracked: NDArray[np.bool_]) -> Motion:
    """Split a trajectory into tracked runs, resampled uniformly, with their speed.

    Parameters
    ----------
    t_s : (n,) float array
        Sample times, s.
    pos_mm : (n, 3) float array
        Tip positions, mm.
    tracked : (n,) bool array
        Whether each sample was tracked.
    """
    rate = nominal_rate_hz(t_s) if len(t_s) > 1 else 0.0
    runs = []
    if rate > 0:
        from sim.metrics.motion import smooth_speed_mm_s

        for sl in segments(t_s, tracked):
            t, p = t_s[sl], pos_mm[sl]
            pr = resample(t, p, rate)
            tr = t[0] + np.arange(len(pr)) / rate
            runs.append((tr, pr, smooth_speed_mm_s(pr, rate)))
    return Motion(runs, rate)


def _mark_events(ax: Any, events: Sequence[Event]) -> None:
    for e in marks(events):
        ax.axvline(e.t_s, color=COLORS["error" if e.error else "event"], lw=0.8, alpha=0.6)


def path_plot(pos_mm: FloatArray, events: Sequence[Event], along: str | None) -> bytes:
    """Instrument path seen from above (x-z) and from the side (x-y), events marked.

    Parameters
    ----------
    pos_mm : (n, 3) float array
        Tip positions of the tracked samples, mm (scene frame: x along the procedure's
        site, y up, z towards the viewer).
    events : sequence of Event
        The session's events (those with a position are marked).
    along : str or None
        What the x axis runs along, in words (the procedure's
        :attr:`~sim.procedures.base.Procedure.along`, "the arm"); None when the procedure
        is not known: the axis is then labelled "x (mm)" only.
    """
    xlabel = f"x (mm, along {along})" if along else "x (mm)"
    fig = _figure(8.0, 3.4)
    top, side = fig.subplots(1, 2)
    for ax, k, label in ((top, 2, "z (mm, towards you)"), (side, 1, "y (mm, up)")):
        if len(pos_mm):
            ax.plot(pos_mm[:, 0], pos_mm[:, k], lw=0.8, color="#444444")
            ax.plot(pos_mm[-1, 0], pos_mm[-1, k], "s", color="black", ms=4, label="end")
            ax.plot(  # a ring over the end marker: a path that ends where it began shows both
                pos_mm[0, 0], pos_mm[0, k], "o", mfc="none", mec=COLORS["pass"], mew=2, ms=9,
                label="start",
            )  # fmt: skip
        seen: set[bool] = set()
        for e in events:
            x, yv = e.value("x_mm"), e.value("y_mm" if k == 1 else "z_mm")
            if not (math.isnan(x) or math.isnan(yv)):
                tag = ("error" if e.error else "event") if e.error not in seen else None
                seen.add(e.error)
                ax.plot(x, yv, "x", color=COLORS["error" if e.error else "event"], ms=7, label=tag)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    side.axhline(0.0, color="#b5651d", lw=1.0, label="skin")
    top.set_title("from above")
    side.set_title("from the side")
    side.legend(loc="best", fontsize=8)
    return to_png(fig)


def speed_plot(motion: Motion, events: Sequence[Event], cues: Sequence[Cue]) -> bytes:
    """Tip speed over time, with events (lines) and the cues shown (shaded spans)."""
    fig = _figure()
    ax = fig.subplots()
    for t, _p, v in motion.runs:
        ax.plot(t, v, lw=0.8, color="#333333")
    for start, end, _cue in cue_spans(cues):
        ax.axvspan(start, end, color=COLORS["cue"], alpha=0.12, lw=0)
    _mark_events(ax, events)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("speed (mm/s)")
    ax.set_title("speed profile (lines: events, red = errors; shaded: a cue was shown)")
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    return to_png(fig)


def discomfort_plot(t_s: FloatArray, discomfort: FloatArray, reactions: Sequence[Event]) -> bytes:
    """The patient's discomfort (0-10) over time, shape (samples,) each, with the patient's
    reactions marked and numbered (the report's table lists them by number; errors red)."""
    fig = _figure(8.0, 2.8)
    ax = fig.subplots()
    ax.plot(t_s, discomfort, lw=1.2, color=COLORS["patient"])
    span = float(t_s[-1] - t_s[0]) if len(t_s) > 1 else 1.0
    for k, e in enumerate(reactions, 1):
        col = COLORS["error" if e.error else "patient"]
        ax.axvline(e.t_s, color=col, lw=0.8, alpha=0.6)
        # reactions at (nearly) the same moment: their numbers one under another, not on top
        below = sum(abs(r.t_s - e.t_s) < span / 50 for r in reactions[: k - 1])
        ax.annotate(
            str(k), (e.t_s, 10.0), textcoords="offset points", xytext=(2, -10 - 10 * below),
            fontsize=8, color=col,
        )  # fmt: skip
    ax.set_ylim(0, 10.5)
    ax.set_xlim(float(t_s[0]) if len(t_s) else 0.0, float(t_s[-1]) if len(t_s) > 1 else 1.0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("discomfort (0-10)")
    ax.set_title("the patient's discomfort (lines: the reactions, numbered; red = errors)")
    ax.grid(alpha=0.3)
    return to_png(fig)


def tremor_spectrum(motion: Motion) -> tuple[FloatArray, FloatArray]:
    """Power spectral density of the tip position (sum over x, y, z), Welch's method, on the
    longest tracked run.

    Returns
    -------
    (f, psd) : (k,) float arrays
        Frequencies, Hz; PSD, mm^2/Hz. Empty when no run is longer than 1 s.
    """
    if not motion.runs:
        return np.zeros(0), np.zeros(0)
    _t, p, _v = max(motion.runs, key=lambda r: len(r[0]))
    rate = motion.rate_hz
    if len(p) < max(16, int(rate)):
        return np.zeros(0), np.zeros(0)
    return position_spectrum(p, rate)  # the one behind the session's tremor


def tremor_plot(motion: Motion, tremor_shown: str) -> bytes:
    """Tremor spectrum with the tremor band shaded; ``tremor_shown`` is the session's tremor
    as every view shows it ("0.12 mm", "-" when none was measured)."""
    fig = _figure()
    ax = fig.subplots()
    f, psd = tremor_spectrum(motion)
    lo, hi = TREMOR_BAND_HZ
    ax.axvspan(lo, hi, color=COLORS["cue"], alpha=0.2, lw=0, label=f"tremor band {lo:g}-{hi:g} Hz")
    if len(f):
        keep = f > 0
        ax.semilogy(f[keep], np.maximum(psd[keep], 1e-12), color="#333333", lw=0.9)
        ax.set_xlim(0, f[-1])
    else:
        ax.text(
            0.5,
            0.5,
            "too little tracked motion for a spectrum",
            ha="center",
            transform=ax.transAxes,
        )
    label = info("tremor_rms_mm").label
    said = "none measured" if tremor_shown == "-" else f"{tremor_shown} RMS in the band"
    ax.set_title(f"Tip motion spectrum ({label}: {said})")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("power (mm$^2$/Hz)")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return to_png(fig)


def cue_spans(cues: Sequence[Cue]) -> list[tuple[float, float, Cue]]:
    """(start, end, starting cue) for each cue shown; a cue never ended ends at the last
    cue time."""
    open_: dict[str, Cue] = {}
    out = []
    last = max((c.t_s for c in cues), default=0.0)
    for c in cues:
        if c.active:
            open_.setdefault(c.rule, c)
        elif c.rule in open_:
            s = open_.pop(c.rule)
            out.append((s.t_s, c.t_s, s))
    out.extend((s.t_s, last, s) for s in open_.values())
    return sorted(out, key=lambda x: (x[0], x[2].rule))


def timeline_plot(events: Sequence[Event], cues: Sequence[Cue], duration_s: float) -> bytes:
    """Event timeline (top row) above one row per cue rule showing when it was shown."""
    spans = cue_spans(cues)
    rules = sorted(  # by first shown; the same moment: by name (the same order every run)
        {s[2].rule for s in spans}, key=lambda r: (min(x[0] for x in spans if x[2].rule == r), r)
    )
    fig = _figure(8.0, 1.2 + 0.3 * (len(rules) + 1))
    ax = fig.subplots()
    sev = {"danger": COLORS["error"], "warning": COLORS["cue"], "info": COLORS["pass"]}
    for start, end, c in spans:
        y = 1 + rules.index(c.rule)
        ax.barh(
            y,
            max(end - start, duration_s / 400),
            left=start,
            height=0.6,
            color=sev.get(c.severity.value, "#888888"),
        )
    for e in sorted(marks(events), key=lambda e: e.error):  # errors drawn last, on top
        ax.plot(
            e.t_s,
            0,
            "v" if e.error else "o",
            color=COLORS["error" if e.error else "event"],
            ms=8 if e.error else 6,
            clip_on=False,
            zorder=3 if e.error else 2,
        )
    ax.set_yticks(range(len(rules) + 1), ["events", *(r.replace("_", " ") for r in rules)])
    ax.invert_yaxis()
    ax.set_xlim(0, max(duration_s, 1e-3))
    ax.set_xlabel("time (s)")
    ax.grid(alpha=0.3, axis="x")
    ax.set_title("events (red: errors) and the cues shown")
    return to_png(fig)


def learning_curve_plot(
    scores: Sequence[float],
    passed: Sequence[bool],
    pass_score: float | None,
    title: str,
    session_no: Sequence[int] | None = None,
    n_sessions: int | None = None,
) -> bytes:
    """Score of each session in order, passes in green, with the pass line.

    ``session_no`` places each score at its session's number (default 1, 2, ...), so that
    sessions left off the curve (incomplete, empty) leave a gap where they were; the axis
    runs to ``n_sessions`` (default: the last number).
    """
    fig = _figure(8.0, 2.8)
    ax = fig.subplots()
    x = np.asarray(session_no) if session_no is not None else np.arange(1, len(scores) + 1)
    ax.plot(x, scores, color="#888888", lw=1)
    ax.scatter(
        x,
        scores,
        c=[COLORS["pass"] if p else COLORS["error"] for p in passed],
        zorder=3,
        clip_on=False,  # a score of 100 sits on the frame, whole
    )
    if pass_score is not None:
        ax.axhline(pass_score, color="#333333", ls="--", lw=1, label=f"pass {pass_score:g}")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_xlabel("session")
    ax.set_ylabel("score (of 100)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    last = n_sessions if n_sessions is not None else (int(x[-1]) if len(x) else 1)
    ax.set_xlim(0.5, last + 0.5)
    _whole_ticks(ax, last)
    return to_png(fig)


def cohort_plot(values: Sequence[float], mine: float, title: str) -> bytes:
    """Histogram of the cohort's per-trainee scores with this trainee's marked."""
    fig = _figure(8.0, 2.6)
    ax = fig.subplots()
    ax.hist(list(values), bins=np.linspace(0, 100, 21), color="#9ecae1", edgecolor="white")
    ax.axvline(mine, color=COLORS["error"], lw=2, label="this trainee")
    ax.set_xlim(0, 100)
    ax.set_xlabel("mean score of the last complete sessions (of 100)")
    ax.set_ylabel("trainees")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return to_png(fig)


def _whole_ticks(ax: Any, last: int) -> None:
    """Session or case numbers on the x axis: each one up to 20, else whole numbers only."""
    from matplotlib.ticker import MaxNLocator

    if last <= 20:
        ax.set_xticks(np.arange(1, last + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def cusum_paths(trace: CompetencyTrace) -> tuple[np.ndarray, np.ndarray]:
    """The LC-CUSUM and relapse CUSUM as drawn, one value per case (NaN where a CUSUM is
    not running): each restarts from 0 where the other signalled, so the LC-CUSUM is seen
    to start again from 0 at a relapse, and the relapse CUSUM from 0 at a sign-off."""
    lc = np.array([np.nan if v is None else v for v in trace.signoff], dtype=float)
    rel = np.array([np.nan if v is None else v for v in trace.relapse], dtype=float)
    for n in trace.relapsed_at:
        lc[n - 1] = 0.0
    for n in trace.signed_off_at:
        rel[n - 1] = 0.0
    return lc, rel


def cusum_plot(trace: CompetencyTrace, session_no: Sequence[int], title: str) -> bytes:
    """The LC-CUSUM (blue) with its decision limit, each sign-off (green marker), and after
    it the relapse CUSUM (orange) with its limit; a relapse is a red marker.

    ``session_no`` places the value after each counted session at its number in the
    trainee's sessions (as the learning curve numbers them).
    """
    fig = _figure(8.0, 2.8)
    ax = fig.subplots()
    x = np.asarray(session_no, dtype=float)
    lc, rel = cusum_paths(trace)
    sl, rl = trace.signoff_limit.h, trace.relapse_limit.h
    ax.plot(x, lc, color=COLORS["event"], lw=1.5, marker=".", label="LC-CUSUM (sign-off)")
    ax.axhline(sl, color=COLORS["event"], ls="--", lw=1, label=f"sign-off limit h = {sl:.2f}")
    if not np.all(np.isnan(rel)):
        ax.plot(x, rel, color=COLORS["cue"], lw=1.5, marker=".", label="relapse CUSUM")
        ax.axhline(rl, color=COLORS["cue"], ls=":", lw=1.2, label=f"relapse limit h = {rl:.2f}")
    white = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85}
    for n in trace.signed_off_at:
        ax.scatter([x[n - 1]], [lc[n - 1]], s=90, marker="*", color=COLORS["pass"], zorder=4)
        ax.annotate(
            f"signed off (session {int(x[n - 1])})",
            (x[n - 1], lc[n - 1]),
            textcoords="offset points",
            xytext=(-4, 6),
            ha="right",
            fontsize=8,
            color=COLORS["pass"],
        )
    for n in trace.relapsed_at:
        y = float(trace.relapse[n - 1] or 0.0)  # where it crossed (the LC-CUSUM is at 0)
        ax.scatter([x[n - 1]], [y], s=70, marker="X", color=COLORS["error"], zorder=4)
        ax.annotate(  # below the marker, left of it: off the two limit lines above
            f"relapse (session {int(x[n - 1])})",
            (x[n - 1], y),
            textcoords="offset points",
            xytext=(-8, -16),
            ha="right",
            va="top",
            fontsize=8,
            color=COLORS["error"],
            bbox=white,
            zorder=5,
        )
    shown = [sl, float(np.nanmax(lc, initial=0.0))]
    if not np.all(np.isnan(rel)):
        shown += [rl, float(np.nanmax(rel))]
    top = max(shown) * 1.3
    ax.set_ylim(-0.03 * top, top)  # a CUSUM resting at 0 stays visible above the frame
    last = int(x[-1]) if len(x) else 1
    ax.set_xlim(0.5, last + 0.5)
    _whole_ticks(ax, last)
    ax.set_xlabel("full case of this procedure (n-th that counts)")
    ax.set_ylabel("CUSUM")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    return to_png(fig)
