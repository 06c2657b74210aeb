"""The guided calibration of a tracked input in the real app: a video of a still real hand
(a photo with fresh camera noise in every frame) played as the camera, driven through the
calibration screen into the session; skipping it, leaving it, and a camera that fails."""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from sim.metrics.motion import MIN_TREMOR_RATE_HZ  # noqa: E402
from sim.storage.recording import load_recording  # noqa: E402
from sim.tracking.pose import DEFAULT_CENTRE_MM, Workspace  # noqa: E402
from tests.app.driver import Driver  # noqa: E402
from tests.tracking.conftest import STILL_PHOTO, need_file, need_mediapipe  # noqa: E402

FPS = 25.0


def still_hand_video(
    path: Path, seconds: float, seed: int = 1, hand: bool = True, conditions: tuple[str, ...] = ()
) -> Path:
    """A video of a still hand: the real photo with fresh pixel noise in every frame
    (``hand`` False: only the photo's background colour, no hand; ``conditions``: the
    tracking audit's image conditions applied to every frame, in order)."""
    import cv2

    from sim.tracking.conditions import apply

    img = cv2.imread(str(need_file(STILL_PHOTO)))
    img = cv2.resize(img, (480, round(480 * img.shape[0] / img.shape[1]) // 2 * 2))
    if not hand:
        img[:] = img[5, 5]
    base = img.astype(np.int16)
    rng = np.random.default_rng(seed)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, img.shape[1::-1])
    try:
        for _ in range(round(seconds * FPS)):
            noise = rng.integers(-6, 7, size=base.shape, dtype=np.int16)
            frame = np.clip(base + noise, 0, 255).astype(np.uint8)
            for i, c in enumerate(conditions):
                frame = apply(c, frame, i)
            out.write(frame)
    finally:
        out.release()
    return path


@pytest.fixture(scope="module")
def hold_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s: the 5 s calibration hold, its result on screen, and some of the session."""
    need_mediapipe()
    return still_hand_video(tmp_path_factory.mktemp("video") / "hold.mp4", 12.0)


@pytest.fixture(scope="module")
def short_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.5 s: the video ends (the camera fails) before the hold is done."""
    need_mediapipe()
    return still_hand_video(tmp_path_factory.mktemp("video") / "short.mp4", 1.5, seed=2)


def run_until(d: Driver, done: object, limit_s: float = 90.0) -> None:
    """Run real-time frames until ``done()`` (a generous limit only against hanging)."""
    end = time.monotonic() + limit_s
    while not done():  # type: ignore[operator]
        assert time.monotonic() < end, "gave up waiting"
        d.frames(1)


def recordings(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "recordings").glob("*.jsonl"))


