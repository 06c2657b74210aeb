"""Live cues of IV cannulation: each step said when it is due, warnings when something goes
wrong, nothing once done."""

from __future__ import annotations

from sim.core.records import Cue, Severity
from tests.procedures.iv_cannulation.helpers import cues_of, run, scripted


def started(cues: list[Cue]) -> list[str]:
    return [c.rule for c in cues if c.active and not c.update]


def test_an_expert_is_told_each_next_step_in_order_and_warned_of_nothing(iv):
    cues = cues_of(iv, scripted(iv, "expert", 0))
    steps = [
        "lower_angle",
        "advance_catheter",
        "thread_catheter",
        "release_tourniquet",
        "occlude_withdraw",
        "flush",
        "secure",
    ]
    first = [r for i, r in enumerate(started(cues)) if r not in started(cues)[:i]]
    assert [r for r in first if r in steps] == steps
    assert {c.severity for c in cues} == {Severity.INFO}, started(cues)


def test_pushing_the_needle_while_threading_is_warned_before_it_is_an_error(iv):
    items = scripted(iv, "expert", 0, ("needle_advanced",))
    cues = cues_of(iv, items)
    _, events, _ = run(iv, items)
    error = next(e for e in events if e.kind == "needle_advanced")
    warn = next(c for c in cues if c.rule == "hold_needle_still" and c.active)
    assert warn.severity is Severity.WARNING and warn.t_s < error.t_s
    assert "mm forward: hold it still" in warn.message


def test_pushing_the_needle_back_into_the_catheter_is_a_danger_cue(iv):
    items = scripted(iv, "expert", 0, ("catheter_sheared",))
    cues = cues_of(iv, items)
    danger = [c for c in cues if c.rule == "reinserting" and c.active]
    assert danger and danger[0].severity is Severity.DANGER


def test_a_catheter_threaded_too_early_says_to_start_again(iv):
    items = scripted(iv, "expert", 0, ("threaded_outside_vein",))
    cues = cues_of(iv, items)
    assert "hung_up" in started(cues)


def test_no_cue_starts_once_done_and_every_cue_ends(iv):
    items = scripted(iv, "intermediate", 1)
    cues = cues_of(iv, items)
    _, events, _ = run(iv, items)
    done = next(e.t_s for e in events if e.kind == "finish")
    assert all(c.t_s <= done for c in cues if c.active)
    opened = sum(1 for c in cues if c.active and not c.update)
    assert opened == sum(1 for c in cues if not c.active)
