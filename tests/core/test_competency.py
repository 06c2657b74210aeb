"""LC-CUSUM sign-off, the relapse CUSUM, their limits, and the at-risk rules."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from sim.core.competency import (
    Attempt,
    SignOffSpec,
    WarningSpec,
    cusum_path,
    fit_learning_curve,
    no_practice_reason,
    plateau_reason,
    relapse_limit,
    relapse_weights,
    repeated_critical_reason,
    risks,
    signal_probability,
    signoff_limit,
    signoff_weights,
    track,
)

# IV catheter on a mannequin: 10 % acceptable, 25 % unacceptable failure (DOMAIN.md)
IV = SignOffSpec(acceptable_failure=0.10, unacceptable_failure=0.25, alpha=0.05, beta=0.20)
WARN = WarningSpec(plateau_sessions=5, decay_days=42.0, repeated_critical=3)
T0 = dt.datetime(2026, 1, 5, 9, 0)


def test_lc_cusum_weights_and_path_match_a_hand_checked_sequence() -> None:
    # p0 = 0.10, p1 = 0.25:
    #   success: ln((1 - 0.10) / (1 - 0.25)) = ln(0.9 / 0.75) = ln(1.2) = +0.18232
    #   failure: ln(0.10 / 0.25) = ln(0.4) = -0.91629
    ws, wf = signoff_weights(IV)
    assert ws == pytest.approx(0.18232, abs=1e-5)
    assert wf == pytest.approx(-0.91629, abs=1e-5)
    # outcomes  P      P      F    P      P      P      P      F    F    P
    # S_n       .1823  .3646  0    .1823  .3646  .5470  .7293  0    0    .1823
    # (S_3 = max(0, .3646 - .9163) = 0; S_8 = max(0, .7293 - .9163) = 0)
    seq = [True, True, False, True, True, True, True, False, False, True]
    want = [0.18232, 0.36464, 0.0, 0.18232, 0.36464, 0.54696, 0.72929, 0.0, 0.0, 0.18232]
    assert cusum_path(seq, ws, wf) == pytest.approx(want, abs=1e-4)


def test_lc_cusum_signs_off_after_enough_passes_and_not_before() -> None:
    # h = 3.82 for these rates: 21 passes give 21 x 0.18232 = 3.829 >= h, 20 give 3.646 < h
    h = signoff_limit(IV).h
    assert 20 * 0.18232 < h <= 21 * 0.18232
    assert track([True] * 20, IV).signed_off_at == ()
    t = track([True] * 21, IV)
    assert t.signed_off_at == (21,)
    assert t.signed_off and "signed off at session 21" in t.line()
    # a failure after 10 passes: 1.8232 - 0.9163 = 0.9069; then 15 passes reach 3.6417 < h,
    # 16 reach 3.8240 >= h: the failure cost 6 sessions (signed off at 27, not 21)
    assert track([True] * 10 + [False] + [True] * 15, IV).signed_off_at == ()
    assert track([True] * 10 + [False] + [True] * 16, IV).signed_off_at == (27,)
    assert "not yet signed off" in track([True] * 5, IV).line()


def test_relapse_cusum_flags_a_run_of_failures_after_sign_off_then_training_restarts() -> None:
    # relapse weights: failure ln(0.25 / 0.10) = +0.91629, success ln(0.75 / 0.90) = -0.18232
    ws, wf = relapse_weights(IV)
    assert (ws, wf) == pytest.approx((-0.18232, 0.91629), abs=1e-5)
    h = relapse_limit(IV).h  # 3.50: four failures in a row (3.665) flag, three (2.749) do not
    assert 3 * 0.91629 < h <= 4 * 0.91629
    signed = [True] * 21
    assert track(signed + [False] * 3, IV).relapsed_at == ()
    t = track(signed + [False] * 4, IV)
    assert t.relapsed_at == (25,) and t.relapsed and not t.signed_off
    assert t.relapse[21:] == pytest.approx([0.91629, 1.83258, 2.74887, 3.66516], abs=1e-4)
    assert t.signoff[21:] == (None, None, None, None)
    assert "relapse flagged at session 25" in t.line()
    # an occasional failure among passes (about the acceptable rate) does not flag
    steady = signed + ([True] * 9 + [False]) * 6
    assert track(steady, IV).relapsed_at == ()
    # after a relapse the LC-CUSUM starts again from 0 and can sign off again
    again = track(signed + [False] * 4 + [True] * 21, IV)
    assert again.signed_off_at == (21, 46) and again.signed_off


def _simulate_signals(spec: SignOffSpec, p_fail: float, sessions: int, relapse: bool) -> float:
    """Fraction of 4000 simulated trainees (seed 0) whose CUSUM signals within ``sessions``."""
    rng = np.random.default_rng(0)
    ws, wf = relapse_weights(spec) if relapse else signoff_weights(spec)
    h = (relapse_limit(spec) if relapse else signoff_limit(spec)).h
    fail = rng.random((4000, sessions)) < p_fail
    s = np.zeros(4000)
    hit = np.zeros(4000, dtype=bool)
    for j in range(sessions):
        s = np.maximum(0.0, s + np.where(fail[:, j], wf, ws))
        hit |= s >= h
    return float(hit.mean())


@pytest.mark.parametrize(
    "spec",
    [IV, SignOffSpec(0.10, 0.20, 0.05, 0.20), SignOffSpec(0.25, 0.50, 0.10, 0.10)],
    ids=["iv-10-25", "intubation-10-20", "iv-25-50"],
)
def test_limits_give_the_wanted_error_rates_by_simulation(spec: SignOffSpec) -> None:
    for relapse, lim in ((False, signoff_limit(spec)), (True, relapse_limit(spec))):
        assert lim.false_signal <= spec.alpha and lim.power >= 1 - spec.beta
        null, target = (
            (spec.acceptable_failure, spec.unacceptable_failure)
            if relapse
            else (spec.unacceptable_failure, spec.acceptable_failure)
        )
        n = lim.horizon_sessions
        false = _simulate_signals(spec, null, n, relapse)
        power = _simulate_signals(spec, target, n, relapse)
        # 4000 trainees: binomial SE <= 0.008; the grid chain is within 0.5 % in the weights
        assert false == pytest.approx(lim.false_signal, abs=0.02)
        assert false <= spec.alpha + 0.02
        assert power == pytest.approx(lim.power, abs=0.03)
        assert power >= 1 - spec.beta - 0.03


def test_signal_probability_of_straight_passes_is_exact() -> None:
    # with no failures the LC-CUSUM climbs 0.18232 a session: 21 sessions to pass 3.82
    ws, wf = signoff_weights(IV)
    p = signal_probability(ws, wf, 0.0, signoff_limit(IV).h, 25)
    assert p[19] == 0.0 and p[20] == pytest.approx(1.0)


def test_stricter_rates_need_more_sessions() -> None:
    # DOMAIN.md: stricter rates sharply reduce who ever signals
    easy = signoff_limit(SignOffSpec(0.25, 0.50, 0.05, 0.20)).horizon_sessions
    hard = signoff_limit(SignOffSpec(0.05, 0.10, 0.05, 0.20)).horizon_sessions
    assert easy < 40 < 200 < hard


def test_bad_rates_are_refused_with_their_values() -> None:
    with pytest.raises(ValueError, match=r"acceptable_failure \(0.3\) < unacceptable"):
        signoff_limit(SignOffSpec(0.3, 0.2, 0.05, 0.2))


def test_learning_curve_fit_recovers_a_known_curve() -> None:
    n = np.arange(1, 16)
    scores = 80.0 - 45.0 * np.exp(-0.3 * n)
    c = fit_learning_curve(list(scores))
    assert c.plateau == pytest.approx(80.0, abs=1.0)
    assert c.at(20) == pytest.approx(80.0 - 45.0 * math.exp(-6.0), abs=1.0)


def _attempt(
    i: int,
    score: float,
    *,
    passed: bool | None = None,
    crit: tuple[str, ...] = (),
    drill: bool = False,
    days: float | None = None,
) -> Attempt:
    return Attempt(
        scenario="iv-basic",
        task="iv",
        ended_utc=T0 + dt.timedelta(days=i if days is None else days),
        score=score,
        passed=score >= 70 if passed is None else passed,
        critical_errors=crit,
        points_lost={},
        drill=drill,
    )


def test_plateau_below_the_pass_line_is_at_risk_with_its_reason() -> None:
    stalled = [30, 42, 50, 54, 56, 57, 56, 57, 56, 55]
    reason = plateau_reason(stalled, 70.0, WARN)
    assert reason is not None
    assert "no improvement over the last 5 sessions" in reason
    assert "levels off at 5" in reason and "below the pass line 70" in reason


@pytest.mark.parametrize(
    "scores",
    [
        [30, 38, 45, 50, 54, 58, 61, 64, 66, 68],  # still improving
        [50, 70, 80, 84, 85, 85, 84, 85, 85, 84],  # levelled off above the pass line
        [55, 56, 55],  # too few sessions to say
    ],
    ids=["improving", "plateau-above-pass", "too-few"],
)
def test_plateau_rule_leaves_others_alone(scores: list[float]) -> None:
    assert plateau_reason(scores, 70.0, WARN) is None


def test_repeated_critical_error_of_one_kind() -> None:
    hist = [
        _attempt(i, 60, crit=c)
        for i, c in enumerate(
            [
                ("through_and_through",),
                (),
                ("through_and_through", "missed_vein"),
                ("missed_vein",),
                ("through_and_through",),
            ]
        )
    ]
    reason = repeated_critical_reason(hist, WARN)
    assert (
        reason == "the same critical error again: through and through in 3 of the last 5 sessions"
    )
    # two of a kind (and two of another) is not three of one kind
    assert repeated_critical_reason(hist[:4], WARN) is None
    # older sessions fall out of the window of the last 5
    assert repeated_critical_reason(hist + [_attempt(9, 80)] * 3, WARN) is None


def test_no_practice_for_longer_than_the_decay_interval() -> None:
    hist = [_attempt(0, 80), _attempt(3, 85, drill=True)]
    last = T0 + dt.timedelta(days=3)
    assert no_practice_reason(hist, last + dt.timedelta(days=41), WARN) is None
    reason = no_practice_reason(hist, last + dt.timedelta(days=50), WARN)
    assert reason == (
        "no practice for 50 days (since 2026-01-08; skills fade after 42 days): remind them"
    )


def test_risks_of_a_history_name_each_rule_and_a_good_trainee_has_none() -> None:
    good = [_attempt(i, 60 + 2 * i) for i in range(12)]
    assert risks(good, IV, WARN, 70.0, T0 + dt.timedelta(days=12)) == []
    relapsed = [_attempt(i, 85) for i in range(21)] + [_attempt(21 + i, 40) for i in range(4)]
    got = risks(relapsed, IV, WARN, 70.0, T0 + dt.timedelta(days=100))
    # the four failures are also a fall of the curve below the pass line
    assert [r.rule for r in got] == ["relapse", "plateau", "no_practice"]
    assert got[0].task == "iv" and "session 25" in got[0].reason
    # drills are practice but not sign-off sessions: 21 passed drills sign nobody off
    drills = [_attempt(i, 90, drill=True) for i in range(21)]
    assert not track([a.passed for a in drills if not a.drill], IV).signed_off


def test_good_recent_scores_are_never_a_plateau_whatever_the_older_ones() -> None:
    # the newcomer's t-relapse: 26 sessions all above the pass line, the last five
    # 95.3, 73.0, 79.3, 72.9, 80.8; the free fit over all sessions fell to 29
    relapse = [96, 97, 95, 98, 94, 96, 97, 95, 96, 98, 97, 96, 95, 97, 96, 95, 94, 93, 90, 88, 85]
    relapse += [95.3, 73.0, 79.3, 72.9, 80.8]
    assert plateau_reason(relapse, 70.0, WARN) is None


def test_falling_scores_are_said_to_fall_and_no_falling_curve_is_extrapolated() -> None:
    falling = [85.0] * 21 + [60.0, 55.0, 50.0, 45.0, 40.0]
    reason = plateau_reason(falling, 70.0, WARN)
    assert reason is not None and reason.startswith("scores falling over the last 5 sessions")
    assert "levels off" not in reason and "mean 50, below the pass line 70" in reason
    # an improving-only fit of a falling history is level at its mean, never below it
    curve = fit_learning_curve([90.0, 80.0, 70.0, 60.0, 50.0], improving=True)
    assert curve.gain == 0.0 and curve.plateau == pytest.approx(70.0)
