"""decide_next on realistic histories: the ladder, remediation drills, easier cases, decay."""

import dataclasses
import datetime as dt
import math

import pytest

from sim.core.competency import Attempt, SignOffSpec, WarningSpec, track
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


def att(scenario, score, day, lost=None, task="venipuncture", crit=(), exam=None):
    """One counted session ``day`` days after T0; passed at 70 or more without a critical
    error; ``lost`` the points each metric cost (default: all on angle); in exam mode when
    ``exam``, by default on the exam's scenario."""
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
        exam=scenario == "venipuncture-obese" if exam is None else exam,
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
        "You passed 'Venipuncture: healthy adult' twice in a row: next, "
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
        "Your last session of 'Venipuncture: healthy adult' lost 20 points on tremor, 53 % "
        "of the points it lost: practise 'Steady-hold drill'."
    )
    angle = [att("venipuncture", 64, 0, lost={"angle_error_deg": 18.0, "sparc": 18.0})]
    rec = decide_next(CURRICULUM, angle, T0)
    assert rec.scenario == "drill-angle"
    assert "lost 18 points on angle error" in rec.reason


def test_no_drill_for_the_costly_metric_takes_the_next_one_or_repeats():
    # smoothness has no drill: the angle, which lost less, has one
    hist = [att("venipuncture", 60, 0, lost={"sparc": 30.0, "angle_error_deg": 10.0})]
    assert decide_next(CURRICULUM, hist, T0).scenario == "drill-angle"
    # ...unless the angle's share (10 of 40 points) is too small to be the failure's cause
    assert decide_next(STRICT, hist, T0).kind == "repeat"
    only = [att("venipuncture", 60, 0, lost={"sparc": 40.0})]
    rec = decide_next(CURRICULUM, only, T0)
    assert (rec.scenario, rec.kind) == ("venipuncture", "repeat")
    assert "it lost the most on smoothness" in rec.reason


# A ladder that drills only a concentrated failure (the shipped venipuncture ladder's rule)
STRICT = Curriculum((dataclasses.replace(LADDER, drill_min_share=0.30),))
# Points lost by a novice's scripted session (procsim simulate venipuncture --skill novice
# --seed 6, 52.9 points): spread over ten metrics, the most (offset, no drill) 23 %.
NOVICE_SPREAD = {
    "puncture_offset_mm": 10.9, "angle_error_deg": 8.1, "path_length_mm": 5.9,
    "attempts": 5.9, "patient_discomfort": 5.9, "tremor_rms_mm": 4.6,
    "bevel_roll_error_deg": 3.6, "total_time_s": 1.2, "sparc": 0.7, "tourniquet_time_s": 0.5,
}  # fmt: skip


def test_a_concentrated_failure_gets_the_drill_a_spread_one_the_whole_case_again():
    # one metric lost 24 of the 35 points: a specific weakness, the drill for it
    focused = {"angle_error_deg": 24.0, "sparc": 6.0, "total_time_s": 5.0}
    rec = decide_next(STRICT, [att("venipuncture", 65, 0, lost=focused)], T0)
    assert (rec.scenario, rec.kind) == ("drill-angle", "drill")
    assert rec.reason == (
        "Your last session of 'Venipuncture: healthy adult' lost 24 points on angle error, "
        "69 % of the points it lost: practise 'Angle drill'."
    )
    # a novice's loss spread over everything: the whole procedure again, said why
    spread = [att("venipuncture", 53, 0, lost=NOVICE_SPREAD)]
    rec = decide_next(STRICT, spread, T0)
    assert (rec.scenario, rec.kind) == ("venipuncture", "repeat")
    assert rec.reason == (
        "You did not pass 'Venipuncture: healthy adult' (53 points); you lost points on many "
        "things at once (angle error 17 % of them): the whole procedure again."
    )
    # the same history on a ladder without the rule (drill_min_share 0): the drill, as before
    assert decide_next(CURRICULUM, spread, T0).scenario == "drill-angle"


