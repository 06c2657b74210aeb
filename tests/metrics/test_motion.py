"""Motion metrics recover what synthetic signals were built with."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.metrics import motion as m

FS = 60.0


def min_jerk(p0, p1, duration_s, fs=FS):
    tau = np.arange(0, duration_s, 1 / fs) / duration_s
    f = 10 * tau**3 - 15 * tau**4 + 6 * tau**5
    return np.asarray(p0) + f[:, None] * (np.asarray(p1) - np.asarray(p0))


def test_sparc_and_ldlj_match_published_check_values():
    t = np.arange(-1, 1, 0.01)
    v = np.exp(-5 * t**2)
    assert m.sparc(v, 100.0) == pytest.approx(-1.41403, abs=1e-5)
    assert m.ldlj(v, 100.0) == pytest.approx(-5.81636, abs=1e-5)


def test_sparc_and_ldlj_rank_a_jerky_movement_below_a_smooth_one():
    t = np.arange(-1, 1, 0.01)
    smooth = np.exp(-5 * t**2)
    jerky = smooth + 0.3 * np.exp(-5 * (t - 0.5) ** 2) * (1 + np.sin(2 * np.pi * 4 * t))
    assert m.sparc(jerky, 100.0) < m.sparc(smooth, 100.0)
    assert m.ldlj(jerky, 100.0) < m.ldlj(smooth, 100.0)


@pytest.mark.parametrize(("rms", "freq"), [(0.1, 6.0), (0.5, 9.0), (1.2, 11.0)])
def test_tremor_recovers_amplitude_and_frequency(rms, freq):
    rng = np.random.default_rng(1)
    base = min_jerk((0, 0, 0), (80, 10, -20), 10.0)
    t = np.arange(len(base)) / FS
    amp = rms * math.sqrt(2.0 / 3.0)
    phases = rng.uniform(0, 2 * np.pi, 3)
    trem = amp * np.sin(2 * np.pi * freq * t[:, None] + phases[None, :])
    tr = m.tremor(base + trem, FS)
    assert tr.rms_mm == pytest.approx(rms, rel=0.10)
    assert abs(tr.peak_hz - freq) <= 0.5


def test_tremor_noise_floor_is_subtracted_in_quadrature():
    t = np.arange(0, 10, 1 / FS)
    sig = np.zeros((len(t), 3))
    sig[:, 0] = 1.0 * math.sqrt(2) * np.sin(2 * np.pi * 8 * t)  # 1 mm RMS
    raw = m.tremor(sig, FS).rms_mm
    assert m.tremor(sig, FS, noise_floor_mm=0.6).rms_mm == pytest.approx(
        math.sqrt(raw**2 - 0.36), rel=1e-9
    )
    assert m.tremor(sig, FS, noise_floor_mm=2.0).rms_mm == 0.0


def test_voluntary_motion_alone_has_little_tremor():
    base = min_jerk((0, 0, 0), (100, 0, 0), 3.0)
    assert m.tremor(base, FS).rms_mm < 0.05


def test_path_length_of_known_polylines():
    square = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0], [0, 0, 0]], float)
    assert m.path_length_mm(square) == pytest.approx(40.0)
    helix_t = np.linspace(0, 2 * np.pi, 20001)
    helix = np.column_stack([np.cos(helix_t) * 5, np.sin(helix_t) * 5, helix_t])
    assert m.path_length_mm(helix) == pytest.approx(2 * np.pi * math.hypot(5, 1), rel=1e-6)


def test_movement_count_counts_distinct_reaches():
    parts = []
    for k in range(4):  # four 60 mm reaches in 0.8 s with pauses
        parts.append(min_jerk((60 * k, 0, 0), (60 * (k + 1), 0, 0), 0.8))
        parts.append(np.repeat(parts[-1][-1:], int(0.7 * FS), axis=0))
    pos = np.vstack(parts)
    t = np.arange(len(pos)) / FS
    mm = m.motion_metrics(t, pos)
    assert mm.movements == 4
    assert mm.path_length_mm == pytest.approx(240.0, abs=0.1)
    assert mm.idle_time_s == pytest.approx(4 * 0.7, abs=0.5)


def test_short_slow_wiggles_are_not_movements():
    t = np.arange(0, 5, 1 / FS)
    pos = np.column_stack([2 * np.sin(2 * np.pi * 1.0 * t), np.zeros_like(t), np.zeros_like(t)])
    assert m.motion_metrics(t, pos).movements == 0  # peak 12.6 mm/s stays under 50


def test_gaps_are_not_bridged():
    pos = min_jerk((0, 0, 0), (100, 0, 0), 2.0)
    t = np.arange(len(pos)) / FS
    tracked = np.ones(len(t), bool)
    tracked[40:80] = False  # hand lost for 0.67 s while it moved
    mm = m.motion_metrics(t, pos, tracked)
    full = m.motion_metrics(t, pos)
    assert mm.path_length_mm < full.path_length_mm - 20  # the untracked stretch is not counted
    assert mm.untracked_time_s == pytest.approx(41 / FS, abs=1e-9)
    # a long time gap with nothing recorded splits segments too
    t2 = t.copy()
    t2[60:] += 5.0
    jump = m.motion_metrics(t2, pos)
    assert jump.path_length_mm == pytest.approx(
        m.path_length_mm(pos[:60]) + m.path_length_mm(pos[60:])
    )


def test_segments():
    t = np.array([0, 0.1, 0.2, 0.3, 1.0, 1.1, 1.2])
    tr = np.array([1, 1, 0, 1, 1, 1, 1], bool)
    assert m.segments(t, tr) == [slice(0, 2), slice(4, 7)]


@settings(max_examples=25, deadline=None)
@given(
    st.tuples(st.floats(-500, 500), st.floats(-500, 500), st.floats(-500, 500)),
    st.integers(0, 10_000),
)
def test_metrics_are_invariant_to_translation(offset, seed):
    rng = np.random.default_rng(seed)
    pos = min_jerk((0, 0, 0), rng.uniform(-80, 80, 3), 2.0)
    pos = pos + 0.3 * rng.standard_normal(pos.shape)
    t = np.arange(len(pos)) / FS
    a = m.motion_metrics(t, pos).as_dict()
    b = m.motion_metrics(t, pos + np.array(offset)).as_dict()
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-6, abs=1e-6, nan_ok=True), k


@settings(max_examples=20, deadline=None)
@given(st.floats(0.5, 3.0))
def test_time_scaling(k):
    """The same reach done k times slower: same length, k times the time, and the same
    dimensionless smoothness (LDLJ is scale-free in time)."""
    pos_ref = min_jerk((0, 0, 0), (60, 20, 0), 1.5)
    pos = min_jerk((0, 0, 0), (60, 20, 0), 1.5 * k)
    a = m.motion_metrics(np.arange(len(pos_ref)) / FS, pos_ref)
    b = m.motion_metrics(np.arange(len(pos)) / FS, pos)
    assert b.path_length_mm == pytest.approx(a.path_length_mm, rel=0.01)
    assert b.total_time_s == pytest.approx(k * a.total_time_s, rel=0.02)
    assert b.ldlj == pytest.approx(a.ldlj, abs=0.1)


@settings(max_examples=15, deadline=None)
@given(st.floats(0.05, 1.0), st.integers(0, 1000))
def test_noise_raises_tremor_and_lowers_smoothness(noise, seed):
    rng = np.random.default_rng(seed)
    pos = min_jerk((0, 0, 0), (80, 0, 0), 3.0)
    t = np.arange(len(pos)) / FS
    clean = m.motion_metrics(t, pos)
    noisy = m.motion_metrics(t, pos + noise * rng.standard_normal(pos.shape))
    assert noisy.tremor_rms_mm > clean.tremor_rms_mm
    assert noisy.ldlj < clean.ldlj
    assert noisy.path_length_mm >= clean.path_length_mm


def test_vectorised_detrend_matches_scipy():
    from scipy import signal

    seg = np.random.default_rng(0).standard_normal((7, 3, 240)).cumsum(axis=-1)
    np.testing.assert_allclose(
        m._detrend_linear(seg), signal.detrend(seg, axis=-1, type="linear"), atol=1e-9
    )


def _movement_count_loop(speed, rate_hz, thr=50.0, rel=40.0, min_s=0.2):
    """The PerkTutor rule written as the plain loop it is, to check the vectorised one."""
    count, moving, start = 0, False, 0
    for i, v in enumerate(speed):
        if not moving and v > thr:
            moving, start = True, i
        elif moving and v < rel:
            moving = False
            count += (i - start) / rate_hz >= min_s
    if moving and (len(speed) - start) / rate_hz >= min_s:
        count += 1
    return count


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 120), min_size=0, max_size=300))
def test_vectorised_movement_count_matches_the_rule(speeds):
    v = np.repeat(np.array(speeds, dtype=float), 3)  # runs of equal speeds, as in real data
    assert m.movement_count(v, 30.0) == _movement_count_loop(v, 30.0)


def test_slow_frames_are_not_a_lost_hand():
    # 7 s tracked at 4 frames/s (a loaded machine): every sample had the hand, so the
    # results must not say "Hand not tracked 7 s" (they said so before)
    t = np.arange(0, 7.01, 0.26)
    pos = np.column_stack([t * 10, np.zeros_like(t), np.zeros_like(t)])
    mm = m.motion_metrics(t, pos, np.ones(len(t), bool))
    assert mm.untracked_time_s == 0.0
    # a real loss at the same slow rate still counts: the two intervals beside sample 5
    tracked = np.ones(len(t), bool)
    tracked[5] = False
    lost = m.motion_metrics(t, pos, tracked)
    assert lost.untracked_time_s == pytest.approx(t[6] - t[4], abs=1e-9)
