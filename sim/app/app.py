"""The practice app: one pygame window (OpenGL 3.3) and its screens.

:class:`App` owns the window, the renderer and the current screen; :meth:`App.frame` runs one
iteration (events, update, draw, flip), so tests can drive the real app frame by frame with
injected pygame events and a stepped clock. Screens:

- :class:`StartScreen`: pick the scenario, input and dominant hand, type a trainee id,
  exam mode.
- :class:`CalibrationScreen`: for a tracked input (webcam, video), the guided still-hand
  hold before the session (tracker noise floor and workspace mapping); skippable.
- :class:`PracticeScreen`: the session: polls the live source, feeds a
  :class:`~sim.storage.session.SessionRecorder`, draws the scene and the coaching HUD.
- :class:`ResultsScreen`: score, pass/fail, critical errors, every metric, what to work on,
  and where the recording is.
"""

from __future__ import annotations

import functools
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pygame

from sim.app.inputs import HANDS, input_kinds, make_source
from sim.app.sound import Sounds
from sim.core.records import Action, ActionKind
from sim.core.scenario import Scenario, ScenarioError, load_scenario, scenario_paths
from sim.metrics.scoring import VERDICT_LINES, ScoreResult
from sim.paths import new_recording_path, recordings_of
from sim.pipeline import Pipeline
from sim.render import gl as glu
from sim.render.hud import BAD, GOOD, MUTED, PANEL, WARN, WHITE
from sim.render.overlay import RGBA, Batch2D
from sim.render.renderer import Renderer
from sim.render.scene import DrawOptions, default_camera, frame_from_pipeline
from sim.sources import LiveSource
from sim.storage.session import SessionRecorder

if TYPE_CHECKING:
    from sim.tracking.calibration import CalibrationResult, CalibrationSession

ACCENT: RGBA = (0.45, 0.72, 1.0, 1.0)

COMMON_HELP = (
    ("T", "tourniquet on / off"),
    ("Enter", "finish and see the score"),
    ("middle-drag, Shift+drag, arrows", "orbit the camera"),
    ("Ctrl+wheel, + / -", "zoom (C: reset the view)"),
    ("Esc", "stop (the recording is kept, marked incomplete)"),
    ("F1 / H", "show or hide this help"),
)
HELP_VENIPUNCTURE = (
    ("move the mouse", "aim the needle at a point on the skin"),
    ("wheel, left-drag, W / S", "advance / withdraw along the needle"),
    ("right-drag up-down, Q / E", "insertion angle (shallower / steeper)"),
    ("right-drag sideways, A / D", "roll the bevel (orange fin = bevel side)"),
    ("mouse moved with the needle in", "slides it sideways in the tissue: probing"),
    *COMMON_HELP,
)
HELP_SUTURING = (
    ("move the mouse", "hand: place the needle over the entry point"),
    ("left-drag up-down, R / F", "hand: raise / lower the needle"),
    ("wheel, W / S", "wrist: rotate the needle about its curve"),
    ("right-drag up-down, Q / E", "pitch the needle about its tip (entry angle)"),
    ("in the tissue", "rotate, do not push: hand moves drag tissue"),
    ("turn past the exit", "the needle is pulled through and reloaded"),
    *COMMON_HELP[1:],
)
HINT_VENIPUNCTURE = (
    "First time? Point at the vein, T tourniquet, wheel or W to advance; keep the mouse "
    "still in the skin. F1: all controls"
)
HINT_SUTURING = (
    "First time? Point at the entry, F lowers the needle to the skin, then the wheel "
    "rotates it through. F1: all controls"
)


@dataclass(frozen=True)
class Settings:
    """What a practice session is started with."""

    scenario: Scenario
    input_spec: str = "mouse"
    trainee: str = "anonymous"
    exam: bool = False
    hand: str = "right"
    """The trainee's dominant hand (the one a tracked input follows): right or left."""


class Screen(Protocol):
    def handle(self, event: Any) -> None: ...

    def update(self) -> None: ...

    def draw(self) -> None: ...

    def close(self) -> None: ...


