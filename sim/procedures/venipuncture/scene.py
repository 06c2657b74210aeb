"""Venipuncture's scene: forearm with the vein showing through, tourniquet, syringe,
haematoma; the side view through the arm at the needle; the HUD's bevel and tourniquet
lines (a :class:`sim.render.plugin.ScenePlugin`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core import geometry as g
from sim.core.records import Sample
from sim.core.scenario import Scenario
from sim.procedures.venipuncture.spec import VenipunctureGeometry, parts
from sim.procedures.venipuncture.task import VenipunctureState
from sim.procedures.venipuncture.view import VenipunctureView
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
    SideBand,
    SideLine,
    SideSection,
    Tint,
    haematoma_site,
    tourniquet_readout,
)
from sim.render.plugin import vein_tint as shared_vein_tint
from sim.render.scene import DrawOptions, Frame, OrbitCamera, needle_frame

if TYPE_CHECKING:
    from sim.render.gl import GpuMesh

VEIN_SIDE: RGBA = (0.30, 0.25, 0.55, 1.0)
"""The vein's cut in the side view."""
VEIN_NOTE: RGBA = (0.3, 0.2, 0.5, 1.0)
"""The side view's words on where the vein is."""
HALF_WIDTH_MM = 20.0
"""Half the side view's width, mm."""


def vein_tint(geo: VenipunctureGeometry, tourniquet_on: bool) -> Tint:
    """The vein showing through the skin, clearer with the tourniquet on."""
    return shared_vein_tint(
        geo.vein_depth_mm,
        geo.vein_lateral_mm,
        geo.vein_diameter_mm,
        geo.vein_length_mm,
        geo.arm_radius_mm,
        0.85 if tourniquet_on else 0.6,
        geo.vein_visibility,
    )


@dataclass(frozen=True)
class VenipunctureMeshes:
    """The GPU meshes of one venipuncture scenario."""

    geo: VenipunctureGeometry
    body: GpuMesh
    tourniquet: GpuMesh
    syringe: GpuMesh
    tint_off: Tint
    """The vein's tint with the tourniquet off."""
    tint_on: Tint
    """... and on."""


