"""Webcam and video-file hand tracking as a live source (``webcam``, ``webcam:N``,
``video:PATH``), and the same path run offline over every frame of a video.

Two background threads, so that the render loop never waits for the tracker:

- the capture thread reads frames, stamps each with its capture time (``time.monotonic``;
  for a video, its own timestamp), flips it into the selfie view if configured and hands it
  over. Live, only the newest frame waits for the tracker (older ones are dropped, so the
  latency stays one frame); offline, frames queue up and none is dropped;
- the tracking thread runs MediaPipe Hands on each frame, turns the detections into a
  :class:`~sim.core.records.Sample` (:class:`sim.tracking.tracker.HandTracker`) and queues it.

``poll()`` returns the queued Samples without blocking. When the device fails (no frames,
camera unplugged, video ended, tracker error) ``error`` says so in one line; a last
``poll()`` still returns what was queued, so the recording keeps everything.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sim.core.assist import DepthAssist
from sim.core.records import Item, Sample
from sim.errors import UserError
from sim.tracking.filters import PoseSmoother
from sim.tracking.hand import FloatArray, HandObservation
from sim.tracking.pose import Workspace
from sim.tracking.tracker import Detector, HandTracker, TrackerConfig

_BATCH_S = 0.02
"""Offline, the capture thread and the consumer wake every this often, not every frame."""


@dataclass(frozen=True, slots=True)
class InputSpec:
    """A parsed ``--input``: ``kind`` is ``"webcam"`` (``device`` index) or ``"video"``."""

    kind: str
    device: int = 0
    path: str = ""

    def __str__(self) -> str:
        return f"webcam:{self.device}" if self.kind == "webcam" else f"video:{self.path}"


def parse_input_spec(spec: str) -> InputSpec:
    """``webcam``, ``webcam:N`` or ``video:PATH`` -> :class:`InputSpec` (UserError otherwise)."""
    if spec == "webcam":
        return InputSpec("webcam", 0)
    if spec.startswith("webcam:"):
        idx = spec.partition(":")[2]
        if not idx.isdigit():
            raise UserError(f"--input {spec}: expected webcam:N with N a camera number (0, 1...)")
        return InputSpec("webcam", int(idx))
    if spec.startswith("video:") and spec.partition(":")[2]:
        return InputSpec("video", path=spec.partition(":")[2])
    raise UserError(f"--input {spec}: expected webcam, webcam:N or video:PATH")


class FrameGrabber(Protocol):
    """Where frames come from (an OpenCV capture, or a fake in tests)."""

    is_video: bool
    size: tuple[int, int]
    fps: float

    def read(self) -> tuple[np.ndarray | None, float | None]:
        """Next BGR frame ((h, w, 3) uint8) and its timestamp in s (videos), or (None, None)
        when no frame came."""
        ...

    def release(self) -> None: ...


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UserError(
            f"camera input needs OpenCV (pip install 'opencv-contrib-python==4.11.0.86'): {exc}"
        ) from None
    return cv2


def _quietly(fn: Callable[[], Any], cv2: Any) -> Any:
    """Run ``fn`` with OpenCV's own logging silenced (a missing camera is our one-line
    message, not backend warnings)."""
    if not hasattr(cv2, "setLogLevel"):  # pragma: no cover - depends on the OpenCV build
        return fn()
    level = cv2.getLogLevel()
    cv2.setLogLevel(0)  # silent
    try:
        return fn()
    finally:
        cv2.setLogLevel(level)


class CvCapture:
    """An OpenCV ``VideoCapture`` opened on a webcam or a video file.

    Raises
    ------
    UserError
        When the camera or the file cannot be opened or gives no frame (one line).
    """

    def __init__(self, spec: InputSpec) -> None:
        cv2 = _cv2()
        self._cv2 = cv2
        self.is_video = spec.kind == "video"
        if self.is_video:
            p = Path(spec.path)
            if p.is_dir():
                raise UserError(f"{p}: is a folder (expected a video file)")
            if not p.is_file():
                raise UserError(f"{p}: no such video file")
            cap = cv2.VideoCapture(str(p))
            what = f"{p}: not a readable video"
        else:
            cap = _quietly(lambda: cv2.VideoCapture(spec.device), cv2)
            what = (
                f"camera {spec.device} cannot be opened (no camera, or in use by another program)"
            )
        if not cap.isOpened():
            cap.release()
            raise UserError(what)
        if not self.is_video:
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not a stale backlog
        self._cap = cap
        self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or 0.0
        self._index = 0
        self._last_ts = -math.inf
        first, ts = self.read()
        if first is None:
            cap.release()
            raise UserError(what if self.is_video else f"camera {spec.device} gives no frames")
        # A video replays its first frame; a camera's would be stale by start().
        self._pending: tuple[np.ndarray, float | None] | None = (
            (first, ts) if self.is_video else None
        )
        self.size = (int(first.shape[1]), int(first.shape[0]))

    def read(self) -> tuple[np.ndarray | None, float | None]:
        if getattr(self, "_pending", None) is not None:
            out, self._pending = self._pending, None
            assert out is not None
            return out
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None, None
        ts: float | None = None
        if self.is_video:
            ts = float(self._cap.get(self._cv2.CAP_PROP_POS_MSEC)) / 1000.0
            if not ts > self._last_ts:  # backends without timestamps, or a glitch
                step = 1.0 / self.fps if self.fps > 0 else 1.0 / 30.0
                ts = (self._last_ts + step) if math.isfinite(self._last_ts) else 0.0
            self._last_ts = ts
        self._index += 1
        return frame, ts

    def release(self) -> None:
        self._cap.release()


@dataclass(frozen=True, slots=True)
class FrameView:
    """The newest tracked frame, for the picture-in-picture camera view.

    Attributes
    ----------
    t_s : float
        Sample time of the frame, s.
    rgb : (h, w, 3) uint8 array
        The frame as tracked (mirrored when the tracker mirrors): draw it as is.
    landmarks : (21, 3) float array or None
        The driving hand's normalised image landmarks in ``rgb``; None when not tracked.
    others : tuple of (21, 3) float arrays
        Other hands found (ignored phantoms), same units.
    tracked : bool
        False shows the "hand not visible" cue.
    """

    t_s: float
    rgb: np.ndarray
    landmarks: FloatArray | None
    others: tuple[FloatArray, ...]
    tracked: bool


@dataclass(frozen=True, slots=True)
class _Frame:
    t_s: float  # sample time
    t_cap: float  # monotonic capture time
    rgb: np.ndarray


class _End:
    def __init__(self, message: str | None) -> None:
        self.message = message


class CameraSource:
    """Live hand tracking from a webcam or a video file (a :class:`sim.sources.LiveSource`).

    Parameters
    ----------
    spec : str or InputSpec
        ``webcam``, ``webcam:N`` or ``video:PATH``.
    config : TrackerConfig
        Dominant hand, model complexity, mirroring, grip thresholds.
    realtime : bool
        True (live): a video plays at its own speed from :meth:`start`, frames the tracker
        cannot keep up with are dropped and sample times are seconds since ``t0``.
        False (offline, video only): every frame is tracked, as fast as possible, and
        sample times are the video's own timestamps (deterministic).
    workspace : Workspace, optional
        Camera-to-scene mapping (default: uncalibrated).
    roll_offset_deg : float
        Calibrated roll offset.
    assist : DepthAssist, optional
        How z (across the arm) is set: from the camera's depth (default) or snapped to the
        task's line (the scenario's ``[input.KIND]``, :func:`sim.scenarios.depth_assist`).
    grabber, detector : optional
        Injected frame source and hand detector (tests); by default an OpenCV capture and
        MediaPipe Hands.

    Raises
    ------
    UserError
        When the camera or video cannot be opened (one line: the app offers the mouse).
    """

    def __init__(
        self,
        spec: str | InputSpec,
        config: TrackerConfig | None = None,
        *,
        realtime: bool = True,
        workspace: Workspace | None = None,
        roll_offset_deg: float = 0.0,
        assist: DepthAssist | None = None,
        grabber: FrameGrabber | None = None,
        detector: Detector | None = None,
    ) -> None:
        self.spec = parse_input_spec(spec) if isinstance(spec, str) else spec
        self.config = config or TrackerConfig()
        self.input_kind = self.spec.kind
        self.error: str | None = None
        self.realtime = realtime
        if not realtime and self.spec.kind != "video":
            raise UserError("offline tracking needs a video file, not a camera")
        self._grabber: FrameGrabber = grabber or CvCapture(self.spec)
        try:
            if detector is None:
                from sim.tracking.mediapipe_hands import MediaPipeHands

                detector = MediaPipeHands(self.config)
        except BaseException:
            self._grabber.release()
            raise
        self._detector: Detector = detector
        self.image_size = self._grabber.size
        self.tracker = HandTracker(self.config, self.image_size, workspace, roll_offset_deg, assist)
        self._frames: queue.Queue[_Frame | _End] = queue.Queue(maxsize=1 if realtime else 16)
        self._out: queue.Queue[Sample] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._t0 = 0.0
        self._latest: FrameView | None = None
        self._smoother = PoseSmoother()
        self._display: Sample | None = None
        self._done = threading.Event()
        self._closed = False
        self.latencies_s: deque[float] = deque(maxlen=100_000)
        """Capture-to-Sample latency of each tracked frame, s (newest last)."""
        self.frames_read = 0
        self.frames_dropped = 0
        self.frames_tracked = 0
        self.frames_with_hand = 0
        self.tracking_time_s = 0.0
        """Wall time spent in the tracking thread on frames (detector and mapping), s."""

    # --- LiveSource protocol ------------------------------------------------------------
    def start(self, t0_monotonic_s: float | None = None) -> None:
        """Start capturing and tracking; sample times are seconds since ``t0_monotonic_s``."""
        if self._threads:
            return
        self._t0 = time.monotonic() if t0_monotonic_s is None else t0_monotonic_s
        for target, name in ((self._capture_loop, "capture"), (self._track_loop, "track")):
            th = threading.Thread(target=target, name=f"procsim-{name}", daemon=True)
            self._threads.append(th)
            th.start()

    def poll(self) -> list[Item]:
        """Samples produced since the last call, oldest first; never blocks."""
        out: list[Item] = []
        while True:
            try:
                s = self._out.get_nowait()
            except queue.Empty:
                break
            out.append(s)
            self._display = self._smoother(s)
        return out

    def close(self) -> None:
        """Stop the threads and release the camera and the tracker (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        for th in self._threads:
            th.join(timeout=5.0)
        self._threads = []
        if not self._done.is_set():
            self._done.set()
        try:
            self._grabber.release()
        finally:
            self._detector.close()

    # --- for the app and the offline path -----------------------------------------------
    @property
    def finished(self) -> bool:
        """True when the worker has stopped and every Sample has been polled."""
        return self._done.is_set() and self._out.empty()

    def items(self) -> Iterator[Sample]:
        """Every Sample, blocking until the source ends (offline use; call :meth:`start`
        first)."""
        while True:
            got = self.poll()
            yield from got  # type: ignore[misc]
            if got:
                continue
            if self._done.is_set() and self._out.empty():
                return
            if not any(th.is_alive() for th in self._threads) and self._out.empty():
                return
            # Collect in batches: waking for every frame would take the GIL from
            # MediaPipe's callbacks once a frame and slow the tracker by several percent.
            time.sleep(_BATCH_S)

    def latest_frame(self) -> FrameView | None:
        """The newest tracked frame with its landmarks (None before the first)."""
        return self._latest

    def display_sample(self) -> Sample | None:
        """The newest polled Sample, One-Euro smoothed: draw the instrument from this, but
        feed the pipeline and the recording the raw Samples that :meth:`poll` returned."""
        return self._display

    def apply_calibration(self, workspace: Workspace, roll_offset_deg: float = 0.0) -> None:
        """Use a calibrated workspace mapping and roll offset from the next frame on."""
        self.tracker.calibrate(workspace, roll_offset_deg)

    def calibration_header(self, noise_floor_mm: float = 0.0) -> dict[str, object]:
        """The ``calibration`` block for the recording header (how to re-derive poses from
        the raw landmarks)."""
        return {
            "noise_floor_mm": noise_floor_mm,
            "workspace": self.tracker.workspace.as_dict(),
            "roll_offset_deg": self.tracker.roll_offset_deg,
            "depth_assist": self.tracker.assist.as_dict(),
            "guided": sorted(self.tracker.assist.guided),
            "image_size": list(self.image_size),
            "tracker": self.config.as_dict(),
            "raw": "mediapipe image landmarks 0-20, x y z interleaved; x, y normalised by the "
            "tracked frame's width and height (mirrored if tracker.mirror), z relative depth",
        }

    # --- threads ------------------------------------------------------------------------
    def _put_frame(self, item: _Frame | _End) -> None:
        if self.realtime and isinstance(item, _Frame):
            try:  # keep only the newest frame waiting for the tracker
                self._frames.get_nowait()
                self.frames_dropped += 1
            except queue.Empty:
                pass
            try:
                self._frames.put_nowait(item)
            except queue.Full:  # pragma: no cover - single producer
                self.frames_dropped += 1
            return
        while not self._stop.is_set():
            # Offline: refill the queue in batches once it has drained to half, rather
            # than waking for every frame the tracker takes (see items()).
            if isinstance(item, _Frame) and self._frames.full():
                while self._frames.qsize() > self._frames.maxsize // 2:
                    if self._stop.is_set():
                        return
                    time.sleep(_BATCH_S)
            try:
                self._frames.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def _capture_loop(self) -> None:
        message: str | None = None
        try:
            message = self._capture()
        except Exception as exc:  # never take the app down
            message = f"{self.spec}: capture failed ({type(exc).__name__}: {exc})"
        self._put_frame(_End(message))

    def _capture(self) -> str | None:
        cv2 = _cv2()
        mirror = self.config.mirror
        play0: float | None = None
        ts0 = 0.0
        failures = 0
        while not self._stop.is_set():
            frame, ts = self._grabber.read()
            now = time.monotonic()
            if frame is None:
                if self._grabber.is_video:
                    return f"{self.spec.path}: video ended"
                failures += 1
                if failures >= 10:
                    return f"camera {self.spec.device} stopped sending frames (unplugged?)"
                time.sleep(0.02)
                continue
            failures = 0
            self.frames_read += 1
            if self._grabber.is_video:
                ts = 0.0 if ts is None else ts
                if play0 is None:
                    play0, ts0 = now, ts
                if self.realtime:
                    due = play0 + (ts - ts0)
                    # One sleep to the frame's time (every wake-up costs the tracker
                    # a GIL hand-off); at most 0.1 s so that close() is prompt.
                    while not self._stop.is_set() and time.monotonic() < due:
                        time.sleep(min(0.1, max(due - time.monotonic(), 0.0)))
                    t_cap = due
                    t_s = due - self._t0
                else:
                    t_cap = time.monotonic()
                    t_s = ts - ts0
            else:
                t_cap = now
                t_s = now - self._t0
            rgb = _to_rgb(frame, mirror, cv2)
            self._put_frame(_Frame(round(t_s, 6), t_cap, rgb))
        return None

    def _track_loop(self) -> None:
        message: str | None = None
        try:
            while True:
                try:
                    fr = self._frames.get(timeout=0.05)
                except queue.Empty:
                    if self._stop.is_set():
                        break
                    continue
                if isinstance(fr, _End):
                    message = fr.message
                    break
                self._track(fr)
        except Exception as exc:
            message = f"hand tracking failed ({type(exc).__name__}: {exc})"
            self._stop.set()
        if message and self.error is None:
            self.error = message
        self._done.set()

    def _track(self, fr: _Frame) -> None:
        c0 = time.perf_counter()
        hands = self._detector.detect(fr.rgb)
        res = self.tracker.update(fr.t_s, hands)
        self._out.put(res.sample)
        self.latencies_s.append(time.monotonic() - fr.t_cap)
        self.tracking_time_s += time.perf_counter() - c0
        self.frames_tracked += 1
        if res.selected is not None:
            self.frames_with_hand += 1
        if res.selected is None:
            others = tuple(h.landmarks for h in hands)
        else:
            others = tuple(h.landmarks for h in _others(hands, res.selected))
        self._latest = FrameView(
            fr.t_s,
            fr.rgb,
            None if res.selected is None else res.selected.landmarks,
            others,
            res.sample.tracked,
        )


def _others(hands: Sequence[HandObservation], selected: HandObservation) -> list[HandObservation]:
    """The detections other than the selected one (which the tracker re-rounded)."""
    best = min(
        range(len(hands)),
        key=lambda i: float(np.abs(hands[i].landmarks - selected.landmarks).max()),
    )
    return [h for i, h in enumerate(hands) if i != best]


def _to_rgb(frame: np.ndarray, mirror: bool, cv2: Any) -> np.ndarray:
    """BGR -> contiguous RGB, flipped horizontally when mirroring."""
    if mirror:
        frame = cv2.flip(frame, 1)
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))


