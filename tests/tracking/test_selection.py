"""Which hand drives: continuity through phantom hands and handedness flips."""

from __future__ import annotations

import numpy as np
import pytest

from sim.tracking.hand import HandObservation
from sim.tracking.pose import Workspace
from sim.tracking.selection import HandSelector
from sim.tracking.tracker import HandTracker, TrackerConfig
from tests.tracking.synth import hand_points_mm, to_landmarks

ASPECT = 360 / 640


def hand_at(x_mm: float, y_mm: float = 20.0) -> np.ndarray:
    pts = hand_points_mm([x_mm, y_mm, 0.0], [1, -0.3, 0], [0, 1, 0], palm_mm=40.0)
    return to_landmarks(pts, Workspace(), ASPECT)


def test_follows_its_hand_through_phantoms_and_label_flips() -> None:
    rng = np.random.default_rng(3)
    sel = HandSelector("right")
    for i in range(100):
        t = i / 30
        real = hand_at(-40 + i * 0.8)  # moving right, 24 mm/s
        label = "right" if rng.random() < 0.6 else "left"  # flips at random
        hands = [HandObservation(real, label, 0.7)]
        if i % 4 == 1:  # a confident phantom "right hand" elsewhere in the frame
            hands.insert(0, HandObservation(hand_at(60, -30), "right", 0.99))
        got = sel.select(t, hands, ASPECT)
        assert got is not None and got.landmarks is real


def test_acquires_the_dominant_hand_first() -> None:
    left, right = hand_at(-50), hand_at(50)
    for dominant, expect in (("right", right), ("left", left)):
        sel = HandSelector(dominant)
        hands = [HandObservation(left, "left", 0.95), HandObservation(right, "right", 0.6)]
        got = sel.select(0.0, hands, ASPECT)
        assert got is not None and got.landmarks is expect


def test_does_not_jump_to_another_hand_then_reacquires() -> None:
    """When the tracked hand vanishes, a hand elsewhere is not taken at once (that would
    teleport the needle); after ``reacquire_s`` without the old hand it is."""
    sel = HandSelector("right", reacquire_s=0.3)
    assert sel.select(0.0, [HandObservation(hand_at(-50))], ASPECT) is not None
    other = HandObservation(hand_at(60), "right", 0.9)
    assert sel.select(0.1, [other], ASPECT) is None
    assert sel.select(0.2, [other], ASPECT) is None
    assert sel.select(0.45, [other], ASPECT) is other


def test_rejects_unknown_dominant_hand() -> None:
    with pytest.raises(ValueError):
        HandSelector("both")


def test_tracker_marks_lost_frames_untracked_holding_the_last_pose() -> None:
    tr = HandTracker(TrackerConfig(), (640, 360))
    a = tr.update(0.0, [HandObservation(hand_at(0.0))]).sample
    lost = tr.update(1 / 30, []).sample
    assert a.tracked and not lost.tracked
    assert lost.raw is None and a.raw is not None and len(a.raw) == 63
    assert (lost.tip_mm, lost.axis, lost.normal) == (a.tip_mm, a.axis, a.normal)
    assert lost.t_s == pytest.approx(1 / 30)


def test_raw_landmarks_reproduce_the_pose() -> None:
    """The recording's raw landmarks re-derive exactly the pose the trainee saw."""
    from sim.tracking.tracker import landmarks_from_raw

    tr = HandTracker(TrackerConfig(), (640, 360))
    lm = hand_at(12.345678901) + 1e-9
    s = tr.update(0.0, [HandObservation(lm)]).sample
    assert s.raw is not None
    pose = tr.pose(landmarks_from_raw(s.raw))
    assert pose is not None
    assert (pose.tip_mm, pose.axis, pose.normal) == (s.tip_mm, s.axis, s.normal)
    np.testing.assert_allclose(np.reshape(s.raw, (21, 3)), lm, atol=1e-6)
