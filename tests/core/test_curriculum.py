"""decide_next on realistic histories: the ladder, remediation drills, easier cases, decay."""

import datetime as dt

from sim.core.competency import Attempt, SignOffSpec, WarningSpec
from sim.core.curriculum import Curriculum, Ladder, Rung, decide_next

T0 = dt.datetime(2026, 3, 2, 9, 0)

LADDER = Ladder(
    task="venipuncture",
    title="Venipuncture",
    rungs=(
        Rung("healthy", "venipuncture", "case", "Venipuncture: healthy adult"),
        Rung(
            "angle", "drill-angle", "drill", "Angle drill",
            targets=("angle_error_deg", "bevel_roll_error_deg"),
        ),
        Rung("hold", "drill-hold", "drill", "Steady-hold drill", targets=("tremor_rms_mm",)),
        Rung(
            "elderly", "venipuncture-elderly", "case",
            "Venipuncture: elderly patient (rolling veins)",
            entry_after="healthy", fail_easier="healthy",
        ),
        Rung(
            "exam", "venipuncture-obese", "exam", "Venipuncture: obese patient",
            entry_after="elderly", fail_easier="elderly",
        ),
    ),
    signoff=SignOffSpec(0.10, 0.25, 0.05, 0.20),
    warnings=WarningSpec(5, 42.0, 3),
    labels={"angle_error_deg": "Angle error", "tremor_rms_mm": "Tremor", "sparc": "Smoothness"},
)  # fmt: skip
CURRICULUM = Curriculum((LADDER,))


def att(scenario, score, day, lost=None, task="venipuncture", crit=()):
    """One counted session ``day`` days after T0; passed at 70 or more without a critical
    error; ``lost`` the points each metric cost (default: all on angle)."""
    lost = {"angle_error_deg": 100.0 - score} if lost is None else lost
    return Attempt(
        scenario=scenario,
        task=task,
        ended_utc=T0 + dt.timedelta(days=day),
        score=float(score),
        passed=score >= 70 and not crit,
        critical_errors=tuple(crit),
        points_lost=lost,
        drill=scenario.startswith("drill-"),
    )


def test_no_history_starts_on_the_first_case():
    rec = decide_next(CURRICULUM, [], T0)
    assert (rec.scenario, rec.kind) == ("venipuncture", "start")
    assert "no Venipuncture sessions yet" in rec.reason


def test_two_passes_in_a_row_open_the_next_case():
    one = decide_next(CURRICULUM, [att("venipuncture", 80, 0)], T0)
    assert (one.scenario, one.kind) == ("venipuncture", "repeat")
    assert "(1 of the 2 passes in a row needed)" in one.reason
    two = decide_next(CURRICULUM, [att("venipuncture", 80, 0), att("venipuncture", 85, 1)], T0)
    assert (two.scenario, two.kind) == ("venipuncture-elderly", "advance")
    assert two.reason == (
        "You passed 'Venipuncture: healthy adult' twice in a row: next, the next case: "
        "'Venipuncture: elderly patient (rolling veins)'."
    )


def test_a_pass_a_fail_and_a_pass_is_not_two_in_a_row():
    hist = [att("venipuncture", 80, 0), att("venipuncture", 50, 1), att("venipuncture", 75, 2)]
    rec = decide_next(CURRICULUM, hist, T0)
    assert rec.scenario == "venipuncture" and "(1 of the 2" in rec.reason


def test_failure_sends_to_the_drill_for_the_metric_that_lost_most():
    hist = [att("venipuncture", 62, 0, lost={"angle_error_deg": 18.0, "tremor_rms_mm": 20.0})]
    rec = decide_next(CURRICULUM, hist, T0)
    assert (rec.scenario, rec.kind) == ("drill-hold", "drill")
    assert rec.targets == ("tremor_rms_mm",)
    assert rec.reason == (
        "Your last session of 'Venipuncture: healthy adult' lost 20 points on tremor: "
        "practise 'Steady-hold drill'."
    )
    angle = [att("venipuncture", 64, 0, lost={"angle_error_deg": 18.0, "sparc": 18.0})]
    rec = decide_next(CURRICULUM, angle, T0)
    assert rec.scenario == "drill-angle"
    assert "lost 18 points on angle error" in rec.reason


def test_no_drill_for_the_costly_metric_takes_the_next_one_or_repeats():
    # smoothness has no drill: the angle, which lost less, has one
    hist = [att("venipuncture", 60, 0, lost={"sparc": 30.0, "angle_error_deg": 10.0})]
    assert decide_next(CURRICULUM, hist, T0).scenario == "drill-angle"
    only = [att("venipuncture", 60, 0, lost={"sparc": 40.0})]
    rec = decide_next(CURRICULUM, only, T0)
    assert (rec.scenario, rec.kind) == ("venipuncture", "repeat")
    assert "it lost the most on smoothness" in rec.reason


