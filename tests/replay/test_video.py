"""``export-video`` writes H.264 that browsers play, without the window's "F1: controls"
hint, and its progress does not flood a log."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygame")
av = pytest.importorskip("av")

from sim.cli import main  # noqa: E402
from sim.render.hud import draw_hud  # noqa: E402
from sim.render.overlay import Batch2D, GlyphAtlas  # noqa: E402
from sim.render.scene import DrawOptions, Frame  # noqa: E402
from sim.replay.timeline import Timeline  # noqa: E402
from sim.replay.video import Progress  # noqa: E402
from tests.replay.helpers import record  # noqa: E402


def test_export_video_is_h264_with_every_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = record(tmp_path, "venipuncture", "expert", 3)
    out = tmp_path / "replay.mp4"
    fps, speed = 5, 4.0
    args = ["export-video", str(rec), "-o", str(out), "--size", "320x180", "--fps", str(fps)]
    assert main([*args, "--speed", str(speed)]) == 0
    tl = Timeline(rec)
    n = int(tl.duration_s / speed * fps) + 1
    err = capsys.readouterr().err
    # stderr is not a terminal here: a few plain lines, no carriage-return bar
    assert "\r" not in err and err.count("\n") <= 4 and "100% " in err
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"  # what browsers decode
        frames = list(container.decode(stream))
        duration = float(stream.duration * stream.time_base)
    assert len(frames) == n
    assert duration == pytest.approx(n / fps, abs=1.01 / fps)
    assert (frames[0].width, frames[0].height) == (320, 180 + 140)  # scene and replay panel
    assert not list(tmp_path.glob("*.part.mp4"))


class Texts(Batch2D):
    def __init__(self) -> None:
        super().__init__(GlyphAtlas())
        self.texts: list[str] = []

    def text(self, text: str, *a: Any, **kw: Any) -> float:
        self.texts.append(text)
        return super().text(text, *a, **kw)


def test_the_controls_hint_is_for_windows_only(veni: Any) -> None:
    """The video and `render` draw with no help lines: no "F1 / H: controls" in them; the
    windows, which have a controls overlay, keep the hint."""
    frame = Frame(scenario=veni, sample=None)
    video, window = Texts(), Texts()
    draw_hud(video, frame, DrawOptions(), (1280, 720))
    draw_hud(window, frame, DrawOptions(help_lines=(("Space", "play"),)), (1280, 720))
    assert "F1 / H: controls" not in video.texts
    assert "F1 / H: controls" in window.texts


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_four_lines_in_a_log() -> None:
    log, tty = io.StringIO(), Tty()
    for stream in (log, tty):
        bar = Progress(900, stream, label="x.mp4")
        for k in range(1, 901):
            bar.update(k)
        bar.close()
    lines = log.getvalue().splitlines()
    assert lines == [f"x.mp4: {p}% ({p * 9}/900 frames)" for p in (25, 50, 75, 100)]
    assert "\r" in tty.getvalue() and "100%" in tty.getvalue()
