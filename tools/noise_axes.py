"""How much of the webcam tip's motion is the tracker's, per scene axis and needle angle, on
real hand videos; and what each way of setting depth (``[input.webcam] depth``) leaves of it.

For every video (default: all of ``../shared/data/hands/*.mp4``) the hand is tracked through
the same path as ``procsim track`` (MediaPipe Hands, the default workspace mapping), and:

**before** (the camera's own reading): per scene axis (x along the arm, y up, z across the
arm, which the camera sees as depth) and for the needle's pitch and roll, the jitter: the SD
of the reading about its own 0.3 s running median (``sim.metrics.noise.jitter``; what a
calibration hold measures, here over a moving hand, so an upper bound). Also the 4-12 Hz
band RMS per axis.

**after**, for the aim across the arm (z) under each depth mode, with the hand's intent taken
as the 0.3 s running median of its depth and the task's line (the vein) at the video's median
depth: the SD of the aim's error from noise alone, and the share of frames in which noise
alone would put the aim off a vein of the venipuncture scenario's width (how often an "off
the vein" cue or a puncture offset would be the tracker's):

- ``camera``: z follows the depth (what procsim did before);
- ``smooth``: an exponential filter on depth (time constant 0.25 s), evaluated only: it
  lowers the noise but lags the hand and still mis-aims on slow drift;
- ``snap``: the depth assist of ``sim.core.assist`` with the scenario's ``depth_snap_mm``.

Usage::

    .venv/bin/python tools/noise_axes.py [VIDEO ...] [--snap-mm MM] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "hands"
QUANT = ("x", "y", "z", "angle", "roll")
SMOOTH_TAU_S = 0.25


def ema(t: np.ndarray, v: np.ndarray, tau_s: float) -> np.ndarray:
    out = np.empty_like(v)
    out[0] = v[0]
    for i in range(1, len(v)):
        a = 1.0 - np.exp(-(t[i] - t[i - 1]) / tau_s)
        out[i] = out[i - 1] + a * (v[i] - out[i - 1])
    return out


def measure(video: Path, snap_mm: float, radius_mm: float) -> dict[str, object]:
    """The figures of one video."""
    from sim.core.assist import DepthAssist
    from sim.metrics.noise import jitter, needle_angles_deg, running_median
    from sim.tracking.calibration import noise_floor_mm
    from sim.tracking.commands import track_samples
    from sim.tracking.tracker import TrackerConfig

    samples, _tracker, _wall = track_samples(video, TrackerConfig())
    held = [s for s in samples if s.tracked]
    if len(held) < 30:
        return {"video": video.name, "frames": len(samples), "tracked": len(held)}
    t = np.array([s.t_s for s in held])
    p = np.array([s.tip_mm for s in held])
    ang = needle_angles_deg([s.axis for s in held], [s.normal for s in held])
    before = jitter(t, np.column_stack([p, ang]))
    band = []
    for k in range(3):
        only = np.zeros_like(p)
        only[:, k] = p[:, k]
        band.append(noise_floor_mm(t, only))
    z = p[:, 2]
    intent = running_median(t, z)[:, 0]
    line = float(np.median(z))

    def assisted(mode: str, zone: float, v: np.ndarray) -> np.ndarray:
        a = DepthAssist(mode, line, zone)
        return np.array(
            [a.apply((0.0, 0.0, float(x)), (1.0, 0.0, 0.0), (0, 1, 0))[0][2] for x in v]
        )

    errors = {
        "camera": z - intent,
        "smooth": ema(t, z, SMOOTH_TAU_S) - intent,
        "snap": assisted("snap", snap_mm, z) - assisted("snap", snap_mm, intent),
        "snap x2": assisted("snap", 2 * snap_mm, z) - assisted("snap", 2 * snap_mm, intent),
        "fixed": np.zeros_like(z),
    }
    after = {
        mode: {"sd_mm": float(np.std(e)), "off_vein_share": float(np.mean(np.abs(e) > radius_mm))}
        for mode, e in errors.items()
    }
    return {
        "video": video.name,
        "frames": len(samples),
        "tracked": len(held),
        "jitter": dict(zip(QUANT, before, strict=True)),
        "band_mm": band,
        "depth_range_mm": float(np.percentile(intent, 95) - np.percentile(intent, 5)),
        "after": after,
    }


def main(argv: list[str] | None = None) -> int:
    from sim.scenarios import find_scenario

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*", type=Path, help=f"videos (default: {SHARED}/*.mp4)")
    sc = find_scenario("venipuncture")
    default_snap = sc.depth_spec("webcam").depth_snap_mm
    ap.add_argument(
        "--snap-mm",
        type=float,
        default=default_snap,
        help=f"snap zone half-width, mm (default: the venipuncture scenario's, {default_snap:g})",
    )
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
    radius = sc.geometry.vein_diameter_mm / 2  # type: ignore[attr-defined]
    rows = [measure(v, args.snap_mm, radius) for v in videos]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("before: jitter about the 0.3 s running median (band: 4-12 Hz RMS)")
    cols = " ".join(f"{c:>12s}" for c in ("x mm", "y mm", "z mm"))
    print(f"{'video':40s} {'tracked':>9s}  {cols}  angle   roll")
    for r in rows:
        head = f"{str(r['video']):40s} {r['tracked']:>4}/{r['frames']:<4}"
        if "jitter" not in r:
            print(head + "  (too few tracked frames)")
            continue
        j, b = r["jitter"], r["band_mm"]
        assert isinstance(j, dict) and isinstance(b, list)
        cells = " ".join(f"{j[q]:5.2f} ({bb:4.2f})" for q, bb in zip("xyz", b, strict=True))
        print(f"{head}  {cells} {j['angle']:5.1f}° {j['roll']:5.1f}°")
    print(
        f"\nafter: the aim across the arm, error from noise alone: SD mm / share of frames "
        f"off a {2 * radius:g} mm vein (snap zone ±{args.snap_mm:g} mm; snap x2: twice that; "
        "range: 5-95 % of the hand's own depth)"
    )
    modes = ("camera", "smooth", "snap", "snap x2", "fixed")
    print(f"{'video':40s} {'range':>7s} " + " ".join(f"{m:>15s}" for m in modes))
    for r in rows:
        if "after" not in r:
            continue
        a = r["after"]
        assert isinstance(a, dict)
        cells = " ".join(
            f"{a[m]['sd_mm']:5.2f} / {100 * a[m]['off_vein_share']:4.1f} %" for m in modes
        )
        print(f"{str(r['video']):40s} {r['depth_range_mm']:5.0f}mm {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