def test_the_same_top_loser_in_the_last_two_failures_gets_the_drill():
    first = {**NOVICE_SPREAD, "tremor_rms_mm": 11.0}  # tremor tops two spread failures
    hist = [att("venipuncture", 50, 0, lost=first)]
    assert decide_next(STRICT, hist, T0).kind == "repeat"  # once: spread, the case again
    hist.append(att("venipuncture", 55, 1, lost={**NOVICE_SPREAD, "tremor_rms_mm": 12.0}))
    rec = decide_next(STRICT, hist, T0)
    assert (rec.scenario, rec.kind) == ("drill-hold", "drill")
    assert rec.reason == (
        "Your last two failed sessions both lost the most on tremor (this one 12 points): "
        "practise 'Steady-hold drill'."
    )
    # a different top loser in the failure before: no repeated weakness, the case again
    other = [att("venipuncture", 50, 0, lost=NOVICE_SPREAD), hist[-1]]
    assert decide_next(STRICT, other, T0).kind == "repeat"
    # the offset tops both, but no drill trains it: the angle drill is not the remedy
    twice = [att("venipuncture", 53, 0, lost=NOVICE_SPREAD)] * 2
    assert decide_next(STRICT, twice, T0).kind == "repeat"


def test_after_a_drill_back_to_the_case_and_a_failed_drill_once_more():
    failed = [att("venipuncture", 60, 0), att("drill-angle", 50, 0)]
    again = decide_next(CURRICULUM, failed, T0)
    assert (again.scenario, again.kind) == ("drill-angle", "drill")
    assert "not yet a pass" in again.reason
    twice = [*failed, att("drill-angle", 55, 0)]
    back = decide_next(CURRICULUM, twice, T0)
    assert (back.scenario, back.kind) == ("venipuncture", "return")
    # a later failure of the case: the drill again, with its retry (the count starts over)
    later = [*twice, att("venipuncture", 60, 1), att("drill-angle", 50, 1)]
    assert decide_next(CURRICULUM, later, T0).kind == "drill"
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
    assert rec.kind == "repeat" and rec.reason.startswith(
        "A critical error (back wall) failed your last session of 'Venipuncture: healthy adult'"
    )


def test_a_critical_error_failure_is_said_first_and_not_sent_to_a_drill_for_one_point():
    # the newcomer's t-stuck: failed by the back wall at 91, tremor lost 1 point (all of it)
    hist = [att("venipuncture", 91, 0, lost={"tremor_rms_mm": 1.0}, crit=("back_wall",))]
    rec = decide_next(CURRICULUM, hist, T0)
    assert (rec.scenario, rec.kind) == ("venipuncture", "repeat")
    assert "back wall" in rec.reason and "Steady-hold" not in rec.reason
    assert "1 points" not in rec.reason


def test_no_drill_for_a_metric_the_input_cannot_measure_and_one_point_is_singular():
    ladder = dataclasses.replace(LADDER, needs={"tremor_rms_mm": "hand"})
    lost = {"tremor_rms_mm": 20.0, "angle_error_deg": 10.0}
    mouse = dataclasses.replace(att("venipuncture", 62, 0, lost=lost), input_kind="mouse")
    rec = decide_next(Curriculum((ladder,)), [mouse], T0)
    # the mouse cannot measure tremor: the drill for the next metric that lost points
    assert (rec.scenario, rec.targets) == (
        "drill-angle",
        ("angle_error_deg", "bevel_roll_error_deg"),
    )
    webcam = dataclasses.replace(mouse, input_kind="webcam")
    assert decide_next(Curriculum((ladder,)), [webcam], T0).scenario == "drill-hold"
    one = dataclasses.replace(
        att("venipuncture", 60, 0, lost={"angle_error_deg": 1.0}), input_kind="webcam"
    )
    rec = decide_next(Curriculum((ladder,)), [one], T0)
    assert "lost 1 point on angle error" in rec.reason


def to_exam():
    """Two passes of each case: the exam is next."""
    hist = [att("venipuncture", 80, d) for d in (0, 1)]
    return hist + [att("venipuncture-elderly", 80, d) for d in (2, 3)]


def signed_off_history():
    """The exam passed on day 4, then the rotation's cases passed until the LC-CUSUM (10 % /
    25 %: +0.182 a pass, h = 3.82) signs off: 21 passes in a row, the 21st on day 20."""
    hist = [*to_exam(), att("venipuncture-obese", 88, 4)]
    day = 5
    while True:
        rec = decide_next(CURRICULUM, hist, T0 + dt.timedelta(days=day))
        if rec.kind != "practice":
            return hist, rec
        hist.append(att(rec.scenario, 85, day))
        day += 1


