"""Station mode, offscreen: a trainee's turn from id to results, stored and synced, and
the station cleared for the next trainee."""

from __future__ import annotations

from pathlib import Path

import pytest

pygame = pytest.importorskip("pygame")

from sim.app.settings import Settings  # noqa: E402
from sim.app.station import EXIT_HOLD_S  # noqa: E402
from sim.lab.config import StationConfig, load_config  # noqa: E402
from sim.lab.store import Store  # noqa: E402
from sim.lab.sync import Lab  # noqa: E402
from sim.storage.recording import load_recording  # noqa: E402


class Stepped:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _key(app: object, key: int, clock: Stepped, hold_s: float = 0.0) -> None:
    """Press ``key``, keep it down ``hold_s`` (frame by frame), release it."""
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
    clock.t += 1 / 60
    app.frame()  # type: ignore[attr-defined]
    _frames(app, clock, int(round(hold_s * 60)))
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0, unicode=""))
    clock.t += 1 / 60
    if app.running:  # type: ignore[attr-defined]
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
        _key(app, pygame.K_RETURN, clock)  # no trainee id: the session does not start...
        assert app.screen is start and start.message == "enter your trainee id"  # ...says so
        _type(app, "t-009", clock)
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
        _key(app, pygame.K_ESCAPE, clock)  # one key does not close a station...
        assert app.running
        _key(app, pygame.K_ESCAPE, clock, hold_s=EXIT_HOLD_S)  # ...held, it does
        assert not app.running
    for url in (local, remote):
        with Store(url) as s:
            (row,) = s.find()
            assert row.id == practice.session_id
            assert row.trainee_id == "t-009" and row.station_id == "lab-3"
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
        practice = app.screen
        _key(app, pygame.K_2, clock)  # the checklist's keys and buttons work in an exam too
        assert [e.kind for e in practice.pipeline.events] == ["step_hygiene"]
        assert len(practice.clicks.items) == len(cfg_checklist(practice))
        _key(app, pygame.K_ESCAPE, clock)  # stop: the interrupted session is stored too
        _frames(app, clock, 1)
        assert isinstance(app.screen, ResultsScreen)
        _key(app, pygame.K_r, clock)  # retry: not in an exam
        assert isinstance(app.screen, StartScreen) and app.screen.trainee == ""
        assert len(app.stored) == 1
        rows = lab.local.find()
        assert len(rows) == 1 and not rows[0].complete and rows[0].station_id == "exam-1"
        done = [st.id for st in practice.pipeline.result().checklist if st.done]
        assert done == ["hygiene"]


def cfg_checklist(practice: object) -> tuple[str, ...]:
    """The steps of the checklist of a practice screen's scenario."""
    return practice.settings.scenario.checklist.steps  # type: ignore[attr-defined, no-any-return]


@pytest.fixture()
def kiosk(data_dir: Path, quit_display: None, request: pytest.FixtureRequest):  # noqa: ANN201
    """A practice station (no exam), 1366x768, that offers the mouse and webcam only; or
    the size and inputs given by an indirect parameter."""
    from sim.app.station import StationApp

    size, inputs = getattr(request, "param", ((1366, 768), ("mouse", "webcam")))
    cfg = StationConfig(station_id="skills-lab-a-03", inputs=inputs)
    clock = Stepped()
    with Lab(f"sqlite:///{data_dir / 'sessions.sqlite'}") as lab:
        app = StationApp(cfg, lab, size, clock=clock, realtime=False, sound=False, hidden=True)
        yield app, clock, lab
        if app.running:
            app.shutdown()


def test_the_station_shows_its_name_and_offers_only_what_is_allowed(kiosk: tuple) -> None:
    from sim.app.practice import PracticeScreen
    from sim.app.start import StartScreen

    app, clock, _ = kiosk
    start = app.screen
    assert isinstance(start, StartScreen) and start.station == "skills-lab-a-03"
    _frames(app, clock, 1)
    img = app.renderer.capture().astype(int)
    corner = img[:60, :400].reshape(-1, 3)  # "Station skills-lab-a-03", top left, accent
    assert ((corner[:, 2] > 200) & (corner[:, 0] < 160)).sum() > 100
    seen = set()
    for _ in range(4):
        _key(app, pygame.K_RIGHT, clock)
        seen.add(start.kind)
    assert seen == {"mouse", "webcam"}  # no video
    for _ in range(2):
        _key(app, pygame.K_F2, clock)  # exam mode is the station's, not the trainee's
        assert not start.exam
    for (x, y, w, h), action in list(start.clicks.items):
        if action != start.start:  # everything a trainee can click on the screen
            start.clicks.click((int(x + w / 2), int(y + h / 2)))
            assert not start.exam and start.kind in ("mouse", "webcam")
    # a start that bypasses the screen (e.g. M on the calibration screen) is refused too
    app.start_practice(Settings(start.scenarios[0], "video:clip.mp4", "t-1"))
    assert "video input is not offered" in app.screen.message
    while start.kind != "mouse":
        _key(app, pygame.K_LEFT, clock)
    _type(app, "t-1", clock)
    _key(app, pygame.K_RETURN, clock)
    assert isinstance(app.screen, PracticeScreen) and not app.screen.settings.exam


