"""Cue rules: onset on the exact sample, hysteresis, no flicker, priorities, words that follow
the live value, numbers rounded the way the rule compares them, phases."""

from __future__ import annotations

import math

import numpy as np

from sim.core import geometry as g
from sim.core.records import Action, ActionKind, Sample, Severity
from sim.core.scenario import Scenario
from sim.feedback.cues import CueEngine, shown
from sim.pipeline import Pipeline
from sim.procedures.registry import get
from sim.procedures.suturing.view import SuturingView
from sim.procedures.venipuncture.spec import parts as venipuncture_parts
from sim.procedures.venipuncture.view import VenipunctureView

BASE = dict(
    phase="insert",
    tracked=True,
    speed_mm_s=0.0,
    tremor_mm=0.0,
    angle_deg=20.0,
    depth_mm=-5.0,
    distance_to_skin_mm=5.0,
    inserted=False,
    moved=True,
    near=True,
    done=False,
)


def view(t, **kw):
    """A venipuncture view at ``t`` (aiming near the skin unless ``kw`` says otherwise)."""
    return VenipunctureView(t_s=t, **{**BASE, **kw})


def sview(t, **kw):
    """A suturing view at ``t``."""
    return SuturingView(t_s=t, **{**BASE, **kw})


def engine(sc: Scenario) -> CueEngine:
    """The cue engine with the rules of ``sc``'s procedure."""
    return CueEngine(get(sc.task).rules(sc), sc.feedback)


def test_cue_appears_on_the_sample_its_condition_becomes_true(veni):
    eng = engine(veni)
    angles = [20, 25, 29, 31, 33]
    started = []
    for t, a in zip([0.0, 0.1, 0.2, 0.3, 0.4], angles):
        started += [c for c in eng.update(view(t, angle_deg=a)) if c.active and not c.update]
    assert [(c.rule, c.t_s) for c in started] == [("too_steep", 0.3)]
    assert started[0].message == "angle 31°: lower to 15-30°"


def test_noisy_angle_around_threshold_does_not_flicker(veni):
    eng = engine(veni)
    rng = np.random.default_rng(0)
    changes = []
    t = np.arange(0, 10, 1 / 60)
    angle = 30 + 0.8 * rng.standard_normal(len(t))  # hovering on the 30 deg limit
    for ti, a in zip(t, angle):
        changes += [
            c
            for c in eng.update(view(float(ti), angle_deg=float(a)))
            if c.rule == "too_steep" and not c.update
        ]
    assert len(changes) == 1  # appears once and stays: noise stays within the hysteresis


def test_cue_is_shown_at_least_min_show_s_and_then_released(veni):
    eng = engine(veni)
    eng.update(view(0.0, angle_deg=40))
    ends = []
    for i in range(1, 120):
        ends += [c for c in eng.update(view(i / 60, angle_deg=20)) if not c.active]
    assert len(ends) == 1
    fb = veni.feedback
    assert ends[0].t_s >= max(fb.min_show_s, fb.release_s)
    assert ends[0].t_s < max(fb.min_show_s, fb.release_s) + 0.05


def test_banner_shows_highest_priority(veni):
    eng = engine(veni)
    eng.update(
        view(
            0.0,
            angle_deg=40,
            tremor_mm=2.0,
            through_wall=True,
            inserted=True,
            depth_mm=6.0,
            distance_to_skin_mm=0.0,
        )
    )
    banner = eng.banner()
    assert banner is not None and banner.rule == "back_wall"
    assert {c.rule for c in eng.active()} >= {"back_wall", "hold_steady"}


def test_off_vein_names_distance_and_direction(veni):
    geo, _ = venipuncture_parts(veni)
    eng = engine(veni)
    (cue,) = eng.update(view(0.0, offset_mm=-(geo.vein_diameter_mm / 2 + 1.5)))
    assert cue.rule == "off_vein"
    assert cue.message == "off the vein by 1.5 mm: move towards you"  # z points at the viewer


def test_pipeline_cues_hold_steady_on_tremor_and_too_steep_on_approach(veni):
    p = Pipeline(veni)
    axis, normal = g.pose_from_angles(0.0, 40.0, 0.0)
    p.feed(Action(0.0, ActionKind.TOURNIQUET_ON))
    start = g.sub((-5.0, 0.0, 0.0), g.scale(axis, 30.0))
    for i in range(240):  # 4 s approaching slowly, with 1.2 mm RMS tremor at 8 Hz
        t = i / 60
        base = g.add(start, g.scale(axis, 5.0 * t))
        d = 1.2 * math.sqrt(2) * math.sin(2 * math.pi * 8 * t)
        p.feed(Sample(t, (base[0], base[1] + d, base[2]), axis, normal))
    rules = [c.rule for c in p.cues if c.active]
    assert "hold_steady" in rules and "too_steep" in rules
    steep = next(c for c in p.cues if c.rule == "too_steep")
    # it appears on the first sample within approach distance of the skin
    first_close = next(
        s.t_s
        for s in p.samples
        if p.task.limb.measure(s).distance_to_skin_mm <= veni.feedback.approach_mm  # type: ignore[attr-defined]
    )
    assert steep.t_s == first_close


