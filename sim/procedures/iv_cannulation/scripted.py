"""Scripted IV cannulation trainees at three skill levels, able to make any error on demand.

Built on the venipuncture trainee's pieces (:class:`sim.sources.scripted.Script`: minimum-jerk
moves, seeded tremor; :data:`sim.sources.scripted.SKILL_LEVELS`: insertion angle, bevel,
aim, speed, hesitation, probing habit) with what cannulation adds (:class:`IvSkill`: how far
the angle is lowered after flashback, how exactly the trainee advances the 2 mm, whether they
wait for the catheter tip to be in, how still the needle is held while threading).

The trainee watches what a real one would see or feel (flashback, the catheter tip in the
vein, a catheter that will not slide, blood from a blown vein): :class:`_Trainee` runs the
task model over its own trajectory so far, tremor included, and acts on it. So what the
trainee does next always agrees with what the task detected.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Collection
from dataclasses import dataclass, fields

import numpy as np

from sim.core import geometry as g
from sim.core import patient as pt
from sim.core.records import Action, ActionKind, Item, Vec3
from sim.core.scenario import Scenario
from sim.procedures.iv_cannulation.spec import parts
from sim.procedures.iv_cannulation.task import IvAction, IvCannulationTask, IvState
from sim.sources.scripted import SKILL_LEVELS, Script, Skill, anchors, fast_draw, patient_aim


@dataclass(frozen=True, slots=True)
class IvSkill:
    """What cannulation adds to a :class:`Skill` (degrees, mm, mm/s, probabilities)."""

    thread_angle_deg: tuple[float, float]  # mean, sd of the lowered angle
    advance_sd_mm: float  # spread of the advance after flashback about its target
    over_advance_mm: float  # up to this much further (pushes on to be sure)
    premature_p: float  # chance of threading without waiting for the catheter tip to be in
    needle_drift_mm: float  # the needle creeps forward this far while threading
    thread_speed_mm_s: float  # how fast the catheter is slid off the needle


# Our choice, tuned so that scores order expert > intermediate > novice.
IV_SKILLS = {
    "expert": IvSkill((9.0, 1.5), 0.2, 0.0, 0.0, 0.1, 12.0),
    "intermediate": IvSkill((14.0, 3.0), 0.4, 0.8, 0.05, 0.7, 8.0),
    "novice": IvSkill((22.0, 4.0), 0.8, 2.0, 0.3, 1.4, 5.0),
}

OVERRIDABLE = ("tremor_rms_mm", "tremor_hz", "angle_deg")
"""Fields of a :class:`Skill` a caller may override (``procsim simulate --tremor ...``):
not used to tell the levels apart."""


def iv_skill(skill: Skill) -> IvSkill:
    """The cannulation settings of the skill level ``skill`` is (or is nearest to, by its
    fields other than :data:`OVERRIDABLE`, each relative to the levels' spread)."""
    names = list(SKILL_LEVELS)
    keys = [f.name for f in fields(Skill) if f.name not in OVERRIDABLE]

    def gap(name: str) -> float:
        level = SKILL_LEVELS[name]
        total = 0.0
        for k in keys:
            values = [float(getattr(SKILL_LEVELS[n], k)) for n in names]
            spread = (max(values) - min(values)) or 1.0
            total += ((float(getattr(skill, k)) - float(getattr(level, k))) / spread) ** 2
        return total

    return IV_SKILLS[min(names, key=gap)]


FEEL_STEP_MM = 0.3
"""How far a trainee advances at a time while waiting for the catheter tip to be in."""


class _Trainee:
    """A :class:`Script` that can look at what the task model makes of it so far."""

    def __init__(self, scenario: Scenario, skill: Skill, tremor: np.random.Generator) -> None:
        self.script = Script(scenario.sample_rate_hz, skill, tremor)  # tremor only
        self.task = IvCannulationTask(scenario)
        self._state = self.task.initial()
        self._seen = 0  # items already stepped through the task

    def act(self, kind: str) -> None:
        """An action at the time of the next sample (exactly: rounded as the samples' times
        are, so it never comes after that sample)."""
        s = self.script
        s.items.append(Action(s.t, kind))

    def sees(self) -> IvState:
        """The task's state after everything done so far (tremor as it will be added)."""
        ahead = copy.copy(self.script)  # finish() only reads the items and draws the tremor
        ahead.rng = copy.deepcopy(self.script.rng)  # ...from the same generator state
        items = ahead.finish()[:-1]  # tremor depends on time only: earlier items are as before
        st = self._state
        for item in items[self._seen :]:
            st, _ = self.task.step(st, item)
        self._state, self._seen = st, len(items)
        return st


def _line_t(surf_y: float, y: float, angle_deg: float) -> float:
    """Distance along a needle at ``angle_deg`` (pointing along +x) from the skin at height
    ``surf_y`` down to height ``y``."""
    return (surf_y - y) / math.sin(math.radians(angle_deg))


def _withdraw(s: Script, axis: Vec3, surf_y: float) -> None:
    """Pull the needle back along ``axis`` until its tip is 12 mm out of the skin (at height
    ``surf_y``)."""
    pos = s.pos
    # slowly (as venipuncture's trainee): the speed cue does not tell withdrawing apart
    s.move(g.sub(pos, g.scale(axis, (surf_y - pos[1]) / -axis[1] + 12.0)), speed_mm_s=7.0)


def scripted(
    scenario: Scenario,
    skill: Skill,
    rng: np.random.Generator,
    errors: Collection[str],
    habits: np.random.Generator,
) -> list[Item]:
    """A scripted cannulation: tourniquet, insertion, flashback, lower and advance, thread,
    release, occlude, withdraw, flush, secure; a new attempt after a failed one.

    ``errors`` are error kinds (of :data:`sim.procedures.iv_cannulation.metrics.ERRORS`) to
    make on purpose (on the first attempt), besides those the skill makes by itself, and
    the patient's reactions (:data:`sim.core.patient.REACTIONS`), provoked as venipuncture's
    trainee does (:func:`sim.procedures.venipuncture.scripted.scripted`).
    ``habits`` draws whether the trainee probes. The cannulation settings come with the
    skill level (:func:`iv_skill`).
    """
    geo, tol = parts(scenario)
    iv = iv_skill(skill)
    tr = _Trainee(scenario, skill, np.random.default_rng(int(rng.integers(2**32))))
    s = tr.script
    home: Vec3 = (-60.0, 45.0, 40.0)
    s.place(home, *g.pose_from_angles(0.0, 10.0, 0.0))
    s.hold(0.5)
    tourniquet = "no_tourniquet" not in errors
    if tourniquet:
        tr.act(ActionKind.TOURNIQUET_ON)
    s.hold(1.0 + skill.hesitation_s)
    if "tourniquet_too_long" in errors:
        s.hold(tol.tourniquet_max_s + 1.0)
    if "incomplete" in errors:  # gives up before the stick
        s.hold(1.0)
        return s.finish()
    R, r = geo.arm_radius_mm, geo.vein_diameter_mm / 2
    vein_y = -geo.vein_depth_mm
    cond = scenario.condition
    aim_at = patient_aim(scenario, errors)
    bruise = pt.BRUISE in errors or pt.BRUISE_STOPPED in errors
    attempts = 0
    while attempts < tol.max_attempts:
        attempts += 1
        first = attempts == 1
        angle = float(rng.normal(*skill.angle_deg))
        roll = float(rng.normal(0, skill.roll_sd_deg))
        aim_z = geo.vein_lateral_mm + float(rng.normal(0, skill.aim_sd_mm))
        probe = float(habits.random()) < skill.probe_p
        lowered = float(rng.normal(*iv.thread_angle_deg))
        advance = tol.advance_after_flash_mm + float(rng.normal(0, iv.advance_sd_mm))
        advance += iv.over_advance_mm * float(rng.random())
        premature = float(rng.random()) < iv.premature_p
        drift = iv.needle_drift_mm
        speed = skill.speed_mm_s
        target_y = None
        if anchors(scenario, errors, first):
            tr.act(pt.ANCHOR)
        if first and cond is not None:
            if aim_at is not None:  # at the nerve or the artery, not the vein
                aim_z, target_y = aim_at[0], -aim_at[1]
            if pt.VEIN_BLOWN in errors:
                angle = max(angle, cond.blow_angle_deg + 5.0)
            if pt.SAID in errors:  # a fast entry, then probing: it hurts
                speed = 3.0 * cond.fast_entry_mm_s
                probe = True
        if first:
            if "angle_out_of_range" in errors:
                angle = tol.angle_max_deg + 10.0
            if "bevel_down" in errors:
                roll = tol.bevel_roll_tol_deg + 25.0
            if "missed_vein" in errors:
                aim_z = geo.vein_lateral_mm + r + 2.0
            probe = probe or "probing" in errors
            premature = premature or "threaded_outside_vein" in errors
            if "needle_advanced" in errors:
                drift = tol.needle_still_mm + 1.5
        else:  # a second try is aimed more carefully
            angle = min(angle, tol.angle_max_deg - 2.0)
            aim_z = geo.vein_lateral_mm + 0.3 * (aim_z - geo.vein_lateral_mm)
            premature = False
            if aim_at is not None:  # ...at the vein this time
                aim_z = geo.vein_lateral_mm
        if "attempt_limit" in errors:  # misses the vein on every attempt
            aim_z = geo.vein_lateral_mm + r + 2.0
        angle = max(angle, tol.angle_min_deg / 2)
        lowered = min(max(lowered, 3.0), angle - 2.0)
        advance = max(advance, 0.0)
        axis, normal = g.pose_from_angles(0.0, angle, roll)
        surf_y = math.sqrt(R * R - aim_z * aim_z) - R
        dz = aim_z - geo.vein_lateral_mm
        missed = abs(dz) >= r
        # meant to stop just inside the vein's near wall (or at the vein's depth when aimed
        # beside it), at x = 0; each new attempt 8 mm nearer the tourniquet (a new cannula
        # above the last puncture)
        near_wall = vein_y + math.sqrt(r * r - dz * dz) if not missed else vein_y - 1.0
        if target_y is not None:
            near_wall = target_y
        t_stop = _line_t(surf_y, near_wall, angle) + (0.3 if not missed else 0.0)
        x0 = -8.0 * (attempts - 1)
        puncture = (x0 - t_stop * math.cos(math.radians(angle)), surf_y, aim_z)
        before = g.sub(puncture, g.scale(axis, 8.0))
        s.move(g.add(before, (0.0, 10.0, 0.0)), axis, normal, speed_mm_s=80.0)
        s.move(before, speed_mm_s=20.0)
        s.hold(skill.hesitation_s + 0.2)
        if probe:  # just short of the vein, slides the needle sideways looking for it, and
            # back, at the same depth (deeper than exit_margin_mm, where redirecting is free)
            mid = g.add(puncture, g.scale(axis, max(t_stop - 0.8, t_stop / 2)))
            s.move(mid, speed_mm_s=speed)
            side = tol.probe_mm + float(habits.uniform(0.5, 2.0))
            rad = R + mid[1]
            s.move((mid[0], math.sqrt(rad * rad - side * side) - R, mid[2] + side))
            s.move(mid, speed_mm_s=skill.speed_mm_s)
        flash = g.add(puncture, g.scale(axis, t_stop))
        s.move(flash, speed_mm_s=speed)
        s.hold(0.3 + skill.hesitation_s)
        if first and ("back_wall" in errors or bruise):  # pushes on through the vein
            s.move(g.add(puncture, g.scale(axis, _line_t(surf_y, vein_y - r - 1.0, angle))))
            s.hold(0.3 + skill.hesitation_s)
        if first and pt.VEIN_COLLAPSED in errors:
            fast_draw(s)
        seen = tr.sees()
        if not seen.flashback or seen.failed or (first and aim_at is not None):
            # no blood, a blown or collapsed vein, or the nerve or artery: out, try again
            _withdraw(s, axis, surf_y)
            if first and pt.BRUISE_STOPPED in errors and cond is not None:
                tr.act(pt.PRESSURE)  # presses until the bleeding stops
                s.hold(cond.pressure_s + 0.5)
            continue
        # lower the angle (pivoting on the tip), then advance the catheter tip into the vein
        axis2, normal2 = g.pose_from_angles(0.0, lowered, roll)
        if not premature:
            s.move(flash, axis2, normal2, duration_s=0.6)
            s.move(g.add(flash, g.scale(axis2, advance)), speed_mm_s=max(2.0, skill.speed_mm_s / 2))
            s.hold(0.2 + skill.hesitation_s / 2)
            seen = tr.sees()
            for _ in range(12):  # feels for it until the catheter tip is in
                if seen.catheter_in_vein or seen.failed:
                    break
                s.move(g.add(s.pos, g.scale(axis2, FEEL_STEP_MM)), duration_s=0.2)
                seen = tr.sees()
        # thread: slide the catheter until its hub is at the skin, the needle held still
        tip = s.pos
        inside = (surf_y - tip[1]) / -s.axis[1] - geo.needle_protrusion_mm
        steps = math.ceil((geo.catheter_length_mm - inside) / geo.catheter_step_mm) + 2
        each = max(1, round(s.rate * geo.catheter_step_mm / iv.thread_speed_mm_s))
        for i in range(1, steps + 1):
            tr.act(IvAction.CATHETER_ADVANCE)
            s.move(g.add(tip, g.scale(s.axis, drift * i / steps)), duration_s=each / s.rate)
            if i == 1 and tr.sees().hung_up:
                break  # it will not slide
        s.hold(0.3 + skill.hesitation_s / 2)
        seen = tr.sees()
        if not seen.threaded or seen.failed:  # hung up or a blown vein: out, try again
            _withdraw(s, s.axis, surf_y)
            continue
        if tourniquet and "tourniquet_on_at_withdrawal" not in errors:
            tr.act(ActionKind.TOURNIQUET_OFF)
        s.hold(0.3 + skill.hesitation_s / 2)
        if "no_occlusion" not in errors:
            tr.act(IvAction.OCCLUDE)
            s.hold(0.3)
        if "catheter_sheared" in errors:  # backs the needle out a little, then pushes it in
            held = s.pos
            s.move(g.sub(held, g.scale(s.axis, tol.reinsert_mm + 1.5)), speed_mm_s=10.0)
            s.move(held, speed_mm_s=10.0)
        _withdraw(s, s.axis, surf_y)
        break
    s.move(home, *g.pose_from_angles(0.0, 10.0, 0.0), speed_mm_s=80.0)
    tr.act(IvAction.FLUSH)
    s.hold(1.0 + skill.hesitation_s)
    tr.act(IvAction.SECURE)
    s.hold(0.5)
    return s.finish()