def test_enter_without_an_id_says_so_on_the_screen(kiosk: tuple) -> None:
    app, clock, _ = kiosk
    _frames(app, clock, 1)
    before = app.renderer.capture().astype(int)
    _key(app, pygame.K_RETURN, clock)
    assert app.screen.message == "enter your trainee id"
    app.screen.draw()
    after = app.renderer.capture().astype(int)
    amber = lambda a: ((a[..., 0] > 200) & (a[..., 1] > 130) & (a[..., 2] < 90)).sum()  # noqa: E731
    assert amber(after) > amber(before) + 200


KIOSK_KEYS = [
    pygame.K_ESCAPE,
    pygame.K_q,
    pygame.K_RETURN,
    pygame.K_F2,
    pygame.K_F3,
    pygame.K_LEFT,
    pygame.K_RIGHT,
    pygame.K_UP,
    pygame.K_BACKSPACE,
    pygame.K_r,
]


@pytest.mark.parametrize("kiosk", [((480, 270), ("mouse",))], indirect=True)
def test_no_key_a_trainee_presses_closes_the_station(kiosk: tuple) -> None:
    """Monkey: key presses held up to just under the exit hold, ids typed, sessions started
    and stopped: the station stays open, never in exam mode, never with an input it does
    not offer (a camera or video); every session it ran is stored."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from sim.app.practice import PracticeScreen

    app, clock, lab = kiosk
    started: set[str] = set()

    def press(key: int, hold_s: float) -> None:
        """Down, held ``hold_s`` in one long frame (a fast monkey), up."""
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
        _frames(app, clock, 1)
        clock.t += hold_s
        app.frame()
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0, unicode=""))
        if app.running:
            _frames(app, clock, 1)

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(
            st.one_of(
                st.tuples(st.sampled_from(KIOSK_KEYS), st.floats(0.0, EXIT_HOLD_S - 0.1)),
                st.sampled_from(["t-1", "ana07", "/", "é"]),
            ),
            max_size=10,
        )
    )
    def run(presses: list) -> None:
        for p in presses:
            if isinstance(p, str):
                _type(app, p, clock)
            else:
                press(*p)
            assert app.running
            if isinstance(app.screen, PracticeScreen):
                started.add(app.screen.session_id)
                assert not app.screen.settings.exam
                assert app.screen.settings.input_spec == "mouse"

    _type(app, "t-1", clock)
    press(pygame.K_RETURN, 0.5)
    started.add(app.screen.session_id)  # type: ignore[attr-defined]
    press(pygame.K_ESCAPE, 0.0)  # a tap stops the session (stored, incomplete)...
    press(pygame.K_q, 0.0)  # ...and Q on the results does not close the station
    assert app.running
    run()
    _key(app, pygame.K_ESCAPE, clock, hold_s=EXIT_HOLD_S)
    assert not app.running
    assert {row.id for row in lab.local.find()} == started  # each one stored, once


@pytest.mark.parametrize("kiosk", [((1366, 768), ("mouse", "video"))], indirect=True)
def test_a_video_that_cannot_be_read_starts_nothing(kiosk: tuple, tmp_path: Path) -> None:
    """Back to the start screen with the reason, the trainee's id and choices kept, and
    nothing stored."""
    from sim.app.start import StartScreen

    app, clock, lab = kiosk
    while app.screen.kind != "video":
        _key(app, pygame.K_RIGHT, clock)
    _type(app, str(tmp_path / "gone.mp4"), clock)
    _key(app, pygame.K_TAB, clock)
    _type(app, "t-7", clock)
    _key(app, pygame.K_RETURN, clock)
    start = app.screen
    assert isinstance(start, StartScreen) and "gone.mp4: no such video file" in start.message
    assert start.trainee == "t-7" and start.kind == "video" and start.station
    _key(app, pygame.K_ESCAPE, clock, hold_s=EXIT_HOLD_S)
    assert not app.running
    assert lab.local.find() == [] and app.stored == []
