"""Scripted trainees: realistic synthetic trajectories at three skill levels.

Movements between waypoints follow minimum-jerk profiles; tremor is a sum of sinusoids of
chosen RMS amplitude and frequency; errors (angle, bevel, aim, bite, dragging the needle,
probing, hesitation) are drawn from skill-dependent distributions with a seed, so the same
seed always gives the same trajectory. Any error kind a task model emits can also be
provoked on demand (``errors``: see :func:`scripted_items`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace

import numpy as np

from sim.core import geometry as g
from sim.core.error_kinds import error_kinds_for_task
from sim.core.records import Action, ActionKind, Item, Sample, Vec3
from sim.core.scenario import Scenario

SKILLS = ("expert", "intermediate", "novice")


@dataclass(frozen=True, slots=True)
class Skill:
    """How a scripted trainee performs. Angles in degrees, distances in mm."""

    angle_deg: tuple[float, float]  # mean, sd of the insertion angle
    roll_sd_deg: float
    aim_sd_mm: float
    tremor_rms_mm: float
    tremor_hz: float
    speed_mm_s: float  # insertion / needle-passage speed
    hesitation_s: float  # pause before each critical move
    overshoot_mm: float  # how far past the target the needle is pushed
    bite_sd_mm: float
    perp_sd_deg: float
    drag: float  # 0 follows the needle's arc, 1 pushes it straight
    spacing_sd_mm: float
    probe_p: float  # chance of moving the needle sideways in the tissue, per attempt


# Our choice, tuned so that scores order expert > intermediate > novice. A novice's first
# stick misses the vein about a quarter of the time (aim sd against the vein's radius) and
# a novice enters 15 deg or more off perpendicular about 40 % of the time.
SKILL_LEVELS = {
    "expert": Skill((22.0, 2.0), 4.0, 0.2, 0.06, 9.0, 4.0, 0.3, 0.0, 0.15, 3.0, 0.05, 0.3, 0.01),
    "intermediate": Skill((29.0, 3.0), 12.0, 0.8, 0.3, 8.5, 7.0, 1.5, 0.5, 0.5, 8.0, 0.3, 1.2, 0.1),
    "novice": Skill((40.0, 4.0), 25.0, 1.6, 0.8, 7.5, 12.0, 3.0, 3.0, 1.2, 18.0, 0.75, 2.5, 0.35),
}


class Script:
    """Builds a trajectory piece by piece at a fixed rate."""

    def __init__(self, rate_hz: float, skill: Skill, rng: np.random.Generator) -> None:
        self.rate = rate_hz
        self.skill = skill
        self.rng = rng
        self.t = 0.0
        self.items: list[Item] = []
        self.pos: Vec3 = (0.0, 0.0, 0.0)
        self.axis: Vec3 = (1.0, 0.0, 0.0)
        self.normal: Vec3 = (0.0, 1.0, 0.0)
        self._poses: list[tuple[float, Vec3, Vec3, Vec3]] = []

    def place(self, pos: Vec3, axis: Vec3, normal: Vec3) -> None:
        self.pos, self.axis, self.normal = pos, axis, normal

    def action(self, kind: ActionKind) -> None:
        self.items.append(Action(round(self.t, 6), kind))

    def _emit(self, pos: Vec3, axis: Vec3, normal: Vec3) -> None:
        self._poses.append((self.t, pos, axis, normal))
        self.items.append(Sample(self.t, pos, axis, normal))  # tremor added in finish()
        self.t = round(self.t + 1.0 / self.rate, 9)
        self.pos, self.axis, self.normal = pos, axis, normal

    def hold(self, seconds: float) -> None:
        for _ in range(max(1, int(round(seconds * self.rate)))):
            self._emit(self.pos, self.axis, self.normal)

    def move(
        self,
        pos: Vec3,
        axis: Vec3 | None = None,
        normal: Vec3 | None = None,
        duration_s: float | None = None,
        speed_mm_s: float = 60.0,
    ) -> None:
        """Minimum-jerk move to ``pos`` (orientation interpolated alongside)."""
        a0, n0 = self.axis, self.normal
        a1, n1 = axis or a0, normal or n0
        p0 = self.pos
        dist = g.norm(g.sub(pos, p0))
        dur = duration_s if duration_s is not None else max(0.3, 1.875 * dist / speed_mm_s)
        steps = max(1, int(round(dur * self.rate)))
        for i in range(1, steps + 1):
            tau = i / steps
            f = 10 * tau**3 - 15 * tau**4 + 6 * tau**5
            ax = g.unit(g.lerp(a0, a1, f))
            nm = g.lerp(n0, n1, f)
            nm = g.unit(g.sub(nm, g.scale(ax, g.dot(nm, ax))))
            self._emit(g.lerp(p0, pos, f), ax, nm)

    def path(self, poses: list[tuple[Vec3, Vec3, Vec3]], speed_mm_s: float) -> None:
        """Follow a dense list of poses at roughly constant speed."""
        for pos, ax, nm in poses:
            step = g.norm(g.sub(pos, self.pos))
            reps = max(1, int(round(step / speed_mm_s * self.rate)))
            for r in range(1, reps + 1):
                self._emit(g.lerp(self.pos, pos, r / reps) if reps > 1 else pos, ax, nm)

    def finish(self) -> list[Item]:
        """Add tremor to every sample and end with a finish action."""
        sk = self.skill
        n = len(self._poses)
        t = np.array([p[0] for p in self._poses])
        amp = sk.tremor_rms_mm * math.sqrt(2.0 / 3.0)  # per axis, so that 3-D RMS matches
        freq = sk.tremor_hz + self.rng.normal(0, 0.2, 3)
        phase = self.rng.uniform(0, 2 * math.pi, 3)
        trem = amp * np.sin(2 * math.pi * freq[None, :] * t[:, None] + phase[None, :])
        out: list[Item] = []
        k = 0
        for item in self.items:
            if isinstance(item, Sample):
                d = trem[k]
                p = item.tip_mm
                out.append(
                    Sample(
                        item.t_s,
                        (p[0] + float(d[0]), p[1] + float(d[1]), p[2] + float(d[2])),
                        item.axis,
                        item.normal,
                    )
                )
                k += 1
            else:
                out.append(item)
        assert k == n
        out.append(Action(round(self.t, 6), ActionKind.FINISH))
        return out


def venipuncture_items(
    scenario: Scenario,
    skill: Skill,
    rng: np.random.Generator,
    errors: Collection[str] = (),
    habits: np.random.Generator | None = None,
) -> list[Item]:
    """A scripted venipuncture: tourniquet, puncture, (retry), draw, release, withdraw.

    ``errors`` are error kinds to make on purpose (first attempt), besides the skill's own.
    ``habits`` draws whether the trainee probes (default ``rng``; a generator of its own
    leaves the rest of a seed's trajectory as it was before probing was scripted).
    """
    habits = habits if habits is not None else rng
    geo, tol = scenario.venipuncture
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
    while True:
        attempts += 1
        angle = float(rng.normal(*skill.angle_deg))
        roll = float(rng.normal(0, skill.roll_sd_deg))
        aim_z = geo.vein_lateral_mm + float(rng.normal(0, skill.aim_sd_mm))
        probe = float(habits.random()) < skill.probe_p
        if attempts == 1:
            if "angle_out_of_range" in errors:
                angle = tol.angle_max_deg + 10.0
            if "bevel_down" in errors:
                roll = tol.bevel_roll_tol_deg + 25.0
            if "missed_vein" in errors:
                aim_z = geo.vein_lateral_mm + vein_r + 2.0
            probe = probe or "probing" in errors
        if attempts > 1:  # a second try is aimed more carefully
            angle = min(angle, tol.angle_max_deg - 2)
            aim_z = geo.vein_lateral_mm + 0.3 * (aim_z - geo.vein_lateral_mm)
        if "attempt_limit" in errors:  # misses the vein on every attempt
            aim_z = geo.vein_lateral_mm + vein_r + 2.0
        axis, normal = g.pose_from_angles(0.0, angle, roll)
        depth_here = geo.vein_depth_mm - (geo.arm_radius_mm - math.hypot(geo.arm_radius_mm, aim_z))
        along = depth_here / math.sin(math.radians(angle))
        puncture_x = -along * math.cos(math.radians(angle))
        surf_y = math.sqrt(geo.arm_radius_mm**2 - aim_z**2) - geo.arm_radius_mm
        puncture = (puncture_x, surf_y, aim_z)
        before = g.sub(puncture, g.scale(axis, 8.0))
        s.move(g.add(before, (0.0, 10.0, 0.0)), axis, normal, speed_mm_s=80.0)
        s.move(before, speed_mm_s=20.0)
        s.hold(skill.hesitation_s + 0.2)
        if probe:  # halfway in, slides the needle sideways looking for the vein, and back
            half = g.add(puncture, g.scale(axis, along / 2))
            s.move(half, speed_mm_s=skill.speed_mm_s)
            side = tol.probe_mm + float(habits.uniform(0.5, 2.0))
            s.move(g.add(half, (0.0, 0.0, side)), speed_mm_s=skill.speed_mm_s)
            s.move(half, speed_mm_s=skill.speed_mm_s)
        overshoot = skill.overshoot_mm * float(rng.uniform(0.6, 1.4))
        through = attempts == 1 and "back_wall" in errors
        if through:
            overshoot = 2 * vein_r + 2.0
        elif "back_wall" in errors:  # the stick after a blown vein is a careful one
            overshoot = 0.0
        target = g.add(puncture, g.scale(axis, along + overshoot))
        s.move(target, speed_mm_s=skill.speed_mm_s)
        missed = abs(aim_z - geo.vein_lateral_mm) > vein_r
        if through:
            s.hold(0.3 + skill.hesitation_s)
            s.move(g.sub(puncture, g.scale(axis, 12.0)), speed_mm_s=15.0)
            continue  # the vein is blown: a second stick
        if overshoot > 0 and not missed:  # notices (no blood or pain) and backs up
            s.hold(0.3 + skill.hesitation_s)
            s.move(g.add(puncture, g.scale(axis, along)), speed_mm_s=skill.speed_mm_s)
        if not missed or attempts >= tol.max_attempts:
            break
        s.hold(skill.hesitation_s)
        s.move(g.sub(puncture, g.scale(axis, 12.0)), speed_mm_s=15.0)
    s.hold(tol.draw_hold_s + 0.5 + skill.hesitation_s)
    if tourniquet and "tourniquet_on_at_withdrawal" not in errors:
        s.action(ActionKind.TOURNIQUET_OFF)
    s.hold(0.5)
    s.move(g.sub(puncture, g.scale(axis, 15.0)), speed_mm_s=8.0)
    s.move(home, *g.pose_from_angles(0.0, 10.0, 0.0), speed_mm_s=80.0)
    s.hold(0.5)
    return s.finish()


def _arc_poses(
    x: float,
    bite_mm: float,
    tilt_deg: float,
    r: float,
    drag: float,
    n: int = 60,
    yaw_deg: float = 0.0,
) -> list[tuple[Vec3, Vec3, Vec3]]:
    """Poses of a curved needle entering at ``z = -bite_mm`` and rotating about its centre.

    The needle enters ``tilt_deg`` away from perpendicular and turns about the centre of its
    arc until the tip comes back out of the skin on the far side of the wound. With
    ``drag`` 0 the tip follows its own arc; towards 1 the trainee pushes the needle along a
    flatter path without rotating it, which tears tissue. ``yaw_deg`` turns the stitch's
    plane about the vertical through its middle (an oblique stitch).
    """
    d = math.radians(tilt_deg)
    cz, cy = -bite_mm + r * math.cos(d), r * math.sin(d)
    a0, a1 = math.pi + d, 2 * math.pi - d
    entry_axis = (0.0, -math.cos(d), math.sin(d))
    out = []
    for i in range(n + 1):
        a = a0 + (a1 - a0) * i / n
        py, pz = cy + r * math.sin(a), cz + r * math.cos(a)
        tangent = (0.0, math.cos(a), -math.sin(a))
        centre_dir = (0.0, -math.sin(a), -math.cos(a))
        ax = g.unit(g.lerp(tangent, entry_axis, drag))
        nm = g.sub(centre_dir, g.scale(ax, g.dot(centre_dir, ax)))
        nm = g.unit(nm) if g.norm(nm) > 1e-9 else centre_dir
        out.append(((x, min(py, 0.0) * (1.0 - drag) + max(py, 0.0), pz), ax, nm))
    if yaw_deg:
        mid = cz  # the middle of the stitch across the wound
        c, s_ = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))

        def turn(v: Vec3) -> Vec3:
            return (v[0] * c + v[2] * s_, v[1], -v[0] * s_ + v[2] * c)

        out = [
            (g.add((x, 0.0, mid), turn(g.sub(p, (x, 0.0, mid)))), turn(a), turn(m))
            for p, a, m in out
        ]
    return out


def suturing_items(
    scenario: Scenario,
    skill: Skill,
    rng: np.random.Generator,
    errors: Collection[str] = (),
) -> list[Item]:
    """Scripted simple interrupted stitches at the scenario's planned positions.

    ``errors`` are error kinds to make on purpose (in the first stitches), besides the
    skill's own.
    """
    geo, tol = scenario.suturing
    s = Script(scenario.sample_rate_hz, skill, rng)
    needle_r = geo.needle_radius_mm
    home = (-30.0, 30.0, -25.0)
    s.place(home, (0.0, -1.0, 0.0), (0.0, 0.0, 1.0))
    s.hold(0.5)
    plan = list(geo.planned_stitch_x_mm)
    if "incomplete" in errors:
        plan = plan[:1]
    placed: list[float] = []
    for i, x_plan in enumerate(plan):
        x = x_plan + float(rng.normal(0, skill.spacing_sd_mm))
        b_in = max(0.8, tol.bite_target_mm + float(rng.normal(0, skill.bite_sd_mm)))
        tilt = float(rng.normal(0, skill.perp_sd_deg))
        r, drag, yaw = needle_r, skill.drag, 0.0
        if i == 0:
            if "bite_out_of_range" in errors:
                b_in = tol.bite_target_mm + tol.bite_tol_mm + 1.5
            if "not_perpendicular" in errors:
                tilt = tol.perpendicular_tol_deg + 10.0
            if "asymmetric_bites" in errors:  # enters short, so it exits long
                b_in, tilt = needle_r - 0.8 * tol.symmetry_max_mm, 0.0
            if "tissue_drag" in errors:
                drag = 0.9
            if "through_pad" in errors:  # a big needle driven deep
                r = b_in = geo.pad_thickness_mm + 2.0
            if "missed_wound" in errors:  # enters so far out it comes back up on its side
                b_in, tilt = 2 * needle_r + 1.0, 0.0
            if "stitch_crossing" in errors:
                yaw = 45.0
        if i == 1 and placed:
            if "stitch_too_close" in errors:
                x = placed[0] + tol.spacing_target_mm / 4
            if "stitch_crossing" in errors:  # oblique the other way, running across stitch 1
                x, b_in, tilt, yaw = placed[0] + tol.spacing_target_mm * 0.56, needle_r, 0.0, -45.0
        if "stitch_crossing" in errors and i < 2:
            b_in, tilt = r, 0.0
        poses = _arc_poses(x, b_in, tilt, r, drag, yaw_deg=yaw)
        placed.append(x)
        p_in, ax_in, nm_in = poses[0]
        above = g.sub(p_in, g.scale(ax_in, 6.0))
        s.move(g.add(above, (0.0, 6.0, 0.0)), ax_in, nm_in, speed_mm_s=60.0)
        s.move(above, speed_mm_s=20.0)
        s.hold(skill.hesitation_s + 0.2)
        s.move(p_in, speed_mm_s=skill.speed_mm_s)
        s.path(poses[1:], skill.speed_mm_s)
        p_out = poses[-1][0]
        s.move(g.add(p_out, (0.0, 6.0, 0.0)), speed_mm_s=skill.speed_mm_s)  # pull out
        s.hold(0.3 + skill.hesitation_s)  # regrasp, pull the thread through
        s.move(g.add(s.pos, (0.0, 15.0, 10.0)), speed_mm_s=50.0)
        s.hold(1.5 + skill.hesitation_s)  # tie the knot
    s.move(home, speed_mm_s=60.0)
    s.hold(0.5)
    return s.finish()


def scripted_items(
    scenario: Scenario,
    skill: str,
    seed: int = 0,
    *,
    tremor_rms_mm: float | None = None,
    tremor_hz: float | None = None,
    angle_deg: float | None = None,
    errors: Collection[str] = (),
) -> list[Item]:
    """The items of a scripted session: ``skill`` is expert, intermediate or novice.

    ``tremor_rms_mm``, ``tremor_hz`` and ``angle_deg`` (mean insertion angle, venipuncture)
    override the skill level's values. ``errors`` are error kinds (of
    :func:`sim.core.error_kinds.error_kinds_for_task`: every kind the task emits) the trainee
    makes on purpose.
    """
    if skill not in SKILL_LEVELS:
        raise ValueError(f"unknown skill '{skill}' (expected one of: {', '.join(SKILLS)})")
    known = error_kinds_for_task(scenario.task)
    for kind in errors:
        if kind not in known:
            raise ValueError(
                f"unknown error '{kind}' for {scenario.task} (expected one of: {', '.join(known)})"
            )
    rng = np.random.default_rng(seed)
    level = SKILL_LEVELS[skill]
    if tremor_rms_mm is not None:
        level = replace(level, tremor_rms_mm=tremor_rms_mm)
    if tremor_hz is not None:
        level = replace(level, tremor_hz=tremor_hz)
    if angle_deg is not None:
        level = replace(level, angle_deg=(angle_deg, level.angle_deg[1]))
    if scenario.task == "venipuncture":
        habits = np.random.default_rng([seed, 1])
        return venipuncture_items(scenario, level, rng, errors, habits)
    return suturing_items(scenario, level, rng, errors)


class ScriptedSource:
    """A scripted trainee as a source (an iterable of items)."""

    input_kind = "scripted"

    def __init__(
        self,
        scenario: Scenario,
        skill: str,
        seed: int = 0,
        errors: Collection[str] = (),
        **overrides: float,
    ) -> None:
        self.items = scripted_items(scenario, skill, seed, errors=errors, **overrides)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)
