"""From 21 hand landmarks to a needle pose in the scene, for a needle held in a pinch grip.

The mapping (see ``docs/tracking.md``):

- Landmarks are first put in isotropic image-width units (:func:`sim.tracking.hand.to_iso`)
  and turned into scene millimetres by the :class:`Workspace`: image right is scene ``+x``,
  image down is scene ``-y``; the depth (scene ``z``) comes from the hand's size in the image
  (a hand further away looks smaller) plus each landmark's own relative depth.
- Tip: the pinch point, midway between the thumb tip (4) and the index tip (8).
- Axis: the hand's pointing direction, the mean of wrist -> middle knuckle (0 -> 9, the
  rigid palm) and index knuckle -> pinch point (5 -> tip, the fingers holding the needle).
- Normal (roll): the back of the hand (normal of the palm plane wrist, index knuckle, little
  knuckle), made perpendicular to the axis, turned by a calibrated roll offset.
- Grip: thumb-index distance divided by hand size, with hysteresis (:class:`GripHysteresis`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from sim.core.records import Vec3
from sim.tracking.hand import (
    INDEX_MCP,
    INDEX_TIP,
    MIDDLE_MCP,
    PINKY_MCP,
    THUMB_TIP,
    WRIST,
    FloatArray,
    hand_size,
    palm_centre,
    to_iso,
)

#: Default horizontal field of view of a laptop camera, degrees (for depth from scale).
DEFAULT_HFOV_DEG = 60.0
#: Default scene mm per image width: the central 60 % of the width spans 200 mm.
DEFAULT_MM_PER_WIDTH = 200.0 / 0.6
#: Default hand size (mean palm segment, image widths) at which depth is zero: an adult
#: palm (about 85 mm) some 60 cm from a 60 degree camera.
DEFAULT_REF_SIZE = 0.12
#: Where the centre of the camera image lands in the scene, mm: above the task site.
DEFAULT_CENTRE_MM: Vec3 = (0.0, 20.0, 0.0)


@dataclass(frozen=True, slots=True)
class Workspace:
    """Mapping from camera space to scene millimetres.

    Attributes
    ----------
    origin_xy : (float, float)
        Normalised image point (x, y in [0, 1]) that maps to ``centre_mm``.
    centre_mm : tuple of 3 float
        Scene point, mm, of the hand at ``origin_xy`` with size ``ref_size``.
    mm_per_width : float
        Scene mm per image width, for image-plane motion and relative landmark depth.
    ref_size : float
        Hand size (mean palm segment length, image widths) at zero depth offset.
    depth_mm_per_unit : float
        Scene ``z`` offset, mm, per unit of ``ref_size / size - 1``. Pinhole model:
        ``mm_per_width * f`` with ``f = 0.5 / tan(hfov / 2)`` image widths.
    mirrored : bool
        True when frames are flipped horizontally before tracking (selfie view, the
        default): moving the hand to the trainee's right moves the needle to scene ``+x``
        and moving it towards the camera moves the needle into the screen (``-z``).
        False: the scene is seen from the camera (``z`` towards the camera).
    """

    origin_xy: tuple[float, float] = (0.5, 0.5)
    centre_mm: Vec3 = DEFAULT_CENTRE_MM
    mm_per_width: float = DEFAULT_MM_PER_WIDTH
    ref_size: float = DEFAULT_REF_SIZE
    depth_mm_per_unit: float = DEFAULT_MM_PER_WIDTH * 0.5 / math.tan(math.radians(30.0))
    mirrored: bool = True

    @property
    def z_sign(self) -> float:
        """Scene ``z`` per unit of camera depth (away from the camera)."""
        return 1.0 if self.mirrored else -1.0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (stored in the recording header's calibration)."""
        return {
            "origin_xy": list(self.origin_xy),
            "centre_mm": list(self.centre_mm),
            "mm_per_width": self.mm_per_width,
            "ref_size": self.ref_size,
            "depth_mm_per_unit": self.depth_mm_per_unit,
            "mirrored": self.mirrored,
        }

    @staticmethod
    def from_dict(d: dict[str, object]) -> Workspace:
        """Inverse of :meth:`as_dict` (missing keys take the defaults)."""
        ws = Workspace()
        kw: dict[str, object] = {}
        for k in ws.as_dict():
            if k in d:
                v = d[k]
                kw[k] = tuple(float(x) for x in v) if isinstance(v, list) else v  # type: ignore[union-attr]
        return replace(ws, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class HandPose:
    """The instrument pose derived from one hand.

    Attributes
    ----------
    tip_mm : tuple of 3 float
        Pinch point in the scene, mm.
    axis, normal : tuple of 3 float
        Unit needle direction and roll vector (perpendicular to ``axis``).
    grip_ratio : float
        Thumb-index distance / wrist-to-middle-knuckle distance (before hysteresis).
    size : float
        Hand size in image widths (for depth and for hand selection).
    points_mm : (21, 3) float array
        Every landmark in the scene, mm.
    """

    tip_mm: Vec3
    axis: Vec3
    normal: Vec3
    grip_ratio: float
    size: float
    points_mm: FloatArray


def scene_points(landmarks: FloatArray, aspect: float, ws: Workspace) -> tuple[FloatArray, float]:
    """Every landmark in scene millimetres.

    Parameters
    ----------
    landmarks : (21, 3) float array
        Normalised image landmarks of one hand.
    aspect : float
        Image height / width.
    ws : Workspace
        The camera-to-scene mapping.

    Returns
    -------
    points_mm : (21, 3) float array
        Scene positions, mm.
    size : float
        Hand size, image widths.
    """
    iso = to_iso(landmarks, aspect)
    size = hand_size(iso)
    ref = np.array([ws.origin_xy[0], ws.origin_xy[1] * aspect, palm_centre(iso)[2]])
    signs = np.array([1.0, -1.0, ws.z_sign])
    pts = (iso - ref) * (ws.mm_per_width * signs)
    depth = ws.depth_mm_per_unit * (ws.ref_size / max(size, 1e-6) - 1.0) * ws.z_sign
    pts[:, 2] += depth
    pts += np.asarray(ws.centre_mm)
    return pts, size


def _unit(v: Vec3) -> Vec3 | None:
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n) if n > 1e-9 else None


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _cross(a: Vec3, b: Vec3) -> Vec3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def hand_pose(
    landmarks: FloatArray,
    aspect: float,
    ws: Workspace,
    hand: str = "right",
    roll_offset_deg: float = 0.0,
) -> HandPose | None:
    """The needle pose held by one hand in a pinch grip.

    Parameters
    ----------
    landmarks : (21, 3) float array
        Normalised image landmarks.
    aspect : float
        Image height / width.
    ws : Workspace
        Camera-to-scene mapping.
    hand : {"right", "left"}
        Which real hand this is (the palm normal's sign depends on it).
    roll_offset_deg : float
        Turn of the normal about the axis (from calibration: bevel up in the calibration
        pose), degrees, right-handed about the axis.

    Returns
    -------
    HandPose or None
        None for a degenerate hand (all landmarks on a point or a line).
    """
    pts, size = scene_points(landmarks, aspect, ws)
    # A few 3-vectors: plain float arithmetic is several times faster than numpy here.
    wrist, thumb, index_mcp, index_tip, middle_mcp, pinky_mcp = (
        (p[0], p[1], p[2])
        for p in pts[[WRIST, THUMB_TIP, INDEX_MCP, INDEX_TIP, MIDDLE_MCP, PINKY_MCP]].tolist()
    )
    tip = (
        0.5 * (thumb[0] + index_tip[0]),
        0.5 * (thumb[1] + index_tip[1]),
        0.5 * (thumb[2] + index_tip[2]),
    )
    palm_dir = _unit(_sub(middle_mcp, wrist))
    if palm_dir is None:
        return None
    finger_dir = _unit(_sub(tip, index_mcp))
    axis = palm_dir
    if finger_dir is not None:
        f, p = finger_dir, palm_dir
        axis = _unit((p[0] + f[0], p[1] + f[1], p[2] + f[2])) or palm_dir
    back = _cross(_sub(pinky_mcp, wrist), _sub(index_mcp, wrist))
    if hand == "left":
        back = (-back[0], -back[1], -back[2])
    d = _dot(back, axis)
    normal = _unit((back[0] - d * axis[0], back[1] - d * axis[1], back[2] - d * axis[2]))
    if normal is None:
        return None
    if roll_offset_deg:
        r = math.radians(roll_offset_deg)
        c, sn = math.cos(r), math.sin(r)
        an = _cross(axis, normal)
        normal = (
            normal[0] * c + an[0] * sn,
            normal[1] * c + an[1] * sn,
            normal[2] * c + an[2] * sn,
        )
    # Grip from image distances (the scene scale is uniform, so the ratio is the same).
    span = math.dist(middle_mcp, wrist)
    ratio = math.dist(thumb, index_tip) / span if span > 1e-9 else math.inf
    return HandPose(tip, axis, normal, ratio, size, pts)


class GripHysteresis:
    """Pinch state from the grip ratio, with hysteresis and debounce.

    The grip closes when the ratio stays below ``engage`` for ``debounce`` consecutive
    frames and opens when it stays above ``release`` as long (DOMAIN.md: 0.25 / 0.35).
    """

    def __init__(
        self, engage: float = 0.25, release: float = 0.35, debounce: int = 3, closed: bool = False
    ) -> None:
        if not engage < release:
            raise ValueError("grip engage threshold must be below the release threshold")
        self.engage, self.release, self.debounce = engage, release, max(1, debounce)
        self.closed = closed
        self._run = 0

    def update(self, ratio: float) -> bool:
        """Feed one frame's grip ratio; return whether the grip is closed."""
        switching = ratio > self.release if self.closed else ratio < self.engage
        self._run = self._run + 1 if switching else 0
        if self._run >= self.debounce:
            self.closed = not self.closed
            self._run = 0
        return self.closed
