"""End to end: the real app driven with injected pygame events (stepped clock), from the
start screen through a venipuncture attempt and through suturing stitches to the results
screen, and recordings that re-score to what the trainee was shown."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

pygame = pytest.importorskip("pygame")

from sim.procedures.suturing.spec import parts as suturing_parts  # noqa: E402
from sim.storage.recording import load_recording  # noqa: E402
from sim.storage.session import rescore  # noqa: E402
from tests.app.driver import Driver  # noqa: E402


def _surface_y(d: Driver, z: float) -> float:
    r = d.screen.settings.scenario.geometry.arm_radius_mm
    return float((r * r - z * z) ** 0.5 - r)


def test_venipuncture_from_start_screen_to_results(data_dir: Path, quit_display: None) -> None:
    from sim.app.practice import PracticeScreen
    from sim.app.results import ResultsScreen
    from sim.app.start import StartScreen

    d = Driver(None)
    assert isinstance(d.screen, StartScreen)
    for _ in "e2e-test":  # the id the driver started with
        d.key(pygame.K_BACKSPACE)
    d.text("trainee-7")
    while d.screen.settings().scenario.id != "venipuncture":
        d.key(pygame.K_DOWN)
    d.key(pygame.K_RETURN)
    practice = d.screen
    assert isinstance(practice, PracticeScreen)
    d.frames(5)
    d.key(pygame.K_h)  # help overlay on and off again
    assert d.screen.help
    d.key(pygame.K_F1)
    d.key(pygame.K_1)  # the checklist: identity, hygiene and gloves
    d.key(pygame.K_2)
    d.key(pygame.K_t)  # tourniquet on
    assert d.screen.pipeline.state.tourniquet_on
    geo = d.screen.settings.scenario.geometry
    d.point_at((-14.0, _surface_y(d, geo.vein_lateral_mm), geo.vein_lateral_mm))
    d.seconds(0.5)
    for key in (pygame.K_3, pygame.K_4, pygame.K_5, pygame.K_6):  # site, clean, fist, anchor
        d.key(key)
    d.key(pygame.K_w, hold_s=(10.0 + 11.7) / 6.0)  # advance into the vein at 20 deg
    d.seconds(3.5)  # hold in the lumen until blood is drawn
    kinds = [e.kind for e in d.screen.pipeline.events]
    assert "flashback" in kinds and "blood_drawn" in kinds
    d.key(pygame.K_t)  # tourniquet off
    pipeline = d.screen.pipeline
    d.key(pygame.K_s, hold_s=3.0)  # withdraw: the procedure is complete
    d.frames(2)
    assert "completed" in [e.kind for e in pipeline.events]
    # it waits for the checklist's steps left, and says which
    assert d.screen is practice and "7 gauze and pressure" in (practice.options().message or "")
    d.key(pygame.K_7)
    assert d.screen is practice
    d.key(pygame.K_8)  # sharps: the last step, the session ends
    d.frames(2)
    assert isinstance(d.screen, ResultsScreen)
    result = d.screen.result
    assert result.complete and result.passed and result.score > 70
    assert not result.critical_errors
    assert [st.id for st in result.checklist if st.ok] == list(
        practice.settings.scenario.checklist.steps
    ), [(st.id, st.note) for st in result.checklist]
    path = d.screen.path
    assert path.parent == data_dir / "recordings" and "trainee-7" in path.name
    rec = load_recording(path)
    assert rec.complete and rec.header["trainee"] == "trainee-7" and rec.header["input"] == "mouse"
    # a session id of its own (the session store keys the session by it); not a station
    assert rec.header["meta"]["session_id"] == str(uuid.UUID(practice.session_id))
    assert rec.header["station"] == ""
    assert rec.header["calibration"] == {"noise_floor_mm": 0.0}  # the mouse needs none
    # the session is in this machine's session store: progress reports and
    # `procsim sessions` see it without an import
    from sim.lab.config import local_url
    from sim.lab.store import Store

    with Store(local_url()) as store:
        row = store.get(practice.session_id)
        assert row is not None and row.trainee_id == "trainee-7" and row.score == result.score
    again = rescore(path)
    assert again.matches
    assert json.dumps(again.result.as_dict(), sort_keys=True, default=str) == json.dumps(
        result.as_dict(), sort_keys=True, default=str
    )
    # the results screen shows the score in the pass colour; R retries the same scenario
    img = d.app.renderer.capture()
    s = img.shape[0] / 720
    box = img[int(35 * s) : int(75 * s), int(245 * s) : int(365 * s)].reshape(-1, 3).mean(axis=0)
    assert box[1] > box[0] + 50 and box[1] > box[2] + 50, box
    d.key(pygame.K_r)
    assert isinstance(d.screen, PracticeScreen)
    assert d.screen.settings.scenario.id == "venipuncture"


def test_suturing_stitch_to_results(data_dir: Path, quit_display: None) -> None:
    from sim.app.results import ResultsScreen

    d = Driver("suturing")
    sc = d.screen.settings.scenario
    bite = suturing_parts(sc)[1].bite_target_mm
    x = sc.geometry.planned_stitch_x_mm[0]
    d.frames(3)
    d.point_at((x, 0.0, -bite))
    d.seconds(0.5)
    d.key(pygame.K_f, hold_s=9.8 / 4.0)  # lower the hand until the tip touches the skin
    d.seconds(0.3)
    d.key(pygame.K_w, hold_s=2.4)  # turn the wrist: the needle follows its curve through
    d.seconds(1.0)
    done = [e for e in d.screen.pipeline.events if e.kind == "stitch_completed"]
    assert len(done) == 1
    assert abs(done[0].value("entry_bite_mm") - bite) < 0.5
    assert abs(done[0].value("exit_bite_mm") - bite) < 0.5
    d.key(pygame.K_RETURN)
    d.frames(2)
    assert isinstance(d.screen, ResultsScreen)
    result = d.screen.result
    assert result.metric("stitches").value == 1
    assert any("1 of 3" in e.message for e in result.errors)  # incomplete, and said so
    assert rescore(d.screen.path).matches


def test_closing_the_window_keeps_an_incomplete_recording(
    data_dir: Path, quit_display: None
) -> None:
    d = Driver("venipuncture")
    d.key(pygame.K_t)
    d.seconds(1.0)
    path = d.screen.path
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    d.frames(1)
    assert not d.app.running
    rec = load_recording(path)
    assert not rec.complete
    assert rec.result is not None and len(rec.samples) >= 55
    assert rescore(path).matches


def test_exam_mode_hides_the_banner(data_dir: Path, quit_display: None) -> None:
    from sim.render.hud import banner_rect

    d = Driver("venipuncture", exam=True)
    d.frames(2)
    d.key(pygame.K_e, hold_s=1.5)  # steep: the core raises "too steep"...
    d.point_at((-14.0, 0.0, 0.0))
    d.seconds(0.5)
    assert d.screen.pipeline.cues_engine.banner() is not None
    img = d.app.renderer.capture()
    x, y, w, h = banner_rect(d.app.renderer.size)
    c = img[int(y + 4) : int(y + h - 4), int(x + 4) : int(x + 40)].reshape(-1, 3).mean(axis=0)
    assert not (c[0] > 200 and c[2] < 80), c  # ...but an exam shows no banner


@pytest.mark.parametrize("spec", ["video:{tmp}/missing.mp4", "webcam:97"])
def test_an_input_that_cannot_be_opened_goes_back_to_the_start_screen(
    spec: str, data_dir: Path, quit_display: None, tmp_path: Path
) -> None:
    """No scored session, no recording: the start screen again, saying why."""
    from sim.app.settings import Settings
    from sim.app.start import StartScreen
    from sim.scenarios import find_scenario

    spec = spec.format(tmp=tmp_path)
    d = Driver(None)
    d.app.show_start(Settings(find_scenario("venipuncture"), spec, "ana07", False, "left"))
    d.key(pygame.K_RETURN)
    start = d.screen
    assert isinstance(start, StartScreen)
    expected = "missing.mp4: no such video file" if "video" in spec else "camera 97 cannot be"
    assert expected in start.message
    # the trainee's choices stay, so a corrected path or another input is one key away
    assert start.trainee == "ana07" and start.hand == "left" and start.kind == spec.split(":")[0]
    d.frames(1)
    img = d.app.renderer.capture().astype(int).reshape(-1, 3)
    amber_text = (img[:, 0] > 200) & (img[:, 1] > 130) & (img[:, 1] < 200) & (img[:, 2] < 90)
    assert amber_text.sum() > 200  # the message is on the screen
    d.key(pygame.K_ESCAPE)
    assert not d.app.running
    assert d.app.recordings == [] and not (data_dir / "recordings").exists()


def test_first_session_shows_a_controls_hint_until_the_first_action(
    data_dir: Path, quit_display: None
) -> None:
    from sim.procedures.registry import get

    HINT_SUTURING = get("suturing").help.hint
    d = Driver("suturing")
    d.frames(2)
    assert d.screen.options().message == HINT_SUTURING  # a new trainee: no recordings yet
    d.point_at((0.0, 0.0, -4.0))  # moving the mouse is not yet an action
    assert d.screen.options().message == HINT_SUTURING
    d.key(pygame.K_f, hold_s=0.2)
    assert d.screen.options().message is None
    d.key(pygame.K_ESCAPE)  # this session is recorded...
    d.key(pygame.K_r)  # ...so the next one has no hint
    d.frames(2)
    assert d.screen.options().message is None
