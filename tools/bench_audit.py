"""Benchmark ``procsim audit-tracking``: processing time per video and per condition.

Each video (default: every ``../shared/data/hands/*.mp4``) is audited exactly as the command
does it (:func:`sim.tracking.audit.audit_video`: decode, the image condition, MediaPipe and
the mapping, per condition), and the table gives per condition the wall time, the frames per
second of the whole path, the time the condition itself took to compute per frame, and the
tracker's own time per frame. The last line per video is the whole audit's time: what a lab
waits for on a station like this one.

The figures depend on what else runs on the machine: the load average is printed with them.

Usage::

    .venv/bin/python tools/bench_audit.py [VIDEO ...] [--frames N] [--conditions A,B] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "hands"


def bench(video: Path, frames: int | None, conditions: list[str]) -> dict[str, object]:
    """One video's timings."""
    from sim.sources.camera import CvCapture, InputSpec
    from sim.tracking import audit

    c0 = time.perf_counter()
    a = audit.audit_video(str(video), conditions=conditions, frames=frames)
    total = time.perf_counter() - c0
    rows = []
    for fig in a.conditions:
        # the condition's own cost, on the same frames, without the tracker
        g = audit.ConditionedGrabber(
            CvCapture(InputSpec("video", path=str(video))), fig.name, frames
        )
        n = 0
        while g.read()[0] is not None:
            n += 1
        g.release()
        rows.append(
            {
                "condition": fig.name,
                "frames": fig.frames,
                "wall_s": fig.processing_s,
                "fps": fig.frames / fig.processing_s if fig.processing_s else 0.0,
                "condition_ms": 1000.0 * g.condition_s / max(1, n),
                "tracking_ms": fig.latency_ms,
            }
        )
    return {"video": video.name, "total_s": total, "conditions": rows}


def main(argv: list[str] | None = None) -> int:
    from sim.tracking.audit import DEFAULT_FRAMES
    from sim.tracking.conditions import CONDITIONS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*", type=Path, help=f"videos (default: {SHARED}/*.mp4)")
    ap.add_argument(
        "--frames", type=int, default=DEFAULT_FRAMES, help="frames per condition (0: all)"
    )
    ap.add_argument("--conditions", default=",".join(CONDITIONS), help="conditions to time")
    ap.add_argument("--json", action="store_true", help="print the timings as JSON")
    args = ap.parse_args(argv)
    videos = args.videos or sorted(SHARED.glob("*.mp4"))
    conditions = [c for c in args.conditions.split(",") if c]
    bad = [c for c in conditions if c not in CONDITIONS]
    if bad or not conditions:
        print(
            f"bench_audit: --conditions: expected some of {', '.join(CONDITIONS)}", file=sys.stderr
        )
        return 2
    missing = [v for v in videos if not v.is_file()]
    if not videos or missing:
        print(f"bench_audit: {missing[0] if missing else SHARED}: no video", file=sys.stderr)
        return 2
    frames = None if args.frames == 0 else args.frames
    rows = [bench(v, frames, conditions) for v in videos]
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"load": load, "videos": rows}, indent=2))
        return 0
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    for r in rows:
        print(f"\n{r['video']}")
        print(
            f"  {'condition':15s} {'frames':>6s} {'wall s':>7s} {'fps':>6s} "
            f"{'cond ms':>8s} {'track ms':>9s}"
        )
        for c in r["conditions"]:  # type: ignore[attr-defined]
            print(
                f"  {c['condition']:15s} {c['frames']:6d} {c['wall_s']:7.1f} {c['fps']:6.1f} "
                f"{c['condition_ms']:8.2f} {c['tracking_ms']:9.1f}"
            )
        print(f"  whole audit: {r['total_s']:.0f} s (as procsim audit-tracking takes it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
