"""One Euro filter: smooths jitter at rest, follows fast motion, never feeds metrics."""

from __future__ import annotations

import math

import numpy as np

from sim.core.records import Sample
from sim.tracking.filters import OneEuroFilter, PoseSmoother


def test_one_euro_removes_jitter_at_rest() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(300) / 30
    x = 5.0 + rng.normal(0, 0.5, t.size)  # tracker jitter at rest, mm
    f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.1)
    y = np.array([f(ti, xi) for ti, xi in zip(t, x, strict=True)])
    assert np.std(y[60:]) < 0.5 * np.std(x[60:])
    assert abs(np.mean(y[60:]) - 5.0) < 0.2


def test_one_euro_lags_less_when_fast() -> None:
    """A fast ramp (200 mm/s) is followed closely thanks to beta; with beta 0 it lags."""
    t = np.arange(60) / 60
    x = 200.0 * t
    lag = {}
    for beta in (0.0, 0.1):
        f = OneEuroFilter(1.0, beta)
        y = [f(ti, xi) for ti, xi in zip(t, x, strict=True)]
        lag[beta] = x[-1] - y[-1]
    assert lag[0.1] < 0.3 * lag[0.0]
    assert lag[0.1] < 10.0


def test_one_euro_first_value_and_repeated_time() -> None:
    f = OneEuroFilter()
    assert f(0.0, 3.0) == 3.0
    assert f(0.0, 100.0) == 3.0  # no time passed: no change


def test_pose_smoother_keeps_units_and_resets_across_gaps() -> None:
    sm = PoseSmoother()
    a = Sample(0.0, (0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    b = Sample(1 / 30, (3.0, 0.0, 0.0), (0.0, 1.0, 0.0), (-1.0, 0.0, 0.0))
    sm(a)
    out = sm(b)
    assert 0.0 < out.tip_mm[0] < 3.0
    assert math.isclose(float(np.linalg.norm(out.axis)), 1.0)
    assert abs(float(np.dot(out.axis, out.normal))) < 1e-9
    lost = Sample(2 / 30, (3.0, 0.0, 0.0), tracked=False)
    assert sm(lost) is lost
    far = Sample(3 / 30, (50.0, 0.0, 0.0))
    assert sm(far).tip_mm == (50.0, 0.0, 0.0)  # after a gap: no glide from the old spot
