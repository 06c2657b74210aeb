"""One detected hand and the landmark indices of MediaPipe Hands.

Landmarks are float arrays of shape (21, 3). Image landmarks: ``x`` and ``y`` normalised to
[0, 1] by the image width and height (origin top left, ``y`` down) and ``z`` the depth
relative to the wrist, in roughly the same scale as ``x`` (smaller is closer to the camera).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

N_LANDMARKS = 21
WRIST = 0
THUMB_TIP = 4
INDEX_MCP = 5
INDEX_TIP = 8
MIDDLE_MCP = 9
PINKY_MCP = 17

#: Pairs of landmarks joined by a bone, for drawing.
HAND_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16),
    (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)  # fmt: skip

#: Segments of the (rigid) palm whose mean length measures the hand's size in the image.
PALM_SEGMENTS: tuple[tuple[int, int], ...] = ((0, 5), (0, 9), (0, 17), (5, 17))


@dataclass(frozen=True, slots=True)
class HandObservation:
    """One hand found in one frame.

    Attributes
    ----------
    landmarks : (21, 3) float array
        Image landmarks (normalised x, y; relative z), in the frame the tracker saw.
    handedness : str
        ``"right"`` or ``"left"`` as reported by the tracker for the real hand (may flip
        from frame to frame on real footage).
    score : float
        The tracker's confidence in the handedness / presence, 0-1.
    """

    landmarks: FloatArray
    handedness: str = "right"
    score: float = 1.0


def to_iso(landmarks: FloatArray, aspect: float) -> FloatArray:
    """Image landmarks in isotropic "image-width units".

    Parameters
    ----------
    landmarks : (21, 3) float array
        Normalised image landmarks.
    aspect : float
        Image height / width.

    Returns
    -------
    (21, 3) float array
        ``(x, y * aspect, z)``: one unit is the image width on every axis, so distances and
        angles are undistorted (``y`` still points down, ``z`` away from the camera).
    """
    p = np.array(landmarks, dtype=np.float64, copy=True)
    p[:, 1] *= aspect
    return p


_SEG_A = np.array([i for i, _ in PALM_SEGMENTS])
_SEG_B = np.array([j for _, j in PALM_SEGMENTS])
_PALM = np.array([WRIST, INDEX_MCP, MIDDLE_MCP, PINKY_MCP])


def hand_size(iso: FloatArray) -> float:
    """Mean length of the palm segments (:data:`PALM_SEGMENTS`) of isotropic landmarks."""
    d = iso[_SEG_A] - iso[_SEG_B]
    return float(np.sqrt((d * d).sum(axis=1)).mean())


def grip_ratio(iso: FloatArray) -> float:
    """Thumb tip to index tip distance divided by wrist to middle knuckle (dimensionless)."""
    span = float(np.linalg.norm(iso[MIDDLE_MCP] - iso[WRIST]))
    gap = float(np.linalg.norm(iso[THUMB_TIP] - iso[INDEX_TIP]))
    return gap / span if span > 1e-9 else float("inf")


def palm_centre(iso: FloatArray) -> FloatArray:
    """Centre of the palm (mean of wrist and the index, middle and little knuckles), (3,)."""
    return np.asarray(iso[_PALM].mean(axis=0))