class VenipunctureScene:
    """Venipuncture's :class:`~sim.render.plugin.ScenePlugin`."""

    def camera(self, scenario: Scenario) -> OrbitCamera:
        return OrbitCamera(target=(-5.0, -8.0, 0.0), yaw_deg=-18.0, pitch_deg=38.0, distance_mm=230)

    def build(self, scenario: Scenario, canvas: Canvas) -> VenipunctureMeshes:
        geo, _ = parts(scenario)
        r = geo.arm_radius_mm
        return VenipunctureMeshes(
            geo=geo,
            body=canvas.upload(mz.merge([mz.limb(r, geo.arm_length_mm), mz.table(-2 * r)])),
            tourniquet=canvas.upload(mz.tourniquet(r, geo.tourniquet_x_mm)),
            syringe=canvas.upload(mz.syringe(geo.needle_length_mm)),
            tint_off=vein_tint(geo, False),
            tint_on=vein_tint(geo, True),
        )

    def draw(
        self, meshes: VenipunctureMeshes, frame: Frame, options: DrawOptions, canvas: Canvas
    ) -> None:
        st = frame.state if isinstance(frame.state, VenipunctureState) else None
        # the syringe first: it is nearest, so the depth test spares the pixels behind it
        if frame.sample is not None:
            flash = st is not None and (st.flashback or st.drawn)
            canvas.draw(meshes.syringe, needle_frame(frame.sample), mz.BLOOD, 1.0 if flash else 0.0)
        # the forearm, the vein showing through (more with the tourniquet on)
        tq_on = st is not None and st.tourniquet_on
        canvas.draw(meshes.body, tint=meshes.tint_on if tq_on else meshes.tint_off)
        if tq_on:
            canvas.draw(meshes.tourniquet)
        site = haematoma_site(frame.events)
        if site is not None or (st is not None and st.back_wall):
            geo = meshes.geo
            where = site or (0.0, 0.0, geo.vein_lateral_mm)
            mesh = canvas.cached(
                ("haematoma", where), lambda: mz.haematoma(where, geo.arm_radius_mm)
            )
            if mesh is not None:
                canvas.draw(mesh)

    def draw_instrument(self, meshes: VenipunctureMeshes, sample: Sample, canvas: Canvas) -> None:
        canvas.draw(meshes.syringe, needle_frame(sample))

    def section(self, frame: Frame) -> SideSection | None:
        """The vertical plane along the needle: the arm's skin, the vein's cut where the
        plane meets it, the needle; centred where the needle meets the skin."""
        s = frame.sample
        if s is None:
            return None
        geo, _ = parts(frame.scenario)
        half = HALF_WIDTH_MM
        ax = g.unit(s.axis)
        hx, hz = ax[0], ax[2]
        hn = math.hypot(hx, hz)
        h = (hx / hn, 0.0, hz / hn) if hn > 1e-6 else (1.0, 0.0, 0.0)
        tip = s.tip_mm
        skin = g.Cylinder(geo.arm_radius_mm)
        # centre the window where the needle meets the skin (or on the tip once inside)
        depth = skin.depth_mm(tip)
        hit = skin.intersect_ray(tip, ax) if depth < 0 else None
        centre_pt = hit if hit is not None and g.norm(g.sub(hit, tip)) < 60 else tip
        cu = g.dot(g.sub(centre_pt, tip), h)
        us = np.linspace(cu - half * 1.6, cu + half * 1.6, 97)
        xs = tip[0] + us * h[0]
        zs = tip[2] + us * h[2]
        r_arm = geo.arm_radius_mm
        surf = np.sqrt(np.maximum(r_arm * r_arm - zs * zs, 0.0)) - r_arm
        vr = geo.vein_diameter_mm / 2
        dz = zs - geo.vein_lateral_mm
        inside = (np.abs(dz) < vr) & (np.abs(xs) <= geo.vein_length_mm / 2)
        hh = np.sqrt(np.maximum(vr * vr - dz * dz, 0.0))
        vy = -geo.vein_depth_mm
        over = bool(np.any(np.abs(zs) < r_arm * 0.9))
        shapes: tuple[SideBand, ...] = ()
        note: tuple[str, RGBA] | None = None
        if inside.any():
            shapes = (SideBand(us[inside], (vy - hh)[inside], (vy + hh)[inside], VEIN_SIDE),)
        elif over:
            miss = float(max(np.min(np.abs(dz)) - vr, 0.0))
            note = (f"vein {miss:.1f} mm to the side", VEIN_NOTE)
        if not over:
            note = ("the needle is beside the arm", DARK)
        length = geo.needle_length_mm
        pts = np.array([tip, g.sub(tip, g.scale(ax, length))], np.float64)
        rel = pts - np.array(tip)
        needle = np.stack([rel @ np.array(h), pts[:, 1]], axis=1)
        angle = math.degrees(math.atan2(-ax[1], g.dot(ax, h)))
        cv = float(np.interp(cu, us, surf)) - 3.0 if over else float(tip[1])
        return SideSection(
            skin=np.stack([us, surf], axis=1),
            tissue_bottom_v=-r_arm,
            tip=(0.0, tip[1]),
            angle_deg=angle,
            depth_mm=depth,
            half_width_mm=half,
            centre=(cu, cv),
            instrument=(SideLine(needle, 0.6, NEEDLE_SIDE),),
            shapes=shapes,
            note=note,
            over_tissue=over,
        )

    def angle_band(self, frame: Frame) -> tuple[float, float]:
        tol = parts(frame.scenario)[1]
        return tol.angle_min_deg, tol.angle_max_deg

    def readouts(self, frame: Frame) -> Readouts:
        """The bevel's roll under the angle; the tourniquet's time at the bottom (red past
        the limit)."""
        tol = parts(frame.scenario)[1]
        v = frame.view if isinstance(frame.view, VenipunctureView) else None
        aim = None
        if v is not None:
            ok = abs(v.roll_deg) <= tol.bevel_roll_tol_deg
            aim = Readout(f"bevel {v.roll_deg:+.0f}° from up", Judged.GOOD if ok else Judged.WARN)
        on = isinstance(frame.state, VenipunctureState) and frame.state.tourniquet_on
        t = v.tourniquet_s if v is not None else 0.0
        return Readouts(aim=aim, progress=(tourniquet_readout(on, t, tol.tourniquet_max_s),))


SCENE: ScenePlugin[VenipunctureMeshes] = VenipunctureScene()