def test_after_a_drill_back_to_the_case_and_a_failed_drill_once_more():
    failed = [att("venipuncture", 60, 0), att("drill-angle", 50, 0)]
    again = decide_next(CURRICULUM, failed, T0)
    assert (again.scenario, again.kind) == ("drill-angle", "drill")
    assert "not yet a pass" in again.reason
    twice = [*failed, att("drill-angle", 55, 0)]
    back = decide_next(CURRICULUM, twice, T0)
    assert (back.scenario, back.kind) == ("venipuncture", "return")
    passed = [att("venipuncture", 60, 0), att("drill-angle", 90, 0)]
    rec = decide_next(CURRICULUM, passed, T0)
    assert rec.scenario == "venipuncture"
    assert rec.reason == "You passed 'Angle drill': back to 'Venipuncture: healthy adult'."


def test_three_failures_in_a_row_step_back_to_the_easier_case_then_return():
    hist = [att("venipuncture", 80, 0), att("venipuncture", 80, 1)]
    hist += [att("venipuncture-elderly", 50, 2 + i, lost={"sparc": 50.0}) for i in range(3)]
    rec = decide_next(CURRICULUM, hist, T0)
    assert (rec.scenario, rec.kind) == ("venipuncture", "easier")
    assert "did not pass 'Venipuncture: elderly patient (rolling veins)' 3 times in a row" in (
        rec.reason
    )
    # passing the easier case leads back up (the elderly case stays open)
    rec = decide_next(
        CURRICULUM, [*hist, att("venipuncture", 50, 6), att("venipuncture", 90, 7)], T0
    )
    assert (rec.scenario, rec.kind) == ("venipuncture-elderly", "return")


def test_a_critical_error_is_named_in_the_reason():
    hist = [att("venipuncture", 85, 0, lost={"sparc": 15.0}, crit=("back_wall",))]
    rec = decide_next(CURRICULUM, hist, T0)
    assert rec.kind == "repeat" and "a critical error (back wall)" in rec.reason


def test_the_last_case_opens_the_exam_and_passing_it_qualifies():
    hist = [att("venipuncture", 80, d) for d in (0, 1)]
    hist += [att("venipuncture-elderly", 80, d) for d in (2, 3)]
    rec = decide_next(CURRICULUM, hist, T0)
    assert (rec.scenario, rec.kind, rec.exam) == ("venipuncture-obese", "exam", True)
    assert "next, the qualification" in rec.reason
    done = [*hist, att("venipuncture-obese", 88, 4)]
    rec = decide_next(CURRICULUM, done, T0 + dt.timedelta(days=10))
    assert rec.kind == "maintenance"
    assert rec.due_utc == T0 + dt.timedelta(days=46)
    assert "You qualified in Venipuncture on 2026-03-06" in rec.reason


def test_signed_off_trainee_gets_a_refresher_after_decay_days():
    hist = [att("venipuncture", 80, d) for d in (0, 1)]
    hist += [att("venipuncture-elderly", 80, d) for d in (2, 3)]
    hist += [att("venipuncture-obese", 88, 4)]
    due = decide_next(CURRICULUM, hist, T0 + dt.timedelta(days=4 + 41))
    assert due.kind == "maintenance"
    late = decide_next(CURRICULUM, hist, T0 + dt.timedelta(days=4 + 50))
    assert (late.scenario, late.kind) == ("venipuncture-obese", "refresher")
    assert "not practised Venipuncture for 50 days" in late.reason
    # a relapse after qualifying is handled as any failure
    relapse = decide_next(CURRICULUM, [*hist, att("venipuncture-obese", 40, 60)], T0)
    assert relapse.kind == "drill"


def test_other_procedures_and_unknown_scenarios_are_left_out_with_a_word():
    hist = [
        att("venipuncture", 80, 0),
        att("suturing", 90, 1, task="suturing"),
        att("venipuncture-retired", 90, 2),
        att("venipuncture", 80, 3),
    ]
    rec = decide_next(CURRICULUM, hist, T0)
    assert rec.scenario == "venipuncture-elderly"
    assert "Sessions of suturing are not in this curriculum." in rec.notes
    assert (
        "1 session of 'venipuncture-retired' is not on the Venipuncture ladder, so it does not "
        "count here." in rec.notes
    )
