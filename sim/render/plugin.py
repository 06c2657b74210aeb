"""What the shared renderer, HUD and side view need of a procedure: its scene plug-in.

Every procedure package has a ``scene`` module whose ``SCENE`` is a :class:`ScenePlugin`
(loaded by :attr:`sim.procedures.base.Procedure.scene`). The shared layers draw what every
procedure shares (background, cue banner, timer, angle dial, tremor meter, speed, depth,
the side view's panel, skin layers and scale bar, the help overlay) and ask the plug-in for
the rest:

- the default camera (:meth:`ScenePlugin.camera`);
- the scene's GPU meshes, built once per scenario (:meth:`ScenePlugin.build`), and the 3-D
  scene of a frame drawn with them (:meth:`ScenePlugin.draw`): instruments, body, dynamic
  meshes (haematoma, stitches), tints (the vein under the skin), through the small drawing
  interface :class:`Canvas` the renderer hands it;
- the instrument alone, for a replay's expert ghost (:meth:`ScenePlugin.draw_instrument`);
- the side view's section of a frame (:meth:`ScenePlugin.section`): a :class:`SideSection`
  holding the procedure's own shapes (vessels, a wound, target marks, extra tissue
  layers) and one :class:`SideLine` per instrument part (a catheter and its needle apart);
- the angle dial's target band (:meth:`ScenePlugin.angle_band`) and the procedure's HUD
  lines (:meth:`ScenePlugin.readouts`), each with how the HUD judges it (:class:`Judged`).

Plug-ins read the frame's task state and live view, which are typed per procedure; a
plug-in narrows them with ``isinstance`` on its own types. This module is pure (no OpenGL).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

from sim.core.records import Event, Sample, Vec3
from sim.core.scenario import Scenario
from sim.render.meshes import VEIN, MeshData
from sim.render.overlay import RGBA
from sim.render.scene import DrawOptions, Frame, Mat4, OrbitCamera

if TYPE_CHECKING:
    from sim.render.gl import GpuMesh

RGB = tuple[float, float, float]
M = TypeVar("M")

NEEDLE_SIDE: RGBA = (0.20, 0.92, 1.0, 1.0)
"""Colour of a needle in the side view (tests look for it)."""


# --- the 3-D scene ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Tint:
    """A strip of colour showing through a surface (a vein under the skin), blended per
    pixel by the mesh shader into the mesh drawn with it.

    The strip runs along the scene's ``x`` axis, centred on ``x = 0``.

    Attributes
    ----------
    rgb : tuple of 3 float
        Colour of the strip, linear RGB 0-1.
    centre_z_mm, radius_mm : float
        Where the strip is across ``x`` and its half width, mm (it fades out to 2 radii).
    half_length_mm : float
        Half its length along ``x``, mm (it fades out over the last 10 mm).
    strength : float
        How much of the colour shows at the centre line, 0-1.
    above_y_mm : float
        It shows only on surfaces above this height, mm.
    """

    rgb: RGB
    centre_z_mm: float
    radius_mm: float
    half_length_mm: float
    strength: float
    above_y_mm: float


class Canvas(Protocol):
    """What the renderer offers a plug-in to upload and draw meshes with.

    Drawing happens in the scene frame (mm); the camera, light and shader are the
    renderer's. Meshes drawn earlier hide those behind them (depth test): draw the nearest
    (the instrument) first.
    """

    def upload(self, data: MeshData) -> GpuMesh:
        """``data`` uploaded to the GPU once (a static mesh of :meth:`ScenePlugin.build`)."""
        ...

    def cached(self, key: Hashable, build: Callable[[], MeshData | None]) -> GpuMesh | None:
        """A dynamic mesh of this scenario (a haematoma, the stitches placed so far),
        built and uploaded only when a new ``key`` comes (None when ``build`` gives None)."""
        ...

    def draw(
        self,
        mesh: GpuMesh,
        model: Mat4 | None = None,
        highlight: RGB = (0.0, 0.0, 0.0),
        highlight_weight: float = 0.0,
        tint: Tint | None = None,
    ) -> None:
        """Draw ``mesh`` moved by ``model`` (4x4; None: where it was built).

        ``highlight`` is mixed into the vertices whose ``aux`` is set, by
        ``highlight_weight`` (blood in a flash chamber); ``tint`` shows through it.
        """
        ...


def vein_tint(
    vein_depth_mm: float,
    vein_lateral_mm: float,
    vein_diameter_mm: float,
    vein_length_mm: float,
    limb_radius_mm: float,
    strength: float,
    vein_visibility: float = 1.0,
) -> Tint:
    """A vein showing through a limb's skin: fainter the deeper it lies (full at 1.6 mm,
    a quarter from 7.6 mm down), times ``strength`` (more with a tourniquet on: it fills)
    and the patient's ``vein_visibility`` (0 to 1: 0 hides it)."""
    visibility = float(np.clip(1.2 - vein_depth_mm / 8.0, 0.25, 1.0)) * vein_visibility
    return Tint(
        rgb=VEIN,
        centre_z_mm=vein_lateral_mm,
        radius_mm=vein_diameter_mm / 2,
        half_length_mm=vein_length_mm / 2,
        strength=visibility * strength,
        above_y_mm=-limb_radius_mm * 0.6,
    )


