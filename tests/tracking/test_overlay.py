"""The picture-in-picture camera view: landmarks drawn, "hand not visible" when lost."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2", reason="OpenCV (opencv-contrib-python) is not installed")

from sim.tracking.overlay import HAND_RGB, LOST_RGB, PHANTOM_RGB, camera_view  # noqa: E402
from sim.tracking.pose import Workspace  # noqa: E402
from tests.tracking.synth import hand_points_mm, to_landmarks  # noqa: E402

HAND = to_landmarks(
    hand_points_mm([0, 20, 0], [1, -0.3, 0], [0, 1, 0], palm_mm=40.0), Workspace(), 360 / 640
)


def count(img: np.ndarray, rgb: tuple[int, int, int]) -> int:
    return int(np.all(img == np.array(rgb, np.uint8), axis=2).sum())


def test_landmarks_drawn_where_the_hand_is() -> None:
    frame = np.full((360, 640, 3), 90, np.uint8)
    out = camera_view(frame, HAND)
    assert np.all(frame == 90)  # the frame itself is untouched
    assert count(out, HAND_RGB) > 200
    for x, y, _ in HAND[[0, 5, 9, 17]]:
        px, py = round(x * 640), round(y * 360)
        assert tuple(out[py, px]) == HAND_RGB  # a joint dot on every knuckle
    ys, xs = np.nonzero(np.all(out == np.array(HAND_RGB, np.uint8), axis=2))
    assert xs.min() >= HAND[:, 0].min() * 640 - 5 and xs.max() <= HAND[:, 0].max() * 640 + 5
    assert count(out, LOST_RGB) == 0


def test_phantoms_grey_and_scaled_view() -> None:
    frame = np.full((360, 640, 3), 90, np.uint8)
    other = HAND + np.array([0.3, 0.0, 0.0])
    out = camera_view(frame, HAND, (other,), width=320)
    assert out.shape == (180, 320, 3)
    assert count(out, PHANTOM_RGB) > 50 and count(out, HAND_RGB) > 50


def test_hand_not_visible_cue() -> None:
    frame = np.full((360, 640, 3), 90, np.uint8)
    out = camera_view(frame, None, width=320)
    assert count(out, HAND_RGB) == 0
    assert count(out[:4], LOST_RGB) > 300  # red border
    centre = out[60:120, 40:280]
    assert count(centre, LOST_RGB) > 100 and count(centre, (0, 0, 0)) > 1000  # text on black
