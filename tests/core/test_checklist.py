"""The procedure's checklist: a scenario's [checklist] read and checked, each step's result
from a session's events (done, in order, critical, the puncture inside the cleaned area), and
what a missed critical step does to the score."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from sim.core.checklist import ChecklistSpec, evaluate, step_event
from sim.core.records import Action, Event
from sim.core.scenario import ScenarioError
from sim.pipeline import Pipeline
from sim.scenarios import SCENARIO_DIR, find_scenario, load_scenario, parse_scenario
from sim.sources.scripted import scripted_items

SPEC = ChecklistSpec(
    order=("identity", "clean", "skin_puncture", "tourniquet_off", "withdrawal", "pressure"),
    critical=("clean", "tourniquet_off"),
    clean_radius_mm=20.0,
)
WORDS = {"skin_puncture": "skin punctured", "withdrawal": "needle withdrawn"}


def ev(t: float, kind: str, **values: float) -> Event:
    return Event(t, kind, kind, values=tuple(values.items()))


def good_session() -> list[Event]:
    return [
        ev(1.0, "step_identity"),
        ev(2.0, "step_clean", x_mm=0.0, z_mm=0.0, radius_mm=20.0),
        ev(5.0, "skin_puncture", x_mm=-12.0, z_mm=3.0),
        ev(9.0, "tourniquet_off"),
        ev(10.0, "withdrawal"),
        ev(11.0, "step_pressure"),
    ]


def by_id(events: list[Event], spec: ChecklistSpec = SPEC) -> dict[str, object]:
    return {r.id: r for r in evaluate(spec, events, WORDS)}


def test_steps_taken_in_order_are_all_done_and_ok() -> None:
    results = evaluate(SPEC, good_session(), WORDS)
    assert [r.id for r in results] == ["identity", "clean", "tourniquet_off", "pressure"]
    assert all(r.done and r.in_order and r.ok and r.note == "" for r in results)
    assert [r.t_s for r in results] == [1.0, 2.0, 9.0, 11.0]
    assert [r.critical for r in results] == [False, True, True, False]


def test_a_step_out_of_order_is_blamed_alone_and_says_what_it_came_after() -> None:
    events = good_session()
    events[-1] = ev(9.5, "step_pressure")  # pressure before the needle is out
    events.sort(key=lambda e: e.t_s)
    r = by_id(events)
    assert not r["pressure"].in_order and not r["pressure"].ok  # type: ignore[attr-defined]
    assert r["pressure"].note == "taken before: needle withdrawn"  # type: ignore[attr-defined]
    assert r["tourniquet_off"].ok and r["clean"].ok  # type: ignore[attr-defined]
    # cleaning after the puncture: out of order, and the words say after what
    late = [e for e in good_session() if e.kind != "step_clean"]
    late.append(ev(6.0, "step_clean", x_mm=0.0, z_mm=0.0, radius_mm=20.0))
    late.sort(key=lambda e: e.t_s)
    clean = by_id(late)["clean"]
    assert not clean.in_order and clean.note == "taken after: skin punctured"  # type: ignore[attr-defined]


def test_a_step_taken_twice_counts_from_after_the_milestone_before_it() -> None:
    # the tourniquet was taken off once before the puncture too (a re-application)
    events = [ev(0.5, "tourniquet_off"), *good_session()]
    assert by_id(events)["tourniquet_off"].t_s == 9.0  # type: ignore[attr-defined]
    assert by_id(events)["tourniquet_off"].ok  # type: ignore[attr-defined]


def test_puncture_outside_the_cleaned_area_fails_the_cleaning_and_says_how_far() -> None:
    events = good_session()
    events[2] = ev(5.0, "skin_puncture", x_mm=30.0, z_mm=0.0)
    clean = by_id(events)["clean"]
    assert clean.done and clean.in_order and not clean.ok  # type: ignore[attr-defined]
    assert "30 mm" in clean.note and "20 mm radius" in clean.note  # type: ignore[attr-defined]
    assert clean.status == "not met"  # type: ignore[attr-defined]


def test_a_step_not_taken_says_not_done() -> None:
    events = [e for e in good_session() if e.kind != "step_identity"]
    r = by_id(events)["identity"]
    assert not r.done and not r.in_order and r.t_s is None  # type: ignore[attr-defined]
    assert r.note == "not done" and r.status == "not done"  # type: ignore[attr-defined]


def test_cleaning_centres_on_the_site_chosen_else_the_tip() -> None:
    site = step_event(SPEC, Action(1.0, "site"), (5.0, 2.0, -3.0), None)
    assert site.kind == "step_site" and site.values == (("x_mm", 5.0), ("z_mm", -3.0))
    clean = step_event(SPEC, Action(2.0, "clean"), (40.0, 9.0, 9.0), site)
    assert clean.value("x_mm") == 5.0 and clean.value("z_mm") == -3.0
    assert clean.value("radius_mm") == 20.0
    bare = step_event(SPEC, Action(2.0, "clean"), (40.0, 9.0, 9.0), None)
    assert bare.value("x_mm") == 40.0 and bare.value("z_mm") == 9.0


@functools.cache
def _scored(name: str, skip: tuple[str, ...] = ()) -> object:
    sc = find_scenario(name)
    p = Pipeline(sc)
    p.feed_all(scripted_items(sc, "expert", 0, skip_steps=skip))
    return p.result()


def test_a_missed_critical_step_fails_a_session_that_otherwise_passes() -> None:
    ok = _scored("venipuncture")
    assert ok.passed and all(s.ok for s in ok.checklist)  # type: ignore[attr-defined]
    missed = _scored("venipuncture", skip=("hygiene",))
    assert missed.score == ok.score  # type: ignore[attr-defined]
    assert not missed.passed and missed.verdict == "FAIL"  # type: ignore[attr-defined]
    assert [s.id for s in missed.missed_critical] == ["hygiene"]  # type: ignore[attr-defined]
    line = "Critical checklist step: hand hygiene and gloves (not done)."
    assert line in missed.advice  # type: ignore[attr-defined]


def test_a_missed_step_that_is_not_critical_is_reported_and_costs_nothing() -> None:
    ok = _scored("venipuncture")
    missed = _scored("venipuncture", skip=("fist",))
    assert missed.passed and missed.score == ok.score  # type: ignore[attr-defined]
    fist = next(s for s in missed.checklist if s.id == "fist")  # type: ignore[attr-defined]
    assert not fist.done and not fist.critical
    assert "Checklist step: ask for a fist (not done)." in missed.advice  # type: ignore[attr-defined]


def test_json_of_a_result_carries_the_checklist() -> None:
    d = _scored("iv-cannulation").as_dict()  # type: ignore[attr-defined]
    steps = d["checklist"]
    assert [s["id"] for s in steps] == list(find_scenario("iv-cannulation").checklist.steps)  # type: ignore[union-attr]
    assert set(steps[0]) == {"id", "label", "done", "in_order", "critical", "t_s", "note", "ok"}


# --- the reader -------------------------------------------------------------------------
def _with_checklist(table: str) -> bytes:
    text = (SCENARIO_DIR / "venipuncture.toml").read_text()
    text = text[: text.index("[checklist]")]
    return (text + table if table.startswith("[") else table + text).encode()


@pytest.mark.parametrize(
    ("table", "line"),
    [
        (
            '[checklist]\norder = ["identity", "wash"]\n',
            "key 'checklist.order[1]': expected a step (identity, hygiene, site, clean, fist, "
            "anchor, tourniquet_off, pressure, sharps) or a milestone of task venipuncture "
            "(skin_puncture, flashback, withdrawal), got 'wash'",
        ),
        (
            '[checklist]\norder = ["identity", "identity"]\n',
            "key 'checklist.order[1]': expected each step or milestone once, got 'identity'",
        ),
        (
            '[checklist]\norder = ["skin_puncture"]\n',
            "key 'checklist.order': expected at least one step (identity, hygiene, site, clean, "
            "fist, anchor, tourniquet_off, pressure, sharps)",
        ),
        (
            '[checklist]\norder = ["identity"]\ncritical = ["sharps"]\n',
            "key 'checklist.critical[0]': expected one of the steps in checklist.order "
            "(identity), got 'sharps'",
        ),
        (
            '[checklist]\norder = ["clean"]\nclean_radius_mm = 0.5\n',
            "key 'checklist.clean_radius_mm': expected a value between 1 and 200, got 0.5",
        ),
        ('[checklist]\ncritical = ["clean"]\n', "key 'checklist.order': missing"),
        (
            '[checklist]\norder = ["clean"]\nsteps = 3\n',
            "key 'checklist.steps': unknown (expected one of: order, critical, clean_radius_mm)",
        ),
        ("checklist = 3\n", "key 'checklist': expected a table, got 3"),
    ],
)
def test_a_bad_checklist_is_one_line_naming_the_key(table: str, line: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(_with_checklist(table), "x.toml")
    assert str(exc.value) == f"x.toml: {line}"


def test_a_scenario_without_a_checklist_has_none_and_scores_as_before(tmp_path: Path) -> None:
    text = (SCENARIO_DIR / "venipuncture.toml").read_text()
    path = tmp_path / "v.toml"
    path.write_text(text[: text.index("# The procedure's checklist")])
    sc = load_scenario(path)
    assert sc.checklist is None
    p = Pipeline(sc)
    p.feed_all(scripted_items(sc, "expert", 0))
    r = p.result()
    assert r.checklist == () and r.as_dict()["checklist"] == []
    assert not any(e.kind.startswith("step_") for e in p.events)
    assert r.passed and r.score == _scored("venipuncture").score  # type: ignore[attr-defined]


def test_a_tourniquet_left_on_until_the_end_was_not_released_by_the_trainee() -> None:
    # the session's end takes the tourniquet off the patient, but the trainee never released
    # it: the step stays not done (and a critical step fails the session)
    from sim.core.records import ActionKind

    sc = find_scenario("venipuncture")
    items = [
        it
        for it in scripted_items(sc, "expert", 0)
        if not (isinstance(it, Action) and it.kind == ActionKind.TOURNIQUET_OFF)
    ]
    p = Pipeline(sc)
    p.feed_all(items)
    if not p.task.is_finished(p.state):
        p.feed(Action(items[-1].t_s + 0.1, ActionKind.FINISH))
    off = [e for e in p.events if e.kind == "tourniquet_off"]
    assert off and off[-1].value("at_finish") == 1.0 and "still on at the end" in off[-1].message
    result = p.result()
    release = next(s for s in result.checklist if s.id == "tourniquet_off")
    assert not release.done and not release.ok and not result.passed
