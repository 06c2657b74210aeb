"""The venipuncture state machine on hand-built trajectories with known geometry."""

from __future__ import annotations

import pytest

from sim.core import geometry as g
from sim.core.records import Action, ActionKind, Event, Item, Sample
from sim.procedures.registry import get as procedure
from sim.procedures.venipuncture.spec import parts as venipuncture_parts

RATE = 60.0


class Traj:
    """Builds a needle trajectory sample by sample at 60 Hz."""

    def __init__(self) -> None:
        self.t = 0.0
        self.items: list[Item] = []

    def act(self, kind: ActionKind) -> Traj:
        self.items.append(Action(self.t, kind))
        return self

    def line(self, a, b, axis, normal, speed_mm_s=5.0, tracked=True) -> Traj:
        n = max(1, int(g.norm(g.sub(b, a)) / speed_mm_s * RATE))
        for i in range(n + 1):
            self.items.append(Sample(self.t, g.lerp(a, b, i / n), axis, normal, 1.0, tracked))
            self.t += 1 / RATE
        return self

    def hold(self, p, axis, normal, seconds) -> Traj:
        for _ in range(int(seconds * RATE)):
            self.items.append(Sample(self.t, p, axis, normal))
            self.t += 1 / RATE
        return self


def run(scenario, items):
    task = procedure(scenario.task).task(scenario)
    state = task.initial()
    events: list[Event] = []
    for it in items:
        state, ev = task.step(state, it)
        events.extend(ev)
    return state, events


def kinds(events):
    """The task's own event kinds (the patient's reactions, ``patient_*``, left out)."""
    return [e.kind for e in events if not e.kind.startswith("patient_")]


def stick(scenario, angle=20.0, roll=0.0, aim_z=0.0, extra_mm=0.0, tourniquet=True, hold_s=4.0):
    """Puncture at (x0, skin, aim_z) and advance to the vein centre depth (+ extra_mm)."""
    geo, _ = venipuncture_parts(scenario)
    axis, normal = g.pose_from_angles(0.0, angle, roll)
    surf_y = (geo.arm_radius_mm**2 - aim_z**2) ** 0.5 - geo.arm_radius_mm
    puncture = (-5.0, surf_y, aim_z)
    along = (geo.vein_depth_mm + surf_y) / -axis[1]
    start = g.sub(puncture, g.scale(axis, 10.0))
    target = g.add(puncture, g.scale(axis, along + extra_mm))
    tr = Traj()
    if tourniquet:
        tr.act(ActionKind.TOURNIQUET_ON)
    tr.line(start, target, axis, normal).hold(target, axis, normal, hold_s)
    return tr, puncture, target, axis, normal


def test_puncture_at_known_point_and_angle(veni):
    tr, puncture, *_ = stick(veni, angle=20.0, roll=10.0)
    _, events = run(veni, tr.items)
    p = next(e for e in events if e.kind == "skin_puncture")
    assert (p.value("x_mm"), p.value("y_mm"), p.value("z_mm")) == pytest.approx(puncture, abs=1e-9)
    assert p.value("angle_deg") == pytest.approx(20.0, abs=1e-9)
    assert p.value("roll_deg") == pytest.approx(10.0, abs=1e-9)
    assert p.value("offset_mm") == pytest.approx(0.0, abs=1e-9)


def test_clean_venipuncture_completes_without_errors(veni):
    tr, puncture, target, axis, normal = stick(veni)
    tr.act(ActionKind.TOURNIQUET_OFF)
    tr.line(target, g.sub(puncture, g.scale(axis, 10.0)), axis, normal, speed_mm_s=8.0)
    tr.act(ActionKind.FINISH)
    state, events = run(veni, tr.items)
    assert kinds(events) == [
        "tourniquet_on",
        "skin_puncture",
        "flashback",
        "blood_drawn",
        "tourniquet_off",
        "withdrawal",
        "completed",
        "finish",
    ]
    assert not any(e.error for e in events)
    assert state.completed and state.finished  # the task ends itself when complete
    assert procedure(veni.task).task(veni).is_complete(state)
    assert "task complete" in events[-1].message
    flash = next(e for e in events if e.kind == "flashback")
    drawn = next(e for e in events if e.kind == "blood_drawn")
    assert drawn.t_s - flash.t_s == pytest.approx(venipuncture_parts(veni)[1].draw_hold_s, abs=0.05)


def test_steep_deep_stick_pierces_back_wall(veni):
    tr, *_ = stick(veni, angle=45.0, extra_mm=4.0)
    state, events = run(veni, tr.items)
    k = kinds(events)
    assert "angle_out_of_range" in k
    assert k.index("flashback") < k.index("back_wall")
    assert state.back_wall
    assert "blood_drawn" not in k  # no draw once the vein is blown