def test_the_last_case_opens_the_exam_and_passing_it_starts_practice_not_sign_off():
    rec = decide_next(CURRICULUM, to_exam(), T0)
    assert (rec.scenario, rec.kind, rec.exam) == ("venipuncture-obese", "exam", True)
    assert "next, the exam, 'Venipuncture: obese patient'" in rec.reason
    done = [*to_exam(), att("venipuncture-obese", 88, 4)]
    rec = decide_next(CURRICULUM, done, T0 + dt.timedelta(days=5))
    # 5 passes: S = 5 x 0.182 = 0.91 of h 3.82, 16 more passes in a row to sign off
    assert rec.kind == "practice" and rec.scenario == "venipuncture-elderly"
    assert "You passed the exam; LC-CUSUM 0.9 of 3.8: 16 more passes in a row sign you off" in (
        rec.reason
    )
    assert "Next in the rotation of hard cases: 'Venipuncture: elderly patient" in rec.reason
    so = rec.signoff
    assert so is not None and not so.signed_off and (so.cases, so.passes_to_signoff) == (5, 16)
    assert so.lc_cusum == pytest.approx(5 * math.log(0.90 / 0.75))
    assert rec.due_utc is None


def test_after_the_exam_the_hard_cases_rotate_until_the_lc_cusum_signs_off():
    hist, rec = signed_off_history()
    practised = [a.scenario for a in hist[5:]]
    # the harder half of the ladder's cases (elderly and the exam), alternating; 16 of them
    assert len(practised) == 16
    assert set(practised) == {"venipuncture-elderly", "venipuncture-obese"}
    assert all(x != y for x, y in zip(practised, practised[1:], strict=False))
    assert rec.kind == "maintenance" and rec.signoff is not None and rec.signoff.signed_off
    assert rec.signoff.signed_off_at == (21,)
    assert "Signed off in Venipuncture (LC-CUSUM, session 21)" in rec.reason
    assert rec.due_utc == T0 + dt.timedelta(days=20 + 42)
    # the same trace as procsim progress shows
    trace = track([a.passed for a in hist if not a.drill], LADDER.signoff)
    assert rec.signoff.line.startswith(trace.line())


def test_drills_never_count_toward_sign_off():
    hist, _ = signed_off_history()
    no_drills = [a for a in hist[:-1] if not a.drill]
    with_drills = [*no_drills[:10], att("drill-angle", 95, 9), att("drill-angle", 20, 9)]
    with_drills += no_drills[10:]
    a = decide_next(CURRICULUM, no_drills, T0 + dt.timedelta(days=20)).signoff
    b = decide_next(CURRICULUM, with_drills, T0 + dt.timedelta(days=20)).signoff
    assert a is not None and b is not None
    assert (a.lc_cusum, a.cases) == (b.lc_cusum, b.cases) and b.sessions == a.sessions + 2


def test_signed_off_trainee_gets_a_refresher_after_decay_days():
    hist, _ = signed_off_history()
    due = decide_next(CURRICULUM, hist, T0 + dt.timedelta(days=20 + 41))
    assert due.kind == "maintenance"
    late = decide_next(CURRICULUM, hist, T0 + dt.timedelta(days=20 + 50))
    assert (late.scenario, late.kind) == ("venipuncture-obese", "refresher")
    assert "not practised Venipuncture for 50 days" in late.reason


def test_a_failure_after_sign_off_is_remediated_and_a_relapse_sends_back_to_practice():
    hist, _ = signed_off_history()
    one = [*hist, att("venipuncture-obese", 40, 21)]
    rec = decide_next(CURRICULUM, one, T0 + dt.timedelta(days=21))
    # one failure: ln(0.25/0.10) = 0.92 on the relapse CUSUM (limit 3.50): still signed off
    assert rec.kind == "drill" and rec.signoff is not None and rec.signoff.signed_off
    assert rec.reason.endswith("Still signed off (relapse CUSUM 0.9 of 3.5).")
    more = [*one, *(att("venipuncture-obese", 40, 22 + i) for i in range(3))]
    rec = decide_next(CURRICULUM, more, T0 + dt.timedelta(days=25))
    # four failures in a row: 3.66 >= 3.50, a relapse at session 25
    assert rec.signoff is not None and rec.signoff.status == "relapsed"
    assert rec.signoff.relapsed_at == (25,) and not rec.signoff.signed_off
    assert rec.reason.startswith("Relapse at session 25: sign-off withdrawn. You did not pass")
    assert rec.signoff.lc_cusum is None and rec.signoff.passes_to_signoff == 21
    assert rec.kind == "easier"  # and the ladder's rule for 3 failures in a row still holds
    # another failure: the LC-CUSUM's standing is said
    worse = [*more, att("venipuncture-obese", 40, 26)]
    rec = decide_next(CURRICULUM, worse, T0 + dt.timedelta(days=26))
    assert rec.reason.startswith("Relapse at session 25: sign-off withdrawn.")
    assert rec.reason.endswith("LC-CUSUM 0.0 of 3.8: 21 more passes in a row sign you off.")
    # a pass after the relapse: the rotation of hard cases, not maintenance
    back = [*more, att("venipuncture-elderly", 85, 26)]
    rec = decide_next(CURRICULUM, back, T0 + dt.timedelta(days=26))
    assert rec.kind == "practice" and rec.scenario == "venipuncture-obese"
    assert rec.reason.startswith("Relapse at session 25: back to practice; LC-CUSUM 0.2 of 3.8")


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
        "move you up it (full cases still count toward sign-off)." in rec.notes
    )


