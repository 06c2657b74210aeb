"""IV cannulation's scene: the patient's arm (:mod:`sim.render.arm`: forearm, hand, fossa,
the vein showing through, the tourniquet, a bruise), the catheter-over-needle (the needle
with its flash chamber filling with blood, the catheter with its hub), what
stays once the needle is out (the catheter in the vein, its connector once flushed, a
dressing once secured); the side view with the catheter and the needle drawn
apart; the HUD's bevel, step and tourniquet lines (a :class:`sim.render.plugin.ScenePlugin`).

The cannula's meshes are built here from the generic builders of :mod:`sim.render.meshes`
(tubes, boxes), in each part's local frame (:func:`sim.render.scene.needle_frame`: tip at
the origin, ``+x`` towards the tip, ``+y`` the bevel side).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core import geometry as g
from sim.core.records import Event, Sample, Vec3
from sim.core.scenario import Scenario
from sim.procedures.iv_cannulation.spec import IvGeometry, IvTolerances, parts
from sim.procedures.iv_cannulation.task import APPROACH, IvCannulationTask, IvState
from sim.procedures.iv_cannulation.view import IvView
from sim.render import arm as am
from sim.render import meshes as mz
from sim.render.hud import DARK
from sim.render.overlay import RGBA
from sim.render.plugin import (
    NEEDLE_SIDE,
    Canvas,
    Judged,
    Readout,
    Readouts,
    ScenePlugin,
    SideLine,
    SideSection,
    Tint,
    tourniquet_readout,
)
from sim.render.plugin import vein_tint as shared_vein_tint
from sim.render.scene import DrawOptions, Frame, Mat4, OrbitCamera, needle_frame

if TYPE_CHECKING:
    from sim.render.gl import GpuMesh

CATHETER = (0.93, 0.45, 0.62)
"""The catheter's hub and wings: pink, the colour code of a 20G cannula (ISO 10555-5)."""
CATHETER_TUBE = (0.96, 0.86, 0.90)
"""The catheter itself: a pale, nearly clear plastic."""
FLASH_CHAMBER = (0.88, 0.93, 0.92)
"""The needle's flash chamber, clear (blood fills it at flashback)."""
GRIP = (0.95, 0.95, 0.96)
"""The needle's grip behind the flash chamber."""
FIN = (0.98, 0.50, 0.05)
"""The orange fin on the needle's hub, on the bevel side (as the venipuncture syringe)."""
CONNECTOR = (0.97, 0.97, 0.98)
"""The extension line and its cap, connected at the flush."""
DRESSING = (0.90, 0.93, 0.97)
"""The dressing that secures the cannula."""
GLOVE = (0.42, 0.52, 0.86)
"""The gloved fingertip pressing on the vein (occlusion)."""
PRESS_AHEAD_MM = 10.0
"""The fingertip presses this far ahead of the catheter tip (above it, towards the heart)."""
CATHETER_SIDE: RGBA = (1.0, 0.42, 0.72, 1.0)
"""The catheter in the side view (the needle is :data:`sim.render.plugin.NEEDLE_SIDE`)."""
HUB_MM = 11.0
"""Length of the catheter's hub behind the catheter, mm (as a 20G cannula's, roughly)."""
CHAMBER_MM = 16.0
"""Length of the needle's flash chamber, mm."""
GRIP_MM = 18.0
"""Length of the needle's grip behind the flash chamber, mm."""
FLASH_FILL_S = 1.0
"""How long the flash chamber takes to fill after flashback, s (our choice: blood is seen
at once and fills the small chamber within a second or so)."""


