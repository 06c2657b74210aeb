"""The suturing state machine on needle paths with known geometry."""

from __future__ import annotations

import math

import pytest

from sim.core import geometry as g
from sim.core.records import Action, ActionKind, Sample
from sim.procedures.registry import get as procedure
from sim.procedures.suturing.scripted import _arc_poses
from sim.procedures.suturing.spec import parts as suturing_parts


def stitch_samples(x, bite, tilt, r, drag=0.0, t0=0.0, yaw=0.0):
    poses = _arc_poses(x, bite, tilt, r, drag, n=120, yaw_deg=yaw)
    p0, a0, n0 = poses[0]
    out = [Sample(t0, g.sub(p0, g.scale(a0, 5.0)), a0, n0)]
    t = t0
    for p, a, n in poses:
        t += 1 / 60
        out.append(Sample(t, p, a, n))
    p1, a1, n1 = poses[-1]
    for k in range(1, 40):
        t += 1 / 60
        out.append(Sample(t, g.add(p1, (0.0, 0.25 * k, 0.0)), a1, n1))  # pull out
    return out


def run(scenario, items):
    task = procedure(scenario.task).task(scenario)
    state = task.initial()
    events = []
    for it in items:
        state, ev = task.step(state, it)
        events.extend(ev)
    return state, events


def test_perfect_stitch_measures_bites_angles_and_depth(sut):
    geo, tol = suturing_parts(sut)
    r = geo.needle_radius_mm
    state, events = run(sut, stitch_samples(0.0, r, 0.0, r))
    done = [e for e in events if e.kind == "stitch_completed"]
    assert len(done) == 1 and not any(e.error for e in events)
    e = done[0]
    assert e.value("entry_bite_mm") == pytest.approx(r, abs=1e-6)
    assert e.value("exit_bite_mm") == pytest.approx(r, abs=0.01)
    assert e.value("entry_angle_deg") == pytest.approx(90.0, abs=1e-6)
    assert e.value("exit_angle_deg") == pytest.approx(90.0, abs=1.0)
    assert e.value("depth_mm") == pytest.approx(r, abs=0.01)
    assert e.value("arc_deviation_mm") < 1e-6
    assert e.value("symmetry_mm") < 0.02
    assert e.value("alignment_deg") < 1e-6
    assert state.stitch_x_mm == pytest.approx((0.0,))


def test_tilted_entry_is_measured_and_flagged(sut):
    geo, tol = suturing_parts(sut)
    tilt = tol.perpendicular_tol_deg + 10
    _, events = run(sut, stitch_samples(0.0, 4.0, tilt, geo.needle_radius_mm))
    entry = next(e for e in events if e.kind == "needle_entry")
    assert entry.value("angle_deg") == pytest.approx(90 - tilt, abs=1e-6)
    assert "not_perpendicular" in [e.kind for e in events]


def test_short_asymmetric_bite_is_flagged(sut):
    geo, _ = suturing_parts(sut)
    _, events = run(sut, stitch_samples(0.0, 2.0, 0.0, geo.needle_radius_mm))
    k = [e.kind for e in events if e.error]
    assert "bite_out_of_range" in k and "asymmetric_bites" in k
    done = next(e for e in events if e.kind == "stitch_completed")
    assert done.value("exit_bite_mm") == pytest.approx(2 * geo.needle_radius_mm - 2.0, abs=0.01)


def test_dragging_the_needle_straight_is_tissue_drag(sut):
    geo, tol = suturing_parts(sut)
    _, events = run(sut, stitch_samples(0.0, 4.0, 0.0, geo.needle_radius_mm, drag=0.8))
    drag = [e for e in events if e.kind == "tissue_drag"]
    assert drag and drag[0].value("arc_deviation_mm") > tol.arc_deviation_max_mm


def test_needle_through_the_pad_is_caught(sut):
    geo, _ = suturing_parts(sut)
    r = geo.pad_thickness_mm + 2
    _, events = run(sut, stitch_samples(0.0, r, 0.0, r))
    assert "through_pad" in [e.kind for e in events]


def test_exit_on_the_same_side_is_missed_wound(sut):
    a, n = (0.0, -1.0, 0.0), (0.0, 0.0, 1.0)
    items = [
        Sample(0, (0, 2, -4), a, n),
        Sample(0.1, (0, -2, -4), a, n),
        Sample(0.2, (0, -2, -2), a, n),
        Sample(0.3, (0, 3, -2), (0, 1, 0), n),
    ]
    _, events = run(sut, items)
    assert [e.kind for e in events] == ["needle_entry", "needle_exit", "missed_wound"]


def test_spacing_between_stitches_and_finish(sut):
    geo, tol = suturing_parts(sut)
    r = geo.needle_radius_mm
    items = stitch_samples(-4.0, r, 0.0, r) + stitch_samples(4.0, r, 0.0, r, t0=10.0)
    items.append(Action(20.0, ActionKind.FINISH))
    state, events = run(sut, items)
    done = [e for e in events if e.kind == "stitch_completed"]
    assert [round(e.value("x_mm"), 6) for e in done] == [-4.0, 4.0]
    assert math.isnan(done[0].value("spacing_mm"))
    assert done[1].value("spacing_mm") == pytest.approx(8.0)
    inc = [e for e in events if e.kind == "incomplete"]
    assert len(inc) == (1 if tol.stitches_required > 2 else 0)
    assert state.finished


def _stitches(sut, xs, yaws=None, radii=None):
    geo, _ = suturing_parts(sut)
    items = []
    for i, x in enumerate(xs):
        r = (radii or [geo.needle_radius_mm] * len(xs))[i]
        items += stitch_samples(x, r, 0.0, r, t0=10.0 * i, yaw=(yaws or [0.0] * len(xs))[i])
    return items


def test_two_stitches_on_top_of_each_other_are_an_error(sut):
    _, tol = suturing_parts(sut)
    state, events = run(sut, _stitches(sut, [0.0, 0.5]))
    close = [e for e in events if e.kind == "stitch_too_close"]
    assert len(close) == 1 and close[0].error
    assert (
        "stitch 2" in close[0].message and f"{tol.spacing_target_mm / 2:g} mm" in close[0].message
    )
    assert close[0].value("gap_mm") == pytest.approx(0.5, abs=0.01)


def test_a_stitch_crossing_another_is_an_error(sut):
    _, tol = suturing_parts(sut)
    # stitch 2's middle is far enough away, but its long oblique bites run across stitch 1
    xs = [0.0, tol.spacing_target_mm * 0.6]
    state, events = run(sut, _stitches(sut, xs, [0.0, 60.0], [4.0, 6.0]))
    assert [e.kind for e in events if e.kind == "stitch_crossing"] == ["stitch_crossing"]
    assert "stitch_too_close" not in [e.kind for e in events]


def test_well_spaced_stitches_are_no_error_and_the_planned_count_ends_the_task(sut):
    geo, tol = suturing_parts(sut)
    xs = [tol.spacing_target_mm * i for i in range(tol.stitches_required + 1)]
    state, events = run(sut, _stitches(sut, xs))
    assert not any(e.error for e in events)
    done = [e for e in events if e.kind == "stitch_completed"]
    assert len(done) == tol.stitches_required  # the stitch after the last planned is ignored
    fin = [e for e in events if e.kind == "finish"]
    n = tol.stitches_required
    assert len(fin) == 1 and f"{n} of {n} stitches placed: task complete" == fin[0].message
    assert state.finished and procedure(sut.task).task(sut).is_complete(state)
