"""How much of the webcam tip's motion is the tracker's, per scene axis, on real hand videos.

For every video (default: all of ``../shared/data/hands/*.mp4``) the hand is tracked through
the same path as ``procsim track`` (MediaPipe Hands, the default workspace mapping) and,
per scene axis (x along the arm, y up, z across the arm, which the camera sees as depth),
two figures are printed:

- **jitter**: the standard deviation of the tip's deviation from its own 0.3 s running
  median, mm (how far the tip wanders around where the hand is going);
- **band**: the tremor-band (4-12 Hz) RMS over the whole video, mm (what the noise floor of
  a calibration hold measures, here over a moving hand, so an upper bound).

Usage::

    .venv/bin/python tools/noise_axes.py [VIDEO ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "hands"
WINDOW_S = 0.3
AXES = ("x (along the arm)", "y (up)", "z (across, depth)")


def running_median_jitter_mm(t_s: np.ndarray, tip_mm: np.ndarray) -> list[float]:
    """Per axis: std of the tip's deviation from its centred 0.3 s running median, mm."""
    half = WINDOW_S / 2
    dev = np.empty_like(tip_mm)
    for i, t in enumerate(t_s):
        sel = (t_s >= t - half) & (t_s <= t + half)
        dev[i] = tip_mm[i] - np.median(tip_mm[sel], axis=0)
    return [float(np.std(dev[:, k])) for k in range(3)]


def measure(video: Path) -> dict[str, object]:
    """The figures of one video."""
    from sim.tracking.calibration import noise_floor_axes_mm
    from sim.tracking.commands import track_samples
    from sim.tracking.tracker import TrackerConfig

    samples, _tracker, _wall = track_samples(video, TrackerConfig())
    held = [s for s in samples if s.tracked]
    if len(held) < 30:
        return {"video": video.name, "frames": len(samples), "tracked": len(held)}
    t = np.array([s.t_s for s in held])
    p = np.array([s.tip_mm for s in held])
    return {
        "video": video.name,
        "frames": len(samples),
        "tracked": len(held),
        "jitter_mm": running_median_jitter_mm(t, p),
        "band_mm": list(noise_floor_axes_mm(t, p)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*", type=Path, help=f"videos (default: {SHARED}/*.mp4)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    videos = args.videos or sorted(SHARED.glob("*.mp4"))
    if not videos:
        print(f"noise_axes: no videos given and none in {SHARED}", file=sys.stderr)
        return 2
    missing = [v for v in videos if not v.is_file()]
    if missing:
        print(f"noise_axes: {missing[0]}: no such video file", file=sys.stderr)
        return 2
    rows = [measure(v) for v in videos]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'video':40s} {'tracked':>9s}  " + "  ".join(f"{a:>18s}" for a in AXES))
    for r in rows:
        head = f"{str(r['video']):40s} {r['tracked']:>4}/{r['frames']:<4}"
        if "jitter_mm" not in r:
            print(head + "  (too few tracked frames)")
            continue
        jit, band = r["jitter_mm"], r["band_mm"]
        assert isinstance(jit, list) and isinstance(band, list)
        cells = "  ".join(f"{j:7.2f} / {b:5.2f} mm" for j, b in zip(jit, band, strict=True))
        print(head + "  " + cells)
    print("each cell: jitter around the 0.3 s running median (std) / 4-12 Hz band RMS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
