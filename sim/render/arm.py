"""The patient's arm of the procedures that enter a vein (venipuncture, IV cannulation): one
implementation of what their scenes share.

- :class:`ArmMeshes` / :func:`build_arm`: the arm (forearm, wrist and hand, elbow and
  fossa; :func:`sim.render.meshes.arm`), the table, the tourniquet, and the small meshes the
  patient's state places on the skin (a bruise, blood, a cleaned area, the tenting dimple);
- :func:`draw_arm`: the arm at a frame: moved by a flinch, the vein showing through where
  it has rolled to, the tourniquet, the cleaned areas (``step_clean`` events), the skin
  tenting under a tip about to go in, a bruise growing, bright red pulsing blood after an
  arterial puncture (a haematoma from the task's events when there is no patient model);
- :func:`vein_section`: the side view's cut through the arm and the vein.

The task's geometry (the arm's radius, the vein's depth) is kept where the needle goes in:
the arm's shape changes only away from the site.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from sim.core import geometry as g
from sim.core.patient import PatientView
from sim.core.records import Event, Sample, Vec3
from sim.render import meshes as mz
from sim.render.hud import DARK
from sim.render.overlay import RGBA
from sim.render.plugin import Canvas, SideBand, SideShape, Tint, haematoma_site

if TYPE_CHECKING:
    from sim.render.gl import GpuMesh

CLEAN_EVENT = "step_clean"
"""The checklist's event for a cleaned site (values ``x_mm``, ``z_mm``, ``radius_mm``)."""
CLEANED = (0.92, 0.73, 0.62)
"""Skin just cleaned with chlorhexidine in alcohol: paler, a little shiny."""
BRIGHT_BLOOD = (0.95, 0.06, 0.05)
"""Arterial blood: bright red."""
TENT_MM = 1.5
"""How far above the skin a tip starts to dimple it, mm (our choice: the skin gives a
millimetre or two under a needle before it is pierced)."""
TENT_RADIUS_MM = 4.0
"""Radius of the dimple round the tip, mm (our choice)."""
TENT_LEVELS = 6
"""The dimple's depth is drawn in this many steps (one cached mesh each)."""
PULSE_HZ = 1.2
"""Arterial blood pulses at a resting heart rate, 72 per minute."""
VEIN_SIDE: RGBA = (0.30, 0.25, 0.55, 1.0)
"""The vein's cut in the side view."""
VEIN_NOTE: RGBA = (0.3, 0.2, 0.5, 1.0)
"""The side view's words on where the vein is."""
HALF_WIDTH_MM = 20.0
"""Half the side view's width, mm."""


@dataclass(frozen=True)
class ArmMeshes:
    """The arm's static GPU meshes for one scenario, and its radius."""

    radius_mm: float
    arm: GpuMesh
    """The arm and the table under it (one draw; a flinch of a few mm moves both)."""
    tourniquet: GpuMesh
    tent: tuple[GpuMesh, ...]
    """The tenting dimple, one per depth step (1 to :data:`TENT_LEVELS`)."""


def build_arm(
    canvas: Canvas, radius_mm: float, length_mm: float, tourniquet_x_mm: float
) -> ArmMeshes:
    """Upload the arm (its hand on the side away from the tourniquet, which is towards the
    heart) with the table, the tourniquet and the dimples."""
    hand_dir = -1.0 if tourniquet_x_mm > 0 else 1.0
    r = radius_mm
    return ArmMeshes(
        radius_mm=r,
        arm=canvas.upload(mz.merge([mz.arm(r, length_mm, hand_dir), mz.table(-2 * r)])),
        tourniquet=canvas.upload(
            mz.tourniquet(
                r, tourniquet_x_mm, mz.arm_section(r, length_mm, hand_dir, tourniquet_x_mm + 9.0)
            )
        ),
        tent=tuple(
            canvas.upload(
                mz.skin_patch(r, TENT_RADIUS_MM, mz.SKIN, 0.05, dimple_mm=TENT_MM * k / TENT_LEVELS)
            )
            for k in range(1, TENT_LEVELS + 1)
        ),
    )


