"""The tracking maths is pure numpy: importing it (and the camera source, and the track
command) loads neither OpenCV nor MediaPipe, so it runs in a notebook or batch job."""

from __future__ import annotations

import subprocess
import sys


def test_pure_modules_load_no_cv2_or_mediapipe() -> None:
    code = (
        "import sys\n"
        "import sim.tracking.hand, sim.tracking.pose, sim.tracking.selection\n"
        "import sim.tracking.filters, sim.tracking.calibration, sim.tracking.tracker\n"
        "import sim.tracking.commands, sim.sources.camera, sim.tracking.overlay\n"
        "import sim.tracking.mediapipe_hands, sim.tracking.audit, sim.tracking.conditions\n"
        "bad = [m for m in ('cv2', 'mediapipe', 'pygame', 'OpenGL') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
