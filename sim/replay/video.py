"""``procsim export-video``: a replay rendered offscreen, frame by frame, into an MP4.

Each frame is the replay window's picture at that moment (scene, coaching HUD, ghost,
replay panel; no "F1: controls" hint, which a video has no use for), drawn into an
offscreen framebuffer, read back and encoded as H.264 (yuv420p, the MP4's index at the
front) with PyAV's FFmpeg, which browsers and learning platforms play. Progress goes to
stderr: a bar on a terminal, a few plain lines in a log.
"""

from __future__ import annotations

import contextlib
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, TextIO

from sim.errors import UserError

H264_ENCODERS: tuple[tuple[str, dict[str, str]], ...] = (
    # libx264 (in PyAV's wheels): constant quality; CRF 20 keeps the HUD's 14 px text sharp
    # (our choice), preset "medium" is x264's own default
    ("libx264", {"crf": "20", "preset": "medium"}),
    # Cisco's OpenH264 (in some FFmpeg builds): bit rate set on the stream
    ("libopenh264", {}),
)
"""H.264 encoders tried in order, with their options."""
BITS_PER_PIXEL = 0.1
"""Bit rate of an encoder without a quality setting (OpenH264), per pixel and frame: about
3.4 Mbit/s for 1280x880 at 30 fps (our choice)."""


class Progress:
    """Progress of an export on ``stream`` (stderr by default).

    On a terminal, a one-line bar redrawn in place at most 10 times a second. Anywhere else
    (a log file, a pipe), plain lines at 25, 50, 75 and 100 % only, so that a log gets four
    lines, not thousands of carriage returns.
    """

    STEPS = (25, 50, 75, 100)

    def __init__(self, total: int, stream: TextIO | None = None, label: str = "export") -> None:
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        isatty = getattr(self.stream, "isatty", None)
        self.terminal = bool(isatty()) if callable(isatty) else False
        self._t0 = time.monotonic()
        self._last = -1.0
        self._step = 0  # index of the next plain line in STEPS

    def update(self, done: int, force: bool = False) -> None:
        f = min(done / self.total, 1.0)
        if not self.terminal:
            while self._step < len(self.STEPS) and f * 100 >= self.STEPS[self._step]:
                pct = self.STEPS[self._step]
                self.stream.write(f"{self.label}: {pct}% ({done}/{self.total} frames)\n")
                self.stream.flush()
                self._step += 1
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1 and done < self.total:
            return
        self._last = now
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
        if self.terminal:
            self.stream.write("\n")
            self.stream.flush()


class H264Writer:
    """Frames (RGB arrays) into an H.264 MP4 with PyAV.

    Parameters
    ----------
    path : Path
        The file to write.
    fps : float
        Frames per second.
    size : (width, height)
        Frame size, pixels; both even (yuv420p halves the colour planes).

    Raises
    ------
    UserError
        PyAV missing, or an FFmpeg without an H.264 encoder.
    """

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        try:
            import av
        except ImportError:  # pragma: no cover - av is a dependency
            raise UserError(
                "export-video needs PyAV (the 'av' package): run tools/setup.sh again"
            ) from None
        self._av = av
        name, options = _h264_encoder(av)
        self.codec = name
        self.rate = Fraction(fps).limit_denominator(1001)
        from sim.paths import private_file

        private_file(path)  # mode 0600 before FFmpeg writes into it
        self.container: Any = av.open(
            str(path), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        stream: Any = self.container.add_stream(name, rate=self.rate, options=options)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if not options:
            stream.bit_rate = int(BITS_PER_PIXEL * size[0] * size[1] * float(self.rate))
        self.stream = stream
        self.frames = 0

    def write(self, rgb: Any) -> None:
        """Encode one frame: a (height, width, 3) uint8 RGB array."""
        frame = self._av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = self.frames
        frame.time_base = 1 / self.rate
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()

    def abandon(self) -> None:
        """Close without flushing (the file is deleted by the caller)."""
        with contextlib.suppress(Exception):  # the file is thrown away anyway
            self.container.close()


def _h264_encoder(av: Any) -> tuple[str, dict[str, str]]:
    """The first of :data:`H264_ENCODERS` that this FFmpeg has."""
    for name, options in H264_ENCODERS:
        try:
            av.codec.Codec(name, "w")
        except Exception:  # noqa: BLE001 - PyAV raises its own errors for a missing codec
            continue
        return name, options
    raise UserError(
        "export-video: this PyAV/FFmpeg has no H.264 encoder (libx264 or libopenh264): "
        "reinstall with tools/setup.sh (PyAV's wheels from PyPI include libx264)"
    )


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
    """Render a recording's replay into an H.264 MP4 file; returns the number of frames.

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
    from sim.render.offscreen import offscreen_context, use_offscreen_if_headless

    use_offscreen_if_headless()
    offscreen_context()
    from sim.render import gl as glu
    from sim.render.scene import DrawOptions
    from sim.replay.view import ReplayView

    view = ReplayView(tl, size, ghost_tl)
    view.model.wait()  # a video is made at once: every frame has the discomfort trace
    full = view.full_size
    n = int(tl.duration_s / speed * fps) + 1
    part = out.with_name(out.stem + ".part.mp4")
    writer = H264Writer(part, fps, full)  # no H.264 encoder: one line, before any file
    fbo = glu.Framebuffer(full)
    bar = Progress(n, label=f"{out.name}") if progress else None
    options = DrawOptions(exam=exam)  # no help lines: no "F1: controls" hint in the video
    try:
        for k in range(n):
            t = min(tl.start_s + k * speed / fps, tl.end_s)
            fbo.bind()
            view.draw(t, speed=speed, playing=True, options=options)
            writer.write(glu.read_pixels(full))
            if bar is not None:
                bar.update(k + 1)
        writer.close()
    except BaseException:
        writer.abandon()
        part.unlink(missing_ok=True)
        raise
    finally:
        glu.bind_default_framebuffer(full)
        fbo.delete()
    part.replace(out)
    if bar is not None:
        bar.close()
    return n