def _translate(dz: float, m: np.ndarray | None = None) -> np.ndarray:
    t = np.eye(4, dtype=np.float32)
    t[2, 3] = dz
    return t if m is None else t @ m


def _cleaned(limb_radius_mm: float, radius_mm: float) -> mz.MeshData:
    # fine enough that its flat triangles stay above the curved skin (a 40 mm disc)
    return mz.skin_patch(limb_radius_mm, radius_mm, CLEANED, 0.2, rings=8, sides=48)


def cleaned_sites(events: Sequence[Event]) -> list[tuple[float, float, float]]:
    """``(x_mm, z_mm, radius_mm)`` of every area cleaned so far (``step_clean`` events)."""
    return [
        (e.value("x_mm"), e.value("z_mm"), e.value("radius_mm"))
        for e in events
        if e.kind == CLEAN_EVENT
    ]


def tent_depth_mm(radius_mm: float, sample: Sample | None) -> tuple[float, Vec3] | None:
    """How deep the skin dimples under the tip (0 to :data:`TENT_MM`) and where, or None: a
    tip pointing into the skin and within :data:`TENT_MM` above it presses it in."""
    if sample is None or sample.axis[1] >= 0:
        return None
    depth = g.Cylinder(radius_mm).depth_mm(sample.tip_mm)
    if not -TENT_MM < depth < 0.0:
        return None
    return TENT_MM + depth, sample.tip_mm


def draw_arm(
    canvas: Canvas,
    arm: ArmMeshes,
    tint: Tint,
    tourniquet_on: bool,
    sample: Sample | None,
    events: Sequence[Event],
    patient: PatientView | None,
    back_wall: bool,
    vein_lateral_mm: float,
    t_s: float,
) -> None:
    """Draw the arm at one frame (after the instrument: nearer things first).

    Parameters
    ----------
    tint : Tint
        The vein showing through the skin at rest (the patient's flinch and a rolled vein
        move it here).
    tourniquet_on : bool
    sample : Sample or None
        The instrument's pose (the skin tents under its tip).
    events : sequence of Event
        The task's events so far (cleaned areas; a haematoma without a patient model).
    patient : PatientView or None
        What the patient shows; None: no patient model (nothing of the patient drawn).
    back_wall : bool
        The back wall was pierced (a haematoma without a patient model).
    vein_lateral_mm : float
        Where the vein lies across the arm, mm (the haematoma's place without a site).
    t_s : float
        The frame's time, s (arterial blood pulses with it).
    """
    r = arm.radius_mm
    flinch = patient.flinch_mm if patient is not None else 0.0
    shift = patient.vein_shift_mm if patient is not None else 0.0
    moved = _translate(flinch) if flinch else None
    if flinch or shift:
        tint = replace(tint, centre_z_mm=tint.centre_z_mm + flinch + shift)
    # what lies on the skin first (nearest), then the arm
    for x, z, rad in cleaned_sites(events):
        mesh = canvas.cached(("clean", round(rad, 1)), functools.partial(_cleaned, r, rad))
        if mesh is not None:
            canvas.draw(mesh, _translate(flinch, mz.on_limb(r, x, z)), tint=tint)
    tent = tent_depth_mm(r, sample)
    if tent is not None:
        depth, (tx, _, tz) = tent
        k = min(max(round(depth / TENT_MM * TENT_LEVELS), 1), TENT_LEVELS)
        canvas.draw(arm.tent[k - 1], _translate(flinch, mz.on_limb(r, tx, tz)), tint=tint)
    if patient is not None:
        _draw_patient_marks(canvas, r, patient, flinch, t_s)
    else:
        site = haematoma_site(events)
        if site is not None or back_wall:
            where = site or (0.0, 0.0, vein_lateral_mm)
            mesh = canvas.cached(("haematoma", where), lambda: mz.haematoma(where, r))
            if mesh is not None:
                canvas.draw(mesh)
    canvas.draw(arm.arm, moved, tint=tint)
    if tourniquet_on:
        canvas.draw(arm.tourniquet, moved)