# --- meshes -------------------------------------------------------------------------------
def needle_mesh(needle_length_mm: float) -> mz.MeshData:
    """The needle in its local frame: steel shaft with its bevel to the tip, the flash
    chamber (``aux`` 1: blood shows there at flashback) and the grip behind it, the orange
    fin on the bevel side.

    Parameters
    ----------
    needle_length_mm : float
        From the catheter's hub (loaded) to the needle tip.
    """
    L = needle_length_mm
    back = -L - HUB_MM  # where the needle's hub starts, against the catheter's hub
    bevel = 1.6
    shaft = mz.tube(np.array([[back, 0, 0], [-bevel, 0, 0]]), 0.4, mz.STEEL, sides=10)
    tip_pts = np.array([[-bevel, 0, 0], [-bevel * 0.5, -0.1, 0], [0.0, -0.36, 0]])
    tip = mz.tube(tip_pts, np.array([0.4, 0.27, 0.05]), mz.STEEL, sides=10)
    cone = mz.tube(np.array([[back - 2, 0, 0], [back, 0, 0]]), np.array([2.4, 1.0]), GRIP, 12)
    c0 = back - 2
    chamber = mz.tube(
        np.array([[c0 - CHAMBER_MM, 0, 0], [c0, 0, 0]]), 2.9, FLASH_CHAMBER, sides=16, aux=1.0
    )
    g0 = c0 - CHAMBER_MM
    grip = mz.tube(np.array([[g0 - GRIP_MM, 0, 0], [g0, 0, 0]]), 3.6, GRIP, sides=16)
    fin = mz.box((c0 - CHAMBER_MM + 3, 2.6, -0.6), (c0 - 3, 6.0, 0.6), FIN)
    return mz.merge([shaft, tip, cone, chamber, grip, fin])


def catheter_mesh(catheter_length_mm: float, catheter_diameter_mm: float) -> mz.MeshData:
    """The catheter in its local frame (its tip at the origin): the tube, tapered at the
    tip, its pink hub and the wings that lie on the skin (along ``+-z``)."""
    L = catheter_length_mm
    r = catheter_diameter_mm / 2
    tube = mz.tube(
        np.array([[-L, 0, 0], [-1.2, 0, 0], [0.0, 0, 0]]),
        np.array([r, r, r * 0.7]),
        CATHETER_TUBE,
        sides=12,
    )
    hub = mz.tube(
        np.array([[-L - HUB_MM, 0, 0], [-L - 3.0, 0, 0], [-L, 0, 0]]),
        np.array([2.6, 2.2, 1.1]),
        CATHETER,
        sides=16,
    )
    wings = mz.box((-L - 7.5, -0.9, -9.0), (-L - 2.0, -0.3, 9.0), CATHETER)
    port = mz.tube(np.array([[-L - 7.0, 0, 0], [-L - 7.0, 5.0, 0]]), 1.6, CATHETER, sides=12)
    return mz.merge([tube, hub, wings, port])


def connector_mesh(catheter_length_mm: float) -> mz.MeshData:
    """The extension line connected to the catheter's hub at the flush, in the catheter's
    local frame: a cap on the hub and a line curving away."""
    back = -catheter_length_mm - HUB_MM
    cap = mz.tube(np.array([[back - 7, 0, 0], [back + 1, 0, 0]]), 2.8, CONNECTOR, sides=16)
    s = np.linspace(0.0, 1.0, 24)[:, None]
    path = np.array([back - 7.0, 0.0, 0.0]) + np.hstack(
        [-45.0 * s, 6.0 * np.sin(np.pi * s) - 4.0 * s, 30.0 * s**2]
    )
    line = mz.tube(path, 1.2, CONNECTOR, sides=8)
    clamp = mz.box((back - 30, -1.0, 4.0), (back - 24, 3.0, 9.0), (0.35, 0.55, 0.95))
    return mz.merge([cap, line, clamp])


def dressing_mesh(
    limb_radius_mm: float, x_mm: float, z_mm: float, length_mm: float = 36.0, width_mm: float = 30.0
) -> mz.MeshData:
    """A dressing lying on a limb of ``limb_radius_mm`` (top at ``y = 0``), centred on the
    skin point above ``(x_mm, z_mm)``: a patch bent round the limb, a little above the skin."""
    r = limb_radius_mm + 0.35
    a0 = math.asin(max(-0.95, min(0.95, z_mm / limb_radius_mm)))
    half_a = (width_mm / 2) / r
    xs = np.linspace(x_mm - length_mm / 2, x_mm + length_mm / 2, 6)
    angs = np.linspace(a0 - half_a, a0 + half_a, 12)
    nrm = np.stack([np.zeros_like(angs), np.cos(angs), np.sin(angs)], axis=1)
    pos = np.empty((len(xs), len(angs), 3))
    pos[:, :, 0] = xs[:, None]
    pos[:, :, 1] = -limb_radius_mm + r * nrm[None, :, 1]
    pos[:, :, 2] = r * nrm[None, :, 2]
    normals = np.broadcast_to(nrm, pos.shape).reshape(-1, 3)
    verts = mz.pack(pos.reshape(-1, 3), normals, DRESSING, 0.0)
    # grid_indices winds its triangles for a grid laid out like the limb's (x, angle)
    return mz.MeshData(verts, mz.grid_indices(len(xs), len(angs)))