def test_one_sample_jump_through_the_vein_is_caught(veni):
    geo, _ = venipuncture_parts(veni)
    axis, normal = g.pose_from_angles(0.0, 89.0, 0.0)
    tr = Traj().act(ActionKind.TOURNIQUET_ON)
    tr.items.append(Sample(0.0, (0.0, 0.5, 0.0), axis, normal))
    tr.items.append(Sample(0.02, (0.0, -2.0, 0.0), axis, normal))
    tr.items.append(Sample(0.04, (0.0, -geo.vein_depth_mm - 4.0, 0.0), axis, normal))
    _, events = run(veni, tr.items)
    assert {"flashback", "back_wall"} <= set(kinds(events))


def test_through_the_lower_side_of_the_vein_is_the_back_wall(veni):
    # a tip a little off the centreline enters the lumen, leaves it through the lower side of
    # its wall and goes on under the vein: the vein is pierced as surely as through its floor
    tr, *_ = stick(veni, aim_z=0.9, extra_mm=8.0)
    state, events = run(veni, tr.items)
    k = kinds(events)
    assert k.index("flashback") < k.index("back_wall") and state.back_wall
    assert "blood_drawn" not in k


def test_far_to_the_side_is_not_passing_the_vein(veni):
    # a stick 14 mm aside goes below the vein's height only because the arm curves away: it
    # never came near the vein, so it did not "pass the vein without entering"
    tr, *_ = stick(veni, aim_z=14.0, extra_mm=3.0)
    _, events = run(veni, tr.items)
    assert "skin_puncture" in kinds(events)
    assert "missed_vein" not in kinds(events) and "flashback" not in kinds(events)


def test_lateral_aim_misses_the_vein(veni):
    tr, *_ = stick(veni, aim_z=4.0, extra_mm=3.0)
    _, events = run(veni, tr.items)
    assert "missed_vein" in kinds(events)
    assert "flashback" not in kinds(events)
    assert next(e for e in events if e.kind == "skin_puncture").value("offset_mm") == 4.0


def test_bevel_down_and_no_tourniquet_are_errors(veni):
    tr, *_ = stick(veni, roll=150.0, tourniquet=False)
    _, events = run(veni, tr.items)
    assert {"bevel_down", "no_tourniquet"} <= {e.kind for e in events if e.error}


def test_attempt_limit_ends_the_task_and_says_to_escalate(veni):
    _, tol = venipuncture_parts(veni)
    items: list[Item] = []
    t = 0.0
    for _ in range(tol.max_attempts + 1):
        tr, puncture, target, axis, normal = stick(veni, aim_z=4.0, hold_s=0.2, tourniquet=False)
        tr.line(target, g.sub(puncture, g.scale(axis, 10.0)), axis, normal, speed_mm_s=20.0)
        for it in tr.items:
            items.append(
                Sample(it.t_s + t, it.tip_mm, it.axis, it.normal) if isinstance(it, Sample) else it
            )
        t = items[-1].t_s + 0.1
    task, events = run(veni, items)
    punct = [e for e in events if e.kind == "skin_puncture"]
    assert len(punct) == tol.max_attempts  # the attempt after the limit is never made
    limit = [e for e in events if e.kind == "attempt_limit"]
    assert len(limit) == 1 and "stop and escalate" in limit[0].message
    assert events[-1].kind == "finish" and events[-1].t_s == limit[0].t_s


def test_tourniquet_left_on_too_long(veni):
    _, tol = venipuncture_parts(veni)
    axis, normal = g.pose_from_angles(0.0, 20.0, 0.0)
    tr = (
        Traj()
        .act(ActionKind.TOURNIQUET_ON)
        .hold((0, 20, 0), axis, normal, tol.tourniquet_max_s + 2)
    )
    _, events = run(veni, tr.items)
    late = [e for e in events if e.kind == "tourniquet_too_long"]
    assert len(late) == 1
    assert late[0].t_s == pytest.approx(tol.tourniquet_max_s, abs=0.05)


def test_redirection_while_inserted_is_counted(veni):
    tr, puncture, target, axis, normal = stick(veni, extra_mm=-1.5, hold_s=0.2)
    axis2, normal2 = g.pose_from_angles(12.0, 20.0, 0.0)
    tr.hold(target, axis2, normal2, 0.2)
    _, events = run(veni, tr.items)
    red = [e for e in events if e.kind == "redirection"]
    assert len(red) == 1
    assert red[0].value("angle_deg") == pytest.approx(g.angle_between_deg(axis, axis2))


def test_withdrawing_with_tourniquet_on_is_an_error(veni):
    tr, puncture, target, axis, normal = stick(veni)
    tr.line(target, g.sub(puncture, g.scale(axis, 10.0)), axis, normal, speed_mm_s=8.0)
    _, events = run(veni, tr.items)
    assert "tourniquet_on_at_withdrawal" in kinds(events)
    assert "completed" in kinds(events)


