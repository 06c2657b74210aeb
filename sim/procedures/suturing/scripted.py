"""Suturing's scripted trainee: simple interrupted stitches at the planned positions."""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np

from sim.core import geometry as g
from sim.core.records import Item, Vec3
from sim.core.scenario import Scenario
from sim.procedures.suturing.spec import parts
from sim.sources.scripted import Script, Skill


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


def scripted(
    scenario: Scenario,
    skill: Skill,
    rng: np.random.Generator,
    errors: Collection[str],
    habits: np.random.Generator,
) -> list[Item]:
    """Scripted simple interrupted stitches at the scenario's planned positions.

    ``errors`` are error kinds to make on purpose (in the first stitches), besides the
    skill's own.
    """
    geo, tol = parts(scenario)
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
