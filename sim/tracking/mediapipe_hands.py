"""MediaPipe Hands (legacy ``mediapipe.solutions.hands``) as a :class:`Detector`.

mediapipe 0.10.21 ships its palm-detection and hand-landmark models inside the package, so
this works offline, out of the box. mediapipe is imported when a detector is made, never at
module import.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from sim.errors import UserError
from sim.tracking.hand import HandObservation
from sim.tracking.tracker import TrackerConfig


def import_mediapipe_hands() -> Any:
    """The ``mediapipe.solutions.hands`` module, or a UserError saying what to install."""
    try:
        from mediapipe.python.solutions import hands
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UserError(
            f"hand tracking needs mediapipe 0.10.21 (pip install 'mediapipe==0.10.21'): {exc}"
        ) from None
    return hands


@contextlib.contextmanager
def native_logs_quiet() -> Iterator[None]:
    """Send the process's stderr (file descriptor 2) to the null device while MediaPipe
    starts: its C++ libraries print "INFO: Created TensorFlow Lite XNNPACK delegate",
    "WARNING: All log messages before absl::InitializeLog()..." and ``W0000 ...`` lines
    there, which no environment variable of this version silences and which mean nothing
    to a trainee. Only the graph's creation and its first frames with a hand are quieted
    (where every such line comes), never a whole run."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no stderr to quiet
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class MediaPipeHands:
    """Finds hands in RGB frames with MediaPipe Hands.

    Parameters
    ----------
    config : TrackerConfig
        Model complexity, number of hands, confidence thresholds.
    static_image_mode : bool
        True for unrelated photos (detect every time); False for video (track between
        frames, faster and steadier).
    """

    def __init__(self, config: TrackerConfig, static_image_mode: bool = False) -> None:
        hands = import_mediapipe_hands()
        if config.model_complexity not in (0, 1):
            raise UserError(f"model complexity must be 0 or 1, not {config.model_complexity}")
        self.mirror_labels = not config.mirror
        with native_logs_quiet():
            self._hands = hands.Hands(
                static_image_mode=static_image_mode,
                max_num_hands=config.max_hands,
                model_complexity=config.model_complexity,
                min_detection_confidence=config.min_detection_confidence,
                min_tracking_confidence=config.min_tracking_confidence,
            )
        self._quiet = True  # until the first hand: the landmark stage's first warning

    def detect(self, rgb: np.ndarray) -> list[HandObservation]:
        """Every hand in ``rgb`` ((h, w, 3) uint8 RGB, C-contiguous)."""
        if self._hands is None:
            raise RuntimeError("the hand detector is closed")
        if self._quiet:
            with native_logs_quiet():
                res = self._hands.process(rgb)
            self._quiet = not res.multi_hand_landmarks
        else:
            res = self._hands.process(rgb)
        if not res.multi_hand_landmarks:
            return []
        out = []
        labels = res.multi_handedness or []
        for i, lms in enumerate(res.multi_hand_landmarks):
            arr = np.array([(p.x, p.y, p.z) for p in lms.landmark], dtype=np.float64)
            label, score = "right", 0.0
            if i < len(labels):
                c = labels[i].classification[0]
                label, score = c.label.lower(), float(c.score)
            # MediaPipe labels hands as if the image were mirrored (a selfie view); on
            # frames that were not flipped the label is the other hand.
            if self.mirror_labels:
                label = "left" if label == "right" else "right"
            out.append(HandObservation(arr, label, score))
        return out

    def close(self) -> None:
        """Release MediaPipe's graph (idempotent)."""
        if self._hands is not None:
            self._hands.close()
            self._hands = None
