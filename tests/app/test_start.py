"""The start screen: trainee ids (what is refused, and that the screen says why), the video
input's path, a scenario named on the command line, descriptions shown whole, and the
command line's one-line answer for an input that cannot be opened."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

pygame = pytest.importorskip("pygame")

from sim.app.settings import (  # noqa: E402
    TRAINEE_ID_MAX,
    Settings,
    check_trainee_id,
    trainee_id_problem,
)
from sim.app.start import REFUSAL_S  # noqa: E402
from sim.errors import UserError  # noqa: E402
from sim.scenarios import find_scenario  # noqa: E402
from tests.app.driver import Driver  # noqa: E402
from tests.app.test_commands import one_clear_line, procsim  # noqa: E402

VALID = re.compile(rf"[A-Za-z0-9]([A-Za-z0-9._-]{{0,{TRAINEE_ID_MAX - 2}}}[A-Za-z0-9])?")


@given(st.text(max_size=40))
def test_a_trainee_id_is_letters_digits_and_dash_underscore_dot(text: str) -> None:
    problem = trainee_id_problem(text)
    assert (problem is None) == bool(VALID.fullmatch(text)), (text, problem)
    if problem is not None:
        assert "\n" not in problem and len(problem) < 120  # one line on the screen


@given(st.from_regex(VALID, fullmatch=True))
def test_a_valid_id_names_its_recordings_unchanged(tid: str) -> None:
    """Recording files carry the id as typed, so no two ids share a history (the first
    session's controls hint looks for a trainee's recordings by file name)."""
    from sim.paths import _slug

    assert _slug(tid) == tid


def test_refusals_say_why() -> None:
    assert '"/"' in (trainee_id_problem("ana/07") or "")
    assert "non-ASCII" in (trainee_id_problem("rené") or "")
    assert "spaces" in (trainee_id_problem("ana 07") or "")
    assert "starts and ends with a letter" in (trainee_id_problem("-x") or "")
    assert "starts and ends with a letter" in (trainee_id_problem("ana_") or "")
    assert "at most 32" in (trainee_id_problem("a" * 33) or "")
    with pytest.raises(UserError, match="ana/07"):
        check_trainee_id("ana/07")


def _amber(img: object) -> int:
    a = img.astype(int).reshape(-1, 3)  # type: ignore[attr-defined]
    return int(((a[:, 0] > 200) & (a[:, 1] > 130) & (a[:, 1] < 200) & (a[:, 2] < 90)).sum())


def test_typing_refuses_a_slash_and_an_accent_and_says_so(
    data_dir: Path, quit_display: None
) -> None:
    from sim.app.start import StartScreen

    d = Driver(None, size=(1366, 768))
    start = d.screen
    assert isinstance(start, StartScreen)
    d.frames(1)
    assert _amber(d.app.renderer.capture()) < 50  # no message yet
    for _ in range(len(start.trainee)):  # the driver's default id
        d.key(pygame.K_BACKSPACE)
    for ch in "ana/07":
        d.text(ch)
        if ch == "/":
            assert '"/" cannot be used' in start.message
    assert start.trainee == "ana07" and '"/"' in start.message  # typing on: still said
    d.clock.t += REFUSAL_S  # type: ignore[union-attr]
    d.frames(1)
    assert start.message == ""  # then it goes
    d.text("é")
    assert start.trainee == "ana07" and "non-ASCII" in start.message
    d.frames(1)
    assert _amber(d.app.renderer.capture()) > 200  # the refusal is on the screen
    d.key(pygame.K_BACKSPACE)
    assert start.trainee == "ana0"


def test_a_scenario_on_the_command_line_keeps_the_start_screen(
    data_dir: Path, quit_display: None
) -> None:
    """``procsim practice suturing --exam``: the start screen, with suturing and exam mode
    chosen, so the trainee id and hand can be set; with ``--trainee`` it starts at once."""
    from sim.app.app import App
    from sim.app.practice import PracticeScreen
    from sim.app.start import StartScreen

    sut = find_scenario("suturing")
    app = App((640, 360), Settings(sut, exam=True), realtime=False, sound=False, hidden=True)
    start = app.screen
    assert isinstance(start, StartScreen)
    assert start.scenarios[start.index].id == "suturing" and start.exam
    for ch in "t-1":
        pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text=ch))
    for key in (pygame.K_F3, pygame.K_RETURN):
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
    app.frame()
    practice = app.screen
    assert isinstance(practice, PracticeScreen)
    st_ = practice.settings
    assert (st_.scenario.id, st_.trainee, st_.hand, st_.exam) == ("suturing", "t-1", "left", True)
    practice.close()
    pygame.display.quit()
    app = App((640, 360), Settings(sut, trainee="t-1"), realtime=False, sound=False, hidden=True)
    assert isinstance(app.screen, PracticeScreen)  # everything given: no start screen
    app.screen.close()


def test_video_needs_a_path_and_a_missing_file_does_not_start(
    data_dir: Path, quit_display: None, tmp_path: Path
) -> None:
    from sim.app.start import StartScreen

    d = Driver(None, size=(1366, 768))
    start = d.screen
    assert isinstance(start, StartScreen)
    while start.kind != "video":
        d.key(pygame.K_RIGHT)
    assert start.focus == "video"  # typing goes to the path
    d.key(pygame.K_RETURN)
    assert d.screen is start and "path of a video file" in start.message
    d.text(str(tmp_path / "nope.mp4"))
    d.key(pygame.K_TAB)
    d.text("-ana07")
    assert start.trainee == "e2e-test-ana07" and start.video_path.endswith("nope.mp4")
    d.key(pygame.K_RETURN)
    again = d.screen
    assert isinstance(again, StartScreen) and "nope.mp4: no such video file" in again.message
    assert again.kind == "video" and again.video_path.endswith("nope.mp4")  # fix, not retype
    assert d.app.recordings == [] and not (data_dir / "recordings").exists()


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_descriptions_are_shown_whole(
    size: tuple[int, int], data_dir: Path, quit_display: None
) -> None:
    """Every scenario's title is in view at once, and each description is drawn whole
    (wrapped, never cut with "…") at least when its scenario is chosen."""
    from sim.app.start import StartScreen

    d = Driver(None, size=size)
    start = d.screen
    assert isinstance(start, StartScreen)
    assert len(start.scenarios) >= 10  # the venipuncture cases too
    real = type(d.app.renderer.new_batch())
    text = real.text
    frames: list[list[str]] = []
    chosen_ids: set[str] = set()

    def spy(self: object, s: str, *args: object, **kw: object) -> float:
        frames[-1].append(s)
        return text(self, s, *args, **kw)  # type: ignore[arg-type]

    real.text = spy  # type: ignore[method-assign]
    try:
        for _ in start.scenarios:  # choose each in turn (Down)
            frames.append([])
            d.frames(1)
            drawn = frames[-1]
            assert all(sc.title in drawn for sc in start.scenarios)  # no scrolling needed
            chosen = start.scenarios[start.index]
            chosen_ids.add(chosen.id)
            words = " ".join(drawn).split()
            assert all(word in words for word in chosen.description.split()), chosen.id
            assert not any(s.endswith("…") for s in drawn)
            d.key(pygame.K_DOWN)
    finally:
        real.text = text  # type: ignore[method-assign]
    assert chosen_ids == {sc.id for sc in start.scenarios}


def test_command_line_input_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    env = {"PROCSIM_DATA_DIR": str(tmp_path / "data")}
    one_clear_line(procsim("practice", "--input", "webcam:9", env=env), "camera 9")
    one_clear_line(procsim("practice", "--trainee", "ana/07", env=env), '"/"')
    assert not (tmp_path / "data").exists()
