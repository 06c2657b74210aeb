"""Landmarks -> needle pose, on synthetic hands with known geometry (no mediapipe)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from sim.core.geometry import angle_to_plane_deg, signed_roll_deg
from sim.tracking.hand import grip_ratio, to_iso
from sim.tracking.pose import GripHysteresis, Workspace, hand_pose, scene_points
from tests.tracking.synth import hand_points_mm, palm_centre_mm, to_landmarks, unit

ASPECT = 360 / 640
WS = Workspace()


def held_hand(
    pointing: list[float],
    back: list[float],
    at_mm: tuple[float, float] = (10.0, 30.0),
    hand: str = "right",
    gap_mm: float = 4.0,
    ws: Workspace = WS,
) -> tuple[np.ndarray, np.ndarray]:
    """(scene points, image landmarks) of a hand whose palm centre is at ``at_mm`` (x, y)
    and at the workspace's depth."""
    pts = hand_points_mm(
        [0, 0, 0], pointing, back, hand, gap_mm, palm_mm=ws.ref_size * ws.mm_per_width
    )
    pts += np.array([at_mm[0], at_mm[1], ws.centre_mm[2]]) - palm_centre_mm(pts)
    return pts, to_landmarks(pts, ws, ASPECT)


def test_landmarks_map_back_to_the_scene_points() -> None:
    pts, lm = held_hand([1, -0.4, 0.3], [0.2, 1, 0.1])
    got, _ = scene_points(lm, ASPECT, WS)
    np.testing.assert_allclose(got, pts, atol=1e-9)


@pytest.mark.parametrize("hand", ["right", "left"])
def test_needle_held_at_20_deg_bevel_up(hand: str) -> None:
    """A hand pointing along the forearm, tilted 20 deg down, back of the hand up: the
    needle's tip is at the pinch, its insertion angle 20 deg, its bevel up."""
    a = math.radians(20)
    pointing = [math.cos(a), -math.sin(a), 0.0]
    pts, lm = held_hand(pointing, [0, 1, 0], hand=hand)
    pose = hand_pose(lm, ASPECT, WS, hand)
    assert pose is not None
    np.testing.assert_allclose(pose.tip_mm, 0.5 * (pts[4] + pts[8]), atol=1e-9)
    np.testing.assert_allclose(pose.axis, pointing, atol=1e-9)
    assert angle_to_plane_deg(pose.axis, (0.0, 1.0, 0.0)) == pytest.approx(20.0, abs=1e-6)
    assert signed_roll_deg(pose.normal, (0.0, 1.0, 0.0), pose.axis) == pytest.approx(0, abs=1e-6)
    assert abs(np.dot(pose.axis, pose.normal)) < 1e-9


def test_wrong_hand_setting_turns_the_bevel_over() -> None:
    """The roll comes from which hand it is: a left hand read as a right one is upside down."""
    _, lm = held_hand([1, 0, 0], [0, 1, 0], hand="left")
    pose = hand_pose(lm, ASPECT, WS, "right")
    assert pose is not None
    np.testing.assert_allclose(pose.normal, (0, -1, 0), atol=1e-9)


def test_pose_in_3d_and_roll() -> None:
    """Any orientation, including towards the screen, and a rolled hand."""
    pointing = unit([0.6, -0.5, -0.62])
    back = [0.5, 0.8, 0.1]
    pts, lm = held_hand(list(pointing), back)
    pose = hand_pose(lm, ASPECT, WS)
    assert pose is not None
    np.testing.assert_allclose(pose.axis, pointing, atol=1e-9)
    expect_n = unit(np.asarray(back) - np.dot(back, pointing) * pointing)
    np.testing.assert_allclose(pose.normal, expect_n, atol=1e-9)
    np.testing.assert_allclose(pose.tip_mm, 0.5 * (pts[4] + pts[8]), atol=1e-9)


def test_roll_offset_turns_the_normal_about_the_axis() -> None:
    _, lm = held_hand([1, 0, 0], [0, 1, 0])
    pose = hand_pose(lm, ASPECT, WS, roll_offset_deg=90.0)
    assert pose is not None
    np.testing.assert_allclose(pose.normal, (0, 0, 1), atol=1e-9)  # y turned about +x
    np.testing.assert_allclose(pose.axis, (1, 0, 0), atol=1e-9)


