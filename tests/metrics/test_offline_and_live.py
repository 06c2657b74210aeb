"""The report's speed and tremor (offline, :mod:`sim.metrics.motion`) and the live view's
(:mod:`sim.metrics.streaming`, also what the replay plots) measure the same hand the same
way where their definitions meet: a trainee never reads one tremor live and a different one
in the report for the same steady hand.

The definitions differ on purpose (docs/architecture.md): the report's tremor is the whole
session's band power (Welch spectrum), the live one a band-pass over a sliding window; the
report's speed is unsmoothed (for SPARC and LDLJ), the live one smoothed for the cues.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core.records import Sample
from sim.metrics.motion import (
    motion_metrics,
    path_length_mm,
    resample,
    segments,
    speed_mm_s,
)
from sim.metrics.streaming import StreamingSpeed, speed_series_mm_s, tremor_series_mm
from sim.pipeline import Pipeline
from sim.scenarios import find_scenario
from sim.sources.scripted import scripted_items


@pytest.mark.parametrize(
    ("scenario", "skill"),
    [("venipuncture", "novice"), ("venipuncture", "expert"), ("suturing", "intermediate")],
)
def test_report_tremor_is_the_tremor_the_trainee_saw_live(scenario: str, skill: str) -> None:
    """A scripted session through the live pipeline (a tracked hand, so tremor is measured):
    the RMS of the live tremor over the session (after the filter settled) is the report's
    tremor to within 2 %, from the 0.8 mm of a novice to the 0.06 mm of an expert."""
    sc = find_scenario(scenario)
    live = Pipeline(sc, 0.0, "scripted")
    samples: list[Sample] = []
    shown: list[float] = []
    for item in scripted_items(sc, skill, 0):
        step = live.feed(item)
        if isinstance(item, Sample):
            samples.append(item)
            assert step.view is not None
            shown.append(step.view.tremor_mm)
    t = np.array([s.t_s for s in samples])
    pos = np.array([s.tip_mm for s in samples])
    tracked = np.array([s.tracked for s in samples])
    report = motion_metrics(t, pos, tracked).tremor_rms_mm
    settled = np.array(shown)[t >= t[0] + 2.0]
    live_rms = math.sqrt(float(np.mean(settled**2)))
    assert report > 0.05
    assert live_rms == pytest.approx(report, rel=0.02)


@pytest.mark.parametrize("rate_hz", [30.0, 60.0])
@pytest.mark.parametrize("tremor_hz", [6.0, 9.0])
def test_steady_tremor_over_a_noise_floor_reads_the_same_offline_and_live(
    rate_hz: float, tremor_hz: float
) -> None:
    """A 0.3 mm tremor on a slow voluntary sweep, with a 0.1 mm tracker noise floor: both
    take the floor off in quadrature and read sqrt(0.3^2 / 2 - 0.1^2) mm."""
    t = np.arange(0.0, 8.0, 1.0 / rate_hz)
    pos = np.zeros((len(t), 3))
    pos[:, 0] = 20.0 * np.sin(2 * math.pi * 0.3 * t) + 0.3 * np.sin(2 * math.pi * tremor_hz * t)
    pos[:, 1] = 5.0 * t
    tracked = np.ones(len(t), dtype=bool)
    expect = math.sqrt(0.3**2 / 2 - 0.1**2)
    report = motion_metrics(t, pos, tracked, noise_floor_mm=0.1).tremor_rms_mm
    live = tremor_series_mm(
        t, pos, tracked, 1.5, 0.1, rate_probe=Pipeline.RATE_PROBE, hand_measured=True
    )
    settled = live[t >= 3.0]
    assert report == pytest.approx(expect, rel=0.02)
    assert math.sqrt(float(np.mean(settled**2))) == pytest.approx(expect, rel=0.02)


def test_steady_motion_has_one_speed_and_one_path_live_and_offline() -> None:
    """A tip moving steadily at 12 mm/s, with a 0.5 s tracking gap: the live speed (the
    streaming estimator and its vectorised replay form) settles on the report's speed, and
    the path is speed times tracked time."""
    rate = 60.0
    t = np.arange(0.0, 6.0, 1.0 / rate)
    velocity = np.array([9.6, 7.2, 0.0])  # 12 mm/s
    pos = t[:, None] * velocity
    tracked = ~((t >= 2.0) & (t < 2.5))
    live = StreamingSpeed()
    shown = []
    last_t: float | None = None
    for k in np.flatnonzero(tracked):
        if last_t is not None and t[k] - last_t > 0.25:  # the pipeline restarts after a gap
            live.reset()
        shown.append(live.update(float(t[k]), tuple(pos[k])))
        last_t = float(t[k])
    series = speed_series_mm_s(t, pos, tracked)
    np.testing.assert_allclose(series[tracked], shown, rtol=0, atol=1e-9)
    runs = segments(t, tracked)
    assert len(runs) == 2
    for run in runs:
        offline = speed_mm_s(resample(t[run], pos[run], rate), rate)
        np.testing.assert_allclose(offline, 12.0, rtol=1e-9)
        assert series[run][-1] == pytest.approx(12.0, rel=1e-6)  # settled after a second
        duration = t[run][-1] - t[run][0]
        assert path_length_mm(pos[run]) == pytest.approx(12.0 * duration, rel=1e-9)
    report = motion_metrics(t, pos, tracked)
    assert report.path_length_mm == pytest.approx(12.0 * (6.0 - 0.5 - 2.0 / rate), rel=1e-3)