def test_words_follow_the_live_value_while_the_cue_is_shown(veni):
    eng = engine(veni)
    eng.update(view(0.0, angle_deg=40))
    (upd,) = eng.update(view(0.1, angle_deg=36))
    assert upd.update and upd.active and upd.message == "angle 36°: lower to 15-30°"
    assert eng.banner() == upd
    assert eng.update(view(0.2, angle_deg=36.2)) == []  # same words: nothing recorded
    # back inside the target during the hysteresis: the words say so, never "lower"
    eng.update(view(0.3, angle_deg=29))
    assert eng.banner().message == "angle 29°: keep it within 15-30°"


def test_numbers_are_rounded_the_way_the_rule_compares_them(veni, sut):
    eng = engine(veni)
    assert eng.update(view(0.0, angle_deg=30.04)) == []  # compared at 0.1: 30.0 is in range
    (cue,) = eng.update(view(0.1, angle_deg=30.4))
    assert cue.message == "angle 30.4°: lower to 15-30°"  # never "30°: lower to 15-30°"
    eng = engine(veni)
    (cue,) = eng.update(view(0.0, angle_deg=14.7))
    assert cue.message == "angle 14.7°: raise to 15-30°"
    assert shown(31.2, 0, 15, 30) == "31" and shown(-0.04, 1) == "0.0"
    eng = engine(sut)
    (cue,) = eng.update(sview(0.0, bite_mm=5.3, angle_deg=90.0))
    assert cue.rule == "bite_long" and cue.message == "bite 5.3 mm: aim 4 mm (3-5)"
    eng = engine(sut)
    (cue,) = eng.update(sview(0.0, bite_mm=5.04, angle_deg=90.0))
    assert cue.message == "bite 5.04 mm: aim 4 mm (3-5)"  # not "bite 5.0 mm" for too long


def test_off_vein_follows_the_aim_and_ends_when_back_on_the_vein(veni):
    r = venipuncture_parts(veni)[0].vein_diameter_mm / 2
    eng = engine(veni)
    eng.update(view(0.0, offset_mm=-(r + 1.5)))
    eng.update(view(0.5, offset_mm=-(r + 0.4)))
    assert eng.banner().message == "off the vein by 0.4 mm: move towards you"
    eng.update(view(0.8, offset_mm=-(r - 0.3)))  # over the vein, inside the hysteresis
    # still held, so still a warning: the words say so (at the edge, which way to go)
    banner = eng.banner()
    assert banner.message == "at the vein's edge (0.3 mm inside): move towards you"
    assert banner.severity is Severity.WARNING
    eng.update(view(0.85, offset_mm=-(r - 0.8)))  # past the hysteresis: solved, good news
    banner = eng.banner()
    assert banner.message == "on the vein (0.8 mm inside its edge)"
    assert banner.severity is Severity.INFO
    ends = []
    for i in range(1, 40):  # on the centreline from 1.0 s: gone after min_show and release
        ends += [c for c in eng.update(view(0.9 + i / 20, offset_mm=0.0)) if not c.active]
    assert [c.rule for c in ends] == ["off_vein"]
    assert ends[0].t_s <= 0.9 + veni.feedback.release_s + 0.05 + 0.5
    assert eng.active() == []


def test_no_cue_before_the_trainee_moves_after_done_or_far_from_the_skin(veni, sut):
    r = venipuncture_parts(veni)[0].vein_diameter_mm / 2
    eng = engine(veni)
    bad = dict(angle_deg=45.0, offset_mm=r + 3, tremor_mm=1.5)
    assert eng.update(view(0.0, moved=False, **bad)) == []  # at t = 0, before any motion
    assert eng.update(view(0.1, near=False, distance_to_skin_mm=55.0, **bad)) == []
    started = {c.rule for c in eng.update(view(0.2, **bad))}
    assert started == {"too_steep", "off_vein", "hold_steady"}
    ended = eng.update(view(0.25, done=True, phase="done", **bad))  # ends at once
    assert {c.rule for c in ended} == started and not any(c.active for c in ended)
    assert eng.update(view(0.3, done=True, phase="done", **bad)) == []
    eng = engine(sut)
    far = sview(0.0, near=False, distance_to_skin_mm=55.0, tremor_mm=1.5, angle_deg=50.0)
    assert eng.update(far) == []


def test_a_cue_kept_on_after_the_fix_turns_to_good_news(veni):
    """Back inside the target, a cue held on for min_show_s says so in info colours."""
    from sim.core.records import Severity

    eng = engine(veni)
    eng.update(view(0.0, angle_deg=45.0, near=True))
    assert eng.banner().severity is Severity.WARNING
    eng.update(view(0.1, angle_deg=22.0, near=True))  # fixed at once: still shown (min_show_s)
    cue = eng.banner()
    assert cue.rule == "too_steep" and cue.severity is Severity.INFO
    assert "keep it within" in cue.message
