"""Benchmark hand tracking: what the pipeline costs on top of MediaPipe, and what tracking
costs the app. All figures come from one run on the same video.

1. Throughput: frames per second of the full offline path (``procsim track`` end to end:
   decode in the capture thread, MediaPipe + hand selection + pose mapping in the tracking
   thread, then the pipeline and the recording) against a bare loop that only calls
   MediaPipe Hands on the same frames, decoded beforehand. Both count MediaPipe's
   start-up (building its graph), as a run of ``procsim track`` does. Target: the
   pipeline keeps >= 90 % of the bare rate. The two are run alternately ``--repeat``
   times; the best of each is reported.
2. Latency: capture-to-Sample latency of the live source (the video played in real time),
   median and 95th percentile: from the frame's capture time to its Sample being queued
   for ``poll()``; and capture-to-poll, as seen by the app loop of part 3.
3. App frame rate with tracking running (the live source on the video played in real time,
   polled every frame, Samples fed to the pipeline and recorder, the picture-in-picture
   image built for each new camera frame and drawn every frame, as the practice screen
   does) against without (the same loop fed by a scripted
   source at the video's rate), paced at 60 fps like the app. Two per-frame workloads:
   a fixed slice of Python CPU work (``--workload-ms``, default 5 ms: the app's own
   per-frame Python cost, which is what it spends where a GPU draws), and the real
   offscreen renderer (scene + HUD) when an OpenGL context can be had; on a machine
   without a GPU, Mesa llvmpipe rasterises on the same cores MediaPipe needs, so that run
   is the worst case. Target: the app keeps >= 90 % of its frame rate.

The figures depend on what else runs on the machine: the load average is printed with them.

Usage::

    SDL_VIDEODRIVER=offscreen PYOPENGL_PLATFORM=egl SDL_AUDIODRIVER=dummy \\
        .venv/bin/python tools/bench_tracking.py [--video PATH] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
VIDEO = ROOT / ".." / "shared" / "data" / "hands" / "mps_hand_landmarker_test_video.mp4"


def decode_all(video: Path, mirror: bool) -> list[np.ndarray]:
    """Every frame of ``video`` as the tracker sees it (RGB, mirrored)."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        if mirror:
            f = cv2.flip(f, 1)
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def bare_fps(frames: list[np.ndarray], config: Any) -> float:
    """MediaPipe Hands alone on pre-decoded frames (start-up included), frames per second."""
    from sim.tracking.mediapipe_hands import import_mediapipe_hands

    module = import_mediapipe_hands()
    t0 = time.perf_counter()  # start-up counted, as in the pipeline run
    hands = module.Hands(
        static_image_mode=False,
        max_num_hands=config.max_hands,
        model_complexity=config.model_complexity,
        min_detection_confidence=config.min_detection_confidence,
        min_tracking_confidence=config.min_tracking_confidence,
    )
    try:
        for f in frames:
            hands.process(f)
        return len(frames) / (time.perf_counter() - t0)
    finally:
        hands.close()


def pipeline_fps(video: Path, config: Any, scenario_id: str) -> tuple[float, float]:
    """``procsim track`` end to end (capture, MediaPipe, selection, pose mapping, pipeline,
    recording written), frames per second of wall time, and the detection rate."""
    from sim.tracking.commands import run_track

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rep = run_track(video, scenario_id, Path(tmp) / "bench.jsonl", config=config)
        wall = time.perf_counter() - t0
    return rep.frames / wall, rep.detection_rate


class CpuWork:
    """A fixed slice of pure-Python CPU work (holds the GIL, like the app's Python code)."""

    def __init__(self, ms: float) -> None:
        self.n = 1000
        t0 = time.perf_counter()
        self._spin(self.n)
        per = (time.perf_counter() - t0) / self.n
        self.n = max(1, int(ms / 1e3 / per))

    @staticmethod
    def _spin(n: int) -> float:
        x = 0.0
        for i in range(n):
            x += (i % 7) * 0.5
        return x

    def __call__(self, pipeline: Any, t_s: float, pip: np.ndarray | None) -> None:
        self._spin(self.n)


Draw = Callable[[Any, float, "np.ndarray | None"], None]


