"""The replay panel as 2-D geometry (no OpenGL): the timeline with its event and cue
markers, the playhead, and the speed and tremor plots synced to it.

The panel is a strip of ``panel_height(size)`` pixels above the scene; everything is laid
out in the strip's own pixels (origin top left, y down) into a
:class:`~sim.render.overlay.Batch2D`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.metrics.catalog import HAND, INPUT_WORDS, can_measure
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
}


def panel_height(size: tuple[int, int]) -> int:
    """Height of the replay panel for a scene of ``size`` = (width, height) pixels."""
    return max(96, int(round(160 * size[1] / 720.0)))


@dataclass(frozen=True)
class PanelLayout:
    """Where things are in the panel (pixels in the panel's own frame)."""

    width: int
    height: int
    x0: float
    x1: float
    plot_top: float
    plot_bottom: float
    bar_top: float
    bar_bottom: float

    @staticmethod
    def of(width: int, height: int) -> PanelLayout:
        s = height / 160.0
        return PanelLayout(
            width,
            height,
            16 * s,
            width - 16 * s,
            34 * s,
            112 * s,
            122 * s,
            146 * s,
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
    markers of a :class:`~sim.replay.timeline.Timeline`."""

    def __init__(self, timeline: Timeline) -> None:
        self.tl = timeline
        self.speed = timeline.speed_mm_s()
        kind = timeline.input_kind
        #: why there is no tremor plot ("not measured with the mouse"), "" when there is one
        self.tremor_note = (
            ""
            if can_measure(HAND, kind)
            else f"not measured with {INPUT_WORDS.get(kind, f'the {kind}')}"
        )
        self.tremor = np.zeros_like(self.speed) if self.tremor_note else timeline.tremor_mm()
        self.markers: list[Marker] = timeline.markers()
        self._cache: dict[int, tuple[NDArray[np.float64], ...]] = {}

    def series(self, layout: PanelLayout) -> tuple[NDArray[np.float64], ...]:
        """(x, speed y, tremor y) in pixels, one point per 2 px, peaks kept."""
        key = int(layout.x1 - layout.x0)
        if key not in self._cache:
            n = max(2, key // 2)
            tl = self.tl
            edges = np.linspace(tl.start_s, tl.end_s, n + 1)
            idx = np.searchsorted(tl.t, edges)
            out = []
            for series in (self.speed, self.tremor):
                top = float(np.max(series)) if len(series) else 0.0
                scale = top if top > 0 else 1.0
                vals = np.empty(n)
                for k in range(n):
                    a, b = idx[k], max(idx[k + 1], idx[k] + 1)
                    seg = series[a : min(b, len(series))]
                    vals[k] = float(seg.max()) / scale if len(seg) else 0.0
                out.append(vals)
            x = np.linspace(layout.x0, layout.x1, n)
            self._cache[key] = (x, out[0], out[1])
        return self._cache[key]


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
    batch.rect(0, 0, w, h, BG)
    # header: state, time, title; the latest event at the playhead
    state = ">" if playing else "||"
    head = f"{state} {speed:g}x   {fmt_time(t_s)} / {fmt_time(tl.end_s)}"
    head_w = batch.text(head, lay.x0, 8 * s, 15, WHITE)
    past = [m for m in model.markers if m.t_s <= t_s and m.category != "cue"]
    right = title + (f"   ghost: {ghost}" if ghost else "")
    if right:
        batch.text(batch.fit(right, 13, w * 0.4), lay.x1, 10 * s, 13, MUTED, anchor="right")
    if past:
        last = past[-1]
        col = MARKER_RGBA[last.category]
        msg = batch.fit(f"{last.label} ({last.t_s:.1f} s)", 13, w * 0.35)
        batch.text(msg, lay.x0 + head_w + 24 * s, 10 * s, 13, col)
    # plots: speed and tremor, each on its own scale
    x, sp, tr = model.series(lay)
    py0, py1 = lay.plot_top, lay.plot_bottom
    batch.rect(lay.x0, py0, lay.x1 - lay.x0, py1 - py0, (0.13, 0.14, 0.17, 1.0))
    ph = py1 - py0
    curves = ((sp, SPEED_RGBA),) if model.tremor_note else ((sp, SPEED_RGBA), (tr, TREMOR_RGBA))
    for vals, col in curves:
        pts = np.stack([x, py1 - vals * ph * 0.92], axis=1)
        batch.polyline([(float(a), float(b)) for a, b in pts], max(1.0, 1.2 * s), col)
    smax = float(np.nanmax(model.speed)) if len(model.speed) else 0.0
    tmax = float(np.nanmax(model.tremor)) if len(model.tremor) else float("nan")
    sw = batch.text(f"Speed (max {smax:.0f} mm/s)", lay.x0 + 6 * s, py0 + 3 * s, 11, SPEED_RGBA)
    tremor = info("tremor_rms_mm").label
    if model.tremor_note:
        words, col = f"{tremor}: {model.tremor_note}", MUTED
    else:
        words, col = f"{tremor} (max {format_value('tremor_rms_mm', tmax)})", TREMOR_RGBA
    batch.text(words, lay.x0 + sw + 20 * s, py0 + 3 * s, 11, col)
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
