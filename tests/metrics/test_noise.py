"""Per-axis tracker noise (``sim.metrics.noise``) and what metrics and cues do with it: a
metric the camera cannot resolve is shown with its uncertainty and not scored; a cue does
not fire on tracker noise alone."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.records import Sample
from sim.metrics.noise import EXACT, InputNoise, check_header, jitter, measure_noise
from sim.metrics.scoring import NOT_MEASURED, SCORED, UNCERTAIN, measurement_notes
from sim.pipeline import Pipeline
from sim.sources.scripted import scripted_items
from tests.conftest import scenario_of


def test_jitter_recovers_known_noise_per_column_around_a_moving_hand() -> None:
    """Known white noise per axis on top of a slow sweep: the jitter about the 0.3 s running
    median gives back each axis's noise (the sweep is the hand's, not noise)."""
    rng = np.random.default_rng(0)
    t = np.arange(30 * 20) / 30.0
    sweep = np.column_stack([0.5 * t, 0.2 * t, np.zeros_like(t)])  # slow: mm/s
    sd = np.array([0.2, 0.5, 2.0])
    x, y, z = jitter(t, sweep + rng.normal(0, 1, (t.size, 3)) * sd)
    # about a 9-sample median, white noise keeps ~93 % of its SD
    assert (x, y, z) == pytest.approx(tuple(0.93 * sd), rel=0.12)
    assert all(math.isnan(v) for v in jitter(t[:2], sweep[:2]))


@settings(max_examples=30, deadline=None)
@given(
    st.floats(0.0, 5.0),
    st.floats(0.0, 5.0),
    st.floats(0.0, 20.0),
    st.floats(0.0, 10.0),
    st.floats(0.0, 10.0),
)
def test_header_round_trip_and_uncertainty(
    x: float, y: float, z: float, a: float, r: float
) -> None:
    """Any noise survives the recording header; a value read from several axes has their
    noise added in quadrature."""
    nz = InputNoise(x, y, z, a, r, frozenset({"z"}))
    head = nz.as_header()
    assert check_header(head) is None
    assert InputNoise.from_header(head) == nz
    assert nz.of(("x", "z")) == pytest.approx(math.hypot(x, z))
    assert nz.of(()) == 0.0


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ({"noise_floor_axes_mm": [1.0, float("nan"), 2.0]}, "noise_floor_axes_mm"),
        ({"noise_floor_axes_mm": [1.0, 2.0]}, "noise_floor_axes_mm"),
        ({"noise_floor_axes_mm": [1.0, -2.0, 0.0]}, "noise_floor_axes_mm"),
        ({"noise_floor_roll_deg": "x"}, "noise_floor_roll_deg"),
        ({"guided": ["w"]}, "guided"),
    ],
)
def test_bad_noise_in_a_header_is_named(block: dict[str, object], field: str) -> None:
    assert field in (check_header(block) or "")


def test_needle_angle_noise_is_measured_in_degrees() -> None:
    """A needle whose pitch wobbles by 1° and roll by 5° (SD) reads as such."""
    rng = np.random.default_rng(2)
    t = np.arange(300) / 30.0
    pitch = np.radians(20 + rng.normal(0, 1.0, t.size))
    roll = np.radians(rng.normal(0, 5.0, t.size))
    axes = np.column_stack([np.cos(pitch), -np.sin(pitch), np.zeros_like(t)])
    up = np.column_stack([np.sin(pitch), np.cos(pitch), np.zeros_like(t)])
    side = np.cross(axes, up)
    normals = np.cos(roll)[:, None] * up + np.sin(roll)[:, None] * side
    nz = measure_noise(t, np.zeros((t.size, 3)), axes, normals)
    assert nz.angle_deg == pytest.approx(0.93, rel=0.15)
    assert nz.roll_deg == pytest.approx(0.93 * 5, rel=0.15)
    assert nz.x_mm == nz.y_mm == nz.z_mm == 0.0


def _run(task: str, noise: InputNoise | None, guided: frozenset[str] = frozenset()) -> Pipeline:
    sc = scenario_of(task)
    p = Pipeline(sc, input_kind="webcam", noise=noise, guided=guided)
    p.feed_all(scripted_items(sc, "expert", 1))
    return p


def test_a_metric_the_camera_cannot_resolve_is_shown_with_its_uncertainty_not_scored() -> None:
    """Depth noise of 2 mm across the arm against a puncture offset scored from 0.3 to
    2.5 mm: the offset is "uncertain" (value ± 2.0 mm, no points, no weight) and the score
    is that of the other metrics; the angle, read in the image plane, is still scored."""
    exact = _run("venipuncture", EXACT).result()
    noisy = _run("venipuncture", InputNoise(0.3, 0.3, 2.0, 0.5, 2.0)).result()
    off = noisy.metric("puncture_offset_mm")
    assert off.status == UNCERTAIN and off.points is None and off.weight == 0.0
    assert off.uncertainty == pytest.approx(2.0)
    assert off.shown.endswith("± 2.0 mm")
    assert "across the arm (depth)" in off.note and "±2.0 mm" in off.note
    assert noisy.metric("angle_error_deg").status == SCORED
    assert exact.metric("puncture_offset_mm").status == SCORED
    # the score is the weighted mean of the rest
    rest = [m for m in noisy.metrics if m.points is not None]
    assert noisy.score == pytest.approx(
        sum(m.points * m.weight for m in rest) / sum(m.weight for m in rest), abs=0.01
    )


def test_a_guided_axis_is_not_measured() -> None:
    """With the aim across the arm snapped to the vein, the offset says so and earns
    nothing, even with no noise at all."""
    r = _run("venipuncture", EXACT, frozenset({"z"})).result()
    off = r.metric("puncture_offset_mm")
    assert off.status == NOT_MEASURED and off.weight == 0.0
    assert off.note == "guided (depth assist)"
    lines = measurement_notes((m.label, m.status, m.note, m.words) for m in r.metrics)
    assert any(
        line.startswith("Guided") and "Puncture off the centreline" in line for line in lines
    )


def test_without_calibration_a_tracked_hand_is_judged_by_its_own_jitter() -> None:
    """A webcam session without calibration: the score takes the session's own jitter as
    the noise (an upper bound); a mouse session is exact."""
    sc = scenario_of("venipuncture")
    items = scripted_items(sc, "expert", 1)
    rng = np.random.default_rng(0)
    shaky = [
        replace(i, tip_mm=(i.tip_mm[0], i.tip_mm[1], i.tip_mm[2] + rng.normal(0, 3.0)))
        if isinstance(i, Sample)
        else i
        for i in items
    ]
    p = Pipeline(sc, input_kind="webcam")
    p.feed_all(shaky)
    assert p.session_noise().z_mm > 2.0
    assert p.result().metric("puncture_offset_mm").status == UNCERTAIN
    m = Pipeline(sc, input_kind="mouse")
    m.feed_all(items)
    assert m.session_noise() == EXACT


def test_a_camera_too_slow_for_the_tremor_band_measures_no_tremor() -> None:
    """Tracked samples at 15 frames/s: the band's top (12 Hz) lies above Nyquist, so tremor
    and smoothness are "not measured: 15 frames/s tracked" (no points, no weight), never a sliver of
    the band read as no tremor at all (100 points); at 30 frames/s they are scored."""
    sc = scenario_of("venipuncture")
    items = scripted_items(sc, "expert", 1)

    def at_rate(step: int) -> list:
        samples = [i for i in items if isinstance(i, Sample)]
        keep = {id(s) for s in samples[::step]}
        return [i for i in items if not isinstance(i, Sample) or id(i) in keep]

    slow = Pipeline(sc, 0.3, "webcam", noise=EXACT)
    slow.feed_all(at_rate(4))  # 60 Hz -> 15 frames/s
    r = slow.result()
    for name in ("tremor_rms_mm", "sparc"):
        m = r.metric(name)
        assert (
            m.status == NOT_MEASURED
            and m.weight == 0.0
            and m.note == "not measured: 15 frames/s tracked"
        )
    assert any(
        "Too few frames per second" in ln
        for ln in measurement_notes((m.label, m.status, m.note, m.words) for m in r.metrics)
    )
    fast = Pipeline(sc, 0.3, "webcam", noise=EXACT)
    fast.feed_all(at_rate(2))  # 30 frames/s
    assert fast.result().metric("tremor_rms_mm").status == SCORED


def test_a_tracker_without_a_noise_floor_reports_no_tremor() -> None:
    """A webcam session whose calibration was skipped (floor 0): the live tremor is not
    measured (so "hold steady" cannot fire on the tracker's jitter) and neither is the
    session's; with a floor from calibration both are. The scripted trainee needs none."""
    sc = scenario_of("venipuncture")
    items = scripted_items(sc, "novice", 3)
    bare = Pipeline(sc, 0.0, "webcam", noise=EXACT)
    bare.feed_all(items)
    assert bare.view is not None and math.isnan(bare.view.tremor_mm)
    assert not [c for c in bare.cues if c.rule == "hold_steady"]
    r = bare.result()
    assert r.metric("tremor_rms_mm").note == "not measured: no noise floor"
    assert r.metric("tremor_rms_mm").weight == 0.0
    assert r.metric("sparc").status != NOT_MEASURED  # smoothness needs no floor
    calibrated = Pipeline(sc, 0.3, "webcam", noise=EXACT)
    calibrated.feed_all(items)
    assert calibrated.result().metric("tremor_rms_mm").status == SCORED
    scripted = Pipeline(sc, 0.0, "scripted")
    scripted.feed_all(items)
    assert scripted.result().metric("tremor_rms_mm").status == SCORED
