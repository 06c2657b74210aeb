"""What a frame shows, as plain data: no OpenGL, no pygame.

This module holds the pure half of the renderer (pyrender's split: scene data apart from the
GL code that draws it):

- :class:`Frame`: everything one picture is drawn from (scenario, sample, live view, task
  state, active cue, events so far), and :func:`frame_from_pipeline` to take it from a
  running :class:`sim.pipeline.Pipeline`.
- :class:`DrawOptions`: exam mode, HUD on or off, overlays.
- :class:`OrbitCamera`: a camera that orbits a target; view and projection matrices,
  :meth:`OrbitCamera.project` (scene mm to pixels) and :meth:`OrbitCamera.ray` (pixels to a
  ray), shared by the renderer, the mouse control and the tests.
- :func:`needle_frame`: the 4x4 model matrix that puts an instrument at a sample's pose.
- :func:`side_section`: the live cross-section through the skin at the needle (the side view).

Scene frame, as everywhere in procsim: millimetres, ``x`` along the forearm / wound, ``y`` up
out of the skin, ``z`` towards the viewer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.core import geometry as g
from sim.core.records import Cue, Event, Sample, Vec3
from sim.core.scenario import Scenario
from sim.feedback.cues import LiveView
from sim.procedures.suturing.spec import SuturingGeometry
from sim.procedures.venipuncture.spec import VenipunctureGeometry

Mat4 = np.ndarray
"""A 4x4 float32 matrix, row-major (column vectors: ``p' = M @ p``)."""


# --- what a frame is drawn from --------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    """Everything the renderer reads to draw one picture. It never changes any of it.

    Attributes
    ----------
    scenario : Scenario
        The scenario being practised (geometry, tolerances).
    sample : Sample or None
        The latest instrument pose; None before the first sample (no instrument drawn).
    view : LiveView or None
        The pipeline's live view for ``sample`` (angle, depth, tremor...).
    state : object or None
        The task state (:class:`~sim.core.tasks.venipuncture.VenipunctureState` or
        :class:`~sim.core.tasks.suturing.SuturingState`).
    banner : Cue or None
        The active cue of highest priority (``CueEngine.banner()``).
    events : sequence of Event
        Every task event so far, oldest first (stitches placed, haematoma...).
    t_s : float
        Session time shown by the timer, s: from the trainee's first move or action to
        completion (see :class:`sim.pipeline.Pipeline`).
    phase : str
        Task phase shown in the HUD.
    input_kind : str
        What drives the instrument; the HUD shows tremor only for inputs that measure it.
    """

    scenario: Scenario
    sample: Sample | None = None
    view: LiveView | None = None
    state: Any = None
    banner: Cue | None = None
    events: Sequence[Event] = ()
    t_s: float = 0.0
    phase: str = ""
    input_kind: str = "scripted"


@dataclass(frozen=True)
class DrawOptions:
    """How to draw a frame.

    Attributes
    ----------
    exam : bool
        Exam mode: no cue banner, no target marks, no guides (side view, target bands).
    hud : bool
        Draw the HUD (banner, timer, gauges, side view) over the 3-D scene.
    help : bool
        Draw the controls overlay.
    help_lines : tuple of (str, str)
        (keys, what they do) rows of the controls overlay.
    message : str or None
        A line shown at the bottom (e.g. an input device error), amber.
    title : str
        Shown top left (defaults to the scenario title).
    """

    exam: bool = False
    hud: bool = True
    help: bool = False
    help_lines: tuple[tuple[str, str], ...] = ()
    message: str | None = None
    title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def frame_from_pipeline(pipeline: Any, t_s: float | None = None) -> Frame:
    """The frame of a running :class:`sim.pipeline.Pipeline` (read only).

    Parameters
    ----------
    pipeline : Pipeline
        The pipeline; its latest sample, view, state, banner cue and events are used.
    t_s : float, optional
        The moment drawn, s of recording time (defaults to the latest sample's time); the
        timer shows the session's clock at that moment (``Pipeline.clock_s``).
    """
    sample = pipeline.samples[-1] if pipeline.samples else None
    t = t_s if t_s is not None else (sample.t_s if sample is not None else 0.0)
    return Frame(
        scenario=pipeline.scenario,
        sample=sample,
        view=pipeline.view,
        state=pipeline.state,
        banner=pipeline.cues_engine.banner(),
        events=tuple(pipeline.events),
        t_s=pipeline.clock_s(t),
        phase=pipeline.phase,
        input_kind=pipeline.input_kind,
    )


# --- matrices ---------------------------------------------------------------------------
def perspective(fov_y_deg: float, aspect: float, near: float, far: float) -> Mat4:
    """OpenGL perspective projection, 4x4 float32."""
    f = 1.0 / math.tan(math.radians(fov_y_deg) / 2)
    m = np.zeros((4, 4), np.float32)
    m[0, 0] = f / aspect
    m[1, 1] = f
    m[2, 2] = (far + near) / (near - far)
    m[2, 3] = 2 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def look_at(eye: Vec3, target: Vec3, up: Vec3 = (0.0, 1.0, 0.0)) -> Mat4:
    """View matrix of a camera at ``eye`` looking at ``target``, 4x4 float32."""
    f = g.unit(g.sub(target, eye))
    s = g.unit(g.cross(f, up))
    u = g.cross(s, f)
    m = np.eye(4, dtype=np.float32)
    m[0, :3], m[1, :3], m[2, :3] = s, u, (-f[0], -f[1], -f[2])
    m[0, 3], m[1, 3], m[2, 3] = -g.dot(s, eye), -g.dot(u, eye), g.dot(f, eye)
    return m


def ortho_pixels(width: int, height: int) -> Mat4:
    """Projection of pixel coordinates (origin top left, y down) to clip space."""
    m = np.eye(4, dtype=np.float32)
    m[0, 0], m[0, 3] = 2.0 / width, -1.0
    m[1, 1], m[1, 3] = -2.0 / height, 1.0
    return m


@dataclass
class OrbitCamera:
    """A camera orbiting ``target`` (mm) at ``distance_mm``.

    ``yaw_deg`` turns about the vertical (0 looks from +z, the viewer's side, towards -z);
    ``pitch_deg`` raises the eye above the horizontal plane (90 looks straight down).
    """

    target: Vec3 = (0.0, 0.0, 0.0)
    yaw_deg: float = 0.0
    pitch_deg: float = 35.0
    distance_mm: float = 200.0
    fov_y_deg: float = 35.0
    near_mm: float = 5.0
    far_mm: float = 3000.0

    def eye(self) -> Vec3:
        """Camera position, mm."""
        cy, sy = math.cos(math.radians(self.yaw_deg)), math.sin(math.radians(self.yaw_deg))
        cp, sp = math.cos(math.radians(self.pitch_deg)), math.sin(math.radians(self.pitch_deg))
        d = self.distance_mm
        t = self.target
        return (t[0] + d * cp * sy, t[1] + d * sp, t[2] + d * cp * cy)

    def view_matrix(self) -> Mat4:
        return look_at(self.eye(), self.target)

    def projection(self, aspect: float) -> Mat4:
        return perspective(self.fov_y_deg, aspect, self.near_mm, self.far_mm)

    def view_projection(self, size: tuple[int, int]) -> Mat4:
        """Projection @ view for an image of ``size`` = (width, height) pixels."""
        return self.projection(size[0] / size[1]) @ self.view_matrix()

    def orbit(self, d_yaw_deg: float, d_pitch_deg: float) -> None:
        self.yaw_deg = (self.yaw_deg + d_yaw_deg) % 360.0
        self.pitch_deg = min(89.0, max(5.0, self.pitch_deg + d_pitch_deg))

    def zoom(self, factor: float) -> None:
        self.distance_mm = min(1500.0, max(40.0, self.distance_mm * factor))

    def project(self, p: Vec3, size: tuple[int, int]) -> tuple[float, float]:
        """Pixel position (x right, y down, origin top left) of scene point ``p`` (mm)."""
        clip = self.view_projection(size) @ np.array([p[0], p[1], p[2], 1.0], np.float64)
        ndc = clip[:3] / clip[3]
        return ((ndc[0] + 1) / 2 * size[0], (1 - ndc[1]) / 2 * size[1])

    def ray(self, px: float, py: float, size: tuple[int, int]) -> tuple[Vec3, Vec3]:
        """Origin and unit direction (mm) of the ray through pixel ``(px, py)``."""
        inv = np.linalg.inv(self.view_projection(size).astype(np.float64))
        nx, ny = 2 * px / size[0] - 1, 1 - 2 * py / size[1]
        a = inv @ np.array([nx, ny, -1.0, 1.0])
        b = inv @ np.array([nx, ny, 1.0, 1.0])
        pa = (float(a[0] / a[3]), float(a[1] / a[3]), float(a[2] / a[3]))
        pb = (float(b[0] / b[3]), float(b[1] / b[3]), float(b[2] / b[3]))
        return pa, g.unit(g.sub(pb, pa))


def default_camera(scenario: Scenario) -> OrbitCamera:
    """A view that shows the whole working area of the scenario."""
    if isinstance(scenario.geometry, VenipunctureGeometry):
        return OrbitCamera(target=(-5.0, -8.0, 0.0), yaw_deg=-18.0, pitch_deg=38.0, distance_mm=230)
    return OrbitCamera(target=(0.0, -1.0, 0.0), yaw_deg=-15.0, pitch_deg=50.0, distance_mm=105)


def needle_frame(sample: Sample) -> Mat4:
    """Model matrix of an instrument at ``sample``'s pose, 4x4 float32.

    Local frame of instrument meshes: origin at the tip, ``+x`` along ``sample.axis`` (hub to
    tip), ``+y`` along ``sample.normal`` (bevel side / towards the arc centre), ``+z`` =
    ``x`` cross ``y``.
    """
    ax = g.unit(sample.axis)
    nm = g.sub(sample.normal, g.scale(ax, g.dot(sample.normal, ax)))
    nm = g.unit(nm) if g.norm(nm) > 1e-9 else _any_perpendicular(ax)
    side = g.cross(ax, nm)
    m = np.eye(4, dtype=np.float32)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = ax, nm, side, sample.tip_mm
    return m


def _any_perpendicular(v: Vec3) -> Vec3:
    other = (0.0, 1.0, 0.0) if abs(v[1]) < 0.9 else (1.0, 0.0, 0.0)
    return g.unit(g.cross(g.cross(v, other), v))


# --- the side view ----------------------------------------------------------------------
@dataclass(frozen=True)
class SideSection:
    """A cross-section through the skin in the vertical plane of the needle.

    Coordinates are 2-D, mm: ``u`` along the section (horizontal, in the direction the
    needle points), ``v`` = scene ``y`` (up). The window is centred on ``centre_u``.

    Attributes
    ----------
    skin : ndarray, shape (K, 2)
        Skin surface polyline (u, v), left to right.
    tissue_bottom_v : float
        Lower edge of the tissue drawn (pad bottom for suturing), mm.
    vein : ndarray, shape (M, 3)
        Venipuncture: columns (u, v_low, v_high) of the vein's cut, empty where the plane
        misses the vein.
    vein_miss_mm : float
        Distance from the section plane to the vein wall (0 when the plane cuts the vein).
    wound_u : float or None
        Suturing: where the wound is on the section, mm.
    targets_u : tuple of float
        Suturing: bite target marks on the surface, mm.
    needle : ndarray, shape (N, 2)
        The needle (tip first), projected into the section.
    tip : tuple of 2 float
        Tip position (u, v).
    angle_deg : float
        Needle angle to the horizontal in the section (positive: tip pointing down).
    depth_mm : float
        Tip depth under the skin (negative above it).
    half_width_mm : float
        Half the width of the window, mm (the height follows from the panel's aspect).
    centre : tuple of 2 float
        Window centre (u, v), mm.
    over_tissue : bool
        False when the section plane misses the arm (the needle is beside it).
    """

    skin: np.ndarray
    tissue_bottom_v: float
    vein: np.ndarray
    vein_miss_mm: float
    wound_u: float | None
    targets_u: tuple[float, ...]
    needle: np.ndarray
    tip: tuple[float, float]
    angle_deg: float
    depth_mm: float
    half_width_mm: float
    centre: tuple[float, float]
    over_tissue: bool = True


def curved_needle_points(radius_mm: float, sweep_deg: float = 135.0, n: int = 24) -> np.ndarray:
    """Points of a curved needle in its local frame (tip first), shape (n, 3), mm.

    The arc's centre is at ``(0, radius, 0)``: the tip is at the origin moving along ``+x``,
    ``+y`` points to the centre (``Sample.normal``). 3/8 circle = 135 degrees.
    """
    th = np.radians(np.linspace(0.0, sweep_deg, n))
    r = radius_mm
    return np.stack([-r * np.sin(th), r - r * np.cos(th), np.zeros_like(th)], axis=1)


def _to_world(sample: Sample, local: np.ndarray) -> np.ndarray:
    m = needle_frame(sample).astype(np.float64)
    return local @ m[:3, :3].T + m[:3, 3]


def side_section(frame: Frame, half_width_mm: float = 20.0) -> SideSection | None:
    """The live side view of ``frame``, or None before the first sample."""
    s = frame.sample
    if s is None:
        return None
    geo = frame.scenario.geometry
    if isinstance(geo, VenipunctureGeometry):
        return _venipuncture_section(frame, s, geo, half_width_mm)
    assert isinstance(geo, SuturingGeometry)
    return _suturing_section(frame, s, geo, half_width_mm * 0.7)


def _venipuncture_section(
    frame: Frame, s: Sample, geo: VenipunctureGeometry, half: float
) -> SideSection:
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
    vein = np.stack([us, vy - hh, vy + hh], axis=1)[inside]
    miss = 0.0 if inside.any() else float(max(np.min(np.abs(dz)) - vr, 0.0))
    length = geo.needle_length_mm
    pts = np.array([tip, g.sub(tip, g.scale(ax, length))], np.float64)
    rel = pts - np.array(tip)
    needle = np.stack([rel @ np.array(h), pts[:, 1]], axis=1)
    angle = math.degrees(math.atan2(-ax[1], g.dot(ax, h)))
    over = bool(np.any(np.abs(zs) < r_arm * 0.9))
    cv = float(np.interp(cu, us, surf)) - 3.0 if over else float(tip[1])
    return SideSection(
        skin=np.stack([us, surf], axis=1),
        tissue_bottom_v=-r_arm,
        vein=vein,
        vein_miss_mm=miss,
        wound_u=None,
        targets_u=(),
        needle=needle,
        tip=(0.0, tip[1]),
        angle_deg=angle,
        depth_mm=depth,
        half_width_mm=half,
        centre=(cu, cv),
        over_tissue=over,
    )


def _suturing_section(frame: Frame, s: Sample, geo: SuturingGeometry, half: float) -> SideSection:
    # plane across the wound through the tip: u = z (towards the viewer), v = y
    tol = frame.scenario.suturing[1]
    tip = s.tip_mm
    pts = _to_world(s, curved_needle_points(geo.needle_radius_mm))
    needle = pts[:, [2, 1]].astype(np.float64)
    us = np.array([-geo.pad_width_mm / 2, geo.pad_width_mm / 2])
    ax = g.unit(s.axis)
    angle = g.angle_to_plane_deg(ax, (0.0, 1.0, 0.0))  # as the live view reports it
    targets = (-tol.bite_target_mm, tol.bite_target_mm) if geo.show_targets else ()
    return SideSection(
        skin=np.stack([us, np.zeros(2)], axis=1),
        tissue_bottom_v=-geo.pad_thickness_mm,
        vein=np.zeros((0, 3)),
        vein_miss_mm=0.0,
        wound_u=0.0,
        targets_u=targets,
        needle=needle,
        tip=(tip[2], tip[1]),
        angle_deg=angle,
        depth_mm=-tip[1],
        half_width_mm=half,
        # keep the tip in view while it approaches from above
        centre=(0.0, max(-geo.pad_thickness_mm / 2 + 1.0, min(tip[1] - 0.6 * half + 2.0, 8.0))),
    )


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


def haematoma_site(events: Sequence[Event]) -> Vec3 | None:
    """Where a haematoma shows: the puncture site of the attempt that pierced the back wall."""
    site: Vec3 | None = None
    found: Vec3 | None = None
    for e in events:
        if e.kind == "skin_puncture":
            site = (e.value("x_mm"), e.value("y_mm"), e.value("z_mm"))
        elif e.kind == "back_wall" and site is not None:
            found = site
    return found
