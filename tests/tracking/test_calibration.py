"""Calibration: noise floor on a still hand, tremor recovered above it, workspace, roll,
and the guided step's state machine."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from sim.core.geometry import signed_roll_deg
from sim.metrics.motion import MAX_GAP_S, resample, tremor
from sim.tracking.calibration import (
    PALM_MM,
    CalibrationSession,
    CalibrationStep,
    calibrate_hold,
    noise_floor_mm,
)
from sim.tracking.hand import HandObservation
from sim.tracking.pose import Workspace, hand_pose
from sim.tracking.tracker import HandTracker, TrackerConfig
from tests.tracking.conftest import StillHand
from tests.tracking.synth import hand_points_mm, to_landmarks

ASPECT = 360 / 640


def tips(landmarks: np.ndarray, aspect: float, ws: Workspace) -> np.ndarray:
    out = []
    for lm in landmarks:
        p = hand_pose(lm, aspect, ws)
        assert p is not None
        out.append(p.tip_mm)
    return np.array(out)


def test_noise_floor_of_white_jitter_matches_its_band_share() -> None:
    """White jitter of 1 mm per axis at 30 fps: the 4-12 Hz band holds 8/15 of its power."""
    rng = np.random.default_rng(0)
    t = np.arange(30 * 20) / 30
    pos = rng.normal(0, 1.0, (t.size, 3))
    assert noise_floor_mm(t, pos) == pytest.approx(math.sqrt(3 * 8 / 15), rel=0.1)
    assert math.isnan(noise_floor_mm(t[:10], pos[:10]))


def test_per_axis_noise_recovered_from_synthetic_landmarks() -> None:
    """A still synthetic hand whose landmarks jitter by known amounts: sideways in the image
    (scene x), not at all up and down, and in size (what the camera reads as depth, scene
    z): the calibration's per-axis noise puts each where it was put, and the words say so."""
    rng = np.random.default_rng(3)
    pts = hand_points_mm([0, 20, 0], [1, -0.3, 0], [0, 0, -1], palm_mm=PALM_MM * 0.5)
    ws = Workspace()
    lm0 = to_landmarks(pts, ws, ASPECT)
    centre = (lm0[4] + lm0[8]) / 2  # scaled about the pinch point: the tip stays put
    n = 150
    t = np.arange(n) / 30.0
    lms = []
    for _ in range(n):
        grow = 1.0 + rng.normal(0, 0.01)  # 1 % jitter of the hand's size: depth
        lm = centre + (lm0 - centre) * grow
        lm[:, 0] += rng.normal(0, 0.002)  # 0.2 % of the image width sideways: x
        lms.append(lm)
    cal = calibrate_hold(t, np.array(lms), ASPECT, ws)
    nz = cal.noise
    # 0.2 % of the width at the calibrated scale
    x_expected = 0.002 * cal.workspace.mm_per_width
    assert nz.x_mm == pytest.approx(x_expected, rel=0.25)
    assert nz.y_mm < 0.1 * nz.x_mm
    assert nz.z_mm > 2 * nz.x_mm  # 1 % of the size is ~ 1 % of the distance in depth
    header = cal.as_header()
    assert header["noise_floor_axes_mm"] == [nz.x_mm, nz.y_mm, nz.z_mm]
    words = nz.words()
    assert f"along the arm ±{nz.x_mm:.1f} mm" in words
    assert f"across the arm (depth) ±{nz.z_mm:.1f} mm" in words


def test_real_still_hand_noise_is_worst_in_depth(still_hand: StillHand) -> None:
    """On real footage of a still hand the tracker's noise is largest in depth (across the
    arm), as measured on every real video (docs/tracking.md)."""
    cal = calibrate_hold(still_hand.t_s, still_hand.landmarks, still_hand.aspect, Workspace())
    nz = cal.noise
    assert nz.z_mm > nz.x_mm and nz.z_mm > nz.y_mm
    assert 0.0 < nz.angle_deg < 20.0 and 0.0 < nz.roll_deg < 45.0


def test_noise_floor_of_a_still_real_hand_is_small(still_hand: StillHand) -> None:
    """A still hand in front of a noisy camera: the tracker's floor is a fraction of a mm
    (MediaPipe jitter of a few pixels), but not zero."""
    assert len(still_hand.t_s) >= 120  # the hand was found in (nearly) every frame
    floor = noise_floor_mm(
        still_hand.t_s, tips(still_hand.landmarks, still_hand.aspect, Workspace()), 60.0
    )
    assert 0.02 < floor < 1.0