def test_calibration_measures_the_noise_floor_and_maps_the_workspace(
    hold_video: Path, data_dir: Path, quit_display: None
) -> None:
    from sim.app.calibrate import CalibrationScreen
    from sim.app.practice import PracticeScreen
    from sim.app.results import ResultsScreen

    d = Driver("venipuncture", input_spec=f"video:{hold_video}", clock=time.monotonic)
    cal = d.screen
    assert isinstance(cal, CalibrationScreen)
    source = cal.source
    seen: list[tuple[float, str]] = []

    def holding() -> bool:
        seen.append((cal.status.progress, cal.status.message))
        return 0.3 < cal.status.progress < 0.9

    run_until(d, holding)
    assert "Hold still" in seen[-1][1]
    assert not recordings(data_dir)  # nothing is recorded during calibration
    # the camera view fills much of the window (not the flat background)
    img = d.app.renderer.capture().astype(int)
    h, w = img.shape[:2]
    bg = np.array([0.10, 0.12, 0.16]) * 255
    centre = img[h // 4 : h // 2, w // 3 : 2 * w // 3]
    assert (np.abs(centre - bg).sum(axis=2) > 30).mean() > 0.9
    run_until(d, lambda: cal.result is not None)
    assert cal.result is not None
    # a loaded machine tracks too few frames: "slow" (the only poor condition this well-lit,
    # sharp video can have) waits for Enter, the trainee's choice to go on as it is
    slow = [p.name for p in cal.result.poor] == ["slow"]
    if slow:
        d.key(pygame.K_RETURN)
    run_until(d, lambda: isinstance(d.screen, PracticeScreen))
    practice = d.screen
    assert practice.source is source  # the calibrated camera goes on into the session
    floor = practice.pipeline.noise_floor_mm
    assert floor == cal.result.tremor_floor_mm
    if math.isfinite(cal.result.noise_floor_mm):
        assert 0.02 < floor < 3.0  # tracker jitter: a fraction of a millimetre
    else:  # a loaded machine tracked too few frames for the tremor band: no floor then
        assert floor == 0.0 and cal.result.rate_hz < 2 * MIN_TREMOR_RATE_HZ
    run_until(d, lambda: len(practice.pipeline.samples) >= 10)
    d.key(pygame.K_ESCAPE)
    assert isinstance(d.screen, ResultsScreen)
    rec = load_recording(practice.path)
    header = rec.header
    c = header["calibration"]
    assert c["status"] == "calibrated"
    assert c["noise_floor_mm"] == floor and rec.noise_floor_mm == floor
    assert c["workspace"] == cal.result.workspace.as_dict() != Workspace().as_dict()
    assert c["hold_s"] >= 5.0 and c["image_size"][0] == 480
    # the screen measured the hold's frames: a well-lit, sharp hand, no poor condition
    expected = ("slow",) if slow else ()
    assert tuple(c["conditions"]["poor"]) == expected and rec.poor_conditions == expected
    assert c["conditions"]["luma_mean"] > 70 and 0 < c["conditions"]["blur"] < 0.65
    assert header["input"] == "video" and header["meta"]["hand"] == "right"
    # the noise of each quantity goes into the recording, and the scenario's depth assist
    # keeps a webcam's aim across the arm on the vein (guided, so not scored)
    assert rec.noise is not None and rec.noise.z_mm == cal.result.noise.z_mm > 0.0
    assert c["depth_assist"]["mode"] == "fixed" and rec.guided == {"z"}
    assert practice.pipeline.guided == {"z"}
    # session time starts at the session, not at the calibration
    samples = rec.samples
    assert len(samples) >= 10 and 0.0 <= samples[0].t_s < 1.0
    assert all(b.t_s > a.t_s for a, b in zip(samples, samples[1:]))
    # the held hand now puts the needle at the working point, 20 mm above the task site
    tips = [s.tip_mm for s in samples if s.tracked]
    assert len(tips) >= 0.8 * len(samples)
    median = [statistics.median(p[i] for p in tips) for i in range(3)]
    assert math.dist(median, DEFAULT_CENTRE_MM) < 10.0, median


def test_skipping_calibration_records_no_noise_floor(
    hold_video: Path, data_dir: Path, quit_display: None
) -> None:
    from sim.app.calibrate import CalibrationScreen
    from sim.app.practice import PracticeScreen

    d = Driver("venipuncture", input_spec=f"video:{hold_video}", clock=time.monotonic)
    assert isinstance(d.screen, CalibrationScreen)
    run_until(d, lambda: d.screen.status.progress > 0.0)
    d.key(pygame.K_s)
    practice = d.screen
    assert isinstance(practice, PracticeScreen)
    assert practice.pipeline.noise_floor_mm == 0.0
    run_until(d, lambda: len(practice.pipeline.samples) >= 3)
    d.key(pygame.K_ESCAPE)
    c = load_recording(practice.path).header["calibration"]
    assert c["status"] == "skipped" and c["noise_floor_mm"] == 0.0
    assert c["workspace"] == Workspace().as_dict()  # the uncalibrated mapping


def test_escape_goes_back_and_m_switches_to_the_mouse(
    hold_video: Path, data_dir: Path, quit_display: None
) -> None:
    from sim.app.calibrate import CalibrationScreen
    from sim.app.mouse import MouseSource
    from sim.app.practice import PracticeScreen
    from sim.app.start import StartScreen

    d = Driver(None, input_spec=f"video:{hold_video}", clock=time.monotonic)
    assert isinstance(d.screen, StartScreen)
    d.key(pygame.K_F3)  # the dominant hand: left
    assert d.screen.settings().hand == "left"
    d.key(pygame.K_RETURN)
    cal = d.screen
    assert isinstance(cal, CalibrationScreen)
    assert cal.source.config.dominant == "left"  # the tracker follows the left hand
    d.key(pygame.K_ESCAPE)
    assert isinstance(d.screen, StartScreen)
    cal.source.poll()
    assert cal.source.finished  # the camera is released
    assert d.screen.settings().hand == "left"  # the start screen keeps the choice
    d.key(pygame.K_RETURN)
    assert isinstance(d.screen, CalibrationScreen)
    d.key(pygame.K_m)
    assert isinstance(d.screen, PracticeScreen)
    assert isinstance(d.screen.source, MouseSource)
    d.frames(3)
    d.key(pygame.K_ESCAPE)
    (path,) = recordings(data_dir)  # one session, recorded with the mouse
    header = load_recording(path).header
    assert header["input"] == "mouse" and header["calibration"] == {"noise_floor_mm": 0.0}


def test_a_camera_failing_during_calibration_is_shown_and_the_mouse_offered(
    short_video: Path, data_dir: Path, quit_display: None
) -> None:
    from sim.app.calibrate import CalibrationScreen
    from sim.app.mouse import MouseSource
    from sim.app.practice import PracticeScreen

    d = Driver("venipuncture", input_spec=f"video:{short_video}", clock=time.monotonic)
    cal = d.screen
    assert isinstance(cal, CalibrationScreen)
    run_until(d, lambda: cal.source.error is not None)
    d.frames(1)
    assert "video ended" in cal.source.error and cal.result is None
    img = d.app.renderer.capture().astype(int)
    h = img.shape[0]
    band = img[int(h * 0.6) :, :, :].reshape(-1, 3)
    amber = (band[:, 0] > 200) & (band[:, 1] > 130) & (band[:, 2] < 90)
    assert amber.sum() > 200  # the error line under the camera view
    d.key(pygame.K_s)  # nothing to skip to: the camera is gone
    assert d.screen is cal
    d.key(pygame.K_m)
    assert isinstance(d.screen, PracticeScreen)
    assert isinstance(d.screen.source, MouseSource)
    d.key(pygame.K_t)
    d.point_at((-14.0, 0.0, 0.0))
    d.seconds(0.3)
    assert len(d.screen.pipeline.samples) > 5  # the session goes on with the mouse


def test_no_hand_in_view_says_so_and_does_not_start(
    tmp_path: Path, data_dir: Path, quit_display: None
) -> None:
    from sim.app.calibrate import CalibrationScreen

    need_mediapipe()
    video = still_hand_video(tmp_path / "empty.mp4", 1.2, seed=3, hand=False)
    d = Driver("venipuncture", input_spec=f"video:{video}", clock=time.monotonic)
    cal = d.screen
    assert isinstance(cal, CalibrationScreen)
    run_until(d, lambda: cal.source.latest_frame() is not None)
    d.frames(3)
    assert cal.status.progress == 0.0 and "Show your hand" in cal.status.message
    img = d.app.renderer.capture().astype(int).reshape(-1, 3)
    red = (img[:, 0] > 200) & (img[:, 1] < 90) & (img[:, 2] < 90)
    assert red.sum() > 500  # the red frame and "hand not visible"
    run_until(d, lambda: cal.source.error is not None)  # the video ends: still no session
    d.frames(2)
    assert d.screen is cal and not recordings(data_dir)


def test_calibration_in_poor_light_says_the_fix_and_waits_for_the_trainee(
    tmp_path: Path, data_dir: Path, quit_display: None
) -> None:
    from sim.app.calibrate import CALIBRATION_DONE_S, CalibrationScreen
    from sim.app.practice import PracticeScreen
    from sim.app.results import ResultsScreen

    need_mediapipe()
    # a sixteenth of the light (the audit's "dim" twice): the hand at ~40 of 255
    video = still_hand_video(tmp_path / "dark.mp4", 14.0, conditions=("dim", "dim"))
    d = Driver("venipuncture", input_spec=f"video:{video}", clock=time.monotonic)
    cal = d.screen
    assert isinstance(cal, CalibrationScreen)
    run_until(d, lambda: cal.result is not None)
    assert cal.result is not None
    # (a loaded machine may track too few frames too: "slow", after the light)
    names = tuple(p.name for p in cal.result.poor)
    assert names in (("dim",), ("dim", "slow"))
    assert "add light in front of you" in cal.result.poor[0].message
    end = time.monotonic() + CALIBRATION_DONE_S + 0.5
    while time.monotonic() < end:  # a good calibration would have started the session
        d.frames(1)
    assert d.screen is cal and cal.waiting
    d.key(pygame.K_RETURN)  # go on as it is
    practice = d.screen
    assert isinstance(practice, PracticeScreen)
    run_until(d, lambda: len(practice.pipeline.samples) >= 3)
    d.key(pygame.K_ESCAPE)
    assert isinstance(d.screen, ResultsScreen) and d.screen.poor == names
    rec = load_recording(practice.path)
    assert rec.poor_conditions == names
    assert rec.header["calibration"]["conditions"]["luma_mean"] < 70