def haematoma_site(events: Sequence[Event]) -> Vec3 | None:
    """Where a haematoma shows: the puncture site (``skin_puncture``'s point) of the attempt
    that pierced the back wall (``back_wall``); None when none did."""
    site: Vec3 | None = None
    found: Vec3 | None = None
    for e in events:
        if e.kind == "skin_puncture":
            site = (e.value("x_mm"), e.value("y_mm"), e.value("z_mm"))
        elif e.kind == "back_wall" and site is not None:
            found = site
    return found


# --- the side view ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SideBand:
    """A filled band of the section (a vessel, a tissue layer), clipped to the window.

    Attributes
    ----------
    u : ndarray, shape (K,)
        Positions along the section, increasing, mm.
    v_low, v_high : ndarray, shape (K,)
        Its lower and upper edge at each ``u``, mm.
    rgba : tuple of 4 float
    """

    u: np.ndarray
    v_low: np.ndarray
    v_high: np.ndarray
    rgba: RGBA


@dataclass(frozen=True, slots=True)
class SidePolygon:
    """A convex polygon in the section (a wound's gap), corners ``(u, v)`` in mm, shape
    (N, 2), N >= 3."""

    points: np.ndarray
    rgba: RGBA


@dataclass(frozen=True, slots=True)
class SideMark:
    """A mark of fixed pixel size standing on the point ``(u, v)`` (mm): a target."""

    u: float
    v: float
    width_px: float
    height_px: float
    rgba: RGBA


SideShape = SideBand | SidePolygon | SideMark


@dataclass(frozen=True, slots=True)
class SideLine:
    """One instrument part in the section (a needle, a catheter): a polyline.

    Attributes
    ----------
    points : ndarray, shape (N, 2)
        ``(u, v)`` in mm, tip first.
    width_mm : float
        Drawn width, mm, and at least ``min_width_px`` pixels.
    rgba : tuple of 4 float
    min_width_px : float
    """

    points: np.ndarray
    width_mm: float
    rgba: RGBA
    min_width_px: float = 3.0


@dataclass(frozen=True)
class SideSection:
    """A cross-section through the tissue in a plane through the instrument.

    Coordinates are 2-D, mm: ``u`` along the section (horizontal), ``v`` = scene ``y``
    (up). The window is centred on ``centre``. The HUD paints air above the skin and below
    the tissue, the skin and the tissue under it, then ``shapes`` in order, ``note``, the
    instrument parts in order, the tip mark, the frame and a 5 mm scale bar.

    Attributes
    ----------
    skin : ndarray, shape (K, 2)
        Skin surface polyline (u, v), left to right.
    tissue_bottom_v : float
        Lower edge of the tissue drawn, mm.
    tip : tuple of 2 float
        Tip position (u, v) (the white mark).
    angle_deg : float
        Instrument angle as the title says it.
    depth_mm : float
        Tip depth under the skin (negative above it).
    half_width_mm : float
        Half the width of the window, mm (the height follows from the panel's aspect).
    centre : tuple of 2 float
        Window centre (u, v), mm.
    instrument : tuple of SideLine
        The instrument's parts, drawn over everything else in order.
    shapes : tuple of SideBand, SidePolygon or SideMark
        The procedure's own structures (vessels, a wound, targets, extra layers).
    note : tuple of (str, RGBA) or None
        One line written at the bottom left ("vein 2.1 mm to the side").
    over_tissue : bool
        False when the section misses the tissue (the window is all air).
    """

    skin: np.ndarray
    tissue_bottom_v: float
    tip: tuple[float, float]
    angle_deg: float
    depth_mm: float
    half_width_mm: float
    centre: tuple[float, float]
    instrument: tuple[SideLine, ...]
    shapes: tuple[SideShape, ...] = ()
    note: tuple[str, RGBA] | None = None
    over_tissue: bool = True


