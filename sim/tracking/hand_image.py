"""How well the camera sees the hand in one frame: the light on it and its sharpness.

The calibration screen measures the tracked frames of the still-hand hold with
:func:`measure_hand_image` (the median is kept: :func:`sim.tracking.quality.median_image`);
the words a trainee reads come from :mod:`sim.tracking.quality` (pure), which judges the
figures against :class:`sim.tracking.quality.ConditionLimits`.

The hand's region is the box around its 21 detected landmarks, widened by
:data:`BOX_MARGIN` of its size on each side (the landmarks sit on the joints and
fingertips; the margin takes in the skin around them and a little of the background, whose
edge with the hand is what a blur softens first).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.tracking.hand import FloatArray
from sim.tracking.quality import HandImage

BOX_MARGIN = 0.15
"""Margin added to each side of the landmarks' box, as a fraction of its longer side (our
choice: enough for the finger edges)."""

BLUR_PX = 224
"""Longer side the hand's box is resized to before its blur is measured, px: the size
MediaPipe's hand landmark model looks at the hand at (its 224x224 input crop), so that one
hand measures alike near to and far from the camera, and as sharp as the tracker sees it."""

BLUR_FILTER_PX = 9
"""Length of the averaging filter of the blur measure, px (Crete-Roffet et al. 2007's)."""


def _cv2() -> Any:
    import cv2

    return cv2


def hand_box(landmarks: FloatArray, width: int, height: int) -> tuple[int, int, int, int]:
    """The hand's region in pixels: ``(x0, y0, x1, y1)``, clipped to the image.

    Parameters
    ----------
    landmarks : (21, 3) float array
        Normalised image landmarks (x, y in 0-1).
    width, height : int
        Image size, px.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    xs, ys = lm[:, 0] * width, lm[:, 1] * height
    pad = BOX_MARGIN * max(float(np.ptp(xs)), float(np.ptp(ys)))
    x0 = int(np.clip(np.floor(xs.min() - pad), 0, width))
    x1 = int(np.clip(np.ceil(xs.max() + pad), 0, width))
    y0 = int(np.clip(np.floor(ys.min() - pad), 0, height))
    y1 = int(np.clip(np.ceil(ys.max() + pad), 0, height))
    return x0, y0, x1, y1


def measure_hand_image(rgb: np.ndarray, landmarks: FloatArray) -> HandImage | None:
    """Light and sharpness of the hand in one frame.

    Parameters
    ----------
    rgb : (h, w, 3) uint8 array
        The frame as tracked (RGB; luminance is the same for BGR up to the weights of red
        and blue, which is why the frame's order matters: pass what the tracker saw).
    landmarks : (21, 3) float array
        The hand's normalised image landmarks in ``rgb``.

    Returns
    -------
    HandImage or None
        None when the hand's box is under 8 px on a side (off the image).
    """
    cv2 = _cv2()
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = hand_box(landmarks, w, h)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    crop = grey[y0:y1, x0:x1]
    side = max(x1 - x0, y1 - y0)
    scale = BLUR_PX / side
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return HandImage(
        luma_mean=float(crop.mean()),
        luma_sd=float(crop.std()),
        scene_luma_mean=float(grey.mean()),
        blur=blur_index(small),
        hand_px=float(side),
    )


def blur_index(grey: np.ndarray) -> float:
    """How blurred an image is, 0 (sharp) to 1 (flat): the no-reference measure of
    Crete-Roffet, Dolmiere, Ladret and Nicolas (2007, "The blur effect: perception and
    estimation with a new no-reference perceptual blur metric", SPIE 6492).

    The image is blurred again with a :data:`BLUR_FILTER_PX`-pixel average along each axis;
    a sharp image loses much of the variation between neighbouring pixels, a blurred one
    little. The index is the share of that variation the re-blur leaves, on the worse axis
    (a motion blur is along one). It compares the image with itself, so the light and the
    contrast on the hand barely move it (a dim hand is not read as a blurred one).

    Parameters
    ----------
    grey : (h, w) array
        Luminance.
    """
    cv2 = _cv2()
    f = np.asarray(grey, dtype=np.float64)
    worst = 0.0
    for axis, ksize in ((0, (1, BLUR_FILTER_PX)), (1, (BLUR_FILTER_PX, 1))):
        b = cv2.blur(f, ksize)
        d_f = np.abs(np.diff(f, axis=axis))
        d_b = np.abs(np.diff(b, axis=axis))
        s_f = float(d_f.sum())
        s_v = float(np.maximum(0.0, d_f - d_b).sum())
        worst = max(worst, (s_f - s_v) / s_f if s_f > 0 else 1.0)
    return worst
