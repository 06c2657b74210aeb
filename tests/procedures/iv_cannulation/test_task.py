"""The IV cannulation state machine on hand-built trajectories with known geometry, and on
its scripted trainees."""

from __future__ import annotations

import pytest

from sim.core.records import ActionKind
from sim.procedures.iv_cannulation.task import PHASES, IvAction, IvCannulationTask
from tests.procedures.iv_cannulation.helpers import Traj, clean, kinds, run, scripted, thread

CLEAN_EVENTS = [
    "tourniquet_on",
    "skin_puncture",
    "flashback",
    "catheter_in_vein",
    "threading_started",
    "threaded",
    "tourniquet_off",
    "occluded",
    "needle_withdrawn",
    "flushed",
    "secured",
    "completed",
    "finish",
]


def finish_clean(tr: Traj, *, release: bool = True, occlude: bool = True) -> Traj:
    if release:
        tr.act(ActionKind.TOURNIQUET_OFF)
    if occlude:
        tr.act(IvAction.OCCLUDE)
    return tr.out().act(IvAction.FLUSH).act(IvAction.SECURE)


def test_clean_cannulation_goes_through_every_step_in_order(iv):
    tr = finish_clean(thread(clean(iv)))
    st, events, phases = run(iv, tr.items)
    assert kinds(events) == CLEAN_EVENTS
    assert phases == list(PHASES)
    assert st.completed and IvCannulationTask(iv).is_complete(st)
    withdrawn = next(e for e in events if e.kind == "needle_withdrawn")
    assert withdrawn.value("success") == 1.0


def test_flashback_at_the_near_wall_and_catheter_tip_in_a_protrusion_later(iv):
    geo = iv.geometry
    tr = Traj(iv).act(ActionKind.TOURNIQUET_ON).aim().enter(3.0)
    _, events, _ = run(iv, tr.items)
    flash = next(e for e in events if e.kind == "flashback")
    # the vein's near wall, straight above its centreline (the line aims at z = 0)
    top = geo.vein_depth_mm - geo.vein_diameter_mm / 2
    assert flash.value("depth_mm") == pytest.approx(top, abs=0.05)
    cath = next(e for e in events if e.kind == "catheter_in_vein")
    # the catheter tip enters the lumen when the needle tip is a protrusion past the wall
    assert cath.value("advance_mm") == pytest.approx(geo.needle_protrusion_mm, abs=0.06)
    assert flash.t_s < cath.t_s