class UnavailableSource:
    """Stands in for a camera or video that could not be opened: no items, and ``error``
    says why, so the app shows the message and offers the mouse instead of crashing."""

    def __init__(self, input_kind: str, error: str) -> None:
        self.input_kind = input_kind
        self.error: str | None = error

    def start(self, t0_monotonic_s: float) -> None:
        pass

    def poll(self) -> list[Item]:
        return []

    def close(self) -> None:
        pass

    def latest_frame(self) -> FrameView | None:
        return None

    def display_sample(self) -> Sample | None:
        return None


def open_live_source(
    spec: str, config: TrackerConfig | None = None, **kwargs: Any
) -> CameraSource | UnavailableSource:
    """The live source for ``--input webcam``, ``webcam:N`` or ``video:PATH`` (not started).

    Never raises for bad input: a malformed ``spec`` (e.g. ``video`` without a path) or a
    device that cannot be opened (no camera, camera in use, missing or unreadable video)
    gives an :class:`UnavailableSource` whose ``error`` holds the one-line reason, so the
    app shows it and offers the mouse.
    """
    kind = "video" if spec.startswith("video") else "webcam"
    try:
        return CameraSource(parse_input_spec(spec), config, **kwargs)
    except UserError as exc:
        return UnavailableSource(kind, str(exc))
