"""Mouse control geometry: the poses it produces follow the core's conventions, so what the
trainee does with the mouse is measured the way the task model expects."""

from __future__ import annotations

import pytest

from sim.app.mouse import Controls, MouseSource
from sim.app.needles import CurvedNeedle
from sim.core import geometry as g
from sim.procedures.suturing.spec import parts as suturing_parts
from sim.procedures.venipuncture.task import VenipunctureTask
from sim.render.scene import default_camera
from sim.scenarios import find_scenario


def make(scenario_id: str) -> MouseSource:
    """A mouse source on the default camera with a clock that ticks once per call."""
    sc = find_scenario(scenario_id)
    cam = default_camera(sc)
    clock = iter(i / 60.0 for i in range(10**6))
    return MouseSource(sc, lambda: cam, lambda: (1280, 720), clock=lambda: next(clock))


@pytest.mark.parametrize("angle", [10.0, 20.0, 35.0])
@pytest.mark.parametrize("aside_mm", [0.0, 12.0, -20.0])
def test_venipuncture_angle_and_bevel_are_what_the_task_measures(
    angle: float, aside_mm: float
) -> None:
    # also aimed to the side of the arm, where the skin slopes: the mouse's 20° and bevel up
    # are 20° to the skin there and up from it, as the task measures (no roll the trainee
    # did not make)
    m = make("venipuncture")
    task = VenipunctureTask(m.scenario).limb
    r = task.skin.radius_mm
    aim = (0.0, (r * r - aside_mm * aside_mm) ** 0.5 - r, aside_mm)
    tip, axis, normal = m.pose(Controls(aim, -5.0, angle, 0.0))
    from sim.core.records import Sample

    meas = task.measure(Sample(0.0, tip, axis, normal))
    assert meas.angle_deg == pytest.approx(angle, abs=1e-6)
    assert meas.roll_deg == pytest.approx(0.0, abs=1e-6)  # bevel up
    assert meas.distance_to_skin_mm == pytest.approx(5.0, abs=1e-6)


def test_pointing_at_the_skin_aims_the_needle_there() -> None:
    m = make("venipuncture")
    cam = default_camera(m.scenario)
    target = (-10.0, 0.0, 0.0)
    m.point_at(cam.project(target, (1280, 720)))
    assert g.norm(g.sub(m.target.aim, target)) < 0.3


def test_suturing_wrist_turn_keeps_the_tip_on_its_own_curve() -> None:
    m = make("suturing")
    geo, tol = suturing_parts(m.scenario)
    r = geo.needle_radius_mm
    entry = (0.0, 0.0, -tol.bite_target_mm)
    needle = m.instrument
    assert isinstance(needle, CurvedNeedle)
    c = needle.hover_at(entry, 0.0, 180.0)
    tip0, axis0, normal0 = m.pose(c)
    assert g.norm(g.sub(tip0, entry)) < 1e-9  # the tip touches the entry point
    assert axis0 == pytest.approx((0.0, -1.0, 0.0), abs=1e-9)  # pointing straight down
    centre = g.add(tip0, g.scale(normal0, r))  # Sample.normal points to the arc centre
    assert centre == pytest.approx(c.aim, abs=1e-9)
    for turn in (200.0, 270.0, 340.0):
        tip, axis, normal = m.pose(Controls(c.aim, 0.0, turn))
        assert g.norm(g.sub(tip, centre)) == pytest.approx(r, abs=1e-9)
        assert g.add(tip, g.scale(normal, r)) == pytest.approx(centre, abs=1e-9)
    tip, _, _ = m.pose(Controls(c.aim, 0.0, 360.0))  # half a turn: out across the wound
    assert tip[2] == pytest.approx(tol.bite_target_mm, abs=1e-9) and abs(tip[1]) < 1e-9


def test_samples_come_at_the_scenario_rate() -> None:
    m = make("venipuncture")
    m.start(0.0)
    items = []
    for _ in range(30):
        items += m.poll()
    times = [s.t_s for s in items]
    assert times == sorted(times)
    steps = {round(b - a, 6) for a, b in zip(times[:-1], times[1:])}
    assert steps == {round(1 / m.scenario.sample_rate_hz, 6)}


def test_the_pointer_resting_where_the_window_opens_does_not_move_the_needle() -> None:
    """SDL reports the pointer's position when the window opens as a motion with rel (0, 0):
    the trainee has not moved, so neither does the needle (no cue before they move)."""
    pygame = pytest.importorskip("pygame")
    m = make("venipuncture")
    cam = default_camera(m.scenario)
    at = cam.project((-10.0, 0.0, 0.0), (1280, 720))
    start = m.target
    rest = pygame.event.Event(pygame.MOUSEMOTION, pos=at, rel=(0, 0), buttons=(0, 0, 0))
    assert m.handle_event(rest) and m.target == start
    move = pygame.event.Event(pygame.MOUSEMOTION, pos=at, rel=(2, -1), buttons=(0, 0, 0))
    assert m.handle_event(move) and g.norm(g.sub(m.target.aim, (-10.0, 0.0, 0.0))) < 0.3


def test_a_straight_needle_set_by_numbers_alone_serves_any_procedure() -> None:
    """The straight needle is generic: a shorter needle on a thinner limb (as a cannula on
    the back of the hand would be) goes in no further than its length allows."""
    pygame = pytest.importorskip("pygame")
    from sim.app.mouse import InstrumentMouse
    from sim.app.needles import GRIP_MM, STRAIGHT_BINDINGS, StraightNeedle

    sc = find_scenario("venipuncture")
    cam = default_camera(sc)
    needle = StraightNeedle(skin_radius_mm=20.0, needle_length_mm=12.0, start_aim=(0, 0, 0))
    t = iter(i / 60.0 for i in range(10**6))
    m = MouseSource(
        sc,
        lambda: cam,
        lambda: (1280, 720),
        clock=lambda: next(t),
        mapping=InstrumentMouse(STRAIGHT_BINDINGS, lambda _: needle),
    )
    m.start(0.0)
    key = dict(key=pygame.K_w, mod=0, unicode="", scancode=0)
    assert m.handle_event(pygame.event.Event(pygame.KEYDOWN, **key))
    for _ in range(400):  # about 7 s of W at 6 mm/s: far more than the needle is long
        m.poll()
    assert m.target.advance_mm == pytest.approx(12.0 - GRIP_MM)
    tip = m.poll()[-1]
    assert tip.tip_mm[1] < -2.0  # in, at the start angle, as deep as the needle reaches
