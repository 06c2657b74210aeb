"""The start screen: pick the scenario, input and dominant hand, type a trainee id, exam
mode."""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any

import pygame

from sim.app.inputs import HANDS, input_kinds
from sim.app.settings import Settings
from sim.app.widgets import ACCENT, Clickable
from sim.cli import practised
from sim.core.scenario import Scenario, ScenarioError
from sim.render.hud import MUTED, PANEL, WHITE
from sim.scenarios import load_scenario, scenario_paths

if TYPE_CHECKING:
    from sim.app.app import App


class StartScreen:
    """Choose a scenario (Up/Down or click), an input (Left/Right), type a trainee id,
    toggle exam mode (F2) and the dominant hand (F3), Enter to start, Esc to quit."""

    def __init__(self, app: App, defaults: Settings) -> None:
        self.app = app
        self.scenarios: list[Scenario] = []
        for p in scenario_paths():
            try:
                self.scenarios.append(load_scenario(p))
            except ScenarioError:
                continue
        ids = [s.id for s in self.scenarios]
        self.index = ids.index(defaults.scenario.id) if defaults.scenario.id in ids else 0
        self.inputs = input_kinds()
        kind = defaults.input_spec.split(":", 1)[0]
        self.input_index = self.inputs.index(kind) if kind in self.inputs else 0
        self.input_spec = defaults.input_spec
        self.trainee = defaults.trainee if defaults.trainee != "anonymous" else ""
        self.exam = defaults.exam
        self.hand = defaults.hand if defaults.hand in HANDS else "right"
        self.clicks = Clickable()
        pygame.key.start_text_input()

    def settings(self) -> Settings:
        kind = self.inputs[self.input_index]
        spec = self.input_spec if self.input_spec.split(":", 1)[0] == kind else kind
        return Settings(
            self.scenarios[self.index],
            spec,
            self.trainee.strip() or "anonymous",
            self.exam,
            self.hand,
        )

    def toggle_hand(self) -> None:
        self.hand = "left" if self.hand == "right" else "right"

    def start(self) -> None:
        if self.scenarios:
            self.app.start_practice(self.settings())

    def handle(self, event: Any) -> None:
        if event.type == pygame.KEYDOWN:
            k = event.key
            if k == pygame.K_ESCAPE:
                self.app.quit()
            elif k in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.start()
            elif k == pygame.K_UP:
                self.index = (self.index - 1) % max(len(self.scenarios), 1)
            elif k == pygame.K_DOWN:
                self.index = (self.index + 1) % max(len(self.scenarios), 1)
            elif k == pygame.K_LEFT:
                self.input_index = (self.input_index - 1) % len(self.inputs)
            elif k == pygame.K_RIGHT:
                self.input_index = (self.input_index + 1) % len(self.inputs)
            elif k == pygame.K_F2:
                self.exam = not self.exam
            elif k == pygame.K_F3:
                self.toggle_hand()
            elif k == pygame.K_BACKSPACE:
                self.trainee = self.trainee[:-1]
        elif event.type == pygame.TEXTINPUT:
            if len(self.trainee) < 32 and event.text.isprintable():
                self.trainee += event.text
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
        w, h = r.size
        s = h / 720.0
        self.clicks = Clickable()
        b.text("procsim", w / 2, 40 * s, 56, WHITE, anchor="centre")
        b.text(
            f"practise {practised()} with live coaching",
            w / 2,
            110 * s,
            17,
            MUTED,
            anchor="centre",
        )
        x0, y = w / 2 - 380 * s, 170 * s
        b.text("Scenario  (Up / Down)", x0, y, 17, ACCENT)
        y += 32 * s
        for i, sc in enumerate(self.scenarios):
            rect = (x0, y, 760 * s, 72 * s)
            sel = i == self.index
            b.rect(*rect, (0.20, 0.30, 0.45, 1.0) if sel else PANEL)
            b.text(sc.title, x0 + 14 * s, y + 6 * s, 22, WHITE)
            lines = b.wrap(sc.description, 14, 730 * s)
            if len(lines) > 2:
                lines = [lines[0], b.fit(" ".join(lines[1:]), 14, 730 * s)]
            for k, line in enumerate(lines):
                b.text(line, x0 + 14 * s, y + (32 + 18 * k) * s, 14, MUTED)
            self.clicks.add(rect, functools.partial(setattr, self, "index", i))
            y += 80 * s
        y += 14 * s
        b.text("Input  (Left / Right)", x0, y, 17, ACCENT)
        xx = x0 + 220 * s
        for i, kind in enumerate(self.inputs):
            tw = b.text_width(kind, 17) + 28 * s
            rect = (xx, y - 4 * s, tw, 30 * s)
            b.rect(*rect, (0.20, 0.30, 0.45, 1.0) if i == self.input_index else PANEL)
            b.text(kind, xx + 14 * s, y, 17, WHITE)
            self.clicks.add(rect, functools.partial(setattr, self, "input_index", i))
            xx += tw + 10 * s
        y += 50 * s
        b.text("Trainee id  (type)", x0, y, 17, ACCENT)
        field = (x0 + 220 * s, y - 4 * s, 320 * s, 30 * s)
        b.rect(*field, (0.05, 0.06, 0.08, 1.0))
        b.frame(*field, 1.5, ACCENT)
        cursor = "_" if int(time.monotonic() * 2) % 2 == 0 else " "
        b.text((self.trainee or "") + cursor, field[0] + 10 * s, y, 17, WHITE)
        y += 50 * s
        box = (x0, y - 2 * s, 22 * s, 22 * s)
        b.frame(*box, 2, ACCENT)
        if self.exam:
            b.rect(box[0] + 5 * s, box[1] + 5 * s, 12 * s, 12 * s, ACCENT)
        b.text("Exam mode (F2): no cues or guides, only the result", x0 + 34 * s, y, 17, WHITE)
        self.clicks.add(
            (x0, y - 4 * s, 600 * s, 28 * s), lambda: setattr(self, "exam", not self.exam)
        )
        y += 40 * s
        b.text("Dominant hand  (F3)", x0, y, 17, ACCENT)
        xx = x0 + 220 * s
        for hand in HANDS:
            tw = b.text_width(hand, 17) + 28 * s
            rect = (xx, y - 4 * s, tw, 30 * s)
            b.rect(*rect, (0.20, 0.30, 0.45, 1.0) if hand == self.hand else PANEL)
            b.text(hand, xx + 14 * s, y, 17, WHITE)
            self.clicks.add(rect, functools.partial(setattr, self, "hand", hand))
            xx += tw + 10 * s
        b.text("(the hand a webcam follows)", xx + 6 * s, y + 2 * s, 14, MUTED)
        y += 50 * s
        start = (w / 2 - 120 * s, y, 240 * s, 50 * s)
        b.rect(*start, (0.16, 0.55, 0.30, 1.0))
        b.text("Start  (Enter)", w / 2, y + 12 * s, 22, WHITE, anchor="centre")
        self.clicks.add(start, self.start)
        b.text(
            "In the practice window F1 or H shows the controls  ·  Esc: quit",
            w / 2,
            h - 34 * s,
            14,
            MUTED,
            anchor="centre",
        )
        r.draw_batch(b)