def make_renderer(size: tuple[int, int], scenario: Any) -> Draw | None:
    """The app's per-frame drawing (scene + HUD, offscreen), or None without OpenGL."""
    try:
        import pygame
        from OpenGL import GL

        from sim.render.offscreen import offscreen_context
        from sim.render.renderer import Renderer
        from sim.render.scene import DrawOptions, default_camera, frame_from_pipeline

        offscreen_context(size)
        renderer = Renderer(size)
    except Exception as exc:  # no display / no GL here: fall back to CPU work
        print(f"(renderer unavailable: {type(exc).__name__}: {exc}; using CPU work)")
        return None
    camera = default_camera(scenario)
    options = DrawOptions()

    def draw(pipeline: Any, t_s: float, pip: np.ndarray | None) -> None:
        renderer.draw(frame_from_pipeline(pipeline, t_s=t_s), options, camera)
        if pip is not None:  # top right, as the practice screen places it
            s = size[1] / 720.0
            renderer.draw_image(pip, size[0] - pip.shape[1] - 16 * s, 14 * s)
        GL.glFinish()
        pygame.display.flip()

    return draw


def app_loop(
    seconds: float,
    draw: Draw,
    scenario: Any,
    video: Path | None,
    config: Any,
    rate_hz: float,
    app_fps: float = 60.0,
    pip_scale: float = 1.0,
) -> dict[str, float]:
    """Run the app's frame loop for ``seconds``; with ``video`` the live camera source
    feeds it, else a scripted source at ``rate_hz``. Returns fps and latencies."""
    from sim.pipeline import Pipeline
    from sim.sources.camera import CameraSource, FrameView
    from sim.sources.scripted import ScriptedSource
    from sim.storage.session import SessionRecorder
    from sim.tracking.overlay import camera_view

    pipeline = Pipeline(scenario, input_kind="bench")
    tmp = tempfile.TemporaryDirectory()
    rec = SessionRecorder(pipeline, Path(tmp.name) / "app.jsonl")
    src: CameraSource | None = None
    scripted: list[Any] = []
    if video is not None:
        src = CameraSource(f"video:{video}", config)
    else:
        items = [i for i in ScriptedSource(scenario, "intermediate", 1) if hasattr(i, "tip_mm")]
        scripted = [
            type(s)(k / rate_hz, s.tip_mm, s.axis, s.normal, s.grip, True, (0.5,) * 63)
            for k, s in enumerate(items)
        ]
    frames = 0
    poll_lat: list[float] = []
    last_view: FrameView | None = None
    pip: np.ndarray | None = None
    pip_width = int(240 * pip_scale)  # the practice screen's picture-in-picture width
    k = 0
    for _ in range(5):  # warm up the drawing
        draw(pipeline, 0.0, None)
    t0 = time.monotonic()
    if src is not None:
        src.start(t0)
    period = 1.0 / app_fps if app_fps > 0 else 0.0
    next_frame = t0
    while True:
        if period:  # pace like the app (pygame.time.Clock.tick(60))
            next_frame += period
            delay = next_frame - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_frame = time.monotonic()
        now = time.monotonic()
        t = now - t0
        if t >= seconds:
            break
        if src is not None:
            for s in src.poll():
                rec.feed(s)
                poll_lat.append(now - (t0 + s.t_s))
            view = src.latest_frame()
            if view is not None and view is not last_view:
                pip = camera_view(view.rgb, view.landmarks, view.others, width=pip_width)
                last_view = view
            src.display_sample()
        else:
            while k < len(scripted) and scripted[k].t_s <= t:
                rec.feed(scripted[k])
                k += 1
        draw(pipeline, t, pip)
        frames += 1
    elapsed = time.monotonic() - t0
    out = {"fps": frames / elapsed, "samples": float(len(pipeline.samples))}
    if src is not None:
        src.close()
        lat = sorted(src.latencies_s)
        out["latency_median_ms"] = 1e3 * statistics.median(lat)
        out["latency_p95_ms"] = 1e3 * lat[int(0.95 * (len(lat) - 1))]
        poll_lat.sort()
        out["poll_latency_median_ms"] = 1e3 * statistics.median(poll_lat)
        out["poll_latency_p95_ms"] = 1e3 * poll_lat[int(0.95 * (len(poll_lat) - 1))]
        out["frames_dropped"] = float(src.frames_dropped)
        out["frames_read"] = float(src.frames_read)
    rec.finish()
    tmp.cleanup()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", type=Path, default=VIDEO, help="video file (default: test video)")
    ap.add_argument("--scenario", default="venipuncture")
    ap.add_argument("--repeat", type=int, default=3, help="throughput runs of each (best kept)")
    ap.add_argument("--model-complexity", type=int, choices=[0, 1], default=1)
    ap.add_argument("--app-seconds", type=float, default=6.0, help="length of each app run")
    ap.add_argument("--size", default="1280x720", help="app window size for the renderer")
    ap.add_argument(
        "--workload-ms", type=float, default=5.0,
        help="Python CPU work per app frame (the app's own per-frame cost; default 5 ms)",
    )  # fmt: skip
    ap.add_argument("--no-renderer", action="store_true", help="skip the llvmpipe renderer run")
    ap.add_argument(
        "--app-fps", type=float, default=60.0,
        help="the app's frame pacing (it ticks at 60 fps); 0 runs it flat out",
    )  # fmt: skip
    ap.add_argument("--skip-throughput", action="store_true", help="only the app part")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    video = args.video.resolve()
    if not video.is_file():
        print(f"bench_tracking: no video at {video}", file=sys.stderr)
        return 2

    from sim.scenarios import find_scenario
    from sim.tracking.tracker import TrackerConfig

    config = TrackerConfig(model_complexity=args.model_complexity)
    scenario = find_scenario(args.scenario)
    frames = decode_all(video, config.mirror)
    bare: list[float] = []
    full: list[float] = []
    det = 0.0
    for _ in range(0 if args.skip_throughput else args.repeat):
        bare.append(bare_fps(frames, config))
        fps, det = pipeline_fps(video, config, args.scenario)
        full.append(fps)
    if not bare:
        bare, full = [float("nan")], [float("nan")]
    res: dict[str, Any] = {
        "video": str(video),
        "frames": len(frames),
        "frame_size": [int(frames[0].shape[1]), int(frames[0].shape[0])],
        "detection_rate": det,
        "bare_mediapipe_fps": max(bare),
        "pipeline_fps": max(full),
        "pipeline_over_bare": max(full) / max(bare),
        "bare_runs_fps": bare,
        "pipeline_runs_fps": full,
    }

    import cv2

    cap = cv2.VideoCapture(str(video))
    rate = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0
    cap.release()
    seconds = min(args.app_seconds, len(frames) / rate - 0.5)
    w, h = (int(v) for v in args.size.lower().split("x"))
    workloads: list[tuple[str, Draw]] = [
        (f"cpu {args.workload_ms:g} ms/frame", CpuWork(args.workload_ms))
    ]
    if not args.no_renderer:
        draw = make_renderer((w, h), scenario)
        if draw is not None:
            workloads.append((f"renderer {w}x{h} (llvmpipe)", draw))
    res["app"] = []
    for name, work in workloads:
        without = app_loop(seconds, work, scenario, None, config, rate, args.app_fps, h / 720)
        with_tr = app_loop(seconds, work, scenario, video, config, rate, args.app_fps, h / 720)
        res["app"].append(
            {
                "workload": name,
                "fps_without_tracking": without["fps"],
                "fps_with_tracking": with_tr["fps"],
                "with_over_without": with_tr["fps"] / without["fps"],
                "latency_median_ms": with_tr["latency_median_ms"],
                "latency_p95_ms": with_tr["latency_p95_ms"],
                "capture_to_poll_median_ms": with_tr["poll_latency_median_ms"],
                "capture_to_poll_p95_ms": with_tr["poll_latency_p95_ms"],
                "live_frames_read": with_tr["frames_read"],
                "live_frames_dropped": with_tr["frames_dropped"],
            }
        )
    res["load_average_1min"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(
        f"video {video.name}: {res['frames']} frames {res['frame_size'][0]}x"
        f"{res['frame_size'][1]}, hand in {100 * det:.1f} % "
        f"(load average {res['load_average_1min']:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"throughput   bare MediaPipe {res['bare_mediapipe_fps']:.1f} fps, full pipeline "
        f"{res['pipeline_fps']:.1f} fps: {100 * res['pipeline_over_bare']:.1f} % (target >= 90 %)"
    )
    for a in res["app"]:
        print(
            f"app, {a['workload']}, paced at {args.app_fps:g} fps: without tracking "
            f"{a['fps_without_tracking']:.1f} fps, with {a['fps_with_tracking']:.1f} fps: "
            f"{100 * a['with_over_without']:.1f} % (target >= 90 %)"
        )
        print(
            f"  latency    capture -> Sample median {a['latency_median_ms']:.1f} ms, p95 "
            f"{a['latency_p95_ms']:.1f} ms; capture -> polled by the app median "
            f"{a['capture_to_poll_median_ms']:.1f} ms, p95 {a['capture_to_poll_p95_ms']:.1f} ms; "
            f"live frames dropped {int(a['live_frames_dropped'])}/{int(a['live_frames_read'])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