def _draw_patient_marks(
    canvas: Canvas, r: float, p: PatientView, flinch: float, t_s: float
) -> None:
    """The bruise (its diameter in 1 mm steps: one small mesh per step, built once) and
    bright red blood pulsing at the site after an arterial puncture."""
    place = _translate(flinch, mz.on_limb(r, p.bruise_x_mm, p.bruise_z_mm))
    if p.arterial:
        beat = 0.5 + 0.5 * math.sin(2 * math.pi * PULSE_HZ * t_s)
        level = 4 + round(3 * beat)  # 4-7 mm
        mesh = canvas.cached(
            ("arterial", level), lambda: mz.skin_patch(r, float(level), BRIGHT_BLOOD, 0.4)
        )
        if mesh is not None:
            canvas.draw(mesh, place)
    d = round(p.bruise_mm)
    if d >= 1:
        mesh = canvas.cached(
            ("bruise", d),
            lambda: mz.skin_patch(r, d / 2, mz.HAEMATOMA, 0.3, rings=5, sides=32, rim=mz.SKIN),
        )
        if mesh is not None:
            canvas.draw(mesh, place)


def vein_section(
    tip: Vec3,
    axis: Vec3,
    centre_pt: Vec3 | None,
    arm_radius_mm: float,
    vein_depth_mm: float,
    vein_lateral_mm: float,
    vein_diameter_mm: float,
    vein_length_mm: float,
    beside: str,
) -> tuple[
    tuple[float, float, float],
    float,
    np.ndarray,
    tuple[SideShape, ...],
    tuple[str, RGBA] | None,
    bool,
    float,
]:
    """The side view's cut through the arm along ``axis`` (horizontal part), through ``tip``.

    Parameters
    ----------
    centre_pt : tuple of 3 float or None
        Where to centre the window; None: where the instrument meets the skin (or on the
        tip once inside).
    beside : str
        The note when the cut misses the arm ("the needle is beside the arm").

    Returns
    -------
    h, cu, skin, shapes, note, over, depth_mm
        The cut's horizontal direction; the window's centre along it (mm from the tip);
        the skin line (K, 2); the vein's cut; the note; whether the cut crosses the arm;
        the tip's depth under the skin, mm.
    """
    ax = g.unit(axis)
    hx, hz = ax[0], ax[2]
    hn = math.hypot(hx, hz)
    h = (hx / hn, 0.0, hz / hn) if hn > 1e-6 else (1.0, 0.0, 0.0)
    skin = g.Cylinder(arm_radius_mm)
    depth = skin.depth_mm(tip)
    if centre_pt is None:
        hit = skin.intersect_ray(tip, ax) if depth < 0 else None
        centre_pt = hit if hit is not None and g.norm(g.sub(hit, tip)) < 60 else tip
    half = HALF_WIDTH_MM
    cu = g.dot(g.sub(centre_pt, tip), h)
    us = np.linspace(cu - half * 1.6, cu + half * 1.6, 97)
    xs = tip[0] + us * h[0]
    zs = tip[2] + us * h[2]
    r_arm = arm_radius_mm
    surf = np.sqrt(np.maximum(r_arm * r_arm - zs * zs, 0.0)) - r_arm
    vr = vein_diameter_mm / 2
    dz = zs - vein_lateral_mm
    inside = (np.abs(dz) < vr) & (np.abs(xs) <= vein_length_mm / 2)
    hh = np.sqrt(np.maximum(vr * vr - dz * dz, 0.0))
    vy = -vein_depth_mm
    over = bool(np.any(np.abs(zs) < r_arm * 0.9))
    shapes: tuple[SideShape, ...] = ()
    note: tuple[str, RGBA] | None = None
    if inside.any():
        shapes = (SideBand(us[inside], (vy - hh)[inside], (vy + hh)[inside], VEIN_SIDE),)
    elif over:
        miss = float(max(np.min(np.abs(dz)) - vr, 0.0))
        note = (f"vein {miss:.1f} mm to the side", VEIN_NOTE)
    if not over:
        note = (beside, DARK)
    return h, cu, np.stack([us, surf], axis=1), shapes, note, over, depth
