"""Real footage through ``procsim track``: detection, continuity, re-scoring, determinism."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.core.assist import DepthAssist
from sim.storage.recording import load_recording
from sim.storage.session import rescore
from sim.tracking.hand import HandObservation, to_iso
from sim.tracking.pose import Workspace, scene_points
from sim.tracking.tracker import HandTracker, TrackerConfig, landmarks_from_raw
from tests.tracking.conftest import TEST_VIDEO, Tracked, need_file, need_mediapipe


def angles_deg(v: np.ndarray) -> np.ndarray:
    """Angle between consecutive unit vectors of (n, 3), degrees, shape (n - 1,)."""
    c = np.clip(np.sum(v[1:] * v[:-1], axis=1), -1.0, 1.0)
    return np.degrees(np.arccos(c))


def test_hand_found_in_95_percent_of_frames(tracked_video: Tracked) -> None:
    rep = tracked_video.report
    assert tracked_video.exit_code == 0
    assert rep["frames"] == 202
    assert rep["detection_rate"] >= 0.95
    assert rep["frames_with_hand"] == round(rep["detection_rate"] * rep["frames"])
    assert rep["processing_fps"] > 0
    rec = load_recording(tracked_video.recording)
    assert sum(s.tracked for s in rec.samples) == rep["frames_with_hand"]


def test_recording_keeps_raw_landmarks_and_video_times(tracked_video: Tracked) -> None:
    rec = load_recording(tracked_video.recording)
    # a hand waving in front of a camera carries out no procedure: ended, not complete
    assert not rec.truncated and rec.result is not None and rec.header["input"] == "video"
    assert rec.complete is False and rec.result["complete"] is False
    cal = rec.header["calibration"]
    assert cal["image_size"] == [640, 360] and "workspace" in cal
    samples = rec.samples
    assert len(samples) == 202
    np.testing.assert_allclose([s.t_s for s in samples], np.arange(202) * 0.04, atol=1e-6)
    for s in samples:
        if s.tracked:
            assert s.raw is not None and len(s.raw) == 63
            lm = landmarks_from_raw(s.raw)
            assert np.all((lm[:, :2] > -0.2) & (lm[:, :2] < 1.2))
        else:
            assert s.raw is None
    # The pose stored is the pose the raw landmarks give with the stored calibration and
    # depth assist (the scenario keeps the aim across the arm on the vein).
    assist = DepthAssist.from_dict(cal["depth_assist"])
    assert assist.mode == "fixed"
    tr = HandTracker(TrackerConfig(), (640, 360), Workspace.from_dict(cal["workspace"]))
    tr.assist = assist
    for s in samples[::20]:
        assert s.raw is not None
        pose = tr.pose(landmarks_from_raw(s.raw))
        assert pose is not None and tr.needle(pose) == (s.tip_mm, s.axis, s.normal)


def test_recording_rescores_identically(tracked_video: Tracked) -> None:
    r = rescore(tracked_video.recording)
    assert r.matches and r.recording.result is not None
    assert r.result.score == r.recording.result["score"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["score", str(tracked_video.recording)]) == 0


def test_pose_is_continuous_from_frame_to_frame(tracked_video: Tracked) -> None:
    """No jumps beyond what the hand did: the tip never moves further in one frame than
    the hand's own landmarks did and the needle axis turns no faster than the palm. The
    roll may flip in a rare frame where the palm's tilt is ambiguous from one camera
    (palm edge-on, or squarely facing the camera: see docs/tracking.md). The camera's own
    poses (before the scenario's depth assist, which flattens the needle into the plane
    along the arm: this footage's hand points straight up, where that is ill-defined)."""
    rec = load_recording(tracked_video.recording)
    ws = Workspace.from_dict(rec.header["calibration"]["workspace"])
    tr = HandTracker(TrackerConfig(), (640, 360), ws)
    s = [x for x in rec.samples if x.tracked]
    assert len(s) >= 190
    poses = [tr.pose(landmarks_from_raw(x.raw)) for x in s]  # type: ignore[arg-type]
    assert all(p is not None for p in poses)
    pts = [scene_points(landmarks_from_raw(x.raw), 360 / 640, ws)[0] for x in s]  # type: ignore[arg-type]
    hand_step = np.array([np.linalg.norm(b - a, axis=1).max() for a, b in zip(pts, pts[1:])])
    tip = np.array([p.tip_mm for p in poses])  # type: ignore[union-attr]
    tip_step = np.linalg.norm(np.diff(tip, axis=0), axis=1)
    assert np.all(tip_step <= hand_step + 1e-6)
    assert tip_step.max() < 40.0  # 1 m/s at 25 fps: a real hand, not a jump to another
    axis = np.array([p.axis for p in poses])  # type: ignore[union-attr]
    palm = np.array([p[9] - p[0] for p in pts])
    palm /= np.linalg.norm(palm, axis=1)[:, None]
    assert np.all(angles_deg(axis) <= angles_deg(palm) + 15.0)
    normal = np.array([p.normal for p in poses])  # type: ignore[union-attr]
    flips = np.flatnonzero(angles_deg(normal) > 60.0)
    assert len(flips) <= 0.03 * len(s)
    for i in flips:
        iso = to_iso(landmarks_from_raw(s[i].raw), 360 / 640)  # type: ignore[arg-type]
        a, b = iso[5] - iso[0], iso[17] - iso[0]
        facing = abs(a[0] * b[1] - a[1] * b[0]) / np.linalg.norm(np.cross(a, b))
        assert facing < 0.5 or facing > 0.75  # |cos| of the palm's turn from the camera


def test_phantom_hands_and_label_flips_do_not_move_the_needle(tracked_video: Tracked) -> None:
    """The real landmarks again, with a confident phantom hand in every third frame once
    the hand is tracked, and the handedness label flipping at random: the same Samples
    come out."""
    rec = load_recording(tracked_video.recording)
    rng = np.random.default_rng(7)
    tr = HandTracker(TrackerConfig(), (640, 360))
    tr.assist = DepthAssist.from_dict(rec.header["calibration"]["depth_assist"])
    for k, s in enumerate(rec.samples):
        hands = []
        if s.raw is not None:
            real = landmarks_from_raw(s.raw)
            hands.append(HandObservation(real, str(rng.choice(["left", "right"])), 0.6))
            if k % 3 == 1:
                phantom = real.copy()
                phantom[:, 0] = 1.05 - phantom[:, 0]  # a mirror-image hand across the frame
                hands.insert(0, HandObservation(phantom, "right", 0.99))
        out = tr.update(s.t_s, hands).sample
        assert out == s, k


def test_tracking_the_same_video_again_gives_the_same_samples(tracked_video: Tracked) -> None:
    from sim.tracking.commands import remap, track_samples

    samples, tracker, _ = track_samples(TEST_VIDEO, TrackerConfig())
    rec = load_recording(tracked_video.recording)
    tracker.assist = DepthAssist.from_dict(rec.header["calibration"]["depth_assist"])
    assert remap(samples, tracker) == rec.samples


def test_calibration_hold_from_the_video(
    tracked_video: Tracked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--calibration-hold: the first seconds calibrate the workspace and the noise floor,
    the rest is recorded with them (re-using the tracked frames of the fixture)."""
    from sim.tracking import commands

    rec = load_recording(tracked_video.recording)
    tracker = HandTracker(TrackerConfig(), (640, 360))
    monkeypatch.setattr(commands, "track_samples", lambda *a, **k: (rec.samples, tracker, 1.0))
    out = tmp_path / "cal.jsonl"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(
            ["track", "x.mp4", "--scenario", "suturing", "-o", str(out), "--json",
             "--calibration-hold", "1.5"]
        )  # fmt: skip
    assert code == 0
    rep = json.loads(buf.getvalue())
    cal = load_recording(out)
    assert cal.samples[0].t_s == pytest.approx(1.52)  # 38 frames of 40 ms held
    assert rep["frames"] == 202 - 38
    assert cal.noise_floor_mm == rep["noise_floor_mm"] > 0.0
    assert cal.header["calibration"]["hold_samples"] == 38
    # the noise per scene axis: depth (z, across the arm), which one camera sees worst, the
    # noisiest on real footage; suturing follows the camera's depth (no assist)
    axes = cal.header["calibration"]["noise_floor_axes_mm"]
    assert rep["noise"]["noise_floor_axes_mm"] == axes
    assert axes[2] > max(axes[0], axes[1]) > 0.0
    assert cal.noise is not None and cal.guided == frozenset()
    assert cal.header["calibration"]["depth_assist"]["mode"] == "camera"
    assert rescore(out).matches


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    pytest.importorskip("cv2", reason="OpenCV is not installed")
    code, _, err = _run(["track", str(tmp_path / "none.mp4"), "--scenario", "venipuncture",
                         "-o", str(tmp_path / "r.jsonl")])  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "no such video file" in err
    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video\n")
    code, _, err = _run(["track", str(junk), "--scenario", "venipuncture",
                         "-o", str(tmp_path / "r.jsonl")])  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "not a readable video" in err
    code, _, err = _run(["track", str(junk), "--scenario", "nope", "-o", str(tmp_path / "r")])
    assert code == 2 and err.count("\n") == 1
    existing = tmp_path / "exists.jsonl"
    existing.write_text("")
    code, _, err = _run(["track", str(junk), "--scenario", "venipuncture", "-o", str(existing)])
    assert code == 2 and "already exists" in err


def test_video_fixture_present_or_skipped() -> None:
    need_mediapipe()
    assert need_file(TEST_VIDEO).stat().st_size > 0
