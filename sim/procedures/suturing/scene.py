"""Suturing's scene: skin pad with the wound, target marks, the curved needle held in a
needle driver, the stitches placed; the side view across the wound; the HUD's off-curve and
stitches lines (a :class:`sim.render.plugin.ScenePlugin`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core import geometry as g
from sim.core.records import Event, Sample, Vec3
from sim.core.scenario import Scenario
from sim.procedures.suturing.spec import SuturingGeometry, parts
from sim.procedures.suturing.task import SuturingState
from sim.procedures.suturing.view import SuturingView
from sim.render import meshes as mz
from sim.render.hud import GOOD
from sim.render.overlay import RGBA
from sim.render.plugin import (
    NEEDLE_SIDE,
    Canvas,
    Readout,
    Readouts,
    ScenePlugin,
    SideLine,
    SideMark,
    SidePolygon,
    SideSection,
)
from sim.render.scene import (
    DrawOptions,
    Frame,
    OrbitCamera,
    curved_needle_points,
    driver_frame,
    needle_frame,
    to_world,
)

if TYPE_CHECKING:
    from sim.render.gl import GpuMesh

WOUND_SIDE: RGBA = (0.45, 0.08, 0.08, 1.0)
"""The wound's gap in the side view."""
HALF_WIDTH_MM = 14.0
"""Half the side view's width, mm."""


# --- meshes -----------------------------------------------------------------------------
def skin_pad(geo: SuturingGeometry) -> mz.MeshData:
    """The pad (top at y = 0) with the wound drawn as a dark gap along x at z = 0, on a
    table."""
    hl, hw, t = geo.pad_length_mm / 2, geo.pad_width_mm / 2, geo.pad_thickness_mm
    pad = mz.box((-hl, -t, -hw), (hl, 0.0, hw), mz.SKIN_SIDE, top_color=mz.SKIN)
    wl = geo.wound_length_mm / 2
    xs = np.linspace(-wl, wl, 41)
    width = 0.9 * np.sqrt(np.clip(1 - (xs / wl) ** 2, 0, 1)) + 0.05  # tapers at the ends
    pos = np.concatenate(
        [
            np.stack([xs, np.full_like(xs, 0.04), -width], 1),
            np.stack([xs, np.full_like(xs, 0.04), width], 1),
        ]
    )
    n = len(xs)
    i = np.arange(n - 1)
    tri = np.stack([i, i + n, i + 1, i + 1, i + n, i + n + 1], 1).reshape(-1).astype(np.uint32)
    wound = mz.MeshData(
        mz.pack(pos, np.broadcast_to([0.0, 1.0, 0.0], pos.shape), mz.WOUND, 0.0), tri
    )
    return mz.merge([pad, wound, mz.table(-t - 0.1)])  # near first: early depth test


def targets(geo: SuturingGeometry, bite_mm: float) -> mz.MeshData:
    """Entry and exit marks of the planned stitches."""
    marks = [
        mz.disc_y((x, 0.06, side * bite_mm), 0.7, mz.TARGET)
        for x in geo.planned_stitch_x_mm
        for side in (-1.0, 1.0)
    ]
    return mz.merge(marks)


def stitches(placed: Sequence[tuple[Vec3, Vec3]]) -> mz.MeshData | None:
    """The stitches already placed: a loop of thread over the wound and a knot each."""
    parts_ = []
    for entry, exit_ in placed:
        a, b = np.array(entry), np.array(exit_)
        s = np.linspace(0, 1, 20)[:, None]
        path = a + (b - a) * s + np.array([0.0, 1.0, 0.0]) * (1.2 * np.sin(np.pi * s))
        parts_.append(mz.tube(path, 0.22, mz.THREAD, sides=6))
        knot = a + (b - a) * 0.3 + np.array([0.0, 1.0, 0.0])
        parts_.append(mz.ellipsoid(tuple(knot), (0.8, 0.6, 0.8), mz.THREAD, 8))
    return mz.merge(parts_) if parts_ else None


def stitch_positions(events: Sequence[Event]) -> list[tuple[Vec3, Vec3]]:
    """(entry, exit) points on the skin of every completed stitch, in order, mm."""
    out: list[tuple[Vec3, Vec3]] = []
    entry: Vec3 | None = None
    exit_: Vec3 | None = None
    for e in events:
        if e.kind == "needle_entry":
            entry, exit_ = (e.value("x_mm"), 0.0, e.value("z_mm")), None
        elif e.kind == "needle_exit":
            exit_ = (e.value("x_mm"), 0.0, e.value("z_mm"))
        elif e.kind == "stitch_completed" and entry is not None and exit_ is not None:
            out.append((entry, exit_))
            entry = exit_ = None
    return out


