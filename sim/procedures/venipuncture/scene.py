"""Venipuncture's scene: the patient's arm (:mod:`sim.render.arm`: forearm, hand, fossa, the
vein showing through, tourniquet, bruise), the needle in its holder with the collection
tube filling while blood is drawn; the side view through the arm at the needle; the HUD's
bevel and tourniquet lines (a :class:`sim.render.plugin.ScenePlugin`)."""

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
from sim.render import arm as am
from sim.render import meshes as mz
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
from sim.render.scene import DrawOptions, Frame, OrbitCamera, needle_frame

if TYPE_CHECKING:
    from sim.render.gl import GpuMesh

TUBE_FRONT_MM = 22.0
"""Where the collection tube's stopper sits in the holder, mm behind the needle's base
(:func:`sim.render.meshes.syringe`: the holder runs from 14 to 78 mm behind it)."""
TUBE_MM = 72.0
"""The collection tube's length, mm (a 4-6 ml tube is 75 mm long): its end sticks out of
the holder's back. Blood is drawn as seen through a clear holder, filling it from the
stopper back."""


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
    arm: am.ArmMeshes
    syringe: GpuMesh
    fill: GpuMesh
    """Blood in the collection tube: unit length, scaled by how full it is."""
    draw_hold_s: float
    tint_off: Tint
    """The vein's tint with the tourniquet off."""
    tint_on: Tint
    """... and on."""


def tube_fill(st: VenipunctureState | None, t_s: float, draw_hold_s: float) -> float:
    """How full the collection tube is, 0-1: it fills while the tip stays in the vein, full
    once the blood is drawn (``draw_hold_s`` in the lumen)."""
    if st is None:
        return 0.0
    if st.drawn:
        return 1.0
    if st.lumen_since_s is None or draw_hold_s <= 0:
        return 0.0
    return min(max((t_s - st.lumen_since_s) / draw_hold_s, 0.0), 1.0)


class VenipunctureScene:
    """Venipuncture's :class:`~sim.render.plugin.ScenePlugin`."""

    def camera(self, scenario: Scenario) -> OrbitCamera:
        return OrbitCamera(target=(-5.0, -8.0, 0.0), yaw_deg=-18.0, pitch_deg=38.0, distance_mm=230)

    def build(self, scenario: Scenario, canvas: Canvas) -> VenipunctureMeshes:
        geo, tol = parts(scenario)
        L = geo.needle_length_mm
        tube = mz.merge(
            [
                mz.syringe(L),
                mz.tube(
                    np.array([[-L - TUBE_FRONT_MM - TUBE_MM, 0, 0], [-L - 79.0, 0, 0]]),
                    6.3,
                    (0.86, 0.90, 0.93),
                    sides=20,
                ),
            ]
        )
        return VenipunctureMeshes(
            geo=geo,
            arm=am.build_arm(canvas, geo.arm_radius_mm, geo.arm_length_mm, geo.tourniquet_x_mm),
            syringe=canvas.upload(tube),
            fill=canvas.upload(mz.fill_cylinder(7.65, mz.BLOOD, 24)),  # over the holder
            draw_hold_s=tol.draw_hold_s,
            tint_off=vein_tint(geo, False),
            tint_on=vein_tint(geo, True),
        )

    def draw(
        self, meshes: VenipunctureMeshes, frame: Frame, options: DrawOptions, canvas: Canvas
    ) -> None:
        st = frame.state if isinstance(frame.state, VenipunctureState) else None
        s = frame.sample
        # the syringe first: it is nearest, so the depth test spares the pixels behind it
        if s is not None:
            flash = st is not None and (st.flashback or st.drawn)
            model = needle_frame(s)
            canvas.draw(meshes.syringe, model, mz.BLOOD, 1.0 if flash else 0.0)
            fill = tube_fill(st, s.t_s, meshes.draw_hold_s)
            if fill > 0:
                scale = np.diag([TUBE_MM * fill, 1.0, 1.0, 1.0]).astype(np.float32)
                scale[0, 3] = -meshes.geo.needle_length_mm - TUBE_FRONT_MM
                canvas.draw(meshes.fill, model @ scale)
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
            meshes.geo.vein_lateral_mm,
            frame.now_s,
        )

    def draw_instrument(self, meshes: VenipunctureMeshes, sample: Sample, canvas: Canvas) -> None:
        canvas.draw(meshes.syringe, needle_frame(sample))

    def section(self, frame: Frame) -> SideSection | None:
        """The vertical plane along the needle: the arm's skin, the vein's cut where the
        plane meets it, the needle; centred where the needle meets the skin."""
        s = frame.sample
        if s is None:
            return None
        geo, _ = parts(frame.scenario)
        p = frame.view.patient if frame.view is not None else None
        tip = s.tip_mm
        h, cu, skin, shapes, note, over, depth = am.vein_section(
            tip,
            s.axis,
            None,
            geo.arm_radius_mm,
            geo.vein_depth_mm,
            geo.vein_lateral_mm + (p.vein_shift_mm if p is not None else 0.0),
            geo.vein_diameter_mm,
            geo.vein_length_mm,
            "the needle is beside the arm",
        )
        ax = g.unit(s.axis)
        length = geo.needle_length_mm
        pts = np.array([tip, g.sub(tip, g.scale(ax, length))], np.float64)
        rel = pts - np.array(tip)
        needle = np.stack([rel @ np.array(h), pts[:, 1]], axis=1)
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