class App:
    """The window and the screen loop.

    Parameters
    ----------
    size : tuple of int
        Window size, pixels.
    settings : Settings, optional
        Start a practice session right away; otherwise the start screen shows.
    trainee, input_spec, exam, hand
        Defaults for the start screen.
    clock : callable
        Monotonic seconds; tests pass a stepped clock (and ``realtime=False``).
    realtime : bool
        Pace frames with ``pygame.time.Clock`` (60 fps at most).
    sound : bool
        Play short sounds for critical events (silent without a device anyway).
    hidden : bool
        Hidden window (tests, benchmarks).
    """

    def __init__(
        self,
        size: tuple[int, int] = (1280, 720),
        settings: Settings | None = None,
        *,
        trainee: str = "anonymous",
        input_spec: str = "mouse",
        exam: bool = False,
        hand: str = "right",
        clock: Callable[[], float] = time.monotonic,
        realtime: bool = True,
        sound: bool = True,
        hidden: bool = False,
    ) -> None:
        glu.open_window(size, "procsim", hidden=hidden)
        pygame.font.init()
        pygame.key.set_repeat()
        self.size = size
        self.renderer = Renderer(size)
        self.clock = clock
        self.realtime = realtime
        self.sounds = Sounds(sound)
        self._pacer = pygame.time.Clock()
        self.running = True
        self.recordings: list[Path] = []
        self.defaults = Settings(_first_scenario(settings), input_spec, trainee, exam, hand)
        self.screen: Screen = StartScreen(self, self.defaults)
        if settings is not None:
            App.start_practice(self, settings)

    # --- transitions ----------------------------------------------------------------------
    def show_start(self, settings: Settings | None = None) -> None:
        self.screen = StartScreen(self, settings or self.defaults)

    def station_id(self) -> str:
        """The station id stored in recordings ("" outside station mode)."""
        return ""

    def start_practice(self, settings: Settings) -> None:
        """Start a session with ``settings``: a tracked input (one with a tracker to
        calibrate) goes through the :class:`CalibrationScreen` first; the mouse, or an
        input that failed to open (the practice screen shows why and offers the mouse),
        starts the :class:`PracticeScreen` at once."""
        self.defaults = settings
        if settings.input_spec.split(":", 1)[0] == "mouse":
            self.screen = PracticeScreen(self, settings)
            return
        sc = settings.scenario
        source = make_source(
            settings.input_spec,
            sc,
            camera=functools.partial(default_camera, sc),
            size=lambda: self.renderer.size,
            clock=self.clock,
            hand=settings.hand,
        )
        if callable(getattr(source, "apply_calibration", None)):
            self.screen = CalibrationScreen(self, settings, source)
        else:
            self.screen = PracticeScreen(self, settings, source=source)

    def begin_session(
        self,
        settings: Settings,
        source: LiveSource | None = None,
        calibration: CalibrationResult | None = None,
        source_t0: float | None = None,
    ) -> None:
        """The practice screen with an already running (and maybe calibrated) source; see
        :class:`PracticeScreen`."""
        self.screen = PracticeScreen(
            self, settings, source=source, calibration=calibration, source_t0=source_t0
        )

    def show_results(self, settings: Settings, result: ScoreResult, path: Path) -> None:
        self.screen = ResultsScreen(self, settings, result, path)

    def quit(self) -> None:
        self.screen.close()
        self.running = False

    # --- loop -----------------------------------------------------------------------------
    def frame(self) -> None:
        """One iteration: handle events, update the screen, draw it, show it."""
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.quit()
                return
            self.screen.handle(event)
            if not self.running:
                return
        self.screen.update()
        if not self.running:
            return
        self.screen.draw()
        pygame.display.flip()
        if self.realtime:
            self._pacer.tick(60)

    def run(self) -> int:
        """Run until the window is closed; returns the exit status."""
        try:
            while self.running:
                self.frame()
        except KeyboardInterrupt:
            self.quit()
        finally:
            self.screen.close()
        return 0


def _first_scenario(settings: Settings | None) -> Scenario:
    if settings is not None:
        return settings.scenario
    for p in scenario_paths():
        try:
            return load_scenario(p)
        except ScenarioError:
            continue
    raise ScenarioError("no valid scenario found in the scenarios folder")


