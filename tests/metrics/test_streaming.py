import math

import numpy as np
import pytest

from sim.core.records import Sample
from sim.metrics.streaming import (
    StreamingSpeed,
    StreamingTremor,
    speed_series_mm_s,
    tremor_series_mm,
)
from sim.pipeline import Pipeline
from sim.scenarios import find_scenario


def test_live_tremor_tracks_a_steady_tremor_and_forgets_it_after_the_window():
    fs = 60.0
    tr = StreamingTremor(fs, window_s=1.5)
    est = []
    for i in range(int(6 * fs)):
        t = i / fs
        amp = 0.8 * math.sqrt(2) if t < 3.0 else 0.0  # 0.8 mm RMS at 8 Hz, then still
        est.append(tr.update((amp * math.sin(2 * math.pi * 8 * t), 0.0, 0.0)))
    assert est[int(2.9 * fs)] == pytest.approx(0.8, rel=0.15)
    assert est[-1] < 0.05


def test_live_tremor_ignores_slow_voluntary_motion_and_subtracts_the_floor():
    fs = 60.0
    slow = StreamingTremor(fs)
    for i in range(int(4 * fs)):
        v = slow.update((40 * math.sin(2 * math.pi * 0.5 * i / fs), 0.0, 0.0))
    assert v < 0.1
    floored = StreamingTremor(fs, noise_floor_mm=0.5)
    for i in range(int(4 * fs)):
        v = floored.update((0.4 * math.sqrt(2) * math.sin(2 * math.pi * 8 * i / fs), 0.0, 0.0))
    assert v == 0.0  # 0.4 mm of jitter under a 0.5 mm floor is not tremor


def test_speed_estimate():
    sp = StreamingSpeed(tau_s=0.05)
    for i in range(120):
        v = sp.update(i / 60, (i * 10 / 60, 0.0, 0.0))  # 10 mm/s
    assert v == pytest.approx(10.0, rel=1e-6)


def test_live_tremor_at_a_rate_too_low_for_the_band_measures_nothing():
    # 7.5 Hz (a slow webcam, or a thinned recording): the 4-12 Hz band is above Nyquist.
    st = StreamingTremor(7.5)
    assert not st.measurable
    t = [i / 7.5 for i in range(40)]
    values = [st.update((0.5 * math.sin(2 * math.pi * 3 * ti), 0.0, 0.0)) for ti in t]
    assert all(math.isnan(v) for v in values)  # not measured, rather than a 0 it did not see
    assert StreamingTremor(60.0).measurable


def test_series_equal_the_live_view_with_a_jittery_camera_and_gaps():
    """A 25-35 Hz camera whose frames jitter, with a lost frame and a 0.4 s dropout: the
    vectorised series (the replay's plots) give the live view's speed and tremor."""
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(1 / 35, 1 / 25, 400))
    t[200:] += 0.4
    pos = np.column_stack(
        [40 * np.sin(0.7 * t), 0.4 * np.sin(2 * np.pi * 7 * t), 30 + 5 * np.cos(t)]
    ) + rng.normal(0, 0.05, (len(t), 3))
    tracked = np.ones(len(t), dtype=bool)
    tracked[90] = False
    sc = find_scenario("venipuncture")
    live = Pipeline(sc, 0.05, "webcam")
    views = [
        live.feed(Sample(ti, tuple(p), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), 0.0, bool(tr))).view
        for ti, p, tr in zip(t.tolist(), pos.tolist(), tracked.tolist())
    ]
    tremor = tremor_series_mm(
        t, pos, tracked, sc.feedback.tremor_window_s, 0.05, rate_probe=Pipeline.RATE_PROBE
    )
    speed = speed_series_mm_s(t, pos, tracked)
    np.testing.assert_allclose(tremor, [v.tremor_mm for v in views], rtol=0, atol=1e-9)
    np.testing.assert_allclose(speed, [v.speed_mm_s for v in views], rtol=0, atol=1e-9)
    assert tremor.max() > 0.2 and speed.max() > 10  # the 7 Hz tremor and the sweep show
    assert speed[200] == 0.0 and tremor[200] == 0.0  # both restart after the dropout