# --- the HUD ----------------------------------------------------------------------------
class Judged(enum.Enum):
    """How the HUD colours a readout: within target, off it, wrong, or no judgement.

    In exam mode the HUD judges nothing: every judged line is drawn white.
    """

    GOOD = "good"
    WARN = "warn"
    BAD = "bad"
    MUTED = "muted"


@dataclass(frozen=True, slots=True)
class Readout:
    """One line of the HUD's readouts column."""

    text: str
    judged: Judged = Judged.MUTED


@dataclass(frozen=True, slots=True)
class Readouts:
    """A procedure's lines in the HUD's readouts column.

    Attributes
    ----------
    aim : Readout or None
        Under the angle: how the instrument is held ("bevel +3° from up").
    progress : tuple of Readout
        At the bottom, under the depth: where the procedure stands ("tourniquet 41 s",
        "stitches 1/3"); two fit.
    """

    aim: Readout | None = None
    progress: tuple[Readout, ...] = ()


TOURNIQUET_WARN = 0.75
"""Share of a tourniquet's time limit after which its readout turns amber (our choice: a
quarter of the limit left to finish or release)."""


def tourniquet_readout(on: bool, t_s: float, max_s: float) -> Readout:
    """The tourniquet's line: off; its time, green; amber in the last quarter of the limit
    ("tourniquet 48 s of 60"); red past it."""
    if not on:
        return Readout("tourniquet off")
    if t_s > max_s:
        return Readout(f"tourniquet {t_s:.0f} s: over {max_s:g}", Judged.BAD)
    if t_s > TOURNIQUET_WARN * max_s:
        return Readout(f"tourniquet {t_s:.0f} s of {max_s:g}", Judged.WARN)
    return Readout(f"tourniquet {t_s:.0f} s", Judged.GOOD)


# --- the plug-in ------------------------------------------------------------------------
class ScenePlugin(Protocol[M]):
    """A procedure's scene: what the shared renderer, HUD and side view draw of it.

    ``M`` is the plug-in's own record of GPU meshes of one scenario (what :meth:`build`
    returns and :meth:`draw` gets back).
    """

    def camera(self, scenario: Scenario) -> OrbitCamera:
        """The camera a session starts with: the whole working area in view."""
        ...

    def build(self, scenario: Scenario, canvas: Canvas) -> M:
        """Build and upload the scenario's static meshes (a GL context is current)."""
        ...

    def draw(self, meshes: M, frame: Frame, options: DrawOptions, canvas: Canvas) -> None:
        """Draw the 3-D scene of ``frame`` (instrument first, then the body and whatever
        the task state shows: tourniquet, haematoma, targets unless ``options.exam``,
        stitches)."""
        ...

    def draw_instrument(self, meshes: M, sample: Sample, canvas: Canvas) -> None:
        """Draw the instrument alone at ``sample``'s pose (the replay's expert ghost)."""
        ...

    def section(self, frame: Frame) -> SideSection | None:
        """The side view of ``frame``; None before the first sample."""
        ...

    def angle_band(self, frame: Frame) -> tuple[float, float]:
        """The angle dial's target band (low, high) at ``frame``, degrees (it may change
        with the step: lower the angle to thread a catheter)."""
        ...

    def readouts(self, frame: Frame) -> Readouts:
        """The procedure's lines in the HUD's readouts column at ``frame``."""
        ...
