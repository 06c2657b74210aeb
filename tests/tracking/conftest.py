"""Fixtures for the tracking tests: real footage from ../shared/data/hands, tracked once."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

HANDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "hands"
TEST_VIDEO = HANDS / "mps_hand_landmarker_test_video.mp4"
STILL_PHOTO = HANDS / "mps_hand_thumb_up.jpg"


def need_mediapipe() -> None:
    """Skip (with the reason) where mediapipe or OpenCV is not installed."""
    pytest.importorskip("cv2", reason="OpenCV (opencv-contrib-python) is not installed")
    pytest.importorskip(
        "mediapipe.python.solutions.hands", reason="mediapipe 0.10.21 is not installed"
    )


def need_file(path: Path) -> Path:
    """Skip (with the reason) where the real footage is missing."""
    if not path.is_file():
        pytest.skip(f"real hand footage not found: {path.resolve()} (see shared/data/hands)")
    return path


@dataclass
class Tracked:
    """The test video run once through ``procsim track``."""

    report: dict[str, Any]
    recording: Path
    exit_code: int


@pytest.fixture(scope="session")
def tracked_video(tmp_path_factory: pytest.TempPathFactory) -> Tracked:
    need_mediapipe()
    video = need_file(TEST_VIDEO)
    from sim.cli import main

    out = tmp_path_factory.mktemp("track") / "video.jsonl"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["track", str(video), "--scenario", "venipuncture", "-o", str(out), "--json"])
    return Tracked(json.loads(buf.getvalue()), out, code)


@dataclass
class StillHand:
    """A still hand: a real photo with fresh camera noise in every frame, tracked at 25 fps."""

    t_s: np.ndarray  # (n,)
    landmarks: np.ndarray  # (n, 21, 3)
    aspect: float


@pytest.fixture(scope="session")
def still_hand() -> StillHand:
    need_mediapipe()
    import cv2

    from sim.tracking.mediapipe_hands import MediaPipeHands
    from sim.tracking.tracker import HandTracker, TrackerConfig

    img = cv2.imread(str(need_file(STILL_PHOTO)))
    img = cv2.resize(img, (640, round(640 * img.shape[0] / img.shape[1])))
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.int16)
    rng = np.random.default_rng(1)
    config = TrackerConfig()
    det = MediaPipeHands(config)
    tracker = HandTracker(config, (rgb.shape[1], rgb.shape[0]))
    ts, lms = [], []
    try:
        for i in range(125):  # 5 s at 25 fps
            noisy = np.clip(rgb + rng.normal(0.0, 4.0, rgb.shape).round(), 0, 255)
            res = tracker.update(i / 25.0, det.detect(noisy.astype(np.uint8)))
            if res.selected is not None:
                ts.append(i / 25.0)
                lms.append(res.selected.landmarks)
    finally:
        det.close()
    return StillHand(np.array(ts), np.array(lms), tracker.aspect)
