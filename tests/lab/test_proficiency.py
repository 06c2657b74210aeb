"""The proficiency sign-off rule: N consecutive passes, then M more."""

from __future__ import annotations

from sim.lab.proficiency import proficiency
from sim.report.trainee import percentile_rank

P, F = True, False


def test_signed_off_after_two_in_a_row_then_ten_more() -> None:
    runs = [F, P, F, P, P] + [P, F] * 10
    st = proficiency(runs, 2, 10)
    assert st.streak_at == 5
    assert st.signed_off_at == 5 + 19  # ten further passes, failures in between allowed
    assert st.line() == "signed off (session 24)"


def test_a_fail_breaks_the_streak_before_it_is_reached() -> None:
    st = proficiency([P, F, P], 2, 10)
    assert st.streak_at is None and st.current_run == 1 and not st.signed_off
    assert st.line() == "working towards 2 consecutive passes (current run 1)"


def test_progress_after_the_streak() -> None:
    st = proficiency([P, P, P, F, P], 2, 10)
    assert (st.streak_at, st.further_passes, st.signed_off) == (2, 2, False)
    assert proficiency([P, P, P], 3, 0).signed_off_at == 3


def test_cohort_standing() -> None:
    assert percentile_rank([10.0, 20.0, 30.0, 40.0], 30.0) == 62.5
    assert percentile_rank([], 50.0) == 0.0