def fingertip_mesh(limb_radius_mm: float, x_mm: float, z_mm: float) -> mz.MeshData:
    """A gloved fingertip pressing on a limb of ``limb_radius_mm`` above ``(x_mm, z_mm)``:
    its pad on the skin, the finger rising away from the limb's side."""
    y = math.sqrt(max(limb_radius_mm**2 - z_mm * z_mm, 0.0)) - limb_radius_mm
    pad = mz.ellipsoid((x_mm, y + 2.4, z_mm), (6.0, 2.8, 5.0), GLOVE, 14)
    s = np.linspace(0.0, 1.0, 8)[:, None]
    path = np.array([x_mm + 1.0, y + 3.0, z_mm]) + np.hstack([9.0 * s, 26.0 * s, 4.0 * s])
    finger = mz.tube(path, 4.6, GLOVE, sides=14, caps=False)
    knuckle = mz.ellipsoid(tuple(path[-1]), (4.8, 4.8, 4.8), GLOVE, 10)
    return mz.merge([pad, finger, knuckle])


def vein_tint(geo: IvGeometry, tourniquet_on: bool) -> Tint:
    """The vein showing through the skin, clearer with the tourniquet on."""
    return shared_vein_tint(
        geo.vein_depth_mm,
        geo.vein_lateral_mm,
        geo.vein_diameter_mm,
        geo.vein_length_mm,
        geo.arm_radius_mm,
        0.9 if tourniquet_on else 0.55,
        geo.vein_visibility,
    )


# --- where the catheter is -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CatheterPose:
    """Where the catheter is at a frame.

    Attributes
    ----------
    tip : tuple of 3 float
        Its tip, mm.
    axis : tuple of 3 float
        Unit vector from its hub to its tip.
    normal : tuple of 3 float
        Its hub's up (the wings lie across it).
    on_needle : bool
        Still loaded on the needle (it moves with it).
    """

    tip: Vec3
    axis: Vec3
    normal: Vec3
    on_needle: bool


def catheter_pose(
    task: IvCannulationTask, st: IvState | None, s: Sample | None
) -> CatheterPose | None:
    """The catheter's pose: on the needle until threading began, then where it was slid
    (it stays there once the needle is out); None when there is nothing to draw."""
    if st is not None and st.thread_origin is not None and st.thread_axis is not None:
        tip = task.catheter_tip(st, st.thread_origin, st.thread_axis)
        ax = g.unit(st.thread_axis)
        up = g.sub((0.0, 1.0, 0.0), g.scale(ax, ax[1]))
        return CatheterPose(tip, ax, g.unit(up), False)
    if s is None:
        return None
    ax = g.unit(s.axis)
    return CatheterPose(task.catheter_tip(IvState(), s.tip_mm, ax), ax, s.normal, True)


def catheter_path(pose: CatheterPose, geo: IvGeometry) -> list[Vec3]:
    """The catheter's centre line, tip first, hub last: straight from its hub along its axis
    until it reaches the depth of the vein's centre line, then along the vein, as the
    flexible catheter follows the lumen once threaded. On the needle it is straight."""
    back = g.sub(pose.tip, g.scale(pose.axis, geo.catheter_length_mm))
    ax = pose.axis
    if pose.on_needle or ax[1] >= -1e-6:
        return [pose.tip, back]
    level = -geo.vein_depth_mm
    s_bend = (back[1] - level) / -ax[1]  # length along the axis from the hub to the bend
    if not 0.0 <= s_bend < geo.catheter_length_mm:
        return [pose.tip, back]
    bend = g.add(back, g.scale(ax, s_bend))
    along = (1.0 if ax[0] >= 0 else -1.0, 0.0, 0.0)
    tip = g.add(bend, g.scale(along, geo.catheter_length_mm - s_bend))
    return [tip, bend, back]