def test_jitter_at_the_skin_is_not_a_withdrawal(veni):
    """Tracker noise that lifts the tip 0.5 mm out of the skin keeps the attempt going."""
    axis, normal = g.pose_from_angles(0.0, 20.0, 0.0)
    tr = Traj().act(ActionKind.TOURNIQUET_ON)
    tr.line((-10, 3, 0), (-3, -0.3, 0), axis, normal)
    tr.line((-3, -0.3, 0), (-3, 0.5, 0), axis, normal)
    tr.line((-3, 0.5, 0), (-3, -0.3, 0), axis, normal)
    _, events = run(veni, tr.items)
    assert kinds(events).count("skin_puncture") == 1
    assert "withdrawal" not in kinds(events)


def test_untracked_samples_and_finish(veni):
    axis, normal = g.pose_from_angles(0.0, 20.0, 0.0)
    tr = Traj().line((-10, 3, 0), (0, -3, 0), axis, normal, tracked=False)
    tr.act(ActionKind.FINISH)
    state, events = run(veni, tr.items)
    assert kinds(events) == ["incomplete", "finish"]
    assert state.finished


def test_same_items_same_events(veni):
    tr, *_ = stick(veni, angle=35.0, extra_mm=3.0)
    assert run(veni, tr.items)[1] == run(veni, tr.items)[1]


def test_tourniquet_reapplied_before_the_rest_period(veni):
    _, tol = venipuncture_parts(veni)
    items = [
        Action(0.0, ActionKind.TOURNIQUET_ON),
        Action(30.0, ActionKind.TOURNIQUET_OFF),
        Action(30.0 + tol.tourniquet_rest_s - 1, ActionKind.TOURNIQUET_ON),
        Action(200.0, ActionKind.TOURNIQUET_OFF),
        Action(200.0 + tol.tourniquet_rest_s + 1, ActionKind.TOURNIQUET_ON),
    ]
    _, events = run(veni, items)
    early = [e for e in events if e.kind == "tourniquet_reapplied_early"]
    assert len(early) == 1 and early[0].t_s == 30.0 + tol.tourniquet_rest_s - 1
    assert [e.value("duration_s") for e in events if e.kind == "tourniquet_off"] == [
        30.0,
        200.0 - (30.0 + tol.tourniquet_rest_s - 1),
    ]


def test_a_straight_needle_moved_sideways_in_tissue_is_probing(veni):
    _, tol = venipuncture_parts(veni)
    tr, puncture, target, axis, normal = stick(veni, hold_s=0.2)
    side = g.add(target, (0.0, 0.0, tol.probe_mm + 1.0))  # the hand slides across
    tr.line(target, side, axis, normal, speed_mm_s=4.0)
    state, events = run(veni, tr.items)
    probing = [e for e in events if e.kind == "probing"]
    assert len(probing) == 1 and probing[0].error
    assert probing[0].value("lateral_mm") > tol.probe_mm
    assert "withdraw" in probing[0].message
    task = procedure(veni.task).task(veni)
    assert task.probe_mm(state, tr.items[-1]) == pytest.approx(tol.probe_mm + 1.0, abs=0.05)


def test_pivoting_about_the_puncture_is_a_redirection_not_probing(veni):
    tr, puncture, target, axis, normal = stick(veni, hold_s=0.2)
    depth = g.norm(g.sub(target, puncture))
    for k in range(1, 31):  # turn the needle 15 deg about where it went in
        ax, nm = g.pose_from_angles(k * 0.5, 20.0, 0.0)
        tr.items.append(Sample(tr.t, g.add(puncture, g.scale(ax, depth)), ax, nm))
        tr.t += 1 / RATE
    _, events = run(veni, tr.items)
    assert "redirection" in kinds(events) and "probing" not in kinds(events)


def test_an_abandoned_stick_is_not_complete(veni):
    tr, *_ = stick(veni, hold_s=1.0)
    tr.act(ActionKind.FINISH)
    state, events = run(veni, tr.items)
    assert not procedure(veni.task).task(veni).is_complete(state)
    assert kinds(events)[-3:] == ["incomplete", "tourniquet_off", "finish"]


def test_withdrawing_to_just_under_the_skin_then_redirecting_is_not_probing(veni):
    _, tol = venipuncture_parts(veni)
    tr, puncture, target, axis, normal = stick(veni, hold_s=0.2)
    shallow = g.add(puncture, g.scale(axis, 0.5 * tol.exit_margin_mm))  # just under the skin
    tr.line(target, shallow, axis, normal, speed_mm_s=5.0)
    aside = g.add(shallow, (0.0, 0.0, tol.probe_mm + 1.0))
    tr.line(shallow, aside, axis, normal, speed_mm_s=2.0)  # re-aim from just under the skin
    tr.line(aside, g.add(aside, g.scale(axis, 6.0)), axis, normal)  # and advance again
    _, events = run(veni, tr.items)
    assert "probing" not in kinds(events)