@dataclass(frozen=True)
class SuturingMeshes:
    """The GPU meshes of one suturing scenario."""

    geo: SuturingGeometry
    body: GpuMesh
    needle: GpuMesh
    driver: GpuMesh
    grasp: np.ndarray
    """Where the driver holds the needle, in the needle's frame, mm."""
    targets: GpuMesh


class SuturingScene:
    """Suturing's :class:`~sim.render.plugin.ScenePlugin`."""

    def camera(self, scenario: Scenario) -> OrbitCamera:
        return OrbitCamera(target=(0.0, -1.0, 0.0), yaw_deg=-15.0, pitch_deg=50.0, distance_mm=105)

    def build(self, scenario: Scenario, canvas: Canvas) -> SuturingMeshes:
        geo, tol = parts(scenario)
        return SuturingMeshes(
            geo=geo,
            body=canvas.upload(skin_pad(geo)),
            needle=canvas.upload(mz.curved_needle(geo.needle_radius_mm)),
            driver=canvas.upload(mz.needle_driver()),
            grasp=mz.grasp_point(geo.needle_radius_mm),
            targets=canvas.upload(targets(geo, tol.bite_target_mm)),
        )

    def draw(
        self, meshes: SuturingMeshes, frame: Frame, options: DrawOptions, canvas: Canvas
    ) -> None:
        if frame.sample is not None:  # nearest first: the depth test spares what is behind
            self.draw_instrument(meshes, frame.sample, canvas)
        canvas.draw(meshes.body)
        if not options.exam and meshes.geo.show_targets:
            canvas.draw(meshes.targets)
        placed = stitch_positions(frame.events)
        if placed:
            mesh = canvas.cached(("stitches", tuple(placed)), lambda: stitches(placed))
            if mesh is not None:
                canvas.draw(mesh)

    def draw_instrument(self, meshes: SuturingMeshes, sample: Sample, canvas: Canvas) -> None:
        model = needle_frame(sample)
        canvas.draw(meshes.needle, model)
        canvas.draw(meshes.driver, driver_frame(model, meshes.grasp))

    def section(self, frame: Frame) -> SideSection | None:
        """The plane across the wound through the tip (``u`` = scene ``z``, towards the
        viewer): the pad, the wound's gap, the bite targets, the curved needle."""
        s = frame.sample
        if s is None:
            return None
        geo, tol = parts(frame.scenario)
        half = HALF_WIDTH_MM
        tip = s.tip_mm
        pts = to_world(s, curved_needle_points(geo.needle_radius_mm))
        needle = pts[:, [2, 1]].astype(np.float64)
        us = np.array([-geo.pad_width_mm / 2, geo.pad_width_mm / 2])
        wound = SidePolygon(np.array([(-0.8, 0.0), (0.0, -3.0), (0.8, 0.0)]), WOUND_SIDE)
        marks = (
            tuple(
                SideMark(u, 0.0, 4.0, 9.0, GOOD) for u in (-tol.bite_target_mm, tol.bite_target_mm)
            )
            if geo.show_targets
            else ()
        )
        return SideSection(
            skin=np.stack([us, np.zeros(2)], axis=1),
            tissue_bottom_v=-geo.pad_thickness_mm,
            tip=(tip[2], tip[1]),
            angle_deg=g.angle_to_plane_deg(g.unit(s.axis), (0.0, 1.0, 0.0)),  # as the view
            depth_mm=-tip[1],
            half_width_mm=half,
            # keep the tip in view while it approaches from above
            centre=(0.0, max(-geo.pad_thickness_mm / 2 + 1.0, min(tip[1] - 0.6 * half + 2.0, 8.0))),
            instrument=(SideLine(needle, 0.6, NEEDLE_SIDE),),
            shapes=(wound, *marks),
        )

    def angle_band(self, frame: Frame) -> tuple[float, float]:
        return 90.0 - parts(frame.scenario)[1].perpendicular_tol_deg, 90.0

    def readouts(self, frame: Frame) -> Readouts:
        """How far the tip is off its arc under the angle (in the tissue); the stitches
        placed at the bottom."""
        v = frame.view
        aim = None
        if isinstance(v, SuturingView) and v.arc_deviation_mm > 0:
            aim = Readout(f"off curve {v.arc_deviation_mm:.1f} mm")
        st = frame.state
        done = len(st.stitch_x_mm) if isinstance(st, SuturingState) else 0
        need = parts(frame.scenario)[1].stitches_required
        return Readouts(aim=aim, progress=(Readout(f"stitches {done}/{need}"),))


SCENE: ScenePlugin[SuturingMeshes] = SuturingScene()
