"""Station mode, offscreen: a trainee's turn from id to results, stored and synced, and
the station cleared for the next trainee."""

from __future__ import annotations

from pathlib import Path

import pytest

pygame = pytest.importorskip("pygame")

from sim.lab.config import StationConfig, load_config  # noqa: E402
from sim.lab.store import Store  # noqa: E402
from sim.lab.sync import Lab  # noqa: E402
from sim.storage.recording import load_recording  # noqa: E402


class Stepped:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _key(app: object, key: int, clock: Stepped) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
    clock.t += 1 / 60
    app.frame()  # type: ignore[attr-defined]


def _type(app: object, text: str, clock: Stepped) -> None:
    for ch in text:
        pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text=ch))
    clock.t += 1 / 60
    app.frame()  # type: ignore[attr-defined]


def _frames(app: object, clock: Stepped, n: int) -> None:
    for _ in range(n):
        clock.t += 1 / 60
        app.frame()  # type: ignore[attr-defined]


def test_a_trainee_turn(data_dir: Path, tmp_path: Path, quit_display: None) -> None:
    from sim.app.practice import PracticeScreen
    from sim.app.results import ResultsScreen
    from sim.app.start import StartScreen
    from sim.app.station import StationApp

    cfg_file = tmp_path / "station.toml"
    remote = f"sqlite:///{tmp_path / 'lab.sqlite'}"
    cfg_file.write_text(
        f'[station]\nid = "lab-3"\ndatabase = "{remote}"\n'
        'scenarios = ["venipuncture"]\ninputs = ["mouse"]\n'
    )
    cfg = load_config(cfg_file)
    clock = Stepped()
    local = f"sqlite:///{data_dir / 'sessions.sqlite'}"
    with Lab(local, remote) as lab:
        app = StationApp(
            cfg, lab, (640, 360), clock=clock, realtime=False, sound=False, hidden=True
        )
        start = app.screen
        assert isinstance(start, StartScreen)
        assert [s.id for s in start.scenarios] == ["venipuncture"] and start.inputs == ["mouse"]
        _key(app, pygame.K_RETURN, clock)  # no trainee id: the session does not start
        assert app.screen is start
        _type(app, "t-<b>9</b>", clock)
        _key(app, pygame.K_RETURN, clock)
        practice = app.screen
        assert isinstance(practice, PracticeScreen)
        _frames(app, clock, 30)
        _key(app, pygame.K_RETURN, clock)  # finish at once
        _frames(app, clock, 2)
        assert isinstance(app.screen, ResultsScreen)
        # the recording says where and which session it was; the store keys it by that id
        header = load_recording(practice.path).header
        assert header["station"] == "lab-3"
        assert header["meta"]["session_id"] == practice.session_id
        assert app.stored == [practice.session_id]
        assert app._sync_thread is not None
        app._sync_thread.join(timeout=30)
        assert app.last_sync is not None and app.last_sync.pushed == 1
        # nobody touches the station: it clears itself for the next trainee
        clock.t += app.results_timeout_s + 1
        _frames(app, clock, 1)
        assert isinstance(app.screen, StartScreen) and app.screen.trainee == ""
        app.screen.draw()  # read the frame before a buffer swap: after one it is undefined
        img = app.renderer.capture()
        assert img.mean() > 5  # the start screen is drawn, not a stale frame
        _key(app, pygame.K_ESCAPE, clock)
        assert not app.running
    for url in (local, remote):
        with Store(url) as s:
            (row,) = s.find()
            assert row.id == practice.session_id
            assert row.trainee_id == "t-<b>9</b>" and row.station_id == "lab-3"
            assert row.scenario == "venipuncture" and row.input_kind == "mouse"


def test_exam_station_forces_exam_and_allows_no_retry(
    data_dir: Path, tmp_path: Path, quit_display: None
) -> None:
    from sim.app.practice import PracticeScreen
    from sim.app.results import ResultsScreen
    from sim.app.start import StartScreen
    from sim.app.station import StationApp

    cfg = StationConfig(station_id="exam-1", assigned_scenario="suturing", exam_mode=True)
    clock = Stepped()
    with Lab(f"sqlite:///{data_dir / 'sessions.sqlite'}") as lab:
        app = StationApp(
            cfg, lab, (640, 360), clock=clock, realtime=False, sound=False, hidden=True
        )
        assert [s.id for s in app.screen.scenarios] == ["suturing"]  # type: ignore[attr-defined]
        _key(app, pygame.K_F2, clock)  # the trainee turns exam mode off...
        _type(app, "t-1", clock)
        _key(app, pygame.K_RETURN, clock)
        assert isinstance(app.screen, PracticeScreen) and app.screen.settings.exam  # ...no
        _key(app, pygame.K_ESCAPE, clock)  # stop: the interrupted session is stored too
        _frames(app, clock, 1)
        assert isinstance(app.screen, ResultsScreen)
        _key(app, pygame.K_r, clock)  # retry: not in an exam
        assert isinstance(app.screen, StartScreen) and app.screen.trainee == ""
        assert len(app.stored) == 1
        rows = lab.local.find()
        assert len(rows) == 1 and not rows[0].complete and rows[0].station_id == "exam-1"
