"""The results screen: score, pass/fail, critical errors, every metric, what to work on,
the procedure's checklist, and where the recording is (:func:`draw_results` draws the page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygame

from sim.app.widgets import ACCENT, Clickable
from sim.core.records import Event
from sim.metrics.scoring import VERDICT_LINES, ScoreResult, measurement_notes
from sim.render.hud import BAD, GOOD, MUTED, PANEL, WARN, WHITE
from sim.render.overlay import Batch2D
from sim.tracking.quality import poor_words
from sim.words import plural

if TYPE_CHECKING:
    from sim.app.app import App
    from sim.app.settings import Settings


class ResultsScreen:
    """Score, pass/fail, critical errors, every metric, advice; R retry, Enter start screen."""

    def __init__(
        self,
        app: App,
        settings: Settings,
        result: ScoreResult,
        path: Path,
        poor: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.settings = settings
        self.result = result
        self.path = path
        self.poor = tuple(poor)
        self.clicks = Clickable()

    def retry(self) -> None:
        self.app.start_practice(self.settings)

    def back(self) -> None:
        self.app.show_start(replace(self.settings))

    def handle(self, event: Any) -> None:
        if event.type == pygame.KEYDOWN:
            if event.key == pygame.K_r:
                self.retry()
            elif event.key in (
                pygame.K_RETURN,
                pygame.K_KP_ENTER,
                pygame.K_ESCAPE,
                pygame.K_BACKSPACE,
            ):
                self.back()
            elif event.key == pygame.K_q:
                self.app.quit()
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self.clicks.click(event.pos)

    def update(self) -> None:
        pass

    def close(self) -> None:
        pass

    def draw(self) -> None:
        r = self.app.renderer
        r.clear((0.10, 0.12, 0.16))
        b = r.new_batch()
        draw_results(b, self.result, self.path, r.size, self.settings.exam, self.poor)
        w, h = r.size
        s = h / 720.0
        self.clicks = Clickable()
        for i, (label, act) in enumerate(
            (("Retry (R)", self.retry), ("Start screen (Enter)", self.back))
        ):
            rect = (w - 560 * s + i * 270 * s, h - 66 * s, 250 * s, 44 * s)
            b.rect(*rect, (0.16, 0.45, 0.70, 1.0) if i == 0 else (0.25, 0.28, 0.34, 1.0))
            b.text(label, rect[0] + rect[2] / 2, rect[1] + 11 * s, 17, WHITE, anchor="centre")
            self.clicks.add(rect, act)
        r.draw_batch(b)


def draw_results(
    b: Batch2D,
    result: ScoreResult,
    path: Path | str,
    size: tuple[int, int],
    exam: bool = False,
    poor: Sequence[str] = (),
) -> None:
    """The results page: score and verdict, why (critical errors, errors, advice), every
    metric with its label, value, points and weight, and where the recording went.

    An incomplete or empty session says so plainly instead of a verdict; in exam mode the
    metric table carries no judgement colours. ``poor`` (the calibration's poor tracking
    conditions) adds "Tracked in poor conditions: ..." under the verdict.
    """
    w, h = size
    s = h / 720.0
    x0 = 40 * s
    verdict = result.verdict
    col = {"PASS": GOOD, "FAIL": BAD}.get(verdict, WARN)
    score = f"{result.score:.1f}"  # as the command line, the store and the reports say it
    b.text(score, x0, 24 * s, 56, WHITE)
    b.text("/ 100", x0 + b.text_width(score, 56) + 10 * s, 50 * s, 22, MUTED)
    b.rect(x0 + 200 * s, 30 * s, 170 * s, 50 * s, col)
    b.text(verdict, x0 + 285 * s, 42 * s, 26 if len(verdict) > 4 else 30, WHITE, anchor="centre")
    b.text(
        f"pass at {result.pass_score:g}" + ("  ·  exam" if exam else ""),
        x0 + 390 * s,
        40 * s,
        17,
        MUTED,
    )
    note = VERDICT_LINES.get(verdict, "")
    if note:
        b.text(note, x0 + 390 * s, 64 * s, 17, WARN)
    tx = w - 650 * s  # metric table on the right
    col_w = tx - x0 - 30 * s
    y = 100 * s
    if result.drill:  # a drill: what it trains, and that nothing else was scored
        for line in b.wrap(result.drill_line, 17, col_w):
            b.text(line, x0, y, 17, ACCENT)
            y += 24 * s
        y += 6 * s
    if poor:
        for line in b.wrap(poor_words(poor), 17, col_w):
            b.text(line, x0, y, 17, WARN)
            y += 24 * s
        y += 6 * s
    # each kind of mistake once, with how often it happened (one per attempt, say)
    for message, n in _grouped(result.critical_errors)[:4]:
        times = f"  ({n} times)" if n > 1 else ""
        for line in b.wrap(f"CRITICAL: {message}{times}", 17, col_w):
            b.text(line, x0, y, 17, BAD)
            y += 24 * s
    errors = _grouped(result.errors)
    for message, n in errors[:4]:
        times = f"  ({n} times)" if n > 1 else ""
        for line in b.wrap(f"error: {message}{times}", 14, col_w)[:2]:
            b.text(line, x0, y, 14, WARN)
            y += 20 * s
    if len(errors) > 4:
        more = sum(n for _, n in errors[4:])
        b.text(f"and {plural(more, 'more error')} (see the report)", x0, y, 14, MUTED)
        y += 20 * s
    y += 10 * s
    b.text("Work on first", x0, y, 22, ACCENT)
    y += 32 * s
    for a in result.advice:
        for i, line in enumerate(b.wrap(a, 17, col_w - 20 * s)):
            b.text(("·  " if i == 0 else "   ") + line, x0, y, 17, WHITE)
            y += 24 * s
        y += 6 * s
    if result.checklist:
        y = _draw_checklist(b, result, x0, y + 4 * s, col_w, s, exam)
    if result.phases_s:
        y += 6 * s
        phases = "  ·  ".join(f"{name} {sec:.0f} s" for name, sec in result.phases_s)
        for line in b.wrap("Phases: " + phases, 14, col_w):
            b.text(line, x0, y, 14, MUTED)
            y += 20 * s
    _draw_metric_table(b, result, tx, 100 * s, w - tx - 20 * s, s, exam)
    b.text("Recording saved to:", x0, h - 100 * s, 14, MUTED)
    b.text(b.fit(str(path), 14, w - 620 * s), x0, h - 80 * s, 14, WHITE)


def _draw_checklist(
    b: Batch2D, result: ScoreResult, x0: float, y: float, width: float, s: float, exam: bool
) -> float:
    """The checklist in two columns: a box per step (green: done; amber: out of order or
    the puncture outside the cleaned area; red: not done; plain in exam mode), its words, a
    star for a critical one, and what went wrong. Returns the y below it.

    Each column is laid out by the widths of its own words: the status starts after the
    column's longest step name when both fit side by side; otherwise the names wrap and each
    status goes on the line under its step, so name, star and status never overlap.
    """
    b.text("Checklist", x0, y, 22, ACCENT)
    b.text("* critical", x0 + b.text_width("Checklist", 22) + 14 * s, y + 6 * s, 14, MUTED)
    y += 30 * s
    steps = result.checklist
    half = (len(steps) + 1) // 2
    cw = width / 2
    box_w, gap, row = 20 * s, 12 * s, 21 * s
    bottom = y
    for c, column in enumerate((steps[:half], steps[half:])):
        cx = x0 + c * cw
        room = cw - box_w - gap  # the name and status; a gap before the next column
        labels = [st.label + (" *" if st.critical else "") for st in column]
        label_w = max((b.text_width(lab, 14) for lab in labels), default=0.0)
        status_w = max((b.text_width(st.status, 14) for st in column if not st.ok), default=0.0)
        side_by_side = label_w + gap + status_w <= room
        cy = y
        for st, label in zip(column, labels, strict=True):
            if exam:
                box = WHITE if st.ok else MUTED
            else:
                box = GOOD if st.ok else (BAD if not st.done else WARN)
            b.rect(cx, cy + 2 * s, 12 * s, 12 * s, box)
            lines = [label] if side_by_side else b.wrap(label, 14, room)
            for line in lines:
                b.text(b.fit(line, 14, room), cx + box_w, cy, 14, WHITE)
                cy += row
            if not st.ok:
                if side_by_side:
                    b.text(st.status, cx + box_w + label_w + gap, cy - row, 14, box)
                else:
                    b.text(b.fit(st.status, 14, room), cx + box_w, cy, 14, box)
                    cy += row
        bottom = max(bottom, cy)
    return bottom + 6 * s


def _grouped(events: Sequence[Event]) -> list[tuple[str, int]]:
    """Each distinct message of ``events`` in order of first appearance, with its count."""
    counts: dict[str, int] = {}
    for e in events:
        counts[e.message] = counts.get(e.message, 0) + 1
    return list(counts.items())


def _draw_metric_table(
    b: Batch2D, result: ScoreResult, tx: float, ty: float, width: float, s: float, exam: bool
) -> None:
    """Label, value with unit, points and weight of every metric; a metric that earned
    nothing says why ("not done", "not measured with the mouse")."""
    rows = len(result.metrics) + 1
    b.rect(tx - 12 * s, ty - 10 * s, width, 22 * s * rows + 20 * s, PANEL)
    cols = (tx, tx + 350 * s, tx + 470 * s, tx + 560 * s)
    for text, cx, anchor in (
        ("metric", cols[0], "left"),
        ("value", cols[1], "right"),
        ("points", cols[2], "right"),
        ("weight", cols[3], "right"),
    ):
        b.text(text, cx, ty, 14, MUTED, anchor=anchor)
    ty += 22 * s
    for m in result.metrics:
        weighted = m.points is not None
        fg = WHITE if weighted else MUTED
        b.text(b.fit(m.label, 14, 220 * s), cols[0], ty, 14, fg)
        if m.status in ("not done", "not measured"):
            b.text(m.note, cols[1], ty, 14, MUTED, anchor="right")
        else:
            b.text(m.shown, cols[1], ty, 14, fg, anchor="right")
        if m.status == "uncertain":
            b.text("too noisy", cols[2], ty, 14, MUTED, anchor="right")
        if weighted:
            p = m.points or 0.0
            pc = WHITE if exam else (GOOD if p >= 70 else (WARN if p >= 40 else BAD))
            star = "*" if m.status == "incomplete" else ""
            b.text(f"{p:.0f}{star}", cols[2], ty, 14, pc, anchor="right")
            b.text(f"{m.weight:g}", cols[3], ty, 14, fg, anchor="right")
        ty += 22 * s
    if any(m.status == "incomplete" for m in result.metrics):
        ty += 14 * s
        b.text("* no points: the procedure was not completed", tx, ty, 14, MUTED)
        ty += 8 * s
    notes = measurement_notes((m.label, m.status, m.note, m.words) for m in result.metrics)
    for note in notes:
        ty += 14 * s
        for line in b.wrap(note, 14, width - 24 * s):
            b.text(line, tx, ty, 14, MUTED)
            ty += 18 * s
