import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core import geometry as g


def test_pose_from_angles_gives_orthonormal_frame_with_requested_pitch():
    axis, normal = g.pose_from_angles(30.0, 20.0, 0.0)
    assert g.norm(axis) == pytest.approx(1.0)
    assert g.norm(normal) == pytest.approx(1.0)
    assert g.dot(axis, normal) == pytest.approx(0.0, abs=1e-12)
    assert g.angle_to_plane_deg(axis, (0, 1, 0)) == pytest.approx(20.0)
    assert axis[1] < 0  # pointing into the skin
    assert normal[1] > 0  # bevel up


@given(st.floats(-179, 179), st.floats(-80, 80), st.floats(-179, 179))
def test_roll_is_recovered_against_skin_normal(yaw, pitch, roll):
    axis, normal = g.pose_from_angles(yaw, pitch, roll)
    assert g.signed_roll_deg(normal, (0.0, 1.0, 0.0), axis) == pytest.approx(roll, abs=1e-6)


def test_cylinder_ray_hits_top_of_arm_at_known_point():
    arm = g.Cylinder(35.0)
    axis, _ = g.pose_from_angles(0.0, 30.0, 0.0)
    # start 10 mm back along the axis from the top of the arm at x = 5
    start = g.sub((5.0, 0.0, 0.0), g.scale(axis, 10.0))
    hit = arm.intersect_ray(start, axis)
    assert hit == pytest.approx((5.0, 0.0, 0.0), abs=1e-9)
    assert arm.depth_mm(hit) == pytest.approx(0.0, abs=1e-9)


def test_cylinder_depth_and_normal_off_the_top():
    arm = g.Cylinder(30.0)
    p = (0.0, -30.0 + 30.0 * math.cos(0.5), 30.0 * math.sin(0.5))
    assert arm.depth_mm(p) == pytest.approx(0.0, abs=1e-9)
    n = arm.normal_at(p)
    assert n == pytest.approx((0.0, math.cos(0.5), math.sin(0.5)))
    assert arm.depth_mm((0.0, -2.0, 0.0)) == pytest.approx(2.0)


def test_distance_to_circle():
    c, n, r = (0.0, 0.0, 0.0), (1.0, 0.0, 0.0), 4.0
    assert g.distance_to_circle((0.0, 4.0, 0.0), c, n, r) == pytest.approx(0.0)
    assert g.distance_to_circle((0.0, 0.0, 6.0), c, n, r) == pytest.approx(2.0)
    assert g.distance_to_circle((3.0, 4.0, 0.0), c, n, r) == pytest.approx(3.0)


def test_plane_crossing_interpolates():
    assert g.plane_crossing((0, 2, 0), (2, -2, 4)) == pytest.approx((1.0, 0.0, 2.0))
    assert g.plane_crossing((0, 2, 0), (0, 1, 0)) is None
