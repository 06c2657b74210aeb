"""The replay panel as 2-D geometry (no OpenGL): the timeline with its event and cue
markers, the playhead, and the speed and tremor plots synced to it.

The panel is a strip of ``panel_height(size)`` pixels above the scene; everything is laid
out in the strip's own pixels (origin top left, y down) into a
:class:`~sim.render.overlay.Batch2D`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.metrics.catalog import HAND, can_measure, input_words
from sim.procedures.registry import format_value
from sim.procedures.registry import metric_info as info
from sim.render.hud import BAD, MUTED, WHITE, fmt_time
from sim.render.overlay import RGBA, Batch2D
from sim.replay.timeline import Marker, Timeline

BG: RGBA = (0.09, 0.10, 0.12, 1.0)
TRACK: RGBA = (0.25, 0.27, 0.31, 1.0)
ELAPSED: RGBA = (0.35, 0.55, 0.85, 1.0)
SPEED_RGBA: RGBA = (0.45, 0.80, 1.0, 1.0)
TREMOR_RGBA: RGBA = (1.0, 0.62, 0.25, 1.0)
PLAYHEAD: RGBA = (1.0, 1.0, 1.0, 0.95)
GHOST_RGBA: RGBA = (0.55, 1.0, 0.75, 1.0)
MARKER_RGBA: dict[str, RGBA] = {
    "event": (0.40, 0.75, 1.0, 1.0),
    "error": BAD,
    "cue": (0.98, 0.70, 0.15, 1.0),
    "patient": (0.70, 0.45, 1.0, 1.0),  # violet, the report's hue: apart from the error red
}
MARKER_WORDS: tuple[tuple[str, str], ...] = (
    ("event", "event"),
    ("error", "error"),
    ("patient", "patient"),
    ("cue", "cue shown"),
)
"""The timeline markers' key, as the legend says it."""
PLOT_BG: RGBA = (0.13, 0.14, 0.17, 1.0)
LIMIT_RGBA: RGBA = (0.80, 0.62, 0.45, 0.9)
DISCOMFORT_RGBA: RGBA = MARKER_RGBA["patient"]
DISCOMFORT_TOP = 10.0
"""The discomfort scale's top: the patient model's worst."""


MIN_PANEL_PX = 140
"""The panel's height at the least: two rows of text (the font does not scale), the plots
and the timeline bar."""
TEXT_ROW_PX = 20
"""Height of one row of the panel's 14 px text."""


def panel_height(size: tuple[int, int]) -> int:
    """Height of the replay panel for a scene of ``size`` = (width, height) pixels: 160 rows
    for a 720-row scene, in proportion for others, never under :data:`MIN_PANEL_PX`."""
    return max(MIN_PANEL_PX, int(round(160 * size[1] / 720.0)))


@dataclass(frozen=True)
class PanelLayout:
    """Where things are in the panel (pixels in the panel's own frame, y down).

    Two rows of text at the top (the playhead's time and latest event; the legend), then
    the plots, then the timeline bar. The text rows keep their height (the font does not
    scale); the plots and the bar share what is left.
    """

    width: int
    height: int
    x0: float
    x1: float
    head_y: float
    legend_y: float
    plot_top: float
    plot_bottom: float
    bar_top: float
    bar_bottom: float

    @staticmethod
    def of(width: int, height: int) -> PanelLayout:
        s = height / 160.0
        head_y = 5.0
        legend_y = head_y + TEXT_ROW_PX + 2
        plot_top = legend_y + TEXT_ROW_PX + 2
        bar_bottom = height - 10 * s
        bar_top = bar_bottom - 20 * s
        return PanelLayout(
            width,
            height,
            16 * s,
            width - 16 * s,
            head_y,
            legend_y,
            plot_top,
            bar_top - 8 * s,
            bar_top,
            bar_bottom,
        )

    def x_of(self, t_s: float, start_s: float, end_s: float) -> float:
        span = max(end_s - start_s, 1e-9)
        f = min(max((t_s - start_s) / span, 0.0), 1.0)
        return self.x0 + f * (self.x1 - self.x0)

    def t_of(self, x: float, start_s: float, end_s: float) -> float:
        """The time under pixel column ``x`` (for scrubbing)."""
        f = min(max((x - self.x0) / max(self.x1 - self.x0, 1e-9), 0.0), 1.0)
        return start_s + f * (end_s - start_s)

    def in_timeline(self, y: float) -> bool:
        """Whether a click at panel row ``y`` is on the plots or the bar (scrubbing)."""
        return self.plot_top <= y <= self.bar_bottom + 4


