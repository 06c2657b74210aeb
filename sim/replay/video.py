"""``procsim export-video``: a replay rendered offscreen, frame by frame, into an MP4.

Each frame is the replay window's picture at that moment (scene, coaching HUD, ghost,
replay panel), drawn into an offscreen framebuffer, read back and handed to OpenCV's
``VideoWriter`` (MPEG-4 part 2, ``mp4v``). Progress goes to stderr.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from sim.errors import UserError


class Progress:
    """A one-line progress bar on a terminal stream (updated at most 10 times a second)."""

    def __init__(self, total: int, stream: TextIO | None = None, label: str = "export") -> None:
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self._t0 = time.monotonic()
        self._last = -1.0

    def update(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1 and done < self.total:
            return
        self._last = now
        f = min(done / self.total, 1.0)
        width = 30
        bar = "#" * int(f * width) + "." * (width - int(f * width))
        rate = done / max(now - self._t0, 1e-6)
        eta = (self.total - done) / rate if rate > 0 else 0.0
        self.stream.write(
            f"\r{self.label} [{bar}] {f * 100:3.0f}%  {done}/{self.total} frames  ETA {eta:4.0f} s"
        )
        self.stream.flush()

    def close(self) -> None:
        self.update(self.total, force=True)
        self.stream.write("\n")
        self.stream.flush()


def export_video(
    recording: str | Path,
    output: str | Path,
    *,
    fps: float = 30.0,
    size: tuple[int, int] = (1280, 720),
    speed: float = 1.0,
    ghost: str | Path | None = None,
    exam: bool = False,
    progress: bool = True,
) -> int:
    """Render a recording's replay into an MP4 file; returns the number of frames.

    Parameters
    ----------
    recording : path
        The recording to replay.
    output : path
        The ``.mp4`` to write (written under a temporary name, renamed when complete).
    fps : float
        Frames per second of the video.
    size : (width, height)
        Size of the scene; the replay panel adds a strip above it.
    speed : float
        Playback speed (0.25-4): 2 makes a video half as long as the session.
    ghost : path, optional
        An expert recording drawn as a translucent instrument.
    exam : bool
        Draw as in exam mode (no cue banner, no guides).
    """
    out = Path(output)
    if out.suffix.lower() != ".mp4":
        raise UserError(f"{out}: expected an .mp4 output file")
    if not out.parent.exists():
        raise UserError(f"{out.parent}: no such folder for the output")
    if not 1 <= fps <= 120:
        raise UserError(f"--fps {fps:g}: expected 1 to 120")
    if not 0.25 <= speed <= 4:
        raise UserError(f"--speed {speed:g}: expected 0.25 to 4")
    from sim.replay.timeline import Timeline

    tl = Timeline(recording)
    ghost_tl = Timeline(ghost) if ghost is not None else None
    if ghost_tl is not None and ghost_tl.header.get("scenario") != tl.header.get("scenario"):
        raise UserError(
            f"{ghost}: a recording of {ghost_tl.header.get('scenario')!r}, not "
            f"{tl.header.get('scenario')!r}: cannot be the ghost"
        )
    try:
        import cv2
    except ImportError:  # pragma: no cover - cv2 is a dependency
        raise UserError("export-video needs OpenCV: pip install opencv-contrib-python") from None

    from sim.render.offscreen import offscreen_context, use_offscreen_if_headless

    use_offscreen_if_headless()
    offscreen_context()
    from sim.render import gl as glu
    from sim.render.scene import DrawOptions
    from sim.replay.view import ReplayView

    view = ReplayView(tl, size, ghost_tl)
    full = view.full_size
    fbo = glu.Framebuffer(full)
    n = int(tl.duration_s / speed * fps) + 1
    part = out.with_name(out.stem + ".part.mp4")
    writer = cv2.VideoWriter(str(part), cv2.VideoWriter.fourcc(*"mp4v"), float(fps), full)
    if not writer.isOpened():
        raise UserError(f"{out}: OpenCV cannot write MPEG-4 video here")
    bar = Progress(n, label=f"{out.name}") if progress else None
    options = DrawOptions(exam=exam)
    try:
        for k in range(n):
            t = min(tl.start_s + k * speed / fps, tl.end_s)
            fbo.bind()
            view.draw(t, speed=speed, playing=True, options=options)
            image = glu.read_pixels(full)
            writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            if bar is not None:
                bar.update(k + 1)
    except BaseException:
        writer.release()
        part.unlink(missing_ok=True)
        raise
    finally:
        glu.bind_default_framebuffer(full)
        fbo.delete()
    writer.release()
    part.replace(out)
    if bar is not None:
        bar.close()
    return n
