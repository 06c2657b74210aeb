"""Venipuncture's scripted trainee: tourniquet, puncture, (retry), draw, release, withdraw."""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np

from sim.core import geometry as g
from sim.core import patient as pt
from sim.core.records import ActionKind, Item
from sim.core.scenario import Scenario
from sim.procedures.venipuncture.spec import parts
from sim.sources.scripted import Script, Skill, anchors, fast_draw, patient_aim


def scripted(
    scenario: Scenario,
    skill: Skill,
    rng: np.random.Generator,
    errors: Collection[str],
    habits: np.random.Generator,
) -> list[Item]:
    """A scripted venipuncture: tourniquet, puncture, (retry), draw, release, withdraw.

    ``errors`` are error kinds to make on purpose (first attempt), besides the skill's own,
    and the patient's reactions (:data:`sim.core.patient.REACTIONS`): a stick aimed at the
    nerve (a nerve touch, and the flinch it brings) or the artery, no anchoring of a vein
    that rolls, a steep entry (a fragile vein blows), a fast draw (it collapses), a pierced
    back wall (a bruise; then pressure held until it stops), probing on a fast entry (the
    patient speaks). ``habits`` draws whether the trainee probes (a generator of its own
    leaves the rest of a seed's trajectory as it was before probing was scripted).

    A drill of repeated entries (``tolerances.entries_required``) enters the vein that many
    times, each held and withdrawn; where the scenario's drill judges the hold
    (``hold_drift_mm``), the hand creeps along the needle at the skill's ``drift_mm_s`` while
    holding (elsewhere it holds still, so every other scenario's seeded trajectories are
    as they were).
    """
    geo, tol = parts(scenario)
    cond = scenario.condition
    aim_at = patient_aim(scenario, errors)
    bruise = pt.BRUISE in errors or pt.BRUISE_STOPPED in errors
    s = Script(scenario.sample_rate_hz, skill, rng)
    home = (-60.0, 45.0, 40.0)
    s.place(home, *g.pose_from_angles(0.0, 10.0, 0.0))
    s.hold(0.5)
    tourniquet = "no_tourniquet" not in errors
    if tourniquet:
        s.action(ActionKind.TOURNIQUET_ON)
    if "tourniquet_reapplied_early" in errors:
        s.hold(1.0)
        s.action(ActionKind.TOURNIQUET_OFF)
        s.hold(1.0)
        s.action(ActionKind.TOURNIQUET_ON)
    s.hold(1.0 + skill.hesitation_s)
    if "tourniquet_too_long" in errors:
        s.hold(tol.tourniquet_max_s + 1.0)
    if "incomplete" in errors:  # gives up before the stick
        s.hold(1.0)
        return s.finish()
    vein_r = geo.vein_diameter_mm / 2
    attempts = 0
    drifts = scenario.drill is not None and "hold_drift_mm" in scenario.drill.targets
    entries = tol.entries_required
    for entry in range(entries):  # one entry for a venipuncture; a drill may ask for more
        first = attempts + 1
        while True:
            attempts += 1
            angle = float(rng.normal(*skill.angle_deg))
            roll = float(rng.normal(0, skill.roll_sd_deg))
            aim_z = geo.vein_lateral_mm + float(rng.normal(0, skill.aim_sd_mm))
            probe = float(habits.random()) < skill.probe_p
            speed = skill.speed_mm_s
            target_depth = geo.vein_depth_mm
            if anchors(scenario, errors, attempts == 1):
                s.action(pt.ANCHOR)
            if attempts == 1 and cond is not None:
                if aim_at is not None:  # at the nerve or the artery, not the vein
                    aim_z, target_depth = aim_at
                if pt.VEIN_BLOWN in errors:
                    angle = max(angle, cond.blow_angle_deg + 5.0)
                if pt.SAID in errors:  # a fast entry, then probing: it hurts
                    speed = 3.0 * cond.fast_entry_mm_s
                    probe = True
            if attempts == 1:
                if "angle_out_of_range" in errors:
                    angle = tol.angle_max_deg + 10.0
                if "bevel_down" in errors:
                    roll = tol.bevel_roll_tol_deg + 25.0
                if "missed_vein" in errors:
                    aim_z = geo.vein_lateral_mm + vein_r + 2.0
                probe = probe or "probing" in errors
            if attempts > first:  # a second try is aimed more carefully
                angle = min(angle, tol.angle_max_deg - 2)
                aim_z = geo.vein_lateral_mm + 0.3 * (aim_z - geo.vein_lateral_mm)
                if aim_at is not None:  # ...at the vein this time
                    aim_z = geo.vein_lateral_mm
            if "attempt_limit" in errors:  # misses the vein on every attempt
                aim_z = geo.vein_lateral_mm + vein_r + 2.0
            axis, normal = g.pose_from_angles(0.0, angle, roll)
            surf_y = math.sqrt(geo.arm_radius_mm**2 - aim_z**2) - geo.arm_radius_mm
            depth_here = target_depth + surf_y  # the skin falls away beside the arm's top
            along = depth_here / math.sin(math.radians(angle))
            puncture_x = -along * math.cos(math.radians(angle))
            puncture = (puncture_x, surf_y, aim_z)
            before = g.sub(puncture, g.scale(axis, 8.0))
            s.move(g.add(before, (0.0, 10.0, 0.0)), axis, normal, speed_mm_s=80.0)
            s.move(before, speed_mm_s=20.0)
            s.hold(skill.hesitation_s + 0.2)
            if probe:  # halfway in, slides the needle sideways looking for the vein, and back
                half = g.add(puncture, g.scale(axis, along / 2))
                s.move(half, speed_mm_s=speed)
                side = tol.probe_mm + float(habits.uniform(0.5, 2.0))
                s.move(g.add(half, (0.0, 0.0, side)), speed_mm_s=skill.speed_mm_s)
                s.move(half, speed_mm_s=skill.speed_mm_s)
            overshoot = skill.overshoot_mm * float(rng.uniform(0.6, 1.4))
            through = attempts == 1 and ("back_wall" in errors or bruise)
            if through:
                overshoot = 2 * vein_r + 2.0
            elif "back_wall" in errors or bruise or aim_at is not None:
                overshoot = 0.0  # the stick after a blown vein (or a nerve) is a careful one
            target = g.add(puncture, g.scale(axis, along + overshoot))
            s.move(target, speed_mm_s=speed)
            missed = abs(aim_z - geo.vein_lateral_mm) > vein_r
            if attempts == 1 and pt.VEIN_COLLAPSED in errors:
                fast_draw(s)
            spoilt = attempts == 1 and (
                aim_at is not None or pt.VEIN_COLLAPSED in errors or pt.VEIN_BLOWN in errors
            )
            if through or spoilt:
                s.hold(0.3 + skill.hesitation_s)
                s.move(g.sub(puncture, g.scale(axis, 12.0)), speed_mm_s=15.0)
                if pt.BRUISE_STOPPED in errors and cond is not None:  # presses until it stops
                    s.action(pt.PRESSURE)
                    s.hold(cond.pressure_s + 0.5)
                continue  # the vein is blown (or no blood came): a second stick
            if overshoot > 0 and not missed:  # notices (no blood or pain) and backs up
                s.hold(0.3 + skill.hesitation_s)
                s.move(g.add(puncture, g.scale(axis, along)), speed_mm_s=skill.speed_mm_s)
            if not missed or attempts - entry >= tol.max_attempts:  # (failed ones)
                break
            s.hold(skill.hesitation_s)
            s.move(g.sub(puncture, g.scale(axis, 12.0)), speed_mm_s=15.0)
        hold_s = tol.draw_hold_s + 0.5 + skill.hesitation_s
        if drifts:  # the hand creeps on along the needle while it holds
            s.drift(hold_s, axis, skill.drift_mm_s)
        else:
            s.hold(hold_s)
        if entry == entries - 1 or missed:  # the last entry (or the attempt limit)
            break
        s.hold(0.3)
        s.move(g.sub(puncture, g.scale(axis, 12.0)), speed_mm_s=15.0)
        s.hold(skill.hesitation_s)
    if tourniquet and "tourniquet_on_at_withdrawal" not in errors:
        s.action(ActionKind.TOURNIQUET_OFF)
    s.hold(0.5)
    s.move(g.sub(puncture, g.scale(axis, 15.0)), speed_mm_s=8.0)
    s.move(home, *g.pose_from_angles(0.0, 10.0, 0.0), speed_mm_s=80.0)
    s.hold(0.5)
    return s.finish()