@pytest.mark.parametrize("freq_hz", [6.0, 8.0, 10.0])
def test_tremor_added_to_real_landmarks_is_recovered(still_hand: StillHand, freq_hz: float) -> None:
    """1 mm RMS of sinusoidal tremor added to a real still hand's landmarks comes back as
    1 mm at the right frequency once the measured noise floor is taken off."""
    ws = Workspace()
    t, lm = still_hand.t_s, still_hand.landmarks.copy()
    rate = 25.0  # the camera's own rate
    floor = noise_floor_mm(t, tips(lm, still_hand.aspect, ws), rate)
    amp = math.sqrt(2) * 1.0 / ws.mm_per_width  # 1 mm RMS along scene x, in image widths
    lm[:, :, 0] += amp * np.sin(2 * math.pi * freq_hz * t)[:, None]
    shaky = tips(lm, still_hand.aspect, ws)
    tr = tremor(resample(t, shaky, rate), rate, noise_floor_mm=floor)
    assert tr.rms_mm == pytest.approx(1.0, rel=0.12)
    assert tr.peak_hz == pytest.approx(freq_hz, abs=0.5)
    raw = tremor(resample(t, shaky, rate), rate)
    assert raw.rms_mm > tr.rms_mm  # without the floor, camera jitter would count as tremor


def test_calibrating_on_a_real_still_hand(still_hand: StillHand) -> None:
    cal = calibrate_hold(
        still_hand.t_s, still_hand.landmarks, still_hand.aspect, Workspace(), rate_hz=60.0
    )
    held = np.median(tips(still_hand.landmarks, still_hand.aspect, cal.workspace), axis=0)
    np.testing.assert_allclose(held, (0.0, 20.0, 0.0), atol=1.0)  # the hand is the work point
    assert 0.02 < cal.noise_floor_mm < 1.0
    assert cal.duration_s == pytest.approx(4.96)
    header = cal.as_header()
    assert header["noise_floor_mm"] == cal.noise_floor_mm
    assert Workspace.from_dict(header["workspace"]) == cal.workspace  # type: ignore[arg-type]


def _still_samples(
    n: int, rate: float = 30.0, back: tuple[float, float, float] = (0, 0, -1), seed: int = 0
) -> list:
    """Samples of a still synthetic hand with 0.3 px of jitter, through the tracker."""
    rng = np.random.default_rng(seed)
    pts = hand_points_mm([30, 40, 0], [1, -0.3, 0.1], list(back), palm_mm=40.0)
    lm0 = to_landmarks(pts, Workspace(), ASPECT)
    tr = HandTracker(TrackerConfig(), (640, 360))
    out = []
    for i in range(n):
        lm = lm0 + rng.normal(0, 0.3 / 640, lm0.shape)
        out.append(tr.update(i / rate, [HandObservation(lm)]).sample)
    return out


def test_guided_calibration_steps() -> None:
    session = CalibrationSession(ASPECT, Workspace(), hold_s=2.0, rate_hz=60.0)
    assert session.status.step is CalibrationStep.WAIT_HAND
    samples = _still_samples(100)
    for s in samples[:30]:
        status = session.update(s)
    assert status.step is CalibrationStep.HOLD and 0.4 < status.progress < 0.6
    # A frame without the hand (the detector blinks) does not restart the hold...
    t30 = samples[30].t_s
    blink = replace(samples[30], tracked=False, raw=None)
    assert session.update(blink).step is CalibrationStep.HOLD
    # ...losing it for longer than a tracking gap does.
    lost = replace(blink, t_s=t30 + MAX_GAP_S + 0.1)
    assert session.update(lost).step is CalibrationStep.WAIT_HAND
    for s in samples[31:]:
        s = replace(s, t_s=s.t_s + MAX_GAP_S + 0.1)
        status = session.update(s)
    assert status.step is CalibrationStep.DONE and session.result is not None
    assert "noise" in status.message
    cal = session.result
    # The back of the hand faced the screen: the calibrated roll makes that pose bevel up.
    pose = hand_pose(
        np.reshape(samples[-1].raw, (21, 3)), ASPECT, cal.workspace, "right", cal.roll_offset_deg
    )
    assert pose is not None
    assert signed_roll_deg(pose.normal, (0.0, 1.0, 0.0), pose.axis) == pytest.approx(0.0, abs=2.0)
    np.testing.assert_allclose(pose.tip_mm, (0.0, 20.0, 0.0), atol=2.0)  # depth jitters most
    # The floor is the tremor-band RMS of the hold, in the calibrated millimetres.
    held = samples[31:][: cal.samples]
    t = np.array([s.t_s for s in held])
    lm = np.array([np.reshape(s.raw, (21, 3)) for s in held])
    expect = noise_floor_mm(t, tips(lm, ASPECT, cal.workspace), 60.0)
    assert cal.noise_floor_mm == pytest.approx(expect) and expect > 0.0


def test_moving_during_the_hold_restarts_it() -> None:
    session = CalibrationSession(ASPECT, Workspace(), hold_s=2.0, max_motion_mm=10.0)
    samples = _still_samples(30)
    for s in samples:
        session.update(s)
    moved = samples[-1].__class__(
        1.1, (samples[-1].tip_mm[0] + 30.0, *samples[-1].tip_mm[1:]), raw=samples[-1].raw
    )
    status = session.update(moved)
    assert status.step is CalibrationStep.WAIT_HAND and "still" in status.message