class PanelModel:
    """The panel's series, resampled once per width: speed and tremor (mm/s, mm) and the
    markers of a :class:`~sim.replay.timeline.Timeline`.

    Attributes
    ----------
    speed_top_mm_s : float
        The speed at the top of the plot: the session's fastest (the plot's legend says it).
    tremor_limit_mm : float
        The scenario's steady-hand limit (``feedback.steady_tremor_mm``), drawn as a dashed
        line.
    tremor_top_mm : float
        The tremor at the top of the plot: twice that limit, the scale of the live tremor
        meter, so that the trace reads as the trainee saw the meter (values above it are
        drawn at the top).
    """

    def __init__(self, timeline: Timeline) -> None:
        self.tl = timeline
        self.speed = timeline.speed_mm_s()
        kind = timeline.input_kind
        #: why there is no tremor plot ("not measured with the mouse"), "" when there is one
        self.tremor_note = (
            "" if can_measure(HAND, kind) else f"not measured with {input_words(kind)}"
        )
        self.tremor = np.zeros_like(self.speed) if self.tremor_note else timeline.tremor_mm()
        self.markers: list[Marker] = timeline.markers()
        top = float(np.nanmax(self.speed)) if np.any(np.isfinite(self.speed)) else 0.0
        self.speed_top_mm_s = top
        fb = timeline.scenario().feedback
        self.tremor_limit_mm = fb.steady_tremor_mm
        self.tremor_top_mm = max(2.0 * fb.steady_tremor_mm, 0.1)
        #: the patient's discomfort (0-10) at every sample: all NaN without a patient, and
        #: until it has been re-derived in the background (the recording run through its
        #: pipeline: seconds for a long recording, which the window does not wait for)
        self.discomfort = np.full(timeline.n, np.nan)
        self.has_patient = False
        self._cache: dict[int, tuple[NDArray[np.float64], ...]] = {}
        self._pain: list[NDArray[np.float64]] = []  # filled by the worker
        self._worker: threading.Thread | None = None
        if timeline.scenario().condition is not None:
            path = timeline.path
            self._worker = threading.Thread(
                target=lambda: self._pain.append(Timeline(path).discomfort()),
                name="replay-discomfort",
                daemon=True,  # closing the replay never waits for it
            )
            self._worker.start()

    def update(self) -> bool:
        """Take the discomfort series once the worker has it; whether it is there (or there
        is none to wait for)."""
        if self._worker is None:
            return True
        if not self._pain:
            return False
        self.discomfort = self._pain[0]
        self.has_patient = bool(np.any(np.isfinite(self.discomfort)))
        self._cache.clear()
        self._worker = None
        return True

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait up to ``timeout_s`` (None: as long as it takes) for the discomfort series
        (:meth:`update`)."""
        if self._worker is not None:
            self._worker.join(timeout_s)
        return self.update()

    def series(self, layout: PanelLayout) -> tuple[NDArray[np.float64], ...]:
        """(x, speed, tremor, discomfort) for the plots: x in pixels, one point per 2 px, and
        each series as a fraction of its plot's height (0 bottom, 1 top; the peak of each
        column kept; NaN where not measured)."""
        key = int(layout.x1 - layout.x0)
        if key not in self._cache:
            n = max(2, key // 2)
            tl = self.tl
            edges = np.linspace(tl.start_s, tl.end_s, n + 1)
            idx = np.searchsorted(tl.t, edges)
            out = []
            for series, top in (
                (self.speed, self.speed_top_mm_s),
                (self.tremor, self.tremor_top_mm),
                (self.discomfort, DISCOMFORT_TOP),
            ):
                scale = top if top > 0 else 1.0
                vals = np.full(n, np.nan)
                for k in range(n):
                    a, b = idx[k], max(idx[k + 1], idx[k] + 1)
                    seg = series[a : min(b, len(series))]
                    seg = seg[np.isfinite(seg)]
                    if len(seg):
                        vals[k] = min(float(seg.max()) / scale, 1.0)
                out.append(vals)
            x = np.linspace(layout.x0, layout.x1, n)
            self._cache[key] = (x, out[0], out[1], out[2])
        return self._cache[key]


def _trace(
    batch: Batch2D,
    x: NDArray[np.float64],
    frac: NDArray[np.float64],
    lay: PanelLayout,
    width: float,
    rgba: RGBA,
) -> None:
    """A series as polylines over the plot area, broken where it is NaN."""
    ph = lay.plot_bottom - lay.plot_top
    y = lay.plot_bottom - frac * ph * 0.94
    ok = np.isfinite(y)
    k = 0
    while k < len(y):
        if not ok[k]:
            k += 1
            continue
        j = k
        while j < len(y) and ok[j]:
            j += 1
        if j - k >= 2:
            batch.polyline([(float(a), float(b)) for a, b in zip(x[k:j], y[k:j])], width, rgba)
        k = j


def _dashed(batch: Batch2D, x0: float, x1: float, y: float, dash: float, rgba: RGBA) -> None:
    """A horizontal dashed line."""
    x = x0
    while x < x1:
        batch.rect(x, y - 0.5, min(dash, x1 - x), 1.0, rgba)
        x += 2 * dash


def _legend(batch: Batch2D, model: PanelModel, lay: PanelLayout, s: float) -> None:
    """The legend row: what each trace is (with its scale), then what the markers on the
    timeline bar mean, right-aligned."""
    y = lay.legend_y
    mid = y + 9
    x = lay.x0
    smax = model.speed_top_mm_s
    batch.rect(x, mid - 1, 18, 2.5, SPEED_RGBA)
    x += 24 + batch.text(f"Speed (max {smax:.0f} mm/s)", x + 24, y, 13, SPEED_RGBA) + 18
    tremor = info("tremor_rms_mm").label
    if model.tremor_note:
        x += batch.text(f"{tremor}: {model.tremor_note}", x, y, 13, MUTED) + 18
    else:
        tmax = float(np.nanmax(model.tremor)) if np.any(np.isfinite(model.tremor)) else 0.0
        batch.rect(x, mid - 1, 18, 2.5, TREMOR_RGBA)
        words = f"{tremor} (max {format_value('tremor_rms_mm', tmax)})"
        x += 24 + batch.text(words, x + 24, y, 13, TREMOR_RGBA) + 14
        _dashed(batch, x, x + 18, mid, 4, LIMIT_RGBA)
        limit = format_value("tremor_rms_mm", model.tremor_limit_mm)
        x += 24 + batch.text(f"steady limit {limit}", x + 24, y, 13, LIMIT_RGBA) + 18
    if model.has_patient:
        peak = float(np.nanmax(model.discomfort))
        batch.rect(x, mid - 1, 18, 2.5, DISCOMFORT_RGBA)
        words = f"Discomfort (0-10, peak {peak:.1f})"
        x += 24 + batch.text(words, x + 24, y, 13, DISCOMFORT_RGBA) + 18
    # the markers' key, right-aligned: as the bar draws them (events and errors over the
    # upper half, cues under the lower half)
    right = lay.x1
    for category, word in reversed(MARKER_WORDS):
        w = batch.text_width(word, 13)
        right -= w
        if right - 14 < x:  # no room left on this row (a very narrow window)
            break
        batch.text(word, right, y, 13, MUTED)
        col = MARKER_RGBA[category]
        wide = 3.0 if category == "error" else 2.0
        top, bottom = (y + 2, mid) if category != "cue" else (mid, y + 16)
        batch.rect(right - 8 - wide / 2, top, wide, bottom - top, col)
        right -= 26


def draw_panel(
    batch: Batch2D,
    model: PanelModel,
    size: tuple[int, int],
    t_s: float,
    *,
    speed: float,
    playing: bool,
    title: str = "",
    ghost: str | None = None,
) -> PanelLayout:
    """Draw the replay panel for playhead time ``t_s``; returns its layout.

    Parameters
    ----------
    size : (width, height)
        The panel's size in pixels.
    speed : float
        Playback speed shown (0.25-4).
    playing : bool
        Play or pause symbol.
    ghost : str, optional
        Name of the ghost recording, if one is drawn.
    """
    w, h = size
    lay = PanelLayout.of(w, h)
    s = h / 160.0
    tl = model.tl
    model.update()  # the discomfort trace, once the background worker has it
    batch.rect(0, 0, w, h, BG)
    # header: state and time on the left, the title on the right, the latest event at the
    # playhead between them (shortened to the room left: it never runs into the title)
    state = ">" if playing else "||"
    head = f"{state} {speed:g}x   {fmt_time(t_s)} / {fmt_time(tl.end_s)}"
    head_w = batch.text(head, lay.x0, lay.head_y, 15, WHITE)
    right = title + (f"   ghost: {ghost}" if ghost else "")
    title_w = 0.0
    if right:
        right = batch.fit(right, 13, w * 0.4)
        title_w = batch.text(right, lay.x1, lay.head_y + 1, 13, MUTED, anchor="right")
    past = [m for m in model.markers if m.t_s <= t_s and m.category != "cue"]
    if past:
        last = past[-1]
        col = MARKER_RGBA[last.category]
        mx = lay.x0 + head_w + 24
        room = lay.x1 - title_w - 24 - mx
        if room > 40:
            msg = batch.fit(f"{last.label} ({last.t_s:.1f} s)", 13, room)
            batch.text(msg, mx, lay.head_y + 1, 13, col)
    _legend(batch, model, lay, s)
    # plots: speed and tremor, each on its own scale (the legend gives both)
    x, sp, tr, pain = model.series(lay)
    py0, py1 = lay.plot_top, lay.plot_bottom
    batch.rect(lay.x0, py0, lay.x1 - lay.x0, py1 - py0, PLOT_BG)
    width = max(1.0, 1.2 * s)
    if not model.tremor_note:
        limit_y = py1 - model.tremor_limit_mm / model.tremor_top_mm * (py1 - py0) * 0.94
        _dashed(batch, lay.x0, lay.x1, limit_y, 6, LIMIT_RGBA)
        _trace(batch, x, tr, lay, width, TREMOR_RGBA)
    _trace(batch, x, sp, lay, width, SPEED_RGBA)
    if model.has_patient:
        _trace(batch, x, pain, lay, width, DISCOMFORT_RGBA)
    # the timeline bar: elapsed part, markers (events above, cues below), playhead
    by0, by1 = lay.bar_top, lay.bar_bottom
    px = lay.x_of(t_s, tl.start_s, tl.end_s)
    batch.rect(lay.x0, by0, lay.x1 - lay.x0, by1 - by0, TRACK)
    batch.rect(lay.x0, by0, px - lay.x0, by1 - by0, ELAPSED)
    mid = (by0 + by1) / 2
    for m in model.markers:
        mx = lay.x_of(m.t_s, tl.start_s, tl.end_s)
        col = MARKER_RGBA[m.category]
        if m.category == "cue":
            batch.rect(mx - 1 * s, mid, 2 * s, by1 - mid, col)
        else:
            wide = 3 * s if m.category == "error" else 2 * s
            batch.rect(mx - wide / 2, by0 - 3 * s, wide, mid - by0 + 3 * s, col)
    batch.rect(px - 1.5 * s, py0, 3 * s, by1 - py0 + 3 * s, PLAYHEAD)
    return lay