# --- start screen -------------------------------------------------------------------------
class _Clickable:
    """Rectangles drawn this frame that react to a click."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[float, float, float, float], Callable[[], None]]] = []

    def add(self, rect: tuple[float, float, float, float], action: Callable[[], None]) -> None:
        self.items.append((rect, action))

    def click(self, pos: tuple[int, int]) -> bool:
        for (x, y, w, h), action in self.items:
            if x <= pos[0] <= x + w and y <= pos[1] <= y + h:
                action()
                return True
        return False


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
        self.clicks = _Clickable()
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
        self.clicks = _Clickable()
        b.text("procsim", w / 2, 40 * s, 56, WHITE, anchor="centre")
        b.text(
            "practise venipuncture and suturing with live coaching",
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


# --- calibration screen -------------------------------------------------------------------
CALIBRATION_DONE_S = 1.0
"""How long the calibration screen shows its result before the session starts, s."""


class CalibrationScreen:
    """The guided calibration of a tracked input, before the session (nothing is recorded
    yet).

    The camera view fills most of the window; every polled Sample goes to a
    :class:`~sim.tracking.calibration.CalibrationSession`, whose instruction and progress
    are shown with a progress bar. When the still hold is done the calibrated workspace
    and roll offset are applied to the source and, after :data:`CALIBRATION_DONE_S`, the
    session starts with the measured noise floor. Keys: S skips the calibration (noise
    floor 0, marked "skipped" in the recording), M continues with the mouse, Esc goes
    back to the start screen. A camera that fails is shown with the offer of the mouse.

    Parameters
    ----------
    app : App
        The window.
    settings : Settings
        The session to start afterwards.
    source : LiveSource
        A tracked source (with ``tracker``, ``config``, ``apply_calibration`` and
        ``calibration_header``), not started yet.
    """

    def __init__(self, app: App, settings: Settings, source: Any) -> None:
        self.app = app
        self.settings = settings
        self.source = source
        self.session = self._new_session()
        self.status = self.session.status
        self.result: CalibrationResult | None = None
        self.tracked = False  # the newest Sample had the hand
        self.done = False
        self._done_at: float | None = None
        self._view: tuple[float, Any] | None = None  # (frame time, camera view image)
        pygame.key.stop_text_input()
        self.t0 = app.clock()
        source.start(self.t0)

    def _new_session(self) -> CalibrationSession:
        from sim.tracking.calibration import CalibrationSession

        src = self.source
        # the floor at the camera's own rate, as the tremor metric measures the session
        return CalibrationSession(src.tracker.aspect, src.tracker.workspace, src.config.dominant)

    def handle(self, event: Any) -> None:
        if event.type != pygame.KEYDOWN or self.done:
            return
        if event.key == pygame.K_ESCAPE:
            self._leave()
            self.app.show_start(self.settings)
        elif event.key == pygame.K_s and self.source.error is None:
            self._start_session(None)
        elif event.key == pygame.K_m:
            self._leave()
            self.app.begin_session(replace(self.settings, input_spec="mouse"))

    def update(self) -> None:
        if self.done:
            return
        if self.result is None:
            for item in self.source.poll():
                if isinstance(item, Action):
                    continue
                self.tracked = bool(item.tracked)
                self.status = self.session.update(item)
                result = self.session.result
                if result is None:
                    continue
                if not math.isfinite(result.noise_floor_mm):
                    # no usable tip positions in the hold: hold again
                    self.session = self._new_session()
                    self.status = replace(
                        self.session.status, message="Hand not measured: hold still again"
                    )
                    continue
                self.result = result
                # poses from the next frame on are in the calibrated workspace
                self.source.apply_calibration(result.workspace, result.roll_offset_deg)
                self._done_at = self.app.clock()
                break
        elif self._done_at is not None and self.app.clock() - self._done_at >= CALIBRATION_DONE_S:
            self._start_session(self.result)

    def _start_session(self, result: CalibrationResult | None) -> None:
        self.done = True
        self.app.begin_session(self.settings, self.source, result, source_t0=self.t0)

    def _leave(self) -> None:
        self.done = True
        self.source.close()

    def close(self) -> None:
        """The window was closed: nothing was recorded yet; release the camera."""
        if not self.done:
            self._leave()

    def draw(self) -> None:
        r = self.app.renderer
        r.clear((0.10, 0.12, 0.16))
        w, h = r.size
        s = h / 720.0
        b = r.new_batch()
        b.text(
            f"Calibration  ·  {self.settings.scenario.title}  ·  {self.settings.hand} hand",
            w / 2,
            14 * s,
            22,
            WHITE,
            anchor="centre",
        )
        # the camera view, as large as fits between the title and the instructions
        view_w, view_h = int(w * 0.62), int(h - 230 * s)
        vx, vy = (w - view_w) / 2, 50 * s
        fv = self.source.latest_frame()
        if fv is not None:
            fh, fw = fv.rgb.shape[:2]
            width = max(64, min(view_w, int(view_h * fw / fh)))
            if self._view is None or self._view[0] != fv.t_s or self._view[1].shape[1] != width:
                from sim.tracking.overlay import camera_view

                self._view = (fv.t_s, camera_view(fv.rgb, fv.landmarks, fv.others, width=width))
        else:
            b.rect(vx, vy, view_w, view_h, PANEL)
            b.text("starting the camera...", w / 2, vy + view_h / 2, 17, MUTED, anchor="centre")
        y = 50 * s + view_h + 14 * s
        err = self.source.error
        if err:
            for line in b.wrap(err, 17, w - 80 * s):
                b.text(line, w / 2, y, 17, WARN, anchor="centre")
                y += 24 * s
            b.text(
                "M: continue with the mouse  ·  Esc: back to the start screen",
                w / 2,
                y + 6 * s,
                17,
                WHITE,
                anchor="centre",
            )
        else:
            col = GOOD if self.result is not None else WHITE
            b.text(b.fit(self.status.message, 22, w - 80 * s), w / 2, y, 22, col, anchor="centre")
            y += 36 * s
            bar = (w / 2 - 300 * s, y, 600 * s, 16 * s)
            b.rect(*bar, PANEL)
            b.rect(bar[0], bar[1], bar[2] * min(max(self.status.progress, 0.0), 1.0), bar[3], col)
            b.frame(*bar, 1.5, ACCENT)
            y += 28 * s
            if fv is not None and not self.tracked and self.result is None:
                b.text("hand not visible", w / 2, y, 17, BAD, anchor="centre")
        b.text(
            "Hold the needle still, bevel up, where you want to work: this measures the "
            "camera's jitter (not counted as tremor) and sets your working space.",
            w / 2,
            h - 62 * s,
            14,
            MUTED,
            anchor="centre",
        )
        b.text(
            "S: skip calibration  ·  M: use the mouse  ·  Esc: back",
            w / 2,
            h - 36 * s,
            14,
            MUTED,
            anchor="centre",
        )
        r.draw_batch(b)
        if self._view is not None and fv is not None:
            image = self._view[1]
            r.draw_image(image, (w - image.shape[1]) / 2, vy)


# --- practice screen ----------------------------------------------------------------------
class PracticeScreen:
    """A session: live source -> recorder (pipeline) -> scene and HUD.

    Parameters
    ----------
    app : App
        The window.
    settings : Settings
        Scenario, input, trainee, exam mode, dominant hand.
    source : LiveSource, optional
        A source already opened (and, with ``source_t0``, already running: the
        calibration screen hands its camera over); default: a new one for
        ``settings.input_spec``.
    calibration : CalibrationResult, optional
        The calibration applied to a tracked ``source``: its noise floor goes to the
        pipeline (tremor metric) and the recording header. A tracked source without one
        was not calibrated (noise floor 0, header ``calibration.status`` "skipped").
    source_t0 : float, optional
        The ``app.clock()`` time a running ``source`` was started with. Its sample times
        are shifted to this session's start, and samples from before it are dropped.
    """

    def __init__(
        self,
        app: App,
        settings: Settings,
        *,
        source: LiveSource | None = None,
        calibration: CalibrationResult | None = None,
        source_t0: float | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        sc = settings.scenario
        self.camera = default_camera(sc)
        floor = calibration.noise_floor_mm if calibration is not None else 0.0
        self.source = source if source is not None else self._make_source(settings.input_spec)
        self.pipeline = Pipeline(sc, floor, self.source.input_kind)
        self.path = new_recording_path(sc.id, settings.trainee)
        self.session_id = str(uuid.uuid4())
        self.recorder = SessionRecorder(
            self.pipeline,
            self.path,
            trainee=settings.trainee,
            station=app.station_id(),
            calibration=self._calibration_header(calibration),
            meta={
                "session_id": self.session_id,
                "exam": settings.exam,
                "input_spec": settings.input_spec,
                "hand": settings.hand,
            },
        )
        app.recordings.append(self.path)
        self.help = False
        self._help_since: float | None = None  # app clock when help opened (session paused)
        self._paused_s = 0.0
        self.help_lines = HELP_SUTURING if sc.task == "suturing" else HELP_VENIPUNCTURE
        # a short hint of the controls in the trainee's first session, until the first action
        first = not any(p != self.path for p in recordings_of(settings.trainee))
        self.hint: str | None = None
        if first and self.source.input_kind == "mouse":
            self.hint = HINT_SUTURING if sc.task == "suturing" else HINT_VENIPUNCTURE
        self.t0 = app.clock()
        # sample times of a source started earlier (calibration) minus this: session time
        self._offset = 0.0
        if source is not None and source_t0 is not None:
            self._offset = self.t0 - source_t0
        else:
            self.source.start(self.t0)
        self._orbit = False
        self.done = False
        self._pip: tuple[float, Any] | None = None  # (frame time, image) of the camera view
        pygame.key.stop_text_input()

    def _calibration_header(self, calibration: CalibrationResult | None) -> dict[str, Any] | None:
        """The header's ``calibration`` block: how a tracked source derived its poses, and
        whether it was calibrated (None for an untracked source such as the mouse)."""
        header_of = getattr(self.source, "calibration_header", None)
        if not callable(header_of):
            return None
        if calibration is None:
            return {**header_of(0.0), "status": "skipped"}
        return {
            **calibration.as_header(),
            **header_of(calibration.noise_floor_mm),
            "status": "calibrated",
        }

    def _make_source(self, spec: str) -> LiveSource:
        return make_source(
            spec,
            self.settings.scenario,
            camera=lambda: self.camera,
            size=lambda: self.app.renderer.size,
            clock=self.app.clock,
            hand=self.settings.hand,
        )

    def now(self) -> float:
        """Session time, s: the app clock since the start, less the time help was open."""
        paused = self._paused_s
        if self._help_since is not None:
            paused += self.app.clock() - self._help_since
        return self.app.clock() - self.t0 - paused

    def toggle_help(self) -> None:
        """Open or close the help; while it is open the session is paused: the clock stops
        and the instrument's motion is not recorded."""
        if not self.help:
            self._feed_source()  # up to now first
            self._help_since = self.app.clock()
        elif self._help_since is not None:
            self.source.poll()  # motion made while reading the help is not the session's
            gap = self.app.clock() - self._help_since
            self._paused_s += gap
            self._offset += gap
            self._help_since = None
        self.help = not self.help

    def _action(self, kind: ActionKind) -> None:
        self._feed_source()  # samples up to now first, so items stay in time order
        self._feed(Action(round(self.now(), 6), kind))

    def _feed(self, item: Any) -> None:
        step = self.recorder.feed(item)
        if step.events and not self.settings.exam:
            for e in step.events:
                self.app.sounds.play(e.kind)

    def _feed_source(self) -> None:
        for item in self.source.poll():
            if self._offset:
                t = round(item.t_s - self._offset, 6)
                if t < 0.0:
                    continue  # captured before the session started (during calibration)
                item = replace(item, t_s=t)
            self._feed(item)
            if self.pipeline.finished:
                break

    def handle(self, event: Any) -> None:
        et = event.type
        if et in (pygame.KEYDOWN, pygame.MOUSEBUTTONDOWN, pygame.MOUSEWHEEL):
            self.hint = None  # the first action: the trainee has started
        if et == pygame.KEYDOWN:
            k = event.key
            if k in (pygame.K_F1, pygame.K_h):
                self.toggle_help()
                return
            if self.help:
                if k == pygame.K_ESCAPE:
                    self.toggle_help()
                return  # paused: nothing else acts while the help is open
            if k == pygame.K_ESCAPE:
                self.finish()
                return
            if k in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self._action(ActionKind.FINISH)
                return
            if k == pygame.K_t and self.settings.scenario.task == "venipuncture":
                on = bool(getattr(self.pipeline.state, "tourniquet_on", False))
                self._action(ActionKind.TOURNIQUET_OFF if on else ActionKind.TOURNIQUET_ON)
                return
            if k == pygame.K_m and self.source.error is not None:
                self.source.close()
                self.source = self._make_source("mouse")
                self.source.start(self.t0)
                self._offset = 0.0
                return
            if self._camera_key(k):
                return
        if self.help:
            return  # paused
        handler = getattr(self.source, "handle_event", None)
        if handler is not None and handler(event):
            return
        self._camera_event(event)

    def _camera_key(self, k: int) -> bool:
        cam = self.camera
        if k == pygame.K_LEFT:
            cam.orbit(-10, 0)
        elif k == pygame.K_RIGHT:
            cam.orbit(10, 0)
        elif k == pygame.K_UP:
            cam.orbit(0, 5)
        elif k == pygame.K_DOWN:
            cam.orbit(0, -5)
        elif k in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            cam.zoom(0.9)
        elif k in (pygame.K_MINUS, pygame.K_KP_MINUS):
            cam.zoom(1.1)
        elif k == pygame.K_c:
            self.camera = default_camera(self.settings.scenario)
        else:
            return False
        return True

    def _camera_event(self, event: Any) -> None:
        et = event.type
        if et == pygame.MOUSEBUTTONDOWN and event.button in (1, 2):
            self._orbit = True
        elif et == pygame.MOUSEBUTTONUP and event.button in (1, 2):
            self._orbit = False
        elif et == pygame.MOUSEMOTION and self._orbit:
            self.camera.orbit(-event.rel[0] * 0.3, event.rel[1] * 0.3)
        elif et == pygame.MOUSEWHEEL:
            self.camera.zoom(0.9**event.y)

    def update(self) -> None:
        if self.done or self.help:
            return
        self._feed_source()
        if self.pipeline.finished or self.pipeline.complete:
            self.finish()

    def finish(self) -> None:
        """End the session: score, write the result, show the results screen."""
        if self.done:
            return
        if not self.pipeline.finished:
            # stopped by the trainee: the task hears it (it ends the tourniquet's time and
            # notes what was left undone), as with Enter
            self._action(ActionKind.FINISH)
        self.done = True
        self.source.close()
        result = self.recorder.finish()
        self.app.show_results(self.settings, result, self.path)

    def close(self) -> None:
        """The window was closed: keep the recording, marked incomplete."""
        if not self.done:
            self.done = True
            self.source.close()
            result = self.recorder.finish()
            state = "complete" if result.complete else "incomplete"
            print(f"procsim: session interrupted; recording kept ({state}): {self.path}")

    def options(self) -> DrawOptions:
        err = self.source.error
        advice = getattr(self.source, "advice", None)
        msg = (
            f"{err}: press M to continue with the mouse"
            if err
            else self.hint or (advice() if callable(advice) else None)
        )
        return DrawOptions(
            exam=self.settings.exam,
            hud=True,
            help=self.help,
            help_lines=self.help_lines,
            message=msg,
            title=f"{self.settings.trainee}  ·  {self.settings.scenario.title}",
        )

    def draw(self) -> None:
        frame = frame_from_pipeline(self.pipeline, t_s=self.now())
        # a tracked source may offer a smoothed pose for the on-screen instrument only
        # (the pipeline and the metrics keep the raw samples)
        display = getattr(self.source, "display_sample", None)
        shown = display() if callable(display) else None
        if shown is not None:
            frame = replace(frame, sample=shown)
        self.app.renderer.draw(frame, self.options(), self.camera)
        self._draw_camera_view()

    def _draw_camera_view(self) -> None:
        """Picture-in-picture of a camera source's newest frame (top right), if it has one."""
        latest = getattr(self.source, "latest_frame", None)
        fv = latest() if callable(latest) else None
        if fv is None:
            return
        r = self.app.renderer
        w, h = r.size
        s = h / 720.0
        if self._pip is None or self._pip[0] != fv.t_s:
            from sim.tracking.overlay import camera_view

            image = camera_view(fv.rgb, fv.landmarks, fv.others, width=int(240 * s))
            self._pip = (fv.t_s, image)
        image = self._pip[1]
        r.draw_image(image, w - image.shape[1] - 16 * s, 14 * s)


