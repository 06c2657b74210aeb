"""The start screen offers the curriculum's suggestion for the typed trainee id; a station
with follow_curriculum selects it by itself."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

pygame = pytest.importorskip("pygame")

from sim.app.start import NEXT_DELAY_S  # noqa: E402
from sim.errors import UserError  # noqa: E402
from sim.lab.config import StationConfig, load_config  # noqa: E402
from sim.lab.store import MetricValue, SessionRow  # noqa: E402
from tests.app.driver import Driver  # noqa: E402

T0 = dt.datetime(2026, 3, 2, 9, 0)


def row(scenario: str, score: float, n: int, angle_points: float = 100.0) -> SessionRow:
    """A stored, complete session of ``ana07``: passed at 70 or more; the angle (weight 3
    of 4) earns ``angle_points`` and the smoothness the rest of the score."""
    metrics = (
        MetricValue("angle_error_deg", 5.0, "deg", angle_points, 3.0, 0.0, 15.0),
        MetricValue("sparc", -3.0, "", 4 * score - 3 * angle_points, 1.0, -2.0, -8.0),
    )
    t = T0 + dt.timedelta(hours=n)
    return SessionRow(
        f"id-{n}", "ana07", None, "", scenario, "h", "mouse", t, t + dt.timedelta(minutes=2),
        120.0, score, score >= 70, True, (), None, metrics,
    )  # fmt: skip


def _drawn(d: Driver) -> list[str]:
    """The strings drawn in one frame."""
    real = type(d.app.renderer.new_batch())
    text = real.text
    seen: list[str] = []

    def spy(self: object, s: str, *args: object, **kw: object) -> float:
        seen.append(s)
        return text(self, s, *args, **kw)  # type: ignore[arg-type]

    real.text = spy  # type: ignore[method-assign]
    try:
        d.frames(1)
    finally:
        real.text = text  # type: ignore[method-assign]
    return seen


def _retype(d: Driver, tid: str) -> None:
    for _ in range(len(d.screen.trainee)):
        d.key(pygame.K_BACKSPACE)
    d.text(tid)


def test_typed_id_brings_the_suggestion_and_f4_selects_it(
    data_dir: Path, quit_display: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.app.app import App
    from sim.app.practice import PracticeScreen
    from sim.app.start import StartScreen

    history = {"ana07": [row("venipuncture", 80, 0), row("venipuncture", 85, 1)]}
    monkeypatch.setattr(App, "history", lambda self, tid: history.get(tid, []))
    d = Driver(None, size=(1366, 768))
    start = d.screen
    assert isinstance(start, StartScreen)
    _retype(d, "ana07")
    d.frames(1)
    assert start.next is None  # not while typing
    d.seconds(NEXT_DELAY_S)
    d.frames(1)
    assert start.next is not None and start.next.scenario == "venipuncture-anticoagulated"
    drawn = " ".join(_drawn(d))
    assert "Next: Venipuncture: patient on anticoagulants —" in drawn
    assert "Take it  (F4)" in drawn
    assert start.scenarios[start.index].id != "venipuncture-anticoagulated"
    d.key(pygame.K_F4)
    assert start.scenarios[start.index].id == "venipuncture-anticoagulated"
    assert "selected" in _drawn(d)
    # another id: the suggestion goes while it is typed, and comes for the new one
    d.key(pygame.K_BACKSPACE)
    d.frames(1)
    assert start.next is None
    d.seconds(NEXT_DELAY_S)
    d.frames(1)
    assert start.next is not None and start.next.kind == "start"  # "ana0": no sessions
    d.text("7")
    d.seconds(NEXT_DELAY_S)
    d.frames(1)
    d.key(pygame.K_RETURN)
    assert isinstance(d.screen, PracticeScreen)
    assert d.screen.settings.scenario.id == "venipuncture-anticoagulated"
    d.screen.close()


def _suggested_to(history: list, monkeypatch: pytest.MonkeyPatch) -> Driver:
    """The start screen at 1366x768 once trainee "ana07", whose stored sessions are
    ``history``, has been typed and the suggestion has had time to come."""
    from sim.app.app import App

    monkeypatch.setattr(App, "history", lambda self, tid: history)
    d = Driver(None, size=(1366, 768))
    _retype(d, "ana07")
    d.seconds(NEXT_DELAY_S)
    d.frames(1)
    return d


def test_a_failure_suggests_the_drill_for_what_lost_most(
    data_dir: Path, quit_display: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 55 points: the angle (weight 3 of 4) earned 40, so it cost 45 of the 45 lost
    history = [row("venipuncture", 55, 0, angle_points=40.0)]
    d = _suggested_to(history, monkeypatch)
    rec = d.screen.next
    assert rec is not None and rec.scenario == "drill-angle"
    assert "lost 45 points on insertion angle error" in rec.reason
    d.key(pygame.K_F4)
    assert d.screen.scenarios[d.screen.index].id == "drill-angle"


def test_after_the_exam_the_line_says_where_sign_off_stands_in_three_lines(
    data_dir: Path, quit_display: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ladder = ["venipuncture", "venipuncture-anticoagulated", "venipuncture-elderly",
              "venipuncture-anxious", "venipuncture-cephalic", "venipuncture-child"]  # fmt: skip
    played = [sc for sc in ladder for _ in range(2)] + ["venipuncture-obese"]
    played += ["venipuncture-anxious", "venipuncture-cephalic", "venipuncture-child"]
    # recent sessions (the app asks with the clock's now): no gap before sign-off to say
    recent = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=1)
    monkeypatch.setitem(globals(), "T0", recent - dt.timedelta(hours=len(played)))
    # the exam (venipuncture-obese) taken in exam mode, as the curriculum gives it
    history = [
        dataclasses.replace(row(sc, 85, n), exam=sc == "venipuncture-obese")
        for n, sc in enumerate(played)
    ]
    d = _suggested_to(history, monkeypatch)
    rec = d.screen.next
    # 16 passes: S = 2.92 of h 3.82; the exam is the hard case practised least recently
    assert rec is not None and (rec.kind, rec.scenario) == ("practice", "venipuncture-obese")
    drawn = _drawn(d)
    first = next(i for i, s in enumerate(drawn) if s.startswith("Next: "))
    lines = drawn[first : first + 3]
    said = " ".join(lines)
    assert "You passed the exam; LC-CUSUM 2.9 of 3.8: 5 more passes in a row sign you off" in said
    assert not any(s.endswith("…") for s in lines)  # all of it fits: nothing cut


def test_a_station_following_the_curriculum_selects_the_suggestion(
    data_dir: Path, quit_display: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.app.station import StationApp
    from sim.lab.sync import Lab

    history = [row("venipuncture", 80, 0), row("venipuncture", 85, 1)]
    monkeypatch.setattr(StationApp, "history", lambda self, tid: history)
    clock = _Stepped()
    cfg = StationConfig(station_id="a-03", follow_curriculum=True)
    with Lab(f"sqlite:///{data_dir / 'sessions.sqlite'}") as lab:
        app: Any = StationApp(cfg, lab, (1366, 768), clock=clock, realtime=False, sound=False,
                              hidden=True)  # fmt: skip
        start = app.screen
        for ch in "ana07":
            pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text=ch))
        app.frame()
        clock.t += NEXT_DELAY_S + 0.05
        app.frame()
        assert start.scenarios[start.index].id == "venipuncture-anticoagulated"
        app.shutdown()
    # a station offering only some scenarios says the suggestion is not offered here
    cfg = StationConfig(station_id="a-04", scenarios=("venipuncture", "suturing"),
                        follow_curriculum=True)  # fmt: skip
    pygame.display.quit()
    with Lab(f"sqlite:///{data_dir / 'sessions.sqlite'}") as lab:
        app = StationApp(cfg, lab, (1366, 768), clock=clock, realtime=False, sound=False,
                         hidden=True)  # fmt: skip
        start = app.screen
        before = start.index
        pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text="ana07"))
        app.frame()
        clock.t += NEXT_DELAY_S + 0.05
        app.frame()
        assert start.index == before
        assert "'Venipuncture: patient on anticoagulants' is not offered here" in start.message
        app.shutdown()


class _Stepped:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_station_config_follow_curriculum(tmp_path: Path) -> None:
    p = tmp_path / "station.toml"
    p.write_text('[station]\nfollow_curriculum = true\ncurriculum = "my-curriculum.toml"\n')
    cfg = load_config(p)
    assert cfg.follow_curriculum and cfg.curriculum == str(tmp_path / "my-curriculum.toml")
    p.write_text('[station]\nfollow_curriculum = "yes"\n')
    with pytest.raises(UserError, match="key 'station.follow_curriculum': expected true or"):
        load_config(p)
    p.write_text('[station]\nfollow_curriculum = true\nassigned_scenario = "suturing"\n')
    with pytest.raises(UserError, match="expected false with assigned_scenario"):
        load_config(p)


def test_a_following_station_drops_the_last_trainees_pick_when_the_next_cannot_be_followed(
    data_dir: Path, quit_display: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.app.station import StationApp
    from sim.lab.sync import Lab

    histories = {
        "ana07": [row("venipuncture", 80, 0), row("venipuncture", 85, 1)],
        "bob08": [dataclasses.replace(row("iv-cannulation", 80, 0), trainee_id="bob08")],
    }
    monkeypatch.setattr(StationApp, "history", lambda self, tid: histories.get(tid, []))
    clock = _Stepped()
    offered = ("venipuncture", "venipuncture-anticoagulated", "suturing")
    cfg = StationConfig(station_id="a-05", scenarios=offered, follow_curriculum=True)
    with Lab(f"sqlite:///{data_dir / 'sessions.sqlite'}") as lab:
        app: Any = StationApp(cfg, lab, (1366, 768), clock=clock, realtime=False, sound=False,
                              hidden=True)  # fmt: skip
        start = app.screen
        default = start.scenarios[start.index].id
        for tid in ("ana07", "bob08"):
            for _ in range(len(start.trainee)):
                pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_BACKSPACE))
            pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text=tid))
            app.frame()
            clock.t += NEXT_DELAY_S + 0.05
            app.frame()
            assert start.trainee == tid and start.next is not None, start.trainee
            if tid == "ana07":
                assert start.scenarios[start.index].id == "venipuncture-anticoagulated"
        # bob08's suggestion (an IV case) is not offered: not ana07's pick, the default
        assert "is not offered here" in start.message
        assert start.scenarios[start.index].id == default != "venipuncture-anticoagulated"
        app.shutdown()


def test_practice_and_station_take_an_instructors_curriculum_file(
    data_dir: Path, quit_display: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from sim.app.app import App
    from sim.curriculum import CURRICULUM_FILE
    from tests.mutations import assert_one_clean_line, run_cli

    mine = tmp_path / "my-ladder.toml"
    mine.write_bytes(CURRICULUM_FILE.read_bytes())
    seen: list[str] = []

    def run(self: Any) -> int:
        seen.append(self.curriculum.source)
        self.shutdown()
        return 0

    monkeypatch.setattr(App, "run", run)
    rc, _, err = run_cli(["practice", "--curriculum", str(mine), "--size", "800x600"])
    assert rc == 0 and seen == [str(mine)], err
    # a bad file is one line naming it, before any window, for both commands
    bad = tmp_path / "none.toml"
    for cmd in (["practice"], ["station", "--config", str(tmp_path / "s.toml")]):
        (tmp_path / "s.toml").write_text('[station]\nid = "s"\n')
        rc, _, err = run_cli([*cmd, "--curriculum", str(bad)])
        assert rc == 2
        assert_one_clean_line(err, bad)
