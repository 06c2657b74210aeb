"""The replay window and the video export, offscreen (Mesa/EGL): what is on screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from sim.cli import main  # noqa: E402
from sim.pipeline import Pipeline  # noqa: E402
from sim.replay.timeline import Timeline  # noqa: E402
from sim.scenarios import find_scenario  # noqa: E402
from sim.sources.scripted import ScriptedSource  # noqa: E402
from sim.storage.session import run_session  # noqa: E402


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A novice recording and an expert one (the ghost) of venipuncture."""
    d = tmp_path_factory.mktemp("viewer")
    sc = find_scenario("venipuncture")
    out = []
    for skill in ("novice", "expert"):
        p = d / f"{skill}.jsonl"
        run_session(Pipeline(sc), ScriptedSource(sc, skill, 5), p, trainee=f"t-{skill}")
        out.append(p)
    return out[0], out[1]


class Stepped:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _post_key(key: int, mod: int = 0) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=mod, unicode=""))


def _playhead_x(img: np.ndarray, win: object) -> float:
    """Column of the white playhead in the panel's plot area."""
    lay = win.layout  # type: ignore[attr-defined]
    y = int((lay.plot_top + lay.plot_bottom) / 2)
    row = img[y].astype(int)
    white = np.where(row.min(axis=1) > 235)[0]
    assert len(white), "no playhead drawn"
    return float(white.mean())


def test_replay_window_plays_seeks_and_draws_the_ghost(
    pair: tuple[Path, Path], quit_display: None
) -> None:
    from sim.app.replay import ReplayWindow

    novice, expert = pair
    clock = Stepped()
    win = ReplayWindow(
        Timeline(novice), Timeline(expert), (640, 360), clock=clock, realtime=False, hidden=True
    )
    tl = win.tl
    _post_key(pygame.K_END)  # straight to the end: the recorded pose shows at once
    win.frame()
    assert win.clock.t_s == tl.end_s and not win.view.derived.complete
    shown = win.view.frame_at(tl.end_s, exact=False)
    assert shown.sample == tl.state_at(tl.end_s).sample and shown.view is None
    _post_key(pygame.K_HOME)
    win.frame()
    assert not win.clock.playing and win.clock.t_s == tl.start_s
    _post_key(pygame.K_SPACE)
    win.frame()
    clock.t += 2.0
    _post_key(pygame.K_UP)  # 2x
    win.frame()
    assert win.clock.playing and win.clock.speed == 2.0
    assert win.clock.t_s == pytest.approx(tl.start_s + 4.0)
    for _ in range(5):
        _post_key(pygame.K_DOWN)
    win.frame()
    assert win.clock.speed == 0.25  # never below 0.25x

    # click on the timeline: the playhead jumps there, in the picture too
    lay = win.layout
    target = tl.start_s + 0.6 * tl.duration_s
    x = lay.x_of(target, tl.start_s, tl.end_s)
    bar_y = int((lay.bar_top + lay.bar_bottom) / 2)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(int(x), bar_y)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(int(x), bar_y)))
    _post_key(pygame.K_SPACE)  # pause
    win.frame()
    assert win.clock.t_s == pytest.approx(target, abs=tl.duration_s / 500)
    img = win.capture()
    assert abs(_playhead_x(img, win) - x) < 3
    # the scene shows what the recording had then (the same frame the video would show)
    frame = win.view.frame_at(win.clock.t_s)
    assert frame.sample == tl.state_at(win.clock.t_s).sample

    # frame stepping moves one sample
    i = tl.index_at(win.clock.t_s)
    _post_key(pygame.K_RIGHT)
    win.frame()
    assert win.clock.t_s == tl.t[i + 1]

    # the ghost: the scene changes where the translucent instrument is drawn
    with_ghost = win.capture()[win.view.panel_h :]
    _post_key(pygame.K_g)
    win.frame()
    without = win.capture()[win.view.panel_h :]
    assert not win.ghost_on
    changed = np.any(np.abs(with_ghost.astype(int) - without.astype(int)) > 8, axis=2)
    assert changed.mean() > 0.002, "the ghost instrument is not visible"

    _post_key(pygame.K_ESCAPE)
    win.frame()
    assert not win.running


def test_export_video_bad_input(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    novice, _ = pair
    assert main(["export-video", str(novice), "-o", str(tmp_path / "x.avi")]) == 2
    assert "expected an .mp4" in capsys.readouterr().err
    other = tmp_path / "suturing.jsonl"
    sc = find_scenario("suturing")
    run_session(Pipeline(sc), ScriptedSource(sc, "expert", 0), other)
    out = str(tmp_path / "x.mp4")
    assert main(["export-video", str(novice), "-o", out, "--ghost", str(other)]) == 2
    assert "cannot be the ghost" in capsys.readouterr().err
