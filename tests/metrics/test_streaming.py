import math

import pytest

from sim.metrics.streaming import StreamingSpeed, StreamingTremor


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
