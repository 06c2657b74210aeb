"""MediaPipe Hands (legacy ``mediapipe.solutions.hands``) as a :class:`Detector`.

mediapipe 0.10.21 ships its palm-detection and hand-landmark models inside the package, so
this works offline, out of the box. mediapipe is imported when a detector is made, never at
module import.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sys
import threading
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


NATIVE_LOG = re.compile(
    rb"^(?:[IWE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "
    rb"|INFO: Created TensorFlow Lite"
    rb"|WARNING: All log messages before absl::InitializeLog)"
)
"""The lines MediaPipe's C++ libraries print on stderr ("INFO: Created TensorFlow Lite
XNNPACK delegate", "WARNING: All log messages before absl::InitializeLog()...",
``W0000 00:00:... file.cc:114] ...``): nothing a trainee or a lab can act on."""

_filter: dict[str, Any] = {}


def filter_native_logs() -> None:
    """Drop :data:`NATIVE_LOG` lines from this process's stderr (file descriptor 2) from now
    on; every other line passes unchanged. No environment variable of this MediaPipe version
    silences them, and they come from its threads at any time (a graph's start, a hand lost
    and found again), so fd 2 is routed through a pipe read by a thread that forwards the
    rest; at exit fd 2 is put back and the pipe drained. Installed once, by the first
    detector; a process without a usable fd 2 is left alone."""
    if _filter:
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        r, w = os.pipe()
        os.dup2(w, 2)
        os.close(w)
    except (OSError, ValueError, AttributeError):
        _filter["off"] = True
        return
    pipe_ino = os.fstat(2).st_ino

    def forward() -> None:
        with os.fdopen(r, "rb") as src:
            for line in src:
                if not NATIVE_LOG.match(line):
                    with contextlib.suppress(OSError):
                        os.write(saved, line)

    t = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    t.start()

    def restore() -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
            if os.fstat(2).st_ino == pipe_ino:  # still ours (a test runner may have swapped it)
                os.dup2(saved, 2)  # the pipe's last writer closes: the thread drains and ends
                t.join(timeout=2.0)

    atexit.register(restore)
    _filter["thread"] = t


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
        filter_native_logs()
        self._hands = hands.Hands(
            static_image_mode=static_image_mode,
            max_num_hands=config.max_hands,
            model_complexity=config.model_complexity,
            min_detection_confidence=config.min_detection_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
        )

    def detect(self, rgb: np.ndarray) -> list[HandObservation]:
        """Every hand in ``rgb`` ((h, w, 3) uint8 RGB, C-contiguous)."""
        if self._hands is None:
            raise RuntimeError("the hand detector is closed")
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
