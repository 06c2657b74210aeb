"""The start screen: pick the scenario, input (and a video file's path) and dominant hand,
type a trainee id, exam mode.

What the trainee typed is checked here, before anything starts: a trainee id against
:func:`~sim.app.settings.trainee_id_problem` (a refused character is not typed and the
screen says why), a video input needs a path. An input that then cannot be opened brings
the app back here with the reason in :attr:`StartScreen.message` (see
:meth:`sim.app.app.App.start_practice`).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygame

from sim.app.inputs import HANDS, input_kinds
from sim.app.settings import (
    ANONYMOUS,
    TRAINEE_ID_MAX,
    Settings,
    trainee_id_char_problem,
    trainee_id_problem,
)
from sim.app.widgets import ACCENT, Clickable, text_field
from sim.cli import practised
from sim.core.scenario import Scenario, ScenarioError
from sim.render.hud import MUTED, PANEL, WARN, WHITE
from sim.scenarios import load_scenario, scenario_paths

if TYPE_CHECKING:
    from sim.app.app import App
    from sim.core.curriculum import Recommendation

SELECTED = (0.20, 0.30, 0.45, 1.0)
DIM = (0.42, 0.45, 0.50, 1.0)
PATH_MAX = 1024
"""Longest video path the field takes, characters."""
REFUSAL_S = 4.0
"""How long the reason for a refused character stays while typing goes on, s (our choice:
long enough to read the line twice)."""
NEXT_DELAY_S = 0.4
"""How long the typed trainee id stays unchanged before the curriculum's suggestion is looked
up, s (our choice: not a store query per keystroke, and no wait a trainee notices)."""
NEXT_COLOUR = (0.45, 0.85, 0.55, 1.0)


class StartScreen:
    """Choose a scenario (Up/Down or click), an input (Left/Right) and, for a video, its
    file (type it, Tab or click to move between the fields), type a trainee id, toggle exam
    mode (F2) and the dominant hand (F3), Enter to start, Esc to quit. With a trainee id
    typed, the curriculum's suggestion (``docs/curriculum.md``) shows under it: "Next:
    <title> — <reason>", and F4 (or its button) selects that scenario.

    Parameters
    ----------
    app : App
        The app (its ``start_practice`` and ``quit``).
    defaults : Settings
        What is chosen when the screen opens (the last session's, or the command line's).
    message : str
        A line to show at once (why the last start failed).
    scenario_ids : sequence of str
        Offer only these scenarios (station mode); empty offers every valid one.
    inputs : sequence of str, optional
        Offer only these input kinds (station mode); default every kind.
    station : str
        The station's name, shown at the top ("" outside station mode).
    exam_locked : bool
        Exam mode is not the trainee's choice (station mode): F2 and the box do nothing,
        and the box is shown only when exam mode is on.
    require_id : bool
        A session needs a trainee id (station mode); otherwise an empty id is "anonymous".
    recommend : callable, optional
        The curriculum's suggestion for a trainee id (:meth:`sim.app.app.App.recommend`),
        None when there is none; without it the screen suggests nothing.
    follow : bool
        Select the suggestion by itself once it comes (a station's ``follow_curriculum``).
    """

    def __init__(
        self,
        app: App,
        defaults: Settings,
        *,
        message: str = "",
        scenario_ids: Sequence[str] = (),
        inputs: Sequence[str] | None = None,
        station: str = "",
        exam_locked: bool = False,
        require_id: bool = False,
        recommend: Callable[[str], Recommendation | None] | None = None,
        follow: bool = False,
    ) -> None:
        self.app = app
        self.recommend = recommend
        self.follow = follow
        self.next: Recommendation | None = None
        """The curriculum's suggestion for the typed trainee id (None: none yet)."""
        self._next_for: str | None = None  # the trainee id it was looked up for
        self._typed_at = app.clock()
        self.scenarios: list[Scenario] = []
        for p in scenario_paths():
            try:
                sc = load_scenario(p)
            except ScenarioError:
                continue
            if not scenario_ids or sc.id in scenario_ids:
                self.scenarios.append(sc)
        # each procedure's own scenario first, then its patient cases from the easiest, then
        # its drills
        self.scenarios.sort(
            key=lambda sc: (
                sc.task,
                sc.drill is not None,
                sc.patient.difficulty if sc.patient else 0,
                sc.id,
            )
        )
        # the scenario given (e.g. a .toml path on the command line) as it was given
        chosen = defaults.scenario
        same = [i for i, sc in enumerate(self.scenarios) if sc.id == chosen.id]
        if same:
            self.scenarios[same[0]] = chosen
        elif not scenario_ids:
            self.scenarios.insert(0, chosen)
        ids = [s.id for s in self.scenarios]
        self.index = ids.index(defaults.scenario.id) if defaults.scenario.id in ids else 0
        self._default_index = self.index  # a followed suggestion that cannot be: back to it
        self.inputs = [k for k in input_kinds() if inputs is None or k in inputs] or ["mouse"]
        kind, _, rest = defaults.input_spec.partition(":")
        self.input_index = self.inputs.index(kind) if kind in self.inputs else 0
        self.input_spec = defaults.input_spec
        self.video_path = rest if kind == "video" else ""
        self.trainee = defaults.trainee if defaults.trainee != ANONYMOUS else ""
        self.exam = defaults.exam
        self.voice = defaults.voice
        self.exam_locked = exam_locked
        self.hand = defaults.hand if defaults.hand in HANDS else "right"
        self.station = station
        self.require_id = require_id
        self.message = message
        """The line shown above the Start button (amber): why the screen did not start, or
        why a typed character was refused."""
        self._refused_at: float | None = None  # app clock when a character was refused
        self.footer = "In the practice window F1 or H shows the controls" + (
            "" if station else "  ·  Esc: quit"
        )
        self.staff_note = ""
        """A discreet line at the bottom right (station mode: how staff close it)."""
        self.focus = "video" if self.kind == "video" and not self.video_path else "trainee"
        self._first = 0  # the first scenario card shown (the list scrolls if it must)
        self.clicks = Clickable()
        pygame.key.start_text_input()

    # --- state ----------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """The chosen input kind."""
        return self.inputs[self.input_index]

    def settings(self) -> Settings:
        """What Start would start with."""
        kind = self.kind
        if kind == "video":
            spec = f"video:{Path(self.video_path.strip()).expanduser()}"
        else:
            spec = self.input_spec if self.input_spec.split(":", 1)[0] == kind else kind
        return Settings(
            self.scenarios[self.index],
            spec,
            self.trainee.strip() or ANONYMOUS,
            self.exam,
            self.hand,
            self.voice,
        )

    def problem(self) -> str | None:
        """Why Start would not start (one line), or None."""
        if not self.scenarios:
            return "no scenario to choose: see `procsim scenarios`"
        if self.trainee or self.require_id:
            p = trainee_id_problem(self.trainee)
            if p is not None:
                return p
        if self.kind == "video" and not self.video_path.strip():
            return "enter the path of a video file (or choose another input)"
        return None

    def toggle_hand(self) -> None:
        self.hand = "left" if self.hand == "right" else "right"

    def toggle_exam(self) -> None:
        if not self.exam_locked:
            self.exam = not self.exam

    def choose_input(self, i: int) -> None:
        self.input_index = i % len(self.inputs)
        self.focus = "video" if self.kind == "video" else "trainee"

    def start(self) -> None:
        """Start a session, or say on the screen why not."""
        problem = self.problem()
        if problem is not None:
            self.message = problem
            self._refused_at = None
            if self.kind == "video" and not self.video_path.strip():
                self.focus = "video"
            elif self.scenarios:
                self.focus = "trainee"
            return
        self.message = ""
        self._refused_at = None
        self.app.start_practice(self.settings())

    # --- typing ---------------------------------------------------------------------------
    def type_text(self, text: str) -> None:
        """Typed (or pasted) ``text`` into the focused field; a character a trainee id
        cannot hold is refused and the screen says why."""
        if self.focus == "video":
            clean = "".join(ch for ch in text if ch.isprintable())
            self.video_path = (self.video_path + clean)[:PATH_MAX]
            self.message = ""
            return
        for ch in text:
            problem = trainee_id_char_problem(ch)
            if problem is None and len(self.trainee) >= TRAINEE_ID_MAX:
                problem = f"a trainee id has at most {TRAINEE_ID_MAX} characters"
            if problem is not None:
                self.message = problem  # stays a while as typing goes on (see update)
                self._refused_at = self.app.clock()
                return
            self.trainee += ch
            self._typed_at = self.app.clock()
            if self._refused_at is None:
                self.message = ""

    def backspace(self) -> None:
        if self.focus == "video":
            self.video_path = self.video_path[:-1]
        else:
            self.trainee = self.trainee[:-1]
            self._typed_at = self.app.clock()
        self.message = ""

    def paste(self) -> None:
        """Ctrl+V: the clipboard's text into the focused field (where the desktop has one)."""
        with contextlib.suppress(pygame.error, NotImplementedError):
            if not pygame.scrap.get_init():
                pygame.scrap.init()
            data = pygame.scrap.get("text/plain;charset=utf-8") or pygame.scrap.get(
                pygame.SCRAP_TEXT
            )
            if data:
                text = data.decode("utf-8", "replace").replace("\x00", "")
                self.type_text(text.strip())

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
                self.choose_input(self.input_index - 1)
            elif k == pygame.K_RIGHT:
                self.choose_input(self.input_index + 1)
            elif k == pygame.K_TAB and self.kind == "video":
                self.focus = "trainee" if self.focus == "video" else "video"
            elif k == pygame.K_F2:
                self.toggle_exam()
            elif k == pygame.K_F3:
                self.toggle_hand()
            elif k == pygame.K_F4:
                self.take_next()
            elif k == pygame.K_BACKSPACE:
                self.backspace()
            elif k == pygame.K_v and getattr(event, "mod", 0) & pygame.KMOD_CTRL:
                self.paste()
        elif event.type == pygame.TEXTINPUT:
            self.type_text(event.text)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self.clicks.click(event.pos)

    def update(self) -> None:
        if self._refused_at is not None and self.app.clock() - self._refused_at > REFUSAL_S:
            self.message = ""
            self._refused_at = None
        self._look_up_next()

    # --- the curriculum's suggestion ------------------------------------------------------
    def _look_up_next(self) -> None:
        """Ask for the suggestion once the typed id is valid and has stayed so a moment."""
        if self.recommend is None:
            return
        tid = self.trainee.strip()
        if trainee_id_problem(tid) is not None:
            self.next, self._next_for = None, None
            return
        if tid == self._next_for:
            return
        self.next = None  # another id: not the last one's suggestion
        if self.app.clock() - self._typed_at < NEXT_DELAY_S:
            return
        self._next_for = tid
        self.next = self.recommend(tid)
        if self.follow:
            self.take_next()

    def next_offered(self) -> int | None:
        """The index of the suggested scenario among those offered, or None."""
        if self.next is None:
            return None
        ids = [sc.id for sc in self.scenarios]
        return ids.index(self.next.scenario) if self.next.scenario in ids else None

    def take_next(self) -> None:
        """Select the suggested scenario (and exam mode for the ladder's exam, where exam mode
        is the trainee's choice); say so when it is not offered here."""
        if self.next is None:
            return
        i = self.next_offered()
        if i is None:
            self.message = f"'{self.next.title}' is not offered here"
            if self.follow:  # never the previous trainee's pick: the screen's default
                self.index = self._default_index
            return
        if self.message.endswith("is not offered here"):
            self.message = ""
        self.index = i
        if self.next.exam and not self.exam_locked:
            self.exam = True

    def close(self) -> None:
        pass

    # --- drawing --------------------------------------------------------------------------
    def draw(self) -> None:
        r = self.app.renderer
        r.clear((0.10, 0.12, 0.16))
        w, h = r.size
        t = _Type.for_height(h)
        lh = r.atlas.line_height
        margin = max(20.0, 0.05 * w)
        top = 14 * t.s + lh[56] + 2 * t.s + lh[t.small] + 22 * t.s
        footer_y = h - lh[t.small] - 12 * t.s
        gap = 0.04 * w
        left = (margin, w / 2 - margin - gap / 2)
        right = (w / 2 + gap / 2, w / 2 - margin - gap / 2)
        bottom = footer_y - 10 * t.s
        # lay the two columns out once to measure them, then draw them a third of the way
        # down the free height (not crammed under the title on a tall screen)
        probe = r.new_batch()
        used = max(
            self._draw_scenarios(probe, *left, top, bottom, t),
            self._draw_choices(probe, *right, top, bottom, t),
        )
        top += max(0.0, (bottom - used) / 3)
        b = r.new_batch()
        self.clicks = Clickable()
        if self.station:
            # a station left with the config's default id is just "Station", not "Station station"
            name = "Station" if self.station.lower() == "station" else f"Station {self.station}"
            label = b.fit(name, t.body, w / 2 - margin - 120 * t.s)
            b.text(label, margin, 18 * t.s, t.body, ACCENT)
        b.text("procsim", w / 2, 14 * t.s, 56, WHITE, anchor="centre")
        tagline = f"practise {practised()} with live coaching"
        b.text(tagline, w / 2, 16 * t.s + lh[56], t.small, MUTED, anchor="centre")
        self._draw_scenarios(b, *left, top, bottom, t)
        self._draw_choices(b, *right, top, bottom, t)
        b.text(self.footer, w / 2, footer_y, t.small, MUTED, anchor="centre")
        if self.staff_note:
            b.text(self.staff_note, w - 10, h - lh[14] - 4, 14, DIM, anchor="right")
        r.draw_batch(b)

    def _draw_scenarios(
        self, b: Any, x0: float, width: float, y: float, bottom: float, t: _Type
    ) -> float:
        """The scenario cards, each with its whole description, wrapped. When they do not
        all fit, only the chosen card has its description (the others their title, so that
        every scenario is in view); the list scrolls to keep the chosen one in view when even
        that does not fit. Returns the bottom."""
        lh = b.atlas.line_height
        b.text("Scenario  (Up / Down or click)", x0, y, t.body, ACCENT)
        y += lh[t.body] + 8
        pad = 10.0
        step = lh[t.desc] + 2  # a little leading between description lines
        room = bottom - y
        full = [b.wrap(sc.description, t.desc, width - 2 * pad) for sc in self.scenarios]

        def height(lines: list[str], title: int = t.head) -> float:
            # a title-only card: a thinner margin
            return 2 * pad + lh[title] + 4 + len(lines) * step if lines else 12 + lh[title]

        gap = 8.0
        whole = sum(height(lines) + gap for lines in full) <= room
        shown = [lines if whole or i == self.index else [] for i, lines in enumerate(full)]
        # when even the titles do not all fit (drills too), the cards not chosen get a
        # smaller title and a thinner margin, so that every scenario stays in view
        compact = sum(height(ls) + gap for ls in shown) > room - lh[t.small]
        if compact:
            gap = 4.0
        sizes = [t.body if compact and i != self.index else t.head for i in range(len(full))]
        cards = [
            (sc, ls, (height(ls, size) if not compact or ls else 6 + lh[size]), size)
            for sc, ls, size in zip(self.scenarios, shown, sizes, strict=True)
        ]
        self._first = min(self._first, self.index)
        while (
            self._first < self.index
            and sum(c[2] + gap for c in cards[self._first : self.index + 1]) > room - lh[t.small]
        ):
            self._first += 1
        if self._first > 0:
            b.text("more above (Up)", x0 + width, y - lh[t.body] - 8, t.small, MUTED, "right")
        for i in range(self._first, len(cards)):
            sc, lines, ch, size = cards[i]
            if y + ch > bottom and i > self.index:
                b.text(
                    "more below (Down)", x0 + width, bottom - lh[t.small], t.small, MUTED, "right"
                )
                break
            rect = (x0, y, width, ch)
            b.rect(*rect, SELECTED if i == self.index else PANEL)
            if i == self.index:
                b.frame(*rect, 2, ACCENT)
            ty = y + (pad if lines else (3 if compact else 6))
            tag = "DRILL" if sc.drill is not None else ""  # a part-task drill, marked
            room_w = width - 2 * pad - (b.text_width(tag, t.small) + 12 if tag else 0)
            b.text(b.fit(sc.title, size, room_w), x0 + pad, ty, size, WHITE)
            if tag:
                b.text(tag, x0 + width - pad, ty + 2, t.small, ACCENT, "right")
            for k, line in enumerate(lines):
                b.text(line, x0 + pad, y + pad + lh[size] + 4 + k * step, t.desc, MUTED)
            self.clicks.add(rect, functools.partial(setattr, self, "index", i))
            y += ch + gap
        return y

    def _draw_next(self, b: Any, x0: float, width: float, y: float, t: _Type) -> float:
        """The suggestion, "Next: <title> — <reason>" (at most three lines), and its button
        (F4), or "selected" when the chosen scenario is it. Returns the bottom."""
        rec = self.next
        if rec is None:
            return y
        lh = b.atlas.line_height
        body, small = t.body, t.small
        offered = self.next_offered()
        chosen = offered is not None and offered == self.index
        if offered is None:
            label = "not offered here"
        elif chosen:
            label = "selected"
        else:
            label = "Take it  (F4)"
        tw = b.text_width(label, body) + 28
        text_w = width - tw - 14
        words = f"Next: {rec.title} — {rec.reason}"
        lines = b.wrap(words, small, text_w)
        if len(lines) > 3:
            lines = [*lines[:2], b.fit(" ".join(lines[2:]), small, text_w)]
        for k, line in enumerate(lines):
            b.text(line, x0, y + k * (lh[small] + 2), small, NEXT_COLOUR)
        bh = lh[body] + 12
        rect = (x0 + width - tw, y - 4, tw, bh)
        if offered is not None and not chosen:
            b.rect(*rect, PANEL)
            b.frame(*rect, 1.5, NEXT_COLOUR)
            self.clicks.add(rect, self.take_next)
        b.text(label, rect[0] + 14, y, body, NEXT_COLOUR if offered is not None else DIM)
        return y + max(len(lines) * (lh[small] + 2), bh) + 14

    def _draw_choices(
        self, b: Any, x0: float, width: float, y: float, bottom: float, t: _Type
    ) -> float:
        """Input (and video file), trainee id, exam mode, hand, the message and Start.
        Returns the bottom."""
        lh = b.atlas.line_height
        body, small = t.body, t.small
        labels = ["Input  (Left / Right)", "Trainee id", "Dominant hand  (F3)"]
        if self.kind == "video":
            labels.append("Video file")
        xc = x0 + max(b.text_width(label, body) for label in labels) + 18
        bh = lh[body] + 12  # button and field height
        row = bh + 12
        cursor_on = int(time.monotonic() * 2) % 2 == 0

        def buttons(names: Sequence[str], chosen: str, action: Any) -> None:
            xx = xc
            for i, name in enumerate(names):
                tw = b.text_width(name, body) + 28
                rect = (xx, y - 6, tw, bh)
                b.rect(*rect, SELECTED if name == chosen else PANEL)
                if name == chosen:
                    b.frame(*rect, 1.5, ACCENT)
                b.text(name, xx + 14, y, body, WHITE)
                self.clicks.add(rect, functools.partial(action, i))
                xx += tw + 10

        b.text(labels[0], x0, y, body, ACCENT)
        buttons(self.inputs, self.kind, self.choose_input)
        y += row
        if self.kind == "video":
            b.text("Video file", x0, y, body, ACCENT)
            field = (xc, y - 6, x0 + width - xc, bh)
            text_field(b, field, self.video_path, body, self.focus == "video", cursor_on)
            self.clicks.add(field, functools.partial(setattr, self, "focus", "video"))
            y += bh
            hint = "type or paste (Ctrl+V) the path;  Tab: to the trainee id"
            b.text(b.fit(hint, small, x0 + width - xc), xc, y, small, MUTED)
            y += lh[small] + 14
        b.text("Trainee id", x0, y, body, ACCENT)
        field = (xc, y - 6, min(x0 + width - xc, 340 * t.s), bh)
        text_field(b, field, self.trainee, body, self.focus == "trainee", cursor_on)
        self.clicks.add(field, functools.partial(setattr, self, "focus", "trainee"))
        y += bh
        rule = 'letters A-Z, digits, "-", "_" and "."'
        b.text(rule + ("  (required)" if self.require_id else ""), xc, y, small, MUTED)
        y += lh[small] + 16
        y = self._draw_next(b, x0, width, y, t)
        if not self.exam_locked or self.exam:
            box = (x0, y - 2, lh[body], lh[body])
            b.frame(*box, 2, ACCENT)
            if self.exam:
                b.rect(box[0] + 5, box[1] + 5, box[2] - 10, box[3] - 10, ACCENT)
            what = (
                "Exam mode: no cues or guides, only the result (set by this station)"
                if self.exam_locked
                else "Exam mode (F2): no cues or guides, only the result"
            )
            lines = b.wrap(what, body, width - lh[body] - 12)
            for k, line in enumerate(lines):
                b.text(line, x0 + lh[body] + 12, y + k * lh[body], body, WHITE)
            self.clicks.add((x0, y - 4, width, lh[body] * len(lines) + 8), self.toggle_exam)
            y += lh[body] * len(lines) + 22
        b.text(labels[2], x0, y, body, ACCENT)
        buttons(HANDS, self.hand, lambda i: setattr(self, "hand", HANDS[i]))
        y += bh
        # what the setting does, and what it does not: the scene is not mirrored
        note = "the hand a webcam or video follows; the arm and vein stay as they are"
        note_lines = b.wrap(note, small, x0 + width - xc)
        for k, line in enumerate(note_lines):
            b.text(line, xc, y + k * lh[small], small, MUTED)
        y += lh[small] * len(note_lines) + 18
        # the message (amber) in room kept for two lines, so Start does not jump when a
        # message comes or goes
        lines = b.wrap(self.message, body, width)[:3] if self.message else []
        for k, line in enumerate(lines):
            b.text(line, x0, y + k * lh[body], body, WARN)
        y += max(2, len(lines)) * lh[body] + 12
        sh = lh[t.head] + 24
        start = (x0 + width / 2 - 130 * t.s, min(y, bottom - sh), 260 * t.s, sh)
        b.rect(*start, (0.16, 0.55, 0.30, 1.0))
        b.text("Start  (Enter)", start[0] + start[2] / 2, start[1] + 12, t.head, WHITE, "centre")
        self.clicks.add(start, self.start)
        return start[1] + start[3]


@dataclass(frozen=True)
class _Type:
    """Type sizes of the start screen, px (sizes of the glyph atlas), and the layout scale."""

    s: float
    small: int
    desc: int
    body: int
    head: int

    @classmethod
    def for_height(cls, h: int) -> _Type:
        """Larger type on a tall screen (1920x1080) than on a laptop's (1366x768)."""
        if h >= 900:
            return cls(h / 720.0, 17, 22, 22, 30)
        if h >= 700:
            return cls(h / 720.0, 14, 17, 17, 22)
        return cls(h / 720.0, 14, 14, 17, 22)
