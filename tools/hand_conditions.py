"""The calibration's figures of the hand (light, contrast, blur, noise floor) on real videos,
as recorded and under the tracking audit's image conditions: where the thresholds of
``sim.tracking.quality.ConditionLimits`` come from (docs/tracking.md, "Calibration: the
conditions").

For every video (default: all of ``../shared/data/hands/*.mp4``) and every stretch of
``--frames`` frames starting at each ``--starts`` frame, each condition of
``sim.tracking.conditions`` is applied to every frame, the hand tracked with MediaPipe Hands
and measured with ``sim.tracking.hand_image.measure_hand_image``; the table gives the median
of each figure over the stretch and the stretch's noise floor
(``sim.tracking.calibration.calibrate_hold``), as a calibration hold would.

Usage::

    .venv/bin/python tools/hand_conditions.py [VIDEO ...] [--starts 100 ...] [--frames 50]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "hands"
CONDITIONS = ("original", "dim", "backlit", "low_contrast", "blur", "low_resolution", "noise")


def measure(video: Path, condition: str, start: int, frames: int) -> str:
    """One row: the stretch's median figures and noise floor under ``condition``."""
    import cv2

    from sim.tracking.calibration import calibrate_hold
    from sim.tracking.conditions import apply
    from sim.tracking.hand_image import measure_hand_image
    from sim.tracking.mediapipe_hands import MediaPipeHands
    from sim.tracking.quality import judge, median_image
    from sim.tracking.tracker import HandTracker, TrackerConfig

    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    config = TrackerConfig()
    det = MediaPipeHands(config)
    tracker: HandTracker | None = None
    images, ts, lms = [], [], []
    try:
        for i in range(frames):
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(apply(condition, bgr, i), cv2.COLOR_BGR2RGB)
            if tracker is None:
                tracker = HandTracker(config, (rgb.shape[1], rgb.shape[0]))
            res = tracker.update(i / fps, det.detect(rgb))
            if res.selected is not None:
                m = measure_hand_image(rgb, res.selected.landmarks)
                if m is not None:
                    images.append(m)
                ts.append(i / fps)
                lms.append(res.selected.landmarks)
    finally:
        det.close()
        cap.release()
    med = median_image(images)
    if med is None or tracker is None or len(ts) < 2:
        return f"| {video.name} | {start} | {condition} | {len(ts)} | - | - | - | - | - | - |"
    cal = calibrate_hold(np.array(ts), np.array(lms), tracker.aspect, tracker.workspace)
    poor = ", ".join(p.name for p in judge(med, cal.noise_floor_mm)) or "-"
    return (
        f"| {video.name} | {start} | {condition} | {len(ts)} | {med.luma_mean:.0f} | "
        f"{med.luma_sd:.0f} | {med.luma_mean / max(med.scene_luma_mean, 1e-9):.2f} | "
        f"{med.blur:.2f} | {cal.noise_floor_mm:.2f} | {poor} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*", type=Path, help=f"videos (default: {SHARED}/*.mp4)")
    ap.add_argument("--starts", nargs="*", type=int, default=[100], help="first frames")
    ap.add_argument("--frames", type=int, default=50, help="frames per stretch")
    args = ap.parse_args(argv)
    videos = args.videos or sorted(SHARED.glob("*.mp4"))
    if not videos:
        print(f"hand_conditions: no videos given and none in {SHARED}", file=sys.stderr)
        return 2
    print(
        "| video | from frame | condition | frames with hand | hand luma | luma SD | "
        "hand/frame | blur | noise floor mm | judged |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for v in videos:
        for start in args.starts:
            for c in CONDITIONS:
                print(measure(v, c, start, args.frames), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
