"""The webcam / video live source: threads, timestamps, failures, never blocking.

Fake frame grabbers and detectors test the threading and the failure handling in
milliseconds; one test runs the real video through MediaPipe in real time.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2", reason="OpenCV (opencv-contrib-python) is not installed")

from sim.core.records import Sample  # noqa: E402
from sim.errors import UserError  # noqa: E402
from sim.sources.camera import CameraSource, InputSpec, parse_input_spec  # noqa: E402
from sim.tracking.hand import HandObservation  # noqa: E402
from sim.tracking.pose import Workspace  # noqa: E402
from tests.tracking.synth import hand_points_mm, to_landmarks  # noqa: E402

HANDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "hands"
HAND = to_landmarks(
    hand_points_mm([0, 20, 0], [1, -0.3, 0], [0, 1, 0], palm_mm=40.0), Workspace(), 0.75
)


class FakeGrabber:
    """Frames of 4 x 3 pixels, left half red, right half blue (BGR), numbered in green."""

    def __init__(self, n: int, is_video: bool = True, fps: float = 25.0, fail_after: int = -1):
        self.n, self.is_video, self.fps, self.fail_after = n, is_video, fps, fail_after
        self.size = (4, 3)
        self.i = 0
        self.released = False

    def read(self) -> tuple[np.ndarray | None, float | None]:
        if self.i >= self.n or (0 <= self.fail_after <= self.i):
            if not self.is_video:
                time.sleep(0.002)
            return None, None
        f = np.zeros((3, 4, 3), np.uint8)
        f[:, :2, 2] = 255  # red on the left (BGR)
        f[:, 2:, 0] = 255  # blue on the right
        f[0, 0, 1] = self.i % 256
        ts = self.i / self.fps if self.is_video else None
        self.i += 1
        if not self.is_video:
            time.sleep(1 / self.fps)
        return f, ts

    def release(self) -> None:
        self.released = True


class FakeDetector:
    """Finds one hand in frames whose number is not a multiple of 5."""

    def __init__(self, delay_s: float = 0.0, gate: threading.Event | None = None):
        self.delay_s, self.gate = delay_s, gate
        self.closed = False
        self.seen = 0

    def detect(self, rgb: np.ndarray) -> list[HandObservation]:
        if self.gate is not None:
            self.gate.wait()
        if self.delay_s:
            time.sleep(self.delay_s)
        self.seen += 1
        number = int(rgb[0, -1, 1])  # mirrored: frame number moved to the right edge
        return [] if number % 5 == 0 else [HandObservation(HAND)]

    def close(self) -> None:
        self.closed = True


def wait_done(src: CameraSource, timeout_s: float = 10.0) -> list:
    items: list = []
    end = time.monotonic() + timeout_s
    while not src.finished and time.monotonic() < end:
        items += src.poll()
        time.sleep(0.005)
    return items + src.poll()


def test_parse_input_spec() -> None:
    assert parse_input_spec("webcam") == InputSpec("webcam", 0)
    assert parse_input_spec("webcam:2") == InputSpec("webcam", 2)
    assert parse_input_spec("video:a:b.mp4") == InputSpec("video", path="a:b.mp4")
    for bad in ("webcam:x", "video:", "mouse", "cam"):
        with pytest.raises(UserError):
            parse_input_spec(bad)


def test_offline_video_tracks_every_frame_with_video_times() -> None:
    g, d = FakeGrabber(40), FakeDetector()
    src = CameraSource("video:fake.mp4", realtime=False, grabber=g, detector=d)
    src.start(0.0)
    items = wait_done(src)
    assert len(items) == 40 and all(isinstance(s, Sample) for s in items)
    np.testing.assert_allclose([s.t_s for s in items], np.arange(40) / 25.0)
    assert [s.tracked for s in items] == [k % 5 != 0 for k in range(40)]
    assert src.error is not None and "video ended" in src.error
    assert src.frames_tracked == 40 and src.frames_dropped == 0 and src.frames_with_hand == 32
    src.close()
    assert g.released and d.closed


def test_lost_frames_are_untracked_not_interpolated() -> None:
    src = CameraSource(
        "video:f.mp4", realtime=False, grabber=FakeGrabber(12), detector=FakeDetector()
    )
    src.start(0.0)
    items = wait_done(src)
    src.close()
    lost = items[5]
    assert not lost.tracked and lost.raw is None
    assert lost.tip_mm == items[4].tip_mm  # the last pose, held, not a guess


def test_frame_view_is_mirrored_with_landmarks() -> None:
    src = CameraSource(
        "video:f.mp4", realtime=False, grabber=FakeGrabber(3), detector=FakeDetector()
    )
    assert src.latest_frame() is None
    src.start(0.0)
    wait_done(src)
    view = src.latest_frame()
    src.close()
    assert view is not None and view.tracked and view.landmarks is not None
    assert view.rgb.shape == (3, 4, 3)
    assert tuple(view.rgb[1, 0]) == (0, 0, 255)  # selfie view: the blue half is now left
    assert tuple(view.rgb[1, 3]) == (255, 0, 0)
    np.testing.assert_allclose(view.landmarks, HAND, atol=1e-6)


def test_camera_unplugged_mid_session_keeps_the_samples() -> None:
    g = FakeGrabber(10_000, is_video=False, fps=200.0, fail_after=20)
    src = CameraSource("webcam:0", grabber=g, detector=FakeDetector())
    src.start(time.monotonic())
    items = wait_done(src)
    assert src.error is not None and "stopped sending frames" in src.error
    assert 1 <= len(items) <= 20
    t = [s.t_s for s in items]
    assert all(b > a for a, b in zip(t, t[1:]))
    src.close()
    assert g.released


def test_live_video_drops_frames_the_tracker_cannot_keep_up_with() -> None:
    """A 200 fps video with a tracker that needs 20 ms a frame: the tracker always gets
    the newest frame, so frames are dropped instead of queueing up."""
    g, d = FakeGrabber(60, fps=200.0), FakeDetector(delay_s=0.02)
    src = CameraSource("video:f.mp4", realtime=True, grabber=g, detector=d)
    t0 = time.monotonic()
    src.start(t0)
    items = wait_done(src)
    src.close()
    assert src.frames_read == 60 and src.frames_dropped > 0
    assert len(items) == src.frames_tracked == 60 - src.frames_dropped
    t = [s.t_s for s in items]
    assert all(b > a for a, b in zip(t, t[1:]))
    assert len(src.latencies_s) == len(items)


def test_poll_never_waits_for_the_tracker() -> None:
    gate = threading.Event()
    timer = threading.Timer(5.0, gate.set)
    timer.start()
    src = CameraSource("video:f.mp4", grabber=FakeGrabber(5), detector=FakeDetector(gate=gate))
    try:
        src.start(time.monotonic())
        assert src.poll() == []  # returns while the tracker is stuck in a frame
        assert not gate.is_set()
    finally:
        gate.set()
        timer.cancel()
        src.close()


def test_tracker_failure_is_a_message_not_a_crash() -> None:
    class Broken(FakeDetector):
        def detect(self, rgb: np.ndarray) -> list[HandObservation]:
            raise RuntimeError("graph exploded")

    src = CameraSource("video:f.mp4", realtime=False, grabber=FakeGrabber(5), detector=Broken())
    src.start(0.0)
    assert wait_done(src) == []
    assert src.error is not None and "hand tracking failed" in src.error
    src.close()


def test_display_sample_is_smoothed_but_poll_is_raw() -> None:
    src = CameraSource(
        "video:f.mp4", realtime=False, grabber=FakeGrabber(8), detector=FakeDetector()
    )
    assert src.display_sample() is None
    src.start(0.0)
    items = wait_done(src)
    src.close()
    shown = src.display_sample()
    assert shown is not None and shown.t_s == items[-1].t_s
    assert items[1].raw is not None  # raw Samples carry the landmarks


def test_calibration_applies_to_later_frames() -> None:
    src = CameraSource(
        "video:f.mp4", realtime=False, grabber=FakeGrabber(3), detector=FakeDetector()
    )
    ws = Workspace(centre_mm=(100.0, 0.0, 0.0))
    src.apply_calibration(ws, 10.0)
    head = src.calibration_header(0.25)
    assert head["noise_floor_mm"] == 0.25 and head["roll_offset_deg"] == 10.0
    assert Workspace.from_dict(head["workspace"]) == ws  # type: ignore[arg-type]
    src.start(0.0)
    items = wait_done(src)
    src.close()
    assert items[1].tip_mm[0] > 50.0


def test_devices_that_cannot_be_opened() -> None:
    with pytest.raises(UserError, match="no such video file"):
        CameraSource("video:/nonexistent/clip.mp4")
    with pytest.raises(UserError, match="camera 97"):
        CameraSource("webcam:97")
    with pytest.raises(UserError, match="needs a video file"):
        CameraSource(
            "webcam:0",
            realtime=False,
            grabber=FakeGrabber(1, is_video=False),
            detector=FakeDetector(),
        )


def test_real_video_in_real_time() -> None:
    """The real test video as a live source for one second: MediaPipe in the worker, the
    hand found, sample times on the caller's clock, the view ready for the PIP."""
    pytest.importorskip("mediapipe.python.solutions.hands", reason="mediapipe is not installed")
    video = HANDS / "mps_hand_landmarker_test_video.mp4"
    if not video.is_file():
        pytest.skip(f"real hand footage not found: {video.resolve()}")
    src = CameraSource(f"video:{video}")
    assert src.input_kind == "video" and src.image_size == (640, 360)
    t0 = time.monotonic()
    src.start(t0)
    items: list = []
    while time.monotonic() - t0 < 1.2 and src.error is None:
        items += src.poll()
        time.sleep(0.01)
    src.close()
    items += src.poll()
    assert len(items) >= 5
    assert sum(s.tracked for s in items) >= 0.9 * len(items)
    t = [s.t_s for s in items]
    assert all(b > a for a, b in zip(t, t[1:])) and 0.0 <= t[0] < 1.0
    view = src.latest_frame()
    assert view is not None and view.rgb.shape == (360, 640, 3) and view.landmarks is not None


def test_open_live_source_never_raises_for_a_missing_device() -> None:
    from sim.sources.camera import open_live_source

    src = open_live_source("video:/nonexistent/clip.mp4")
    src.start(0.0)
    assert src.poll() == [] and src.error is not None and "no such video file" in src.error
    assert src.input_kind == "video" and src.latest_frame() is None
    src.close()
    bare = open_live_source("video")  # chosen on the start screen without a file
    assert bare.error is not None and "video:PATH" in bare.error


def test_close_twice_and_before_start() -> None:
    class Strict(FakeDetector):  # like MediaPipe: closing twice is an error
        def close(self) -> None:
            assert not self.closed, "closed twice"
            self.closed = True

    d = Strict()
    src = CameraSource("video:f.mp4", grabber=FakeGrabber(3), detector=d)
    src.close()
    src.close()
    assert d.closed and src.finished and src.poll() == []
