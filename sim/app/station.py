"""Station mode: ``procsim station [--config FILE]``, the loop of a shared skills-lab machine.

It is the practice app (:class:`sim.app.app.App` and its start, practice and results
screens from :mod:`sim.app.start`, :mod:`sim.app.practice` and :mod:`sim.app.results`,
reused as they are) with the station's rules on top:

- the start screen offers only the allowed scenarios and inputs (or the assigned scenario)
  and always opens empty: no trainee id, nothing of the previous trainee;
- a session cannot start without a trainee id;
- exam mode, when the config says so, is forced (and a result cannot be retried);
- every finished or interrupted session goes into the store (:class:`sim.lab.sync.Lab`:
  local first, then the lab server in the background);
- the results screen goes back to the empty start screen by itself after a while.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sim.app.app import App
from sim.app.results import ResultsScreen
from sim.app.settings import Settings
from sim.app.start import StartScreen
from sim.lab.config import StationConfig
from sim.lab.ingest import session_from_recording
from sim.lab.sync import Lab, SyncReport
from sim.metrics.scoring import ScoreResult

RESULTS_TIMEOUT_S = 120.0
"""The results screen returns to the start screen after this long without input."""


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
        self.results_timeout_s = results_timeout_s
        self.stored: list[str] = []  # session ids stored by this station run
        self.last_sync: SyncReport | None = None
        self._sync_thread: threading.Thread | None = None
        self._results_since: float | None = None
        super().__init__(
            size, None, trainee="anonymous", exam=config.exam_mode, clock=clock, **kwargs
        )
        self.show_start()

    # --- the station's rules on the app's transitions -------------------------------------
    def show_start(self, settings: Settings | None = None) -> None:
        """An empty start screen (the previous trainee's settings are ignored)."""
        screen = StartScreen(self, replace(self.defaults, trainee="anonymous"))
        cfg = self.config
        allowed = (cfg.assigned_scenario,) if cfg.assigned_scenario else cfg.scenarios
        if allowed:
            screen.scenarios = [s for s in screen.scenarios if s.id in allowed]
            screen.index = 0
        if cfg.inputs:
            screen.inputs = [k for k in screen.inputs if k in cfg.inputs] or ["mouse"]
            screen.input_index = 0
        screen.trainee = ""
        screen.exam = cfg.exam_mode
        self.screen = screen
        self._results_since = None

    def station_id(self) -> str:
        """This station's id (stored in every recording's header)."""
        return self.config.station_id

    def start_practice(self, settings: Settings) -> None:
        if isinstance(self.screen, ResultsScreen) and self.config.exam_mode:
            self.show_start()  # an exam is one attempt: no retry
            return
        if not settings.trainee.strip() or settings.trainee == "anonymous":
            return  # a station session needs the trainee's id
        if self.config.exam_mode:
            settings = replace(settings, exam=True)
        super().start_practice(settings)

    def show_results(self, settings: Settings, result: ScoreResult, path: Path) -> None:
        self._store(path)
        super().show_results(settings, result, path)
        self._results_since = self.clock()

    def quit(self) -> None:
        super().quit()
        self._store_interrupted()
        if self._sync_thread is not None:
            self._sync_thread.join(timeout=10)

    def frame(self) -> None:
        if (
            self._results_since is not None
            and isinstance(self.screen, ResultsScreen)
            and self.clock() - self._results_since > self.results_timeout_s
        ):
            self.show_start()
        super().frame()

    # --- the store ------------------------------------------------------------------------
    def _store(self, path: Path) -> None:
        """Store a session locally now; push it to the lab server in the background."""
        session = session_from_recording(path, station=self.config.station_id)
        self.lab.record(session, sync=False)
        self.stored.append(session.id)
        if self.lab.remote_url is not None:
            self.sync_in_background()

    def _store_interrupted(self) -> None:
        """A session cut short by closing the window is stored too (marked incomplete)."""
        for path in self.recordings:
            if path.exists():
                s = session_from_recording(path, station=self.config.station_id)
                if s.id not in self.stored:
                    self.lab.record(s, sync=False)
                    self.stored.append(s.id)

    def sync_in_background(self) -> None:
        """Push queued sessions to the lab server without blocking the screen."""
        if self._sync_thread is not None and self._sync_thread.is_alive():
            return

        def run() -> None:
            from sim.lab.sync import Lab as _Lab

            with _Lab(self.lab.local_url, self.lab.remote_url) as lab:  # own connections
                self.last_sync = lab.sync()

        self._sync_thread = threading.Thread(target=run, name="procsim-sync", daemon=True)
        self._sync_thread.start()
