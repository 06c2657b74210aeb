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
- :func:`needle_frame`: the 4x4 model matrix that puts an instrument at a sample's pose
  (:func:`driver_frame`: a needle driver holding a curved needle).
- :func:`scene_of`: the scenario's procedure's scene plug-in
  (:class:`sim.render.plugin.ScenePlugin`: meshes, side view, HUD lines, camera).

Scene frame, as everywhere in procsim: millimetres, ``x`` along the limb / wound, ``y`` up
out of the skin, ``z`` towards the viewer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core import geometry as g
from sim.core.records import Cue, Event, Sample, Vec3
from sim.core.scenario import Scenario
from sim.feedback.cues import LiveView
from sim.procedures.registry import get

if TYPE_CHECKING:
    from sim.render.plugin import ScenePlugin

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
        The pipeline's live view for ``sample`` (angle, depth, tremor...), of the
        procedure's own type.
    state : object or None
        The task state, of the scenario's procedure's own type (its scene plug-in reads
        it).
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
    moment_s : float or None
        The moment drawn, s of recording time (the clock of the samples and events; the
        patient's words show for a while after theirs); None: the latest sample's.
    tremor_why : str
        Why the live tremor is not measured, in a few words ("not calibrated", "only 5
        frames/s"), from :attr:`sim.pipeline.Pipeline.tremor_why`; "" when it is or when
        not known (a replay).
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
    moment_s: float | None = None
    tremor_why: str = ""

    @property
    def now_s(self) -> float:
        """The moment drawn, s of recording time (:attr:`moment_s`, else the latest
        sample's time, else the session time)."""
        if self.moment_s is not None:
            return self.moment_s
        return self.sample.t_s if self.sample is not None else self.t_s


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
    step_keys : tuple of (str, str)
        ``(step, key)``: the key that takes each checklist step, shown on its button (none
        in a replay, where the checklist only shows what was taken).
    """

    exam: bool = False
    hud: bool = True
    help: bool = False
    help_lines: tuple[tuple[str, str], ...] = ()
    message: str | None = None
    title: str = ""
    step_keys: tuple[tuple[str, str], ...] = ()
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
        moment_s=t,
        tremor_why=pipeline.tremor_why,
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


def scene_of(scenario: Scenario) -> ScenePlugin[Any]:
    """The scene plug-in of ``scenario``'s procedure (its ``scene`` module's ``SCENE``)."""
    return get(scenario.task).scene()


def default_camera(scenario: Scenario) -> OrbitCamera:
    """A view that shows the whole working area of the scenario (its procedure's choice)."""
    return scene_of(scenario).camera(scenario)


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


# --- instruments ----------------------------------------------------------------------
def curved_needle_points(radius_mm: float, sweep_deg: float = 135.0, n: int = 24) -> np.ndarray:
    """Points of a curved needle in its local frame (tip first), shape (n, 3), mm.

    The arc's centre is at ``(0, radius, 0)``: the tip is at the origin moving along ``+x``,
    ``+y`` points to the centre (``Sample.normal``). 3/8 circle = 135 degrees.
    """
    th = np.radians(np.linspace(0.0, sweep_deg, n))
    r = radius_mm
    return np.stack([-r * np.sin(th), r - r * np.cos(th), np.zeros_like(th)], axis=1)


def to_world(sample: Sample, local: np.ndarray) -> np.ndarray:
    """Points ``local`` (N, 3) of an instrument's local frame at ``sample``'s pose, in the
    scene frame, mm (see :func:`needle_frame`)."""
    m = needle_frame(sample).astype(np.float64)
    return local @ m[:3, :3].T + m[:3, 3]


def driver_frame(needle_model: np.ndarray, grasp_local: np.ndarray) -> Mat4:
    """Model matrix of a needle driver holding a curved needle at ``grasp_local``.

    The jaws close on the needle at 90 degrees to its plane; the handle rises from there
    towards the viewer's right, as a right-handed trainee holds it.

    Parameters
    ----------
    needle_model : ndarray, shape (4, 4)
        The needle's model matrix (:func:`needle_frame`).
    grasp_local : ndarray, shape (3,)
        Where the jaws hold the needle, in its local frame, mm
        (:func:`sim.render.meshes.grasp_point`).
    """
    m = needle_model.astype(np.float64)
    origin = m[:3, :3] @ grasp_local + m[:3, 3]
    across = m[:3, 2]  # the needle plane's normal
    if across @ np.array([1.0, 0.0, 0.35]) < 0:
        across = -across
    handle = across + np.array([0.0, 0.9, 0.0])
    handle /= np.linalg.norm(handle)
    side = np.cross(handle, np.array([0.0, 1.0, 0.0]))
    side = side / (np.linalg.norm(side) + 1e-12)
    up = np.cross(side, handle)
    out = np.eye(4, dtype=np.float32)
    out[:3, 0], out[:3, 1], out[:3, 2], out[:3, 3] = handle, up, side, origin
    return out