def test_threaded_exactly_when_the_hub_reaches_the_skin(iv):
    geo = iv.geometry
    tr = clean(iv)
    inside = tr.skin_to_tip_mm() - geo.needle_protrusion_mm
    need = -(-(geo.catheter_length_mm - inside) // geo.catheter_step_mm)
    tr.act(IvAction.CATHETER_ADVANCE, int(need) - 1)
    st, events, _ = run(iv, tr.items)
    assert "threading_started" in kinds(events) and not st.threaded
    tr.act(IvAction.CATHETER_ADVANCE)
    st, events, _ = run(iv, tr.items)
    assert st.threaded and kinds(events)[-1] == "threaded"
    start = next(e for e in events if e.kind == "threading_started")
    assert start.value("angle_deg") == pytest.approx(8.0, abs=0.01)
    assert start.value("advance_mm") == pytest.approx(0.3 + 2.0, abs=0.06)  # from flashback


def test_threading_before_the_catheter_tip_is_in_hangs_up_and_fails_the_attempt(iv):
    tr = Traj(iv).act(ActionKind.TOURNIQUET_ON).aim().enter(0.3)  # needle in, catheter not
    tr.act(IvAction.CATHETER_ADVANCE, 5)
    st, events, _ = run(iv, tr.items)
    assert kinds(events, errors_only=True) == ["threaded_outside_vein"]
    assert "threading_started" not in kinds(events) and st.hung_up
    tr.out()
    st, events, _ = run(iv, tr.items)
    assert st.failed_attempts == 1 and not st.needle_out
    assert next(e for e in events if e.kind == "needle_withdrawn").value("success") == 0.0


def test_needle_pushed_forward_while_threading(iv):
    tr = clean(iv).act(IvAction.CATHETER_ADVANCE, 4).along(1.5)
    _, events, _ = run(iv, tr.items)
    assert "needle_advanced" not in kinds(events)  # within needle_still_mm (2)
    tr.along(1.0)
    _, events, _ = run(iv, tr.items)
    assert kinds(events, errors_only=True) == ["needle_advanced"]
    assert next(e for e in events if e.kind == "needle_advanced").value("forward_mm") > 2.0


def test_needle_pulled_back_and_pushed_in_again_shears_the_catheter(iv):
    tr = thread(clean(iv)).act(ActionKind.TOURNIQUET_OFF).act(IvAction.OCCLUDE)
    tr.along(-4.0).along(2.9)
    _, events, _ = run(iv, tr.items)
    assert "catheter_sheared" not in kinds(events)  # pushed in less than reinsert_mm (3)
    tr.along(0.2)
    _, events, _ = run(iv, tr.items)
    assert kinds(events, errors_only=True) == ["catheter_sheared"]
    assert "catheter_sheared" in iv.scoring.critical_errors


def test_a_short_pull_back_then_forward_is_not_reinsertion(iv):
    tr = thread(clean(iv)).along(-2.5).along(2.5)
    _, events, _ = run(iv, tr.items)
    assert kinds(events, errors_only=True) == []


def test_withdrawing_with_the_tourniquet_on_and_without_occlusion(iv):
    tr = finish_clean(thread(clean(iv)), release=False, occlude=False)
    st, events, _ = run(iv, tr.items)
    assert kinds(events, errors_only=True) == ["tourniquet_on_at_withdrawal", "no_occlusion"]
    assert st.completed  # the cannula is in: errors, not a failed procedure


def test_out_of_order_steps_do_nothing(iv):
    tr = clean(iv).act(IvAction.OCCLUDE).act(IvAction.FLUSH).act(IvAction.SECURE)
    st, events, phases = run(iv, tr.items)
    assert not ({"occluded", "flushed", "secured"} & set(kinds(events)))
    assert phases[-1] == "thread" and not st.completed


def test_lowering_the_angle_after_flashback_is_not_a_redirection(iv):
    tr = clean(iv)  # 20 deg, lowered to 8 after flashback
    _, events, _ = run(iv, tr.items)
    assert "redirection" not in kinds(events)
    tr2 = Traj(iv).act(ActionKind.TOURNIQUET_ON).aim().along(11.0).lower(12.0)  # before
    _, events2, _ = run(iv, tr2.items)
    assert "redirection" in kinds(events2)


def test_back_wall_fails_the_attempt_even_if_threaded(iv):
    tr = Traj(iv).act(ActionKind.TOURNIQUET_ON).aim().enter(12.0)
    tr.along(-7.0).lower(8.0).hold(0.1)
    tr = thread(tr)
    st, events, _ = run(iv, tr.items)
    assert "back_wall" in kinds(events, errors_only=True)
    tr.act(ActionKind.TOURNIQUET_OFF).act(IvAction.OCCLUDE).out()
    st, events, _ = run(iv, tr.items)
    assert st.failed_attempts == 1 and not st.needle_out


def test_two_misses_reach_the_attempt_limit_and_end_the_procedure(iv):
    tr = Traj(iv).act(ActionKind.TOURNIQUET_ON)
    for x in (0.0, -8.0):
        tr.aim(z_mm=3.0, x_flash=x).enter(1.0).out()
    tr.act(ActionKind.FINISH)
    st, events, _ = run(iv, tr.items)
    errors = kinds(events, errors_only=True)
    assert errors == ["missed_vein", "missed_vein", "attempt_limit"]
    assert IvCannulationTask(iv).is_complete(st) and not st.completed and st.finished


@pytest.mark.parametrize("skill", ["expert", "intermediate", "novice"])
def test_scripted_trainees_come_to_the_end_of_the_procedure(iv, skill):
    for seed in range(2):
        st, events, _ = run(iv, scripted(iv, skill, seed))
        assert IvCannulationTask(iv).is_complete(st), (skill, seed, kinds(events))
        assert "incomplete" not in kinds(events)
        if skill == "expert":
            assert st.completed and kinds(events, errors_only=True) == []
