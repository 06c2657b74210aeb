"""Hand tracking: from camera frames to instrument Samples.

Layout (only :mod:`.mediapipe_hands`, :mod:`.overlay` and :mod:`.commands` import cv2 or
mediapipe, and only inside functions, so everything else is pure numpy and testable in
milliseconds):

- :mod:`.hand`: landmark indices, :class:`~.hand.HandObservation` (one detected hand).
- :mod:`.pose`: landmarks -> instrument pose (tip, axis, roll, grip, depth); the workspace
  mapping from camera space to scene millimetres; grip hysteresis.
- :mod:`.selection`: which detected hand drives the instrument (continuity, phantom hands,
  handedness flips).
- :mod:`.filters`: One Euro filter, for the on-screen instrument only.
- :mod:`.calibration`: tracker noise floor in the tremor band; workspace calibration; the
  guided calibration step as a small state machine the app drives.
- :mod:`.tracker`: detections of one frame -> one :class:`~sim.core.records.Sample`.
- :mod:`.mediapipe_hands`: the MediaPipe Hands detector.
- :mod:`.overlay`: landmarks and the "hand not visible" cue drawn on an RGB image.
- :mod:`.commands`: ``procsim track``.

See ``docs/tracking.md`` for the mapping and its limits.
"""

from __future__ import annotations
