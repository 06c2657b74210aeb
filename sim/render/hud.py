"""The coaching HUD as 2-D geometry (no OpenGL): cue banner, timer and phase, angle gauge,
tremor meter and the live side view, plus the help overlay.

Everything is laid out for a 1280x720 screen and scaled with the screen height. The
functions only read the :class:`~sim.render.scene.Frame`; they append triangles to a
:class:`~sim.render.overlay.Batch2D`. What is the procedure's own (the dial's target band,
the aim and progress lines of the readouts, the side view's section) comes from its scene
plug-in (:class:`sim.render.plugin.ScenePlugin`); the HUD draws what every procedure shares.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.core.checklist import STEPS, step_kind, taken, took
from sim.core.patient import PatientView
from sim.core.records import Severity
from sim.core.scenario import Scenario
from sim.metrics.catalog import HAND, INPUT_WORDS, can_measure
from sim.procedures.registry import format_value
from sim.render.overlay import RGBA, Batch2D
from sim.render.plugin import (
    Judged,
    Readout,
    ScenePlugin,
    SideBand,
    SideMark,
    SidePolygon,
    SideSection,
)
from sim.render.scene import DrawOptions, Frame, scene_of

SEVERITY_RGBA: dict[Severity, RGBA] = {
    Severity.INFO: (0.13, 0.58, 0.28, 0.92),
    Severity.WARNING: (0.96, 0.62, 0.08, 0.95),
    Severity.DANGER: (0.86, 0.13, 0.13, 0.95),
}
WHITE: RGBA = (1.0, 1.0, 1.0, 1.0)
ACCENT: RGBA = (0.45, 0.72, 1.0, 1.0)
DARK: RGBA = (0.08, 0.08, 0.1, 1.0)
PANEL: RGBA = (0.06, 0.07, 0.09, 0.72)
AIR: RGBA = (0.55, 0.68, 0.80, 1.0)  # the side view above the skin
MUTED: RGBA = (0.75, 0.78, 0.82, 1.0)
GOOD: RGBA = (0.25, 0.80, 0.40, 1.0)
WARN: RGBA = (0.98, 0.70, 0.15, 1.0)
BAD: RGBA = (0.95, 0.25, 0.22, 1.0)
JUDGED: dict[Judged, RGBA] = {
    Judged.GOOD: GOOD,
    Judged.WARN: WARN,
    Judged.BAD: BAD,
    Judged.MUTED: MUTED,
}


def side_view_rect(size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(x, y, w, h) of the side view's drawing area, pixels."""
    w, h = size
    s = h / 720.0
    pw, ph = 420 * s, 250 * s
    return (w - pw - 16 * s, h - ph - 16 * s, pw, ph)


