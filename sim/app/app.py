"""The practice app: one pygame window (OpenGL 3.3) and its screen loop.

:class:`App` owns the window, the renderer and the current screen; :meth:`App.frame` runs one
iteration (events, update, draw, flip), so tests can drive the real app frame by frame with
injected pygame events and a stepped clock. Every screen follows the :class:`Screen`
protocol; the App's transitions create them:

- :class:`~sim.app.start.StartScreen`: pick the scenario, input and dominant hand, type a
  trainee id, exam mode. An input that cannot be opened brings the app back to it with the
  reason (nothing is recorded).
- :class:`~sim.app.calibrate.CalibrationScreen`: for a tracked input (webcam, video), the
  guided still-hand hold before the session (tracker noise floor and workspace mapping);
  skippable.
- :class:`~sim.app.practice.PracticeScreen`: the session: polls the live source, feeds a
  :class:`~sim.storage.session.SessionRecorder`, draws the scene and the coaching HUD.
- :class:`~sim.app.results.ResultsScreen`: score, pass/fail, critical errors, every metric,
  what to work on, and where the recording is.

Screens import :class:`App` for type checking only, so the screen modules never import this
one at run time.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pygame

from sim.app.calibrate import CalibrationScreen
from sim.app.inputs import check_spec, make_source
from sim.app.practice import PracticeScreen
from sim.app.results import ResultsScreen
from sim.app.settings import ANONYMOUS, Settings, check_trainee_id
from sim.app.sound import Sounds
from sim.app.start import StartScreen
from sim.app.voice import Voice
from sim.core.scenario import Scenario, ScenarioError
from sim.metrics.scoring import ScoreResult
from sim.render import gl as glu
from sim.render.renderer import Renderer
from sim.render.scene import default_camera
from sim.scenarios import load_scenario, scenario_paths
from sim.sources import Calibratable, LiveSource

if TYPE_CHECKING:
    from sim.core.curriculum import Curriculum, Recommendation
    from sim.tracking.calibration import CalibrationResult


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
        What the command line chose. With a trainee id the session starts right away;
        without one (``"anonymous"``) the start screen shows with these settings chosen, so
        that the trainee id and hand can be set. None: the start screen with the defaults.
    trainee, input_spec, exam, hand
        Defaults for the start screen.
    clock : callable
        Monotonic seconds; tests pass a stepped clock (and ``realtime=False``).
    realtime : bool
        Pace frames with ``pygame.time.Clock`` (60 fps at most).
    sound : bool
        Play short sounds for critical events (silent without a device anyway).
    voice : bool
        Speak the patient's lines (espeak-ng); muted without sound too.
    hidden : bool
        Hidden window (tests, benchmarks).

    Raises
    ------
    UserError
        Before the window opens: a trainee id that is not valid, or an input that cannot be
        opened (no such camera, a missing or unreadable video).
    """

    keep_raw_landmarks = False
    """Write the raw hand landmarks of webcam samples into recordings (a station's
    ``keep_raw_landmarks``; docs/store.md)."""

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
        voice: bool = True,
    ) -> None:
        check_trainee_id(settings.trainee if settings is not None else trainee)
        check_input(settings.input_spec if settings is not None else input_spec)
        glu.open_window(size, "procsim", hidden=hidden)
        pygame.font.init()
        pygame.key.set_repeat()
        self.size = size
        self.renderer = Renderer(size)
        self.clock = clock
        self.realtime = realtime
        self.sounds = Sounds(sound)
        self.voice = Voice(sound and voice)  # a session's settings mute it too
        self._pacer = pygame.time.Clock()
        self.running = True
        self.recordings: list[Path] = []
        self._stored: set[Path] = set()
        self.defaults = settings or Settings(
            _first_scenario(), input_spec, trainee, exam, hand, voice=voice
        )
        self.curriculum: Curriculum | None = None
        """The curriculum the start screen's suggestion follows (None: the shipped one,
        read when first needed)."""
        self._recommend_failed = False
        self.screen: Screen = StartScreen(self, self.defaults, recommend=self.recommend)
        if settings is not None and settings.trainee != ANONYMOUS:
            App.start_practice(self, settings)

    # --- transitions ----------------------------------------------------------------------
    def show_start(self, settings: Settings | None = None, message: str = "") -> None:
        """The start screen with ``settings`` chosen (default: the last ones) and
        ``message``, a line saying why the last start failed."""
        self.screen = StartScreen(
            self, settings or self.defaults, message=message, recommend=self.recommend
        )

    def station_id(self) -> str:
        """The station id stored in recordings ("" outside station mode)."""
        return ""

    def history(self, trainee: str) -> list[Any]:
        """The stored sessions of ``trainee`` the curriculum's suggestion reads (this
        machine's own store)."""
        from sim.lab.config import local_url
        from sim.lab.store import Store

        store = Store(local_url())
        try:
            return store.find(trainee=trainee)
        finally:
            store.close()

    def recommend(self, trainee: str) -> Recommendation | None:
        """What ``trainee`` should practise next (``docs/curriculum.md``), from their
        sessions (:meth:`history`); None when the store cannot be read (said once on
        stderr: the trainee carries on without a suggestion)."""
        import datetime as dt

        from sim.curriculum import load_curriculum
        from sim.lab.next import recommend

        try:
            if self.curriculum is None:
                self.curriculum = load_curriculum()
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            return recommend(self.curriculum, trainee, self.history(trainee), now)
        except Exception as exc:  # noqa: BLE001 - a suggestion is never worth a crash
            if not self._recommend_failed:
                print(f"procsim: warning: no curriculum suggestion ({exc})", file=sys.stderr)
            self._recommend_failed = True
            return None

    def start_practice(self, settings: Settings) -> None:
        """Start a session with ``settings``: a tracked input (one with a tracker to
        calibrate) goes through the :class:`CalibrationScreen` first; the mouse starts the
        :class:`PracticeScreen` at once. An input that cannot be opened (no such camera, a
        missing video) starts nothing: the start screen shows again, with the reason, and
        nothing is recorded."""
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
        if source.error is not None:
            source.close()
            self.show_start(settings, message=source.error)
            return
        if isinstance(source, Calibratable):
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

    def show_results(
        self, settings: Settings, result: ScoreResult, path: Path, poor: Sequence[str] = ()
    ) -> None:
        """The results of a finished session (``poor``: the poor tracking conditions its
        calibration found, :data:`sim.tracking.quality.POOR_WORDS` keys)."""
        self.store_session(path, result)
        self.screen = ResultsScreen(self, settings, result, path, poor)

    def store_session(self, path: Path, result: ScoreResult | None = None) -> None:
        """Keep a session in this machine's session store (docs/store.md), so that
        ``procsim sessions`` and the progress reports see it. The recording is kept whatever
        happens: a store that fails says so on stderr (``procsim sessions import`` adds it
        later) and the trainee carries on. ``result``: the score this run computed for the
        recording (not computed again)."""
        from sim.lab.config import local_url
        from sim.lab.ingest import session_from_recording
        from sim.lab.store import Store

        try:
            store = Store(local_url())
            try:
                store.add(
                    session_from_recording(
                        path,
                        station=self.station_id(),
                        keep_raw=self.keep_raw_landmarks,
                        today=result,
                    )
                )
            finally:
                store.close()
        except Exception as exc:  # noqa: BLE001 - never lose the session over its index
            print(
                f"procsim: warning: {path}: not added to the session store ({exc}); "
                "procsim sessions import adds it",
                file=sys.stderr,
            )
        self._stored.add(path)

    def quit(self) -> None:
        """A screen asks to quit (Esc on the start screen, Q on the results)."""
        self.screen.close()
        self.voice.close()
        self.running = False

    def shutdown(self) -> None:
        """The desktop closes the app (the window's close button, Ctrl+C): quit."""
        self.quit()

    def intercept(self, event: Any) -> bool:
        """Look at ``event`` before the screen does; True keeps it from the screen. The
        practice app lets every event through (station mode watches for its exit key)."""
        return False

    # --- loop -----------------------------------------------------------------------------
    def frame(self) -> None:
        """One iteration: handle events, update the screen, draw it, show it."""
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.shutdown()
                return
            if self.intercept(event):
                continue
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
            self.shutdown()
        finally:
            self.screen.close()
            # a session cut short by closing the window is stored too (marked incomplete)
            for path in self.recordings:
                if path not in self._stored and path.exists():
                    self.store_session(path)
        return 0


def check_input(spec: str) -> None:
    """Open and release the camera or video of ``spec``; :class:`UserError` (one line) when
    it cannot be opened. The mouse always can.

    The command line's check: ``procsim practice --input webcam:9`` says so and exits with
    status 2 before a window opens. Only the capture is tried (a fraction of a second), not
    the hand tracker.
    """
    if check_spec(spec) == "mouse":
        return
    from sim.sources.camera import CvCapture, parse_input_spec

    CvCapture(parse_input_spec(spec)).release()


def _first_scenario() -> Scenario:
    """The first valid full scenario by file name (a drill only when there is no other)."""
    drills = []
    for p in scenario_paths():
        try:
            sc = load_scenario(p)
        except ScenarioError:
            continue
        if sc.drill is None:
            return sc
        drills.append(sc)
    if drills:
        return drills[0]
    raise ScenarioError("no valid scenario found in the scenarios folder")
