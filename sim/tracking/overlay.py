"""The picture-in-picture camera view: landmarks drawn on the frame, and a clear "hand not
visible" cue when tracking is lost. Works on numpy RGB images (cv2 drawing), so the app only
uploads the result to a texture."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.tracking.hand import HAND_CONNECTIONS, INDEX_TIP, THUMB_TIP, FloatArray

HAND_RGB = (40, 220, 90)
PHANTOM_RGB = (150, 150, 150)
LOST_RGB = (230, 40, 40)
PINCH_RGB = (255, 210, 0)
LOST_TEXT = "hand not visible"


def _cv2() -> Any:
    import cv2

    return cv2


def _pixels(landmarks: FloatArray, w: int, h: int) -> np.ndarray:
    return np.column_stack([np.round(landmarks[:, 0] * w), np.round(landmarks[:, 1] * h)]).astype(
        np.int32
    )


def draw_hand(
    rgb: np.ndarray, landmarks: FloatArray, colour: tuple[int, int, int] = HAND_RGB
) -> None:
    """Draw one hand's bones and joints on ``rgb`` ((h, w, 3) uint8, modified in place);
    the pinch point (the needle tip) is marked."""
    cv2 = _cv2()
    h, w = rgb.shape[:2]
    px = _pixels(landmarks, w, h)
    thick = max(1, round(w / 320))
    for a, b in HAND_CONNECTIONS:
        cv2.line(rgb, tuple(int(v) for v in px[a]), tuple(int(v) for v in px[b]), colour, thick)
    for p in px:
        cv2.circle(rgb, (int(p[0]), int(p[1])), thick + 1, colour, -1)
    tip = (px[THUMB_TIP] + px[INDEX_TIP]) // 2
    cv2.circle(rgb, (int(tip[0]), int(tip[1])), 3 * thick + 2, PINCH_RGB, thick)


def camera_view(
    rgb: np.ndarray,
    landmarks: FloatArray | None,
    others: tuple[FloatArray, ...] = (),
    width: int | None = None,
) -> np.ndarray:
    """The picture-in-picture image: a copy of the frame, scaled to ``width`` pixels, with
    the driving hand drawn (green), ignored hands (grey), and when ``landmarks`` is None a
    red frame and "hand not visible".

    Parameters
    ----------
    rgb : (h, w, 3) uint8 array
        The frame as tracked (``FrameView.rgb``).
    landmarks : (21, 3) float array or None
        The driving hand (``FrameView.landmarks``), normalised image coordinates.
    others : tuple of (21, 3) float arrays
        Other hands found (``FrameView.others``).
    width : int, optional
        Output width, pixels (height keeps the aspect); default: the frame's.

    Returns
    -------
    (h', w', 3) uint8 array
        A new image; the input is not modified.
    """
    cv2 = _cv2()
    img = np.ascontiguousarray(rgb)
    if width is not None and width != img.shape[1]:
        height = max(1, round(img.shape[0] * width / img.shape[1]))
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    else:
        img = img.copy()
    for o in others:
        draw_hand(img, o, PHANTOM_RGB)
    if landmarks is not None:
        draw_hand(img, landmarks, HAND_RGB)
        return img
    h, w = img.shape[:2]
    t = max(2, round(w / 80))
    cv2.rectangle(img, (0, 0), (w - 1, h - 1), LOST_RGB, t)
    scale = w / 640 * 1.2
    thick = max(1, round(2 * w / 640))
    (tw, th), _ = cv2.getTextSize(LOST_TEXT, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x, y = (w - tw) // 2, (h + th) // 2
    cv2.rectangle(img, (x - 8, y - th - 8), (x + tw + 8, y + 8), (0, 0, 0), -1)
    cv2.putText(img, LOST_TEXT, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, LOST_RGB, thick)
    return img