def banner_rect(size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(x, y, w, h) of the cue banner, pixels."""
    w, h = size
    s = h / 720.0
    bw = min(w - 40 * s, 760 * s)
    x = max((w - bw) / 2, 294 * s)  # clear of the timer panel (top left)
    return (x, 14 * s, min(bw, w - x - 20 * s), 46 * s)


def depth_words(depth_mm: float) -> str:
    """The tip's depth as the HUD and the side view both say it ("depth 4.1 mm", or "0.6 mm
    above the skin" rather than a negative depth)."""
    if depth_mm >= 0:
        return f"depth {depth_mm:.1f} mm"
    return f"{-depth_mm:.1f} mm above the skin"


def fmt_time(t_s: float) -> str:
    t = max(t_s, 0.0)
    return f"{int(t // 60)}:{t % 60:04.1f}"


def draw_hud(batch: Batch2D, frame: Frame, options: DrawOptions, size: tuple[int, int]) -> None:
    """Banner, timer and phase, gauges and side view of ``frame`` (per ``options``)."""
    w, h = size
    s = h / 720.0
    sc = frame.scenario
    plugin = scene_of(sc)
    # timer and phase, top left
    batch.rect(12 * s, 12 * s, 270 * s, 92 * s, PANEL)
    batch.text(batch.fit(options.title or sc.title, 14, 250 * s), 22 * s, 18 * s, 14, MUTED)
    batch.text(fmt_time(frame.t_s), 22 * s, 38 * s, 30, WHITE)
    if frame.t_s == 0.0 and (frame.view is None or not frame.view.moved):
        # the session's clock starts with the first move or action (sim.pipeline.Pipeline)
        batch.text("starts when you move", 130 * s, 50 * s, 14, MUTED)
    batch.text(frame.phase or "-", 22 * s, 76 * s, 17, (0.6, 0.85, 1.0, 1.0))
    if options.exam:
        batch.text("EXAM", 270 * s, 40 * s, 17, WARN, anchor="right")
    # the banner
    if not options.exam and frame.banner is not None:
        bx, by, bw, bh = banner_rect(size)
        col = SEVERITY_RGBA[frame.banner.severity]
        fg = DARK if frame.banner.severity is Severity.WARNING else WHITE
        message, room = frame.banner.message, bw - 20 * s
        ts = 22
        lines = batch.wrap(message, ts, room)
        if len(lines) > 1:  # two smaller lines, the banner taller: never cut the words off
            ts = 18
            lines = batch.wrap(message, ts, room)
            if len(lines) > 2:
                lines = [lines[0], batch.fit(" ".join(lines[1:]), ts, room)]
        lh = batch.line_height(ts)
        bh = max(bh, lh * len(lines) + 12 * s)
        batch.rect(bx, by, bw, bh, col)
        top = by + (bh - lh * len(lines)) / 2
        for i, line in enumerate(lines):
            batch.text(line, bx + bw / 2, top + i * lh, ts, fg, anchor="centre")
    # gauges, bottom left: dial on the left, readouts on the right
    gx, gy = 16 * s, h - 196 * s
    batch.rect(gx, gy, 350 * s, 180 * s, PANEL)
    band = plugin.angle_band(frame)
    _angle_gauge(batch, frame, options, band, gx + 18 * s, gy + 164 * s, 140 * s)
    col_x = gx + 190 * s
    _readouts(batch, frame, options, plugin, band, col_x, gy + 10 * s, s)
    if not options.exam:
        draw_side_view(batch, frame, size, plugin)
    patient = frame.view.patient if frame.view is not None else None
    if patient is not None:
        draw_patient(batch, patient, frame.now_s, size)
    if not options.help:
        draw_checklist(batch, frame, options, size)
    if options.message:
        # between the gauges and the side view, so that it covers neither
        x0 = gx + 350 * s + 12 * s
        x1 = side_view_rect(size)[0] - 18 * s
        lines = batch.wrap(options.message, 14, x1 - x0 - 16 * s)[:4]
        bh = 20 * s * len(lines) + 14 * s
        batch.rect(x0, h - 16 * s - bh, x1 - x0, bh, (0.25, 0.15, 0.0, 0.9))
        for i, line in enumerate(lines):
            y = h - 16 * s - bh + 7 * s + 20 * s * i
            batch.text(line, (x0 + x1) / 2, y, 14, WARN, anchor="centre")
    elif options.help_lines:  # a window with a controls overlay (not a video or a still)
        batch.text("F1 / H: controls", w / 2, h - 26 * s, 14, MUTED, anchor="centre")


LINE_SHOW_S = 5.0
"""How long the patient's words stay in the speech bubble after they were said, s (our
choice: time to read a short sentence twice)."""
DISCOMFORT_WORDS = (
    (2.0, "comfortable"),
    (4.0, "a little uncomfortable"),
    (6.0, "uncomfortable"),
    (8.0, "in pain"),
    (math.inf, "in severe pain"),
)
"""How the HUD words discomfort (0-10): the first entry whose bound it is below (our choice,
after the wording of the 0-10 numeric rating scale's anchors)."""
BUBBLE: RGBA = (0.98, 0.97, 0.92, 0.96)


def discomfort_shown(discomfort: float) -> int:
    """The whole number 0-10 the HUD shows for a discomfort (halves round up): its words,
    colour, face and lit segments all follow this number, never the unrounded one."""
    return int(math.floor(min(max(discomfort, 0.0), 10.0) + 0.5))


def discomfort_level(shown: int) -> int:
    """Which entry of :data:`DISCOMFORT_WORDS` a shown discomfort (0-10) falls in (0:
    comfortable ... 4: in severe pain)."""
    return next(i for i, (bound, _) in enumerate(DISCOMFORT_WORDS) if shown < bound)


def discomfort_words(shown: int) -> str:
    """A shown discomfort (0-10, :func:`discomfort_shown`) in words ("comfortable", "in
    pain")."""
    return DISCOMFORT_WORDS[discomfort_level(shown)][1]


def discomfort_rgba(shown: float) -> RGBA:
    """Green when comfortable, amber when uncomfortable, red in pain (of a shown number, or
    of a gauge segment's middle)."""
    return GOOD if shown < 4 else WARN if shown < 6 else BAD


FACE_MOUTH = (6.0, 2.5, -1.5, -4.5, -7.0)
"""The mouth's bend at each discomfort level (:data:`DISCOMFORT_WORDS`), in units of the
panel's scale: + smile, - frown (our choice)."""
FACE_BROW_DEG = (0.0, 0.0, 12.0, 24.0, 34.0)
"""How far the brows slant up towards the nose at each level, degrees; 0: no brows drawn
(our choice)."""


def patient_rect(size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(x, y, w, h) of the patient panel (face and discomfort gauge), pixels: on the left
    under the timer (a checklist goes under it), clear of the banner and the side view."""
    s = size[1] / 720.0
    return (12 * s, 114 * s, 300 * s, 62 * s)


def bubble_rect(size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(x, y, w, h) the speech bubble may take, pixels (four lines at most): right of the
    patient panel, its tail at the face, over the scene between the left column's panels
    and the side view."""
    x, y, w, _ = patient_rect(size)
    s = size[1] / 720.0
    return (x + w + 16 * s, y, 300 * s, 4 * 26 * s + 14 * s)


CHECKLIST_FRESH_S = 1.0
"""How long a step's button stays highlighted after it was taken, s (our choice)."""


def checklist_rects(
    scenario: Scenario, size: tuple[int, int]
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """``(step, (x, y, w, h))`` of each button of the scenario's checklist, pixels: down the
    left edge under the timer (under the patient panel when there is a patient); none
    without a checklist. The practice screen makes them clickable."""
    spec = scenario.checklist
    if spec is None:
        return []
    s = size[1] / 720.0
    x, y, bw, bh = 16 * s, 122 * s, 214 * s, 26 * s
    if scenario.condition is not None:
        _, py, _, ph = patient_rect(size)
        y = py + ph + 8 * s
    y += 20 * s  # the title
    out = []
    for step in spec.steps:
        out.append((step, (x, y, bw, bh)))
        y += bh + 4 * s
    return out


def draw_checklist(
    batch: Batch2D, frame: Frame, options: DrawOptions, size: tuple[int, int]
) -> None:
    """The checklist as buttons: each step's key (when the options give keys) and words, a
    box filled once it is taken, and a highlight for a moment after it was taken (from the
    frame's events: the same in practice, replay and video)."""
    rows = checklist_rects(frame.scenario, size)
    spec = frame.scenario.checklist
    if not rows or spec is None:
        return
    s = size[1] / 720.0
    keys = dict(options.step_keys)
    done = set(taken(spec, frame.events))
    now = frame.now_s
    fresh = {
        step
        for step in spec.steps
        for e in frame.events
        if took(e, step_kind(step)) and 0.0 <= now - e.t_s < CHECKLIST_FRESH_S
    }
    x0, y0 = rows[0][1][0], rows[0][1][1]
    batch.text("Checklist", x0 + 4 * s, y0 - 20 * s, 14, ACCENT)
    for step, (x, y, bw, bh) in rows:
        hot = step in fresh
        batch.rect(x, y, bw, bh, (0.16, 0.45, 0.70, 0.95) if hot else (0.08, 0.09, 0.12, 0.72))
        if step in done:
            batch.rect(x + 7 * s, y + 7 * s, 12 * s, 12 * s, GOOD)
        else:
            batch.frame(x + 7 * s, y + 7 * s, 12 * s, 12 * s, 1, (0.45, 0.50, 0.58, 1.0))
        fg = (0.62, 0.66, 0.72, 1.0) if step in done and not hot else WHITE
        tx = x + 27 * s
        if step in keys:
            batch.text(keys[step], tx, y + 5 * s, 14, ACCENT)
            tx = x + 44 * s
        batch.text(batch.fit(STEPS[step], 14, x + bw - 4 * s - tx), tx, y + 5 * s, 14, fg)


def line_showing(p: PatientView, now_s: float) -> bool:
    """Whether the patient's latest line is still in the speech bubble at ``now_s``."""
    return bool(p.line) and 0.0 <= now_s - p.line_t_s <= LINE_SHOW_S


def draw_face(batch: Batch2D, fx: float, fy: float, s: float, shown: int, rgba: RGBA) -> None:
    """The patient's face centred at ``(fx, fy)``: a disc ringed in the discomfort's colour,
    a mouth from a smile to a frown and brows that slant more with each discomfort level
    (:data:`FACE_MOUTH`, :data:`FACE_BROW_DEG`); in severe pain the eyes squeeze shut. The
    face changes exactly where the words do."""
    level = discomfort_level(shown)
    fr = 22 * s
    batch.arc(fx, fy, 0.0, fr, 0.0, 360.0, (0.93, 0.76, 0.62, 1.0), 28)
    batch.arc(fx, fy, fr - 2.5 * s, fr, 0.0, 360.0, rgba, 28)
    for side in (-1.0, 1.0):
        ex, ey = fx + side * 8 * s, fy - 6 * s
        if level == len(FACE_MOUTH) - 1:  # squeezed shut: a chevron pointing at the nose
            tip, back = ex - side * 2.5 * s, ex + side * 2.5 * s
            pts = [(back, ey - 2.5 * s), (tip, ey), (back, ey + 2.5 * s)]
            batch.polyline(pts, 1.8 * s, DARK)
        else:
            batch.arc(ex, ey, 0.0, 2.6 * s, 0.0, 360.0, DARK, 10)
        slant = math.radians(FACE_BROW_DEG[level])
        if slant:  # inner end (towards the nose) raised
            dx, dy = 4.5 * s * math.cos(slant), 4.5 * s * math.sin(slant)
            by = ey - 6 * s
            batch.polyline([(ex - side * dx, by - dy), (ex + side * dx, by + dy)], 1.8 * s, DARK)
    bend = FACE_MOUTH[level] * s
    mouth = [(fx + u * s, fy + 9 * s + bend * (1 - (u / 10.0) ** 2)) for u in range(-10, 11, 4)]
    batch.polyline(mouth, 2.4 * s, DARK)


def draw_patient(batch: Batch2D, p: PatientView, now_s: float, size: tuple[int, int]) -> None:
    """The patient: a face that frowns with discomfort, a 0-10 gauge with words, and the
    latest line in a speech bubble for :data:`LINE_SHOW_S` after it was said."""
    x, y, w, h = patient_rect(size)
    s = size[1] / 720.0
    n = discomfort_shown(p.discomfort)  # the number said, its words, colour and face
    col = discomfort_rgba(n)
    batch.rect(x, y, w, h, PANEL)
    draw_face(batch, x + 30 * s, y + 31 * s, s, n, col)
    # the gauge: ten segments, lit up to the discomfort
    gx, gw = x + 62 * s, w - 74 * s
    batch.text(f"discomfort {n}/10  {discomfort_words(n)}", gx, y + 8 * s, 14, col)
    seg = gw / 10
    for i in range(10):
        lit = i < n
        c = discomfort_rgba(i + 0.5) if lit else (0.25, 0.27, 0.31, 1.0)
        batch.rect(gx + i * seg + 1, y + 34 * s, seg - 2, 14 * s, c)
    if not line_showing(p, now_s):
        return
    # the speech bubble right of the panel, its tail pointing back at the face
    bx, by, bw, _ = bubble_rect(size)
    ts = 17
    lines = batch.wrap(f'"{p.line}"', ts, bw - 24 * s)[:4]
    lh = batch.line_height(ts)
    bh = lh * len(lines) + 14 * s
    batch.tri(((bx, by + 8 * s), (bx, by + 24 * s), (bx - 14 * s, by + 14 * s)), BUBBLE)
    batch.rect(bx, by, bw, bh, BUBBLE)
    for i, line in enumerate(lines):
        batch.text(line, bx + 12 * s, by + 7 * s + i * lh, ts, DARK)


def _angle_gauge(
    batch: Batch2D,
    frame: Frame,
    options: DrawOptions,
    band: tuple[float, float],
    cx: float,
    cy: float,
    r: float,
) -> None:
    """A quarter dial, 0 (horizontal) to 90 deg (vertical), with the target ``band``."""
    batch.arc(cx, cy, r * 0.74, r, 0, 90, (0.25, 0.27, 0.3, 1.0), 30)
    lo, hi = band
    if not options.exam:
        batch.arc(cx, cy, r * 0.74, r, lo, hi, (0.18, 0.62, 0.32, 1.0), 12)
    for tick in range(0, 91, 15):
        c, sn = math.cos(math.radians(tick)), -math.sin(math.radians(tick))
        batch.line(cx + c * r * 0.93, cy + sn * r * 0.93, cx + c * r, cy + sn * r, 2, MUTED)
    v = frame.view
    if v is None:
        return
    a = max(0.0, min(90.0, v.angle_deg))
    col = _judged(lo <= v.angle_deg <= hi, options)
    c, sn = math.cos(math.radians(a)), -math.sin(math.radians(a))
    batch.line(cx, cy, cx + c * r * 1.04, cy + sn * r * 1.04, 4, col)


def _judged(ok: bool, options: DrawOptions) -> RGBA:
    """Green when within target, amber when not; neutral in exam mode (no judgement)."""
    if options.exam:
        return WHITE
    return GOOD if ok else WARN


def _readouts(
    batch: Batch2D,
    frame: Frame,
    options: DrawOptions,
    plugin: ScenePlugin[Any],
    band: tuple[float, float],
    x: float,
    y: float,
    s: float,
) -> None:
    """One column: the angle, the procedure's aim line (bevel, off curve), tremor meter and
    speed, depth, then the procedure's progress lines (tourniquet, stitches)."""
    v = frame.view
    lo, hi = band
    if v is None:
        batch.text("angle -", x, y, 17, MUTED)
    else:
        ok = lo <= v.angle_deg <= hi
        shown = format_value("insertion_angle_deg", v.angle_deg)
        batch.text(f"angle {shown}", x, y, 22, _judged(ok, options))
    lines = plugin.readouts(frame)
    yy = y + 30 * s
    if lines.aim is not None:
        _readout(batch, lines.aim, options, x, yy)
    yy += 22 * s
    _tremor_meter(batch, frame, options, x, yy, 140 * s, s)
    yy += 62 * s
    if v is not None:
        depth = depth_words(v.depth_mm) if v.inserted else "above the skin"
        batch.text(depth, x, yy, 14, MUTED)
    yy += 20 * s
    for line in lines.progress[:2]:
        _readout(batch, line, options, x, yy)
        yy += 20 * s


def _readout(batch: Batch2D, line: Readout, options: DrawOptions, x: float, y: float) -> None:
    """A procedure's line in its judgement's colour (white in exam mode, which judges
    nothing; muted lines stay muted)."""
    judged = options.exam and line.judged is not Judged.MUTED
    batch.text(line.text, x, y, 14, WHITE if judged else JUDGED[line.judged])


def _tremor_meter(
    batch: Batch2D, frame: Frame, options: DrawOptions, x: float, y: float, w: float, s: float
) -> None:
    fb = frame.scenario.feedback
    v = frame.view
    by = y + 20 * s
    bh = 12 * s
    if not can_measure(HAND, frame.input_kind):
        who = INPUT_WORDS.get(frame.input_kind, frame.input_kind)
        batch.text("tremor: not measured", x, y, 14, MUTED)
        batch.text(batch.fit(f"with {who}", 14, w), x, by - 4 * s, 14, MUTED)
    elif v is not None and math.isnan(v.tremor_mm):
        # a tracker without a noise floor, or too few frames tracked for the band
        batch.text("tremor: not measured", x, y, 14, MUTED)
        why = f"({frame.tremor_why})" if frame.tremor_why else "(see the calibration)"
        batch.text(batch.fit(why, 14, w), x, by - 4 * s, 14, MUTED)
    else:
        tremor = v.tremor_mm if v is not None else 0.0
        full = max(fb.steady_tremor_mm * 2.0, 0.1)
        batch.text(f"tremor {format_value('tremor_rms_mm', tremor)}", x, y, 14, MUTED)
        batch.rect(x, by, w, bh, (0.25, 0.27, 0.3, 1.0))
        frac = min(tremor / full, 1.0)
        if options.exam:
            col = WHITE
        elif tremor <= fb.steady_release_mm:
            col = GOOD
        else:
            col = WARN if tremor <= fb.steady_tremor_mm else BAD
        batch.rect(x, by, w * frac, bh, col)
        if not options.exam:
            tx = x + w * fb.steady_tremor_mm / full
            batch.rect(tx - 1, by - 3 * s, 2 * s, bh + 6 * s, WHITE)
    speed = v.speed_mm_s if v is not None else 0.0
    batch.text(f"speed {speed:.0f} mm/s", x, by + 18 * s, 14, MUTED)


# --- side view --------------------------------------------------------------------------
def _clip_segment(
    p0: tuple[float, float], p1: tuple[float, float], box: tuple[float, float, float, float]
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Liang-Barsky clipping of a segment to (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, p0[0] - x0), (dx, x1 - p0[0]), (-dy, p0[1] - y0), (dy, y1 - p0[1])):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return (p0[0] + t0 * dx, p0[1] + t0 * dy), (p0[0] + t1 * dx, p0[1] + t1 * dy)


def draw_side_view(
    batch: Batch2D, frame: Frame, size: tuple[int, int], plugin: ScenePlugin[Any] | None = None
) -> None:
    """The live cross-section through the skin at the instrument (bottom right), as the
    procedure's scene plug-in (default: the scenario's) cuts it."""
    x, y, w, h = side_view_rect(size)
    s = size[1] / 720.0
    sec = (plugin or scene_of(frame.scenario)).section(frame)
    if sec is None:
        batch.rect(x - 6 * s, y - 30 * s, w + 12 * s, h + 36 * s, PANEL)
        batch.text("side view", x, y - 26 * s, 14, MUTED)
        return
    # the panel only round the drawing area, which is painted opaque: on a software
    # renderer every pixel painted twice costs frame time
    batch.rect(x - 6 * s, y - 30 * s, w + 12 * s, 30 * s, PANEL)
    batch.rect(x - 6 * s, y, 6 * s, h, PANEL)
    batch.rect(x + w, y, 6 * s, h, PANEL)
    batch.rect(x - 6 * s, y + h, w + 12 * s, 6 * s, PANEL)
    # the number the dial and the cues judge (to the skin, in 3-D); the drawing shows the
    # needle as this plane cuts it, which differs by a degree or so when it points sideways
    judged = frame.view.angle_deg if frame.view is not None else sec.angle_deg
    angle = format_value("insertion_angle_deg", judged)
    title = f"side view  angle {angle}  {depth_words(sec.depth_mm)}"
    batch.text(title, x, y - 26 * s, 14, WHITE)
    _draw_section(batch, sec, (x, y, w, h))


def section_mapping(
    sec: SideSection, rect: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """(scale px/mm, centre x px, centre y px, ...) mapping section mm to panel pixels.

    Returns ``(k, ox, oy, 0)``: pixel = ``(ox + (u - cu) * k, oy - (v - cv) * k)`` with
    ``(cu, cv) = sec.centre``. Equal scale on both axes, so angles are true.
    """
    x, y, w, h = rect
    k = w / (2 * sec.half_width_mm)
    return k, x + w / 2, y + h / 2, 0.0


def _draw_section(
    batch: Batch2D, sec: SideSection, rect: tuple[float, float, float, float]
) -> None:
    x, y, w, h = rect
    k, ox, oy, _ = section_mapping(sec, rect)
    cu, cv = sec.centre

    def px(u: float, v: float) -> tuple[float, float]:
        return (ox + (u - cu) * k, oy - (v - cv) * k)

    u_lo, u_hi = cu - sec.half_width_mm, cu + sec.half_width_mm
    skin = sec.skin
    us = np.linspace(u_lo, u_hi, 41)
    vs = np.interp(us, skin[:, 0], skin[:, 1])
    xs = ox + (us - cu) * k
    top_y = oy - (vs - cv) * k
    top = np.stack([xs, np.clip(top_y, y, y + h)], axis=1)
    dermis = np.stack([xs, np.clip(top_y + 1.6 * k, y, y + h)], axis=1)
    bottom_y = np.full_like(xs, min(max(oy - (sec.tissue_bottom_v - cv) * k, y), y + h))
    bottom = np.stack([xs, bottom_y], axis=1)
    if not sec.over_tissue:
        batch.rect(x, y, w, h, AIR)
    else:  # air above the skin and below the tissue, the layers between (no overdraw)
        batch.polygon_strip(np.stack([xs, np.full_like(xs, y)], axis=1), top, AIR)
        batch.polygon_strip(bottom, np.stack([xs, np.full_like(xs, y + h)], axis=1), AIR)
        batch.polygon_strip(dermis, bottom, (0.93, 0.76, 0.62, 1.0))  # subcutaneous tissue
        batch.polygon_strip(top, dermis, (0.80, 0.55, 0.45, 1.0))  # skin
    for shape in sec.shapes:
        if isinstance(shape, SideBand):
            keep = (shape.u >= u_lo) & (shape.u <= u_hi)
            if np.count_nonzero(keep) >= 2:
                bx = ox + (shape.u[keep] - cu) * k
                bt = np.stack([bx, np.clip(oy - (shape.v_high[keep] - cv) * k, y, y + h)], axis=1)
                bb = np.stack([bx, np.clip(oy - (shape.v_low[keep] - cv) * k, y, y + h)], axis=1)
                batch.polygon_strip(bt, bb, shape.rgba)
        elif isinstance(shape, SidePolygon):
            corners = [px(float(u), float(v)) for u, v in shape.points]
            for b, c in zip(corners[1:-1], corners[2:], strict=True):
                batch.tri((corners[0], b, c), shape.rgba)
        elif isinstance(shape, SideMark):
            mx, my = px(shape.u, shape.v)
            batch.rect(
                mx - shape.width_px / 2,
                my - shape.height_px,
                shape.width_px,
                shape.height_px,
                shape.rgba,
            )
    if sec.note is not None:
        batch.text(sec.note[0], x + 8, y + h - 24, 14, sec.note[1])
    box = (x, y, x + w, y + h)
    for part in sec.instrument:
        pts = [px(float(u), float(v)) for u, v in part.points]
        width = max(part.min_width_px, part.width_mm * k)
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            seg = _clip_segment(a, b, box)
            if seg is not None:
                batch.line(seg[0][0], seg[0][1], seg[1][0], seg[1][1], width, part.rgba)
    tx, ty = px(*sec.tip)
    if x <= tx <= x + w and y <= ty <= y + h:
        batch.rect(tx - 3, ty - 3, 6, 6, (1.0, 1.0, 1.0, 1.0))
    batch.frame(x, y, w, h, 1.5, (0.0, 0.0, 0.0, 0.6))
    # scale bar: 5 mm
    batch.rect(x + w - 8 - 5 * k, y + 8, 5 * k, 3, DARK)
    batch.text("5 mm", x + w - 8, y + 14, 14, DARK, anchor="right")


def help_layout(
    batch: Batch2D, lines: tuple[tuple[str, str], ...], size: tuple[int, int]
) -> tuple[tuple[float, float, float, float], float, list[tuple[str, list[str]]]]:
    """Where the controls overlay goes: its box ``(x, y, w, h)``, the x of the description
    column, and each line's keys with its description wrapped to the box.

    The keys column is as wide as its longest keys; the box widens (up to the window less a
    margin) for the longest description, and a description still too long wraps.
    """
    w, h = size
    s = h / 720.0
    pad, gap = 24 * s, 30 * s
    keys_w = max((batch.text_width(k, 17) for k, _ in lines), default=0.0)
    what_w = max((batch.text_width(d, 17) for _, d in lines), default=0.0)
    pw = min(w - 40 * s, max(860 * s, pad + keys_w + gap + what_w + pad))
    what_x = pad + keys_w + gap
    wrapped = [(k, batch.wrap(d, 17, pw - what_x - pad) or [""]) for k, d in lines]
    ph = (90 + 28 * sum(len(ws) for _, ws in wrapped)) * s
    px, py = (w - pw) / 2, max(0.0, (h - ph) / 2)
    return (px, py, pw, ph), px + what_x, wrapped


def draw_help(batch: Batch2D, lines: tuple[tuple[str, str], ...], size: tuple[int, int]) -> None:
    """The controls overlay (F1 / H): every line inside the box (:func:`help_layout`)."""
    s = size[1] / 720.0
    (px, py, pw, ph), what_x, wrapped = help_layout(batch, lines, size)
    batch.rect(px, py, pw, ph, (0.04, 0.05, 0.07, 0.92))
    batch.frame(px, py, pw, ph, 2, (0.5, 0.7, 1.0, 1.0))
    batch.text("Controls", px + pw / 2, py + 16 * s, 22, WHITE, anchor="centre")
    yy = py + 60 * s
    for keys, whats in wrapped:
        batch.text(keys, px + 24 * s, yy, 17, (0.6, 0.85, 1.0, 1.0))
        for what in whats:
            batch.text(what, what_x, yy, 17, WHITE)
            yy += 28 * s
    batch.text("F1 / H to close", px + pw / 2, py + ph - 28 * s, 14, MUTED, anchor="centre")