def test_without_a_procedure_an_exam_pass_alone_does_not_move_on():
    suturing = Ladder(
        task="suturing",
        title="Suturing",
        rungs=(Rung("exam", "suturing", "exam", "Simple interrupted sutures"),),
        signoff=SignOffSpec(0.10, 0.20, 0.05, 0.20),
        warnings=WarningSpec(5, 42.0, 3),
    )
    hist = [*to_exam(), att("venipuncture-obese", 88, 4)]
    rec = decide_next(Curriculum((LADDER, suturing)), hist, T0 + dt.timedelta(days=5))
    assert (rec.task, rec.kind) == ("venipuncture", "practice")


def test_without_a_procedure_a_signed_off_trainee_moves_on_to_the_next_ladder():
    suturing = Ladder(
        task="suturing",
        title="Suturing",
        rungs=(Rung("exam", "suturing", "exam", "Simple interrupted sutures", qualify_passes=2),),
        signoff=SignOffSpec(0.10, 0.20, 0.05, 0.20),
        warnings=WarningSpec(5, 42.0, 3),
    )
    both = Curriculum((LADDER, suturing))
    hist, _ = signed_off_history()
    rec = decide_next(both, hist, T0 + dt.timedelta(days=21))
    assert (rec.task, rec.scenario, rec.exam) == ("suturing", "suturing", True)
    assert "no Suturing sessions yet" in rec.reason
    # asked for venipuncture: its maintenance
    assert decide_next(both, hist, T0, procedure="venipuncture").kind == "maintenance"
    # the exam needs two passes: after one, the exam again
    one = [*hist, att("suturing", 90, 21, task="suturing", exam=True)]
    rec = decide_next(both, one, T0 + dt.timedelta(days=21))
    assert rec.scenario == "suturing" and "(1 of 2 passes needed)" in rec.reason


def test_a_long_gap_before_sign_off_is_said_and_one_day_count_everywhere():
    from sim.core.competency import no_practice_reason

    hist = [att("venipuncture", 80, 0), att("venipuncture", 82, 1), att("venipuncture", 75, 2)]
    now = T0 + dt.timedelta(days=2 + 88, hours=14)  # 88.6 days after the last session
    rec = decide_next(CURRICULUM, hist, now)
    assert rec.reason.startswith("88 days since your last session (skills fade after 42 days). ")
    # the elderly case was opened by these passes but never played: not "back to" it
    assert "back to" not in rec.reason and "'Venipuncture: elderly patient" in rec.reason
    warn = no_practice_reason(hist, now, LADDER.warnings)
    assert warn is not None and warn.startswith("no practice for 88 days")
    # within decay_days nothing is said about a gap
    assert "since your last" not in decide_next(CURRICULUM, hist, T0 + dt.timedelta(days=9)).reason


def test_the_exam_counts_only_when_taken_in_exam_mode():
    hist = to_exam() + [att("venipuncture-obese", 90, 4, exam=False)]
    rec = decide_next(CURRICULUM, hist, T0 + dt.timedelta(days=5))
    assert (rec.scenario, rec.kind, rec.exam) == ("venipuncture-obese", "exam", True)
    assert "without exam mode; the exam counts only in exam mode (0 of 1 so far)" in rec.reason
    hist.append(att("venipuncture-obese", 90, 5))  # in exam mode: practice towards sign-off
    rec = decide_next(CURRICULUM, hist, T0 + dt.timedelta(days=6))
    assert rec.kind == "practice" and rec.reason.startswith("You passed the exam; LC-CUSUM")
