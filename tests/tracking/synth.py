"""A synthetic hand with known geometry, built in scene millimetres and turned into the
image landmarks that the workspace mapping takes back to exactly that geometry."""

from __future__ import annotations

import numpy as np

from sim.tracking.hand import hand_size
from sim.tracking.pose import Workspace


def unit(v: np.ndarray | list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a / np.linalg.norm(a)


def hand_points_mm(
    wrist: np.ndarray | list[float],
    pointing: np.ndarray | list[float],
    back: np.ndarray | list[float],
    hand: str = "right",
    gap_mm: float = 4.0,
    palm_mm: float = 40.0,
) -> np.ndarray:
    """21 landmarks (scene mm) of a hand holding a pinch.

    The palm and the index finger both point along ``pointing``; the back of the hand faces
    ``back``; the thumb and index tips sit ``gap_mm`` apart across the pinch point, which is
    the index knuckle plus 0.9 palm lengths along ``pointing``. Palm segments scaled so that
    their mean length is ``palm_mm``.
    """
    e1 = unit(pointing)
    e3 = unit(np.asarray(back, dtype=np.float64) - np.dot(back, e1) * e1)
    e2 = np.cross(e3, e1)  # the index side of a right hand
    side = 1.0 if hand == "right" else -1.0
    pts = np.zeros((21, 3))
    length = 1.0

    def at(a: float, s: float, u: float = 0.0) -> np.ndarray:
        return a * e1 + side * s * e2 + u * e3

    pts[0] = at(0, 0)
    pts[5] = at(length, 0.3)
    pts[9] = at(length, 0.0)
    pts[13] = at(0.95 * length, -0.25)
    pts[17] = at(0.88 * length, -0.5)
    pinch = pts[5] + 0.9 * length * e1
    for j, f in ((6, 0.35), (7, 0.7)):  # index finger, knuckle to pinch
        pts[j] = pts[5] + f * (pinch - pts[5])
    for base, tips in ((9, (10, 11, 12)), (13, (14, 15, 16)), (17, (18, 19, 20))):
        for j, f in zip(tips, (0.3, 0.55, 0.75), strict=True):
            pts[j] = pts[base] + f * length * e1
    # Thumb from the wrist towards the pinch, tip below the pinch point.
    pts[1] = at(0.25, 0.35, -0.1)
    pts[2] = at(0.55, 0.55, -0.2)
    pts[3] = at(0.8, 0.6, -0.25)
    scale = palm_mm / hand_size(pts)
    pts *= scale
    g = gap_mm / 2
    pts[8] = pinch * scale + g * e3
    pts[4] = pinch * scale - g * e3
    return pts + np.asarray(wrist, dtype=np.float64)


def palm_centre_mm(pts: np.ndarray) -> np.ndarray:
    return np.asarray(pts[[0, 5, 9, 17]].mean(axis=0))


def to_landmarks(pts_mm: np.ndarray, ws: Workspace, aspect: float) -> np.ndarray:
    """Normalised image landmarks that ``scene_points`` maps back to ``pts_mm``.

    Exact when the hand's palm centre has ``z == ws.centre_mm[2]`` and its mean palm
    segment is ``ws.ref_size * ws.mm_per_width`` long (no depth-from-scale offset).
    """
    signs = np.array([1.0, -1.0, ws.z_sign])
    iso = (pts_mm - np.asarray(ws.centre_mm)) / (ws.mm_per_width * signs)
    iso += np.array([ws.origin_xy[0], ws.origin_xy[1] * aspect, 0.0])
    lm = iso.copy()
    lm[:, 1] /= aspect
    return lm