def test_image_directions_map_to_scene_directions() -> None:
    """Hand to the right in the (mirrored) image -> scene +x; up in the image -> scene +y."""
    _, lm = held_hand([1, 0, 0], [0, 1, 0])
    p0 = hand_pose(lm, ASPECT, WS)
    right = lm + np.array([0.06, 0.0, 0.0])
    up = lm + np.array([0.0, -0.06, 0.0])
    assert p0 is not None
    pr, pu = hand_pose(right, ASPECT, WS), hand_pose(up, ASPECT, WS)
    assert pr is not None and pu is not None
    np.testing.assert_allclose(
        np.subtract(pr.tip_mm, p0.tip_mm), (0.06 * WS.mm_per_width, 0, 0), atol=1e-9
    )
    np.testing.assert_allclose(
        np.subtract(pu.tip_mm, p0.tip_mm), (0, 0.06 * ASPECT * WS.mm_per_width, 0), atol=1e-9
    )


@pytest.mark.parametrize("mirrored", [True, False])
def test_depth_from_hand_size(mirrored: bool) -> None:
    """A hand 10 % smaller in the image is further from the camera: mirrored (selfie view)
    it moves towards the trainee (+z); seen from the camera, away from it (-z)."""
    ws = replace(WS, mirrored=mirrored)
    _, lm = held_hand([1, 0, 0], [0, 0, 1], ws=ws)  # flat in the image plane
    centre = lm[[0, 5, 9, 17]].mean(axis=0)
    small = centre + (lm - centre) / 1.1
    near, far = hand_pose(lm, ASPECT, ws), hand_pose(small, ASPECT, ws)
    assert near is not None and far is not None
    dz = far.tip_mm[2] - near.tip_mm[2]
    expect = 0.1 * ws.depth_mm_per_unit
    assert dz == pytest.approx(expect if mirrored else -expect, rel=1e-6)
    assert far.size == pytest.approx(near.size / 1.1)


def test_mirrored_and_camera_views_agree_on_a_real_hand() -> None:
    """The same real hand seen in a flipped frame (selfie) and in the raw frame gives the
    same needle orientation, apart from the scene being seen from the other side."""
    pointing = unit([0.7, -0.3, 0.4])
    _, lm = held_hand(list(pointing), [0.1, 1, 0.2])
    raw = lm.copy()
    raw[:, 0] = 1.0 - raw[:, 0]  # the unflipped camera frame
    a = hand_pose(lm, ASPECT, WS)
    b = hand_pose(raw, ASPECT, replace(WS, mirrored=False))
    assert a is not None and b is not None
    turn = np.array([-1.0, 1.0, -1.0])  # half a turn about y: the other side of the scene
    np.testing.assert_allclose(np.multiply(b.axis, turn), a.axis, atol=1e-9)
    np.testing.assert_allclose(np.multiply(b.normal, turn), a.normal, atol=1e-9)


def test_grip_ratio_of_a_pinch() -> None:
    _, lm = held_hand([1, 0, 0], [0, 0, 1], gap_mm=8.0)  # flat: no depth foreshortening
    iso = to_iso(lm, ASPECT)
    span = np.linalg.norm(iso[9] - iso[0]) * WS.mm_per_width
    assert grip_ratio(iso) == pytest.approx(8.0 / span)


def test_degenerate_hand_gives_no_pose() -> None:
    assert hand_pose(np.full((21, 3), 0.5), ASPECT, WS) is None


def test_grip_hysteresis_and_debounce() -> None:
    g = GripHysteresis(engage=0.25, release=0.35, debounce=3)
    # Closing needs three frames below 0.25; a single dip is ignored.
    seq = [0.5, 0.2, 0.5, 0.2, 0.2, 0.2, 0.3, 0.34, 0.3, 0.4, 0.4, 0.3, 0.4, 0.4, 0.4]
    out = [g.update(r) for r in seq]
    assert out == [False, False, False, False, False, True] + [True] * 6 + [True, True, False]
    # Hovering between the thresholds never toggles.
    g = GripHysteresis()
    assert not any(g.update(r) for r in np.linspace(0.26, 0.34, 50))
    with pytest.raises(ValueError):
        GripHysteresis(engage=0.4, release=0.3)
