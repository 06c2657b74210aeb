"""Every procedure passes the contract checker, and the checker catches broken ones."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from sim.core import patient as pt
from sim.core.records import Event, Sample
from sim.procedures.base import Procedure
from sim.procedures.check import ProcedureCheckError, check_procedure, mirrored, yawed
from sim.procedures.registry import UnknownProcedure, get, ids
from sim.scenarios import SCENARIO_DIR, find_scenario, load_scenario, parse_scenario, scenario_paths
from sim.sources.scripted import scripted_items


def _with_case(task: str, case: str) -> Any:
    """The shipped scenario ``task`` naming patient ``case``."""
    text = (SCENARIO_DIR / f"{task}.toml").read_bytes()
    return parse_scenario(
        text.replace(b"\ntitle =", f'\npatient = "{case}"\ntitle ='.encode(), 1), case
    )


FRAGILE = (pt.VEIN_ROLLED, pt.VEIN_COLLAPSED, pt.VEIN_BLOWN)
"""Reactions only a fragile, mobile vein has: provoked on the elderly patient."""


@pytest.mark.parametrize("task", ids())
def test_every_procedure_keeps_its_contract(task: str) -> None:
    proc = get(task)
    cases = {k: _with_case(task, "elderly") for k in FRAGILE if k in proc.reactions}
    report = check_procedure(proc, find_scenario(task), scripted_items, seeds=range(3), cases=cases)
    assert set(report.errors_provoked) == set(proc.error_kinds) | set(proc.reactions)
    assert all(0 <= s <= 100 for scores in report.scores.values() for s in scores)
    assert report.sessions >= 3 * 3 * 3 + len(get(task).error_kinds)


@pytest.mark.parametrize(
    "name", [p.stem for p in scenario_paths() if load_scenario(p).patient is not None]
)
def test_every_scenario_with_a_patient_case_keeps_the_contract(name: str) -> None:
    # the scripted trainees reach a vein where the case puts it, and still rank by skill
    sc = find_scenario(name)
    proc = get(sc.task)
    cases = {k: _with_case(sc.task, "elderly") for k in FRAGILE}
    report = check_procedure(proc, sc, scripted_items, seeds=range(1), cases=cases)
    assert set(report.errors_provoked) == set(proc.error_kinds) | set(proc.reactions)


@pytest.mark.parametrize(
    "name", [p.stem for p in scenario_paths() if load_scenario(p).drill is not None]
)
def test_every_drill_keeps_the_contract_and_fails_a_novice(name: str) -> None:
    # a drill's own task behaviour (repeated entries, a judged hold) keeps every promise,
    # its expert passes, and its novice does not
    sc = find_scenario(name)
    proc = get(sc.task)
    cases = {k: _with_case(sc.task, "elderly") for k in FRAGILE if k in proc.reactions}
    report = check_procedure(proc, sc, scripted_items, seeds=range(1), cases=cases)
    assert set(report.errors_provoked) == set(proc.error_kinds) | set(proc.reactions)
    assert all(s < sc.scoring.pass_score for s in report.scores["novice"]), report.scores


def test_an_unknown_procedure_names_the_known_ones() -> None:
    with pytest.raises(UnknownProcedure, match="expected one of: " + ", ".join(ids())):
        get("arterial-blood-gas")


def _broken(task: str, **change: object) -> tuple[Procedure[Any, Any], object]:
    return replace(get(task), **change), find_scenario(task)


def test_the_checker_catches_an_undeclared_error_kind() -> None:
    proc, sc = _broken("venipuncture", error_kinds=("back_wall",))
    with pytest.raises(ProcedureCheckError, match="undeclared error kinds"):
        check_procedure(proc, sc, scripted_items, seeds=range(1))


def test_the_checker_catches_a_non_deterministic_trainee() -> None:
    calls = {"n": 0}

    def jittery(scenario, skill, seed, errors=()):  # noqa: ANN001, ANN202
        calls["n"] += 1
        return scripted_items(scenario, skill, seed + calls["n"], errors=errors)

    proc, sc = _broken("suturing")
    with pytest.raises(ProcedureCheckError, match="gives other items for seed"):
        check_procedure(proc, sc, jittery, seeds=range(2))


def test_the_checker_catches_events_out_of_time_order() -> None:
    sc = find_scenario("suturing")
    base = get("suturing")

    def late_task(scenario):  # noqa: ANN001, ANN202
        task = base.task(scenario)
        step = task.step

        def late_step(state, item):  # noqa: ANN001, ANN202
            new, events = step(state, item)
            return new, tuple(Event(e.t_s + 5.0, e.kind, e.message) for e in events)

        task.step = late_step  # type: ignore[method-assign]
        return task

    proc = replace(base, task=late_task)
    with pytest.raises(ProcedureCheckError, match="out of time order"):
        check_procedure(proc, sc, scripted_items, seeds=range(1))


def test_the_checker_catches_a_reaction_the_trainee_cannot_provoke() -> None:
    # on the healthy adult the vein never rolls: asked for it there, the checker says so
    proc = get("venipuncture")
    with pytest.raises(ProcedureCheckError, match="patient reaction 'patient_vein_rolled'"):
        check_procedure(proc, find_scenario("venipuncture"), scripted_items, seeds=range(1))


def test_the_checker_catches_a_view_that_differs_for_the_same_items() -> None:
    base = get("venipuncture")
    calls = {"n": 0}

    def live(task):  # noqa: ANN001, ANN202
        inner = base.live(task)
        view = inner.view

        def counting(state, sample, hand):  # noqa: ANN001, ANN202
            calls["n"] += 1
            return replace(view(state, sample, hand), tourniquet_s=float(calls["n"]))

        inner.view = counting  # type: ignore[method-assign]
        return inner

    proc = replace(base, live=live)
    with pytest.raises(ProcedureCheckError, match="different"):
        check_procedure(proc, find_scenario("venipuncture"), scripted_items, seeds=range(1))


def test_mirroring_a_scene_puts_the_vein_artery_and_nerve_on_the_other_side() -> None:
    sc = find_scenario("venipuncture-cephalic")  # the cephalic vein 12 mm to the arm's side
    for task in ("venipuncture", "iv-cannulation"):
        on = sc if task == "venipuncture" else _with_case(task, "median-cubital-unusable")
        other = get(task).mirror(on)
        assert other.geometry.vein_lateral_mm == -on.geometry.vein_lateral_mm == 12.0  # type: ignore[attr-defined]
        c, m = on.condition, other.condition
        assert c is not None and m is not None
        assert (m.artery_z_mm, m.nerve_z_mm) == (-c.artery_z_mm, -c.nerve_z_mm) != (0.0, 0.0)
        assert get(task).mirror(other) == on
    suturing = find_scenario("suturing")  # the wound lies on the mirror plane
    assert get("suturing").mirror(suturing) == suturing


def test_a_mirrored_and_turned_session_is_the_motion_from_the_other_side() -> None:
    items = scripted_items(find_scenario("venipuncture"), "novice", 0)
    back = mirrored(mirrored(items))
    assert back == items
    turned = [i for i in yawed(items, 12.0, pivot_z_mm=-5.0) if isinstance(i, Sample)]
    first = next(i for i in items if isinstance(i, Sample))
    # turned about the vertical through (0, 0, -5): heights kept, the needle now has a side
    assert turned[0].tip_mm[1] == first.tip_mm[1]
    assert abs(turned[0].axis[2]) > 0.1 and abs(first.axis[2]) < 1e-9


def test_the_checker_catches_a_scene_not_mirrored_with_its_vein_off_the_middle() -> None:
    # mirrored in place, the cephalic vein (12 mm to one side) is missed from the other side
    proc = replace(get("venipuncture"), mirror=lambda scenario: scenario)
    with pytest.raises(ProcedureCheckError, match=r"expert seed 0 mirrored \(the other hand\)"):
        check_procedure(proc, find_scenario("venipuncture-cephalic"), scripted_items, range(1))


def test_the_checker_catches_a_task_that_favours_one_side() -> None:
    # a needle model that pulls every tip 1.5 mm towards +z: closer to the vein's middle from
    # one side than from the other, so the puncture offset and the bevel score differ
    base = get("venipuncture")

    def pulled(scenario):  # noqa: ANN001, ANN202
        task = base.task(scenario)
        step = task.step

        def pulled_step(state, item):  # noqa: ANN001, ANN202
            if isinstance(item, Sample):
                x, y, z = item.tip_mm
                item = replace(item, tip_mm=(x, y, z + 1.5))
            return step(state, item)

        task.step = pulled_step  # type: ignore[method-assign]
        return task

    proc = replace(base, task=pulled)
    with pytest.raises(ProcedureCheckError, match=r"mirrored \(the other hand\).*puncture_offset"):
        check_procedure(proc, find_scenario("venipuncture"), scripted_items, seeds=range(1))