def flash_fill(events: Sequence[Event], t_s: float) -> float:
    """How full the flash chamber is at ``t_s``, 0-1: blood shows in its front quarter at the
    flashback (its event's time) and fills it over :data:`FLASH_FILL_S`."""
    for e in events:
        if e.kind == "flashback":
            return 0.25 + 0.75 * min(max((t_s - e.t_s) / FLASH_FILL_S, 0.0), 1.0)
    return 0.0


def _frame_at(tip: Vec3, axis: Vec3, normal: Vec3) -> Mat4:
    return needle_frame(Sample(0.0, tip, axis, normal))


@dataclass(frozen=True)
class IvMeshes:
    """The GPU meshes of one IV cannulation scenario."""

    geo: IvGeometry
    task: IvCannulationTask
    arm: am.ArmMeshes
    needle: GpuMesh
    fill: GpuMesh
    """Blood in the flash chamber: unit length, scaled by how full it is."""
    catheter: GpuMesh
    connector: GpuMesh
    tint_off: Tint
    """The vein's tint with the tourniquet off."""
    tint_on: Tint
    """... and on."""


def _state(frame: Frame) -> IvState | None:
    return frame.state if isinstance(frame.state, IvState) else None


class IvScene:
    """IV cannulation's :class:`~sim.render.plugin.ScenePlugin`."""

    def camera(self, scenario: Scenario) -> OrbitCamera:
        return OrbitCamera(
            target=(-12.0, -6.0, 0.0), yaw_deg=-15.0, pitch_deg=52.0, distance_mm=210
        )

    def build(self, scenario: Scenario, canvas: Canvas) -> IvMeshes:
        geo, _ = parts(scenario)
        r = geo.arm_radius_mm
        return IvMeshes(
            geo=geo,
            task=IvCannulationTask(scenario),
            arm=am.build_arm(canvas, r, geo.arm_length_mm, geo.tourniquet_x_mm),
            needle=canvas.upload(needle_mesh(geo.needle_length_mm)),
            fill=canvas.upload(mz.fill_cylinder(3.0, mz.BLOOD, 16)),
            catheter=canvas.upload(catheter_mesh(geo.catheter_length_mm, geo.catheter_diameter_mm)),
            connector=canvas.upload(connector_mesh(geo.catheter_length_mm)),
            tint_off=vein_tint(geo, False),
            tint_on=vein_tint(geo, True),
        )

    def draw(self, meshes: IvMeshes, frame: Frame, options: DrawOptions, canvas: Canvas) -> None:
        st = _state(frame)
        geo = meshes.geo
        s = frame.sample
        # the cannula first: it is nearest, so the depth test spares the pixels behind it
        if s is not None:
            model = needle_frame(s)
            canvas.draw(meshes.needle, model)
            fill = flash_fill(frame.events, s.t_s) if st is not None and st.flashback else 0.0
            if fill > 0:
                scale = np.diag([CHAMBER_MM * fill, 1.0, 1.0, 1.0]).astype(np.float32)
                scale[0, 3] = -geo.needle_length_mm - HUB_MM - 2.0
                canvas.draw(meshes.fill, model @ scale)
        cath = catheter_pose(meshes.task, st, s)
        if cath is not None:
            model = _frame_at(cath.tip, cath.axis, cath.normal)
            canvas.draw(meshes.catheter, model)
            if st is not None and st.flushed:
                canvas.draw(meshes.connector, model)
        if st is not None and st.occluded and not st.flushed and cath is not None:
            tip = catheter_path(cath, geo)[0]
            press = (tip[0] + math.copysign(PRESS_AHEAD_MM, cath.axis[0]), tip[1], tip[2])
            r = geo.arm_radius_mm
            key = ("finger", round(press[0], 1), round(press[2], 1))
            mesh = canvas.cached(key, lambda: fingertip_mesh(r, press[0], press[2]))
            if mesh is not None:
                canvas.draw(mesh)
        if st is not None and st.secured and cath is not None:
            hub = g.sub(cath.tip, g.scale(cath.axis, geo.catheter_length_mm))
            key = ("dressing", round(hub[0], 1), round(hub[2], 1))
            r = geo.arm_radius_mm
            mesh = canvas.cached(key, lambda: dressing_mesh(r, hub[0] + 4.0, hub[2]))
            if mesh is not None:
                canvas.draw(mesh)
        tq_on = st is not None and st.tourniquet_on
        am.draw_arm(
            canvas,
            meshes.arm,
            meshes.tint_on if tq_on else meshes.tint_off,
            tq_on,
            s,
            frame.events,
            frame.view.patient if frame.view is not None else None,
            st is not None and st.back_wall,
            geo.vein_lateral_mm,
            frame.now_s,
        )

    def draw_instrument(self, meshes: IvMeshes, sample: Sample, canvas: Canvas) -> None:
        """The loaded cannula at ``sample`` (the expert's ghost)."""
        canvas.draw(meshes.needle, needle_frame(sample))
        cath = catheter_pose(meshes.task, None, sample)
        if cath is not None:
            canvas.draw(meshes.catheter, _frame_at(cath.tip, cath.axis, cath.normal))

    def section(self, frame: Frame) -> SideSection | None:
        """The vertical plane along the needle (along the catheter once the needle is out):
        the limb's skin, the vein's cut where the plane meets it, the catheter and the
        needle; centred where the cannula meets the skin."""
        s = frame.sample
        if s is None:
            return None
        geo, _ = parts(frame.scenario)
        st = _state(frame)
        task = IvCannulationTask(frame.scenario)
        cath = catheter_pose(task, st, s)
        needle_out = st is not None and st.needle_out and cath is not None
        # the plane and the tip the title speaks of: the needle's, or the catheter's
        path = catheter_path(cath, geo) if cath is not None else []
        tip, ax = (path[0], cath.axis) if needle_out and cath is not None else (s.tip_mm, s.axis)
        ax = g.unit(ax)
        centre = g.lerp(path[0], path[-1], 0.5) if needle_out and path else None
        p = frame.view.patient if frame.view is not None else None
        h, cu, skin, shapes, note, over, depth = am.vein_section(
            tip,
            ax,
            centre,  # with the needle out, the whole catheter in view, its hub at the left
            geo.arm_radius_mm,
            geo.vein_depth_mm,
            geo.vein_lateral_mm + (p.vein_shift_mm if p is not None else 0.0),
            geo.vein_diameter_mm,
            geo.vein_length_mm,
            "the cannula is beside the arm",
        )
        if over and needle_out:
            note = ("needle withdrawn: the catheter stays", DARK)
        hv = np.array(h)

        def flat(points: list[Vec3]) -> np.ndarray:
            rel = np.array(points, np.float64) - np.array(tip)
            return np.stack([rel @ hv, np.array(points)[:, 1]], axis=1)

        lines: list[SideLine] = []
        if cath is not None:
            back = path[-1]
            hub = g.sub(back, g.scale(cath.axis, HUB_MM))
            lines.append(SideLine(flat(path), geo.catheter_diameter_mm + 0.5, CATHETER_SIDE, 6.0))
            lines.append(SideLine(flat([back, hub]), 2.6, CATHETER_SIDE, 6.0))
        if not needle_out:
            n_ax = g.unit(s.axis)
            pts = [s.tip_mm, g.sub(s.tip_mm, g.scale(n_ax, geo.needle_length_mm))]
            lines.append(SideLine(flat(pts), 0.5, NEEDLE_SIDE, 2.5))
        angle = math.degrees(math.atan2(-ax[1], g.dot(ax, h)))
        cv = float(np.interp(cu, skin[:, 0], skin[:, 1])) - 3.0 if over else float(tip[1])
        return SideSection(
            skin=skin,
            tissue_bottom_v=-geo.arm_radius_mm,
            tip=(0.0, tip[1]),
            angle_deg=angle,
            depth_mm=depth,
            half_width_mm=am.HALF_WIDTH_MM,
            centre=(cu, cv),
            instrument=tuple(lines),
            shapes=shapes,
            note=note,
            over_tissue=over,
        )

    def angle_band(self, frame: Frame) -> tuple[float, float]:
        """The insertion's range; from flashback until threaded, the threading angle's."""
        tol = parts(frame.scenario)[1]
        st = _state(frame)
        if st is not None and st.flashback and not st.threaded and not st.back_wall:
            return 0.0, tol.thread_angle_max_deg
        return tol.angle_min_deg, tol.angle_max_deg

    def readouts(self, frame: Frame) -> Readouts:
        """Under the angle: the bevel's roll until flashback, then the angle to thread at
        (the dial's band is the insertion's); at the bottom the step the cannula is at and
        the tourniquet's time (red past the limit)."""
        geo, tol = parts(frame.scenario)
        v = frame.view if isinstance(frame.view, IvView) else None
        st = _state(frame)
        return Readouts(
            aim=aim_line(st, v, tol), progress=(step_line(st, v, tol), tq_line(st, v, tol))
        )


