"""Scripted trainees through the whole pipeline: skill ordering, critical errors, determinism."""

from __future__ import annotations

import pytest

from sim.core import geometry as g
from sim.core.records import Action, ActionKind, Sample
from sim.pipeline import Pipeline
from sim.procedures.suturing.spec import parts as suturing_parts
from sim.procedures.venipuncture.spec import parts as venipuncture_parts
from sim.sources.scripted import scripted_items

SEEDS = range(4)


def run(scenario, items, noise_floor_mm=0.0):
    p = Pipeline(scenario, noise_floor_mm)
    p.feed_all(items)
    p.close_cues()
    return p, p.result()


def test_same_seed_same_everything_different_seed_differs(veni):
    a, ra = run(veni, scripted_items(veni, "novice", 5))
    b, rb = run(veni, scripted_items(veni, "novice", 5))
    assert a.events == b.events and a.cues == b.cues and ra == rb
    c, rc = run(veni, scripted_items(veni, "novice", 6))
    assert rc.score != ra.score


def test_novice_tremor_is_recovered_from_the_whole_session(veni):
    from sim.sources.scripted import SKILL_LEVELS

    _, r = run(veni, scripted_items(veni, "novice", 0))
    sk = SKILL_LEVELS["novice"]
    assert r.metric("tremor_rms_mm").value == pytest.approx(sk.tremor_rms_mm, rel=0.1)
    assert abs(r.metric("tremor_peak_hz").value - sk.tremor_hz) <= 0.5
    # a measured camera noise floor is taken off
    _, r2 = run(veni, scripted_items(veni, "novice", 0), noise_floor_mm=0.5)
    assert r2.metric("tremor_rms_mm").value == pytest.approx(
        (r.metric("tremor_rms_mm").value ** 2 - 0.25) ** 0.5, rel=1e-6
    )


def _stick(scenario, t0, angle, extra_mm, aim_z=0.0, withdraw=True):
    geo, _ = venipuncture_parts(scenario)
    axis, normal = g.pose_from_angles(0.0, angle, 0.0)
    surf_y = (geo.arm_radius_mm**2 - aim_z**2) ** 0.5 - geo.arm_radius_mm
    puncture = (-5.0, surf_y, aim_z)
    along = (geo.vein_depth_mm + surf_y) / -axis[1] + extra_mm
    out = []
    t = t0
    path = [g.add(puncture, g.scale(axis, d / 10)) for d in range(-100, int(along * 10))]
    if withdraw:
        path += path[::-1]
    for p in path:
        out.append(Sample(t, p, axis, normal))
        t += 1 / 60
    return out, t


def test_back_wall_fails_a_session_that_otherwise_scores_well(veni):
    items = [Action(0.0, ActionKind.TOURNIQUET_ON)]
    stick, t = _stick(veni, 0.1, 25.0, 6.0)
    items += stick + [Action(t, ActionKind.TOURNIQUET_OFF), Action(t, ActionKind.FINISH)]
    _, r = run(veni, items)
    assert [e.kind for e in r.critical_errors] == ["back_wall"]
    assert not r.passed


def test_no_tourniquet_is_critical_and_the_attempt_limit_ends_the_session(veni):
    items = []
    t = 0.0
    for _ in range(venipuncture_parts(veni)[1].max_attempts + 1):
        stick, t = _stick(veni, t, 20.0, 2.0, aim_z=4.0)  # misses laterally each time
        items += stick
    items.append(Action(t, ActionKind.FINISH))
    p, r = run(veni, items)
    crit = {e.kind for e in r.critical_errors}
    assert "no_tourniquet" in crit
    assert not r.passed
    assert p.finished and p.task.is_complete(p.state)  # stopped and escalated: ended
    assert r.metric("attempts").value == venipuncture_parts(veni)[1].max_attempts
    assert any(e.kind == "attempt_limit" and "escalate" in e.message for e in p.events)


def test_through_the_pad_is_critical_in_suturing(sut):
    from tests.procedures.suturing.test_task import stitch_samples

    geo, _ = suturing_parts(sut)
    r_big = geo.pad_thickness_mm + 2
    items = stitch_samples(0.0, r_big, 0.0, r_big)
    items.append(Action(items[-1].t_s, ActionKind.FINISH))
    _, r = run(sut, items)
    assert "through_pad" in [e.kind for e in r.critical_errors]
    assert not r.passed


def test_a_25_fps_camera_gets_its_tremor_measured_at_its_own_rate(sut):
    """Webcam-rate samples from a calibrated webcam (a small noise floor): final and live
    tremor both see the true 4-12 Hz band."""
    import math

    fs, rms, hz = 25.0, 1.0, 10.0
    p = Pipeline(sut, 0.05, input_kind="webcam")
    amp = rms * math.sqrt(2.0)
    for i in range(int(8 * fs)):
        t = i / fs
        # 5 mm over the pad, pointing at it, drifting 1 mm/s along the wound with the tremor
        # on top (no cue before the tip has moved 3 mm from where it started)
        x = t + amp * math.sin(2 * math.pi * hz * t)
        p.feed(Sample(t, (x, 5.0, 0.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0)))
    r = p.result()
    assert r.metric("tremor_rms_mm").value == pytest.approx(rms, rel=0.1)
    assert abs(r.metric("tremor_peak_hz").value - hz) <= 0.5
    assert p.view is not None and p.view.tremor_mm == pytest.approx(rms, rel=0.2)
    steady = [c for c in p.cues if c.rule == "hold_steady"]
    x0 = p.samples[0].tip_mm[0]
    moved_t = next(s.t_s for s in p.samples if abs(s.tip_mm[0] - x0) > 3.0)
    assert steady and steady[0].t_s >= moved_t > 1.0
