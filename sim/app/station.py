"""Station mode: ``procsim station [--config FILE]``, the loop of a shared skills-lab machine.

It is the practice app (:class:`sim.app.app.App` and its start, practice and results
screens from :mod:`sim.app.start`, :mod:`sim.app.practice` and :mod:`sim.app.results`,
reused as they are) with the station's rules on top:

- the start screen shows the station's name, offers only the allowed scenarios and inputs
  (or the assigned scenario) and always opens empty: no trainee id, nothing of the previous
  trainee;
- a session cannot start without a trainee id (the screen says "enter your trainee id"),
  nor with an input the config does not allow;
- exam mode is the config's, not the trainee's: forced on (and a result cannot be retried)
  or off;
- one key does not close the station: Esc held for :data:`EXIT_HOLD_S` does (staff; the
  start screen says so discreetly), or the desktop closing the window;
- every finished or interrupted session goes into the store (:class:`sim.lab.sync.Lab`:
  local first, then the lab server in the background);
- the results screen goes back to the empty start screen by itself after a while.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygame

from sim.app.app import App
from sim.app.inputs import input_kinds
from sim.app.results import ResultsScreen
from sim.app.settings import ANONYMOUS, Settings, trainee_id_problem
from sim.app.start import StartScreen
from sim.lab.config import StationConfig
from sim.lab.ingest import session_from_recording
from sim.lab.sync import Lab, SyncReport
from sim.metrics.scoring import ScoreResult
from sim.sources import LiveSource

if TYPE_CHECKING:
    from sim.tracking.calibration import CalibrationResult

RESULTS_TIMEOUT_S = 120.0
"""The results screen returns to the start screen after this long without input."""

EXIT_HOLD_S = 2.0
"""Esc held this long closes the station (our choice: long enough that no trainee closes it
by a tap or by holding Esc to stop a session, short enough for staff)."""

STAFF_NOTE = f"staff: hold Esc for {EXIT_HOLD_S:.0f} s to close"


class StationApp(App):
    """The practice app run as a skills-lab station.

    Parameters
    ----------
    config : StationConfig
        Station id, allowed scenarios and inputs, exam mode.
    lab : Lab
        Where sessions are stored (local store, and the lab server to sync to).
    size : (width, height)
        Window size.
    results_timeout_s : float
        Idle time after which the results screen is cleared.
    **kwargs
        Passed to :class:`~sim.app.app.App` (clock, realtime, sound, hidden).
    """

    def __init__(
        self,
        config: StationConfig,
        lab: Lab,
        size: tuple[int, int] = (1280, 720),
        *,
        results_timeout_s: float = RESULTS_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        self.config = config
        self.lab = lab
        curriculum = None
        if config.curriculum is not None:  # read now: a bad file is one line before the window
            from sim.curriculum import load_curriculum

            curriculum = load_curriculum(Path(config.curriculum))
        self.keep_raw_landmarks = config.keep_raw_landmarks  # recordings: docs/store.md
        self.results_timeout_s = results_timeout_s
        self.stored: list[str] = []  # session ids stored by this station run
        self.last_sync: SyncReport | None = None
        self._sync_thread: threading.Thread | None = None
        self._results_since: float | None = None
        self._esc_since: float | None = None  # when staff started holding Esc
        self._closing = False  # a deliberate close: quit() is honoured
        super().__init__(
            size, None, trainee=ANONYMOUS, exam=config.exam_mode, clock=clock, **kwargs
        )
        self.curriculum = curriculum
        self._blank = replace(self.defaults, exam=config.exam_mode)
        self.show_start()

    # --- the station's rules on the app's transitions -------------------------------------
    def allowed_inputs(self) -> list[str]:
        """The input kinds this station offers."""
        cfg = self.config
        return [k for k in input_kinds() if not cfg.inputs or k in cfg.inputs] or ["mouse"]

    def show_start(self, settings: Settings | None = None, message: str = "") -> None:
        """An empty start screen: nothing of the previous trainee. With ``message`` (a start
        that failed, e.g. a camera that cannot be opened) the trainee's own choices stay,
        with the message."""
        cfg = self.config
        base = settings if (message and settings is not None) else self._blank
        screen = StartScreen(
            self,
            replace(base, exam=cfg.exam_mode),
            message=message,
            scenario_ids=(cfg.assigned_scenario,) if cfg.assigned_scenario else cfg.scenarios,
            inputs=self.allowed_inputs(),
            station=cfg.station_id,
            exam_locked=True,
            require_id=True,
            recommend=self.recommend,
            follow=cfg.follow_curriculum,
        )
        screen.staff_note = STAFF_NOTE
        self.screen = screen
        self._results_since = None

    def station_id(self) -> str:
        """This station's id (stored in every recording's header)."""
        return self.config.station_id

    def history(self, trainee: str) -> list[Any]:
        """The trainee's sessions in this station's own store (a station's login may add
        sessions to the lab database but read none: docs/lab-setup.md)."""
        return list(self.lab.local.find(trainee=trainee))

    def start_practice(self, settings: Settings) -> None:
        if isinstance(self.screen, ResultsScreen) and self.config.exam_mode:
            self.show_start()  # an exam is one attempt: no retry
            return
        problem = self.refusal(settings)
        if problem is not None:
            if isinstance(self.screen, StartScreen):
                self.screen.message = problem
            else:
                self.show_start(settings, message=problem)
            return
        super().start_practice(replace(settings, exam=self.config.exam_mode))

    def begin_session(
        self,
        settings: Settings,
        source: LiveSource | None = None,
        calibration: CalibrationResult | None = None,
        source_t0: float | None = None,
    ) -> None:
        problem = self.refusal(settings)  # e.g. M (the mouse) on a webcam-only station
        if problem is not None:
            if source is not None:
                source.close()
            self.show_start(settings, message=problem)
            return
        settings = replace(settings, exam=self.config.exam_mode)
        super().begin_session(settings, source, calibration, source_t0)

    def refusal(self, settings: Settings) -> str | None:
        """Why this station does not start ``settings`` (one line), or None."""
        trainee = "" if settings.trainee == ANONYMOUS else settings.trainee
        problem = trainee_id_problem(trainee)
        if problem is not None:
            return problem
        kind = settings.input_spec.split(":", 1)[0]
        if kind not in self.allowed_inputs():
            return f"{kind} input is not offered at this station"
        return None

    def show_results(
        self, settings: Settings, result: ScoreResult, path: Path, poor: Sequence[str] = ()
    ) -> None:
        super().show_results(settings, result, path, poor)
        self._results_since = self.clock()

    def quit(self) -> None:
        """Honoured only when deliberate (:meth:`shutdown`): a screen's one key (Esc on the
        start screen, Q on the results) does not close the station."""
        if not self._closing:
            return
        super().quit()
        self._store_interrupted()
        if self._sync_thread is not None:
            self._sync_thread.join(timeout=10)

    def shutdown(self) -> None:
        """Close the station (Esc held, the window closed by the desktop, Ctrl+C)."""
        self._closing = True
        self.quit()

    def intercept(self, event: Any) -> bool:
        """Time how long Esc is held (the screens still see it: Esc stops a session)."""
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            if self._esc_since is None:
                self._esc_since = self.clock()
        elif (event.type == pygame.KEYUP and event.key == pygame.K_ESCAPE) or (
            event.type == pygame.WINDOWFOCUSLOST
        ):
            self._esc_since = None
        return False

    def frame(self) -> None:
        if self._esc_since is not None:
            held = self.clock() - self._esc_since
            if held >= EXIT_HOLD_S:
                self.shutdown()
                return
            if isinstance(self.screen, StartScreen):
                left = EXIT_HOLD_S - held
                self.screen.staff_note = f"closing the station: keep holding Esc ({left:.1f} s)"
        elif isinstance(self.screen, StartScreen):
            self.screen.staff_note = STAFF_NOTE
        if (
            self._results_since is not None
            and isinstance(self.screen, ResultsScreen)
            and self.clock() - self._results_since > self.results_timeout_s
        ):
            self.show_start()
        super().frame()

    # --- the store ------------------------------------------------------------------------
    def store_session(self, path: Path, result: ScoreResult | None = None) -> None:
        """Store a session locally now; push it to the lab server in the background.
        ``result``: the score this run computed for the recording (not computed again)."""
        session = session_from_recording(
            path,
            station=self.config.station_id,
            keep_raw=self.config.keep_raw_landmarks,
            today=result,
        )
        self.lab.record(session, sync=False)
        self.stored.append(session.id)
        self._stored.add(path)
        if self.lab.remote_url is not None:
            self.sync_in_background()

    def _store_interrupted(self) -> None:
        """A session cut short by closing the window is stored too (marked incomplete)."""
        for path in self.recordings:
            if path.exists():
                s = session_from_recording(
                    path, station=self.config.station_id, keep_raw=self.config.keep_raw_landmarks
                )
                if s.id not in self.stored:
                    self.lab.record(s, sync=False)
                    self.stored.append(s.id)
                self._stored.add(path)

    def sync_in_background(self) -> None:
        """Push queued sessions to the lab server without blocking the screen."""
        if self._sync_thread is not None and self._sync_thread.is_alive():
            return

        def run() -> None:
            with self.lab.twin() as lab:  # own connections
                self.last_sync = lab.sync()

        self._sync_thread = threading.Thread(target=run, name="procsim-sync", daemon=True)
        self._sync_thread.start()