def aim_line(st: IvState | None, v: IvView | None, tol: IvTolerances) -> Readout | None:
    """How the needle is held: the bevel's roll, or once blood flashed back (until the
    catheter is threaded) the angle lowered to thread at; nothing once the needle is out."""
    if v is None or v.needle_out:
        return None
    lowering = st is not None and st.flashback and not st.threaded and not st.failed
    if lowering and v.inserted:
        ok = v.angle_deg <= tol.thread_angle_max_deg
        return Readout(
            f"thread at {tol.thread_angle_max_deg:g}° or less", Judged.GOOD if ok else Judged.WARN
        )
    ok = abs(v.roll_deg) <= tol.bevel_roll_tol_deg
    return Readout(f"bevel {v.roll_deg:+.0f}° from up", Judged.GOOD if ok else Judged.WARN)


def tq_line(st: IvState | None, v: IvView | None, tol: IvTolerances) -> Readout:
    """The tourniquet's time while on (amber near the limit, red past it)."""
    on = st is not None and st.tourniquet_on
    t = v.tourniquet_s if v is not None else 0.0
    return tourniquet_readout(on, t, tol.tourniquet_max_s)


def step_line(st: IvState | None, v: IvView | None, tol: IvTolerances) -> Readout:
    """Where the cannula stands, in one short HUD line ("threaded 6/20 mm")."""
    if st is None or v is None:
        return Readout("cannula loaded")
    if st.secured:
        return Readout("cannula secured", Judged.GOOD)
    if st.flushed:
        return Readout("flushed: secure (P)", Judged.GOOD)
    if st.needle_out:
        return Readout("needle out: flush (L)", Judged.GOOD)
    if st.back_wall and st.position != APPROACH:
        return Readout("back wall pierced", Judged.BAD)
    if st.hung_up and st.position != APPROACH:
        return Readout("catheter hung up", Judged.BAD)
    if st.thread_origin is not None:
        if st.occluded:
            return Readout("vein occluded", Judged.GOOD)
        moved = not st.threaded and v.needle_motion_mm > tol.needle_still_mm
        return Readout(
            f"threaded {v.catheter_advance_mm:.0f}/{v.thread_target_mm:.0f} mm",
            Judged.WARN if moved else Judged.GOOD,
        )
    if st.position == APPROACH:
        if st.failed_attempts:
            return Readout(f"attempt {st.failed_attempts + 1} of {tol.max_attempts}", Judged.WARN)
        return Readout("cannula loaded")
    if st.catheter_in_vein:  # now, as the banner says: lowering the angle may lift it out
        return Readout("catheter in: thread (K)", Judged.GOOD)
    if st.flashback:
        ok = v.advance_mm <= tol.advance_after_flash_mm + 1.0
        return Readout(
            f"past flashback {v.advance_mm:.1f}/{tol.advance_after_flash_mm:g} mm",
            Judged.GOOD if ok else Judged.WARN,
        )
    return Readout("no flashback yet")


SCENE: ScenePlugin[IvMeshes] = IvScene()