# --- results screen -----------------------------------------------------------------------
class ResultsScreen:
    """Score, pass/fail, critical errors, every metric, advice; R retry, Enter start screen."""

    def __init__(self, app: App, settings: Settings, result: ScoreResult, path: Path) -> None:
        self.app = app
        self.settings = settings
        self.result = result
        self.path = path
        self.clicks = _Clickable()

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
        draw_results(b, self.result, self.path, r.size, self.settings.exam)
        w, h = r.size
        s = h / 720.0
        self.clicks = _Clickable()
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
) -> None:
    """The results page: score and verdict, why (critical errors, errors, advice), every
    metric with its label, value, points and weight, and where the recording went.

    An incomplete or empty session says so plainly instead of a verdict; in exam mode the
    metric table carries no judgement colours.
    """
    w, h = size
    s = h / 720.0
    x0 = 40 * s
    verdict = result.verdict
    col = {"PASS": GOOD, "FAIL": BAD}.get(verdict, WARN)
    b.text(f"{result.score:.0f}", x0, 24 * s, 56, WHITE)
    b.text("/ 100", x0 + b.text_width(f"{result.score:.0f}", 56) + 10 * s, 50 * s, 22, MUTED)
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
    for e in result.critical_errors[:3]:
        for line in b.wrap(f"CRITICAL  {e.message}", 17, col_w):
            b.text(line, x0, y, 17, BAD)
            y += 24 * s
    for e in result.errors[:4]:
        b.text(b.fit(f"error  {e.message}", 14, col_w), x0, y, 14, WARN)
        y += 20 * s
    y += 10 * s
    b.text("Work on first", x0, y, 22, ACCENT)
    y += 32 * s
    for a in result.advice:
        for i, line in enumerate(b.wrap(a, 17, col_w - 20 * s)):
            b.text(("·  " if i == 0 else "   ") + line, x0, y, 17, WHITE)
            y += 24 * s
        y += 6 * s
    if result.phases_s:
        y += 6 * s
        phases = "  ·  ".join(f"{name} {sec:.0f} s" for name, sec in result.phases_s)
        for line in b.wrap("Phases: " + phases, 14, col_w):
            b.text(line, x0, y, 14, MUTED)
            y += 20 * s
    _draw_metric_table(b, result, tx, 100 * s, w - tx - 20 * s, s, exam)
    b.text("Recording saved to:", x0, h - 100 * s, 14, MUTED)
    b.text(b.fit(str(path), 14, w - 620 * s), x0, h - 80 * s, 14, WHITE)


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
        if weighted:
            p = m.points or 0.0
            pc = WHITE if exam else (GOOD if p >= 70 else (WARN if p >= 40 else BAD))
            star = "*" if m.status == "incomplete" else ""
            b.text(f"{p:.0f}{star}", cols[2], ty, 14, pc, anchor="right")
            b.text(f"{m.weight:g}", cols[3], ty, 14, fg, anchor="right")
        ty += 22 * s
    if any(m.status == "incomplete" for m in result.metrics):
        b.text("* no points: the procedure was not completed", tx, ty + 14 * s, 14, MUTED)
