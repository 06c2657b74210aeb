"""Benchmark the renderer: each scene with its HUD at 1280x720, offscreen.

Replays a scripted session of each registered procedure (its first shipped scenario)
through the real pipeline and draws one frame per sample time step of 1/60 s, exactly as
the practice screen does (frame from the pipeline, scene, HUD, side view). For every
frame it measures

- the frame time: wall clock from the start of drawing until ``glFinish`` returns and the
  frame is flipped (what the GPU, here Mesa llvmpipe, needs), and
- the Python CPU time: CPU time of the main thread while building and issuing the frame
  (``time.thread_time``; llvmpipe rasterises in its own threads, which are not counted).

Targets on a 2-core machine with llvmpipe: median frame time <= 25 ms, Python CPU <= 3 ms.

Usage::

    SDL_VIDEODRIVER=offscreen PYOPENGL_PLATFORM=egl SDL_AUDIODRIVER=dummy \\
        .venv/bin/python tools/bench_render.py [--frames 300] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def bench_scene(task: str, frames: int, size: tuple[int, int]) -> tuple[float, float, float]:
    """(median frame ms, median Python CPU ms, 95th percentile Python CPU ms) of one scene."""
    import pygame
    from OpenGL import GL

    from sim.pipeline import Pipeline
    from sim.render.renderer import Renderer
    from sim.render.scene import DrawOptions, default_camera, frame_from_pipeline
    from sim.scenarios import load_scenario, scenario_paths
    from sim.sources.scripted import ScriptedSource

    # the first shipped scenario of the procedure
    scenario = next(s for s in map(load_scenario, scenario_paths()) if s.task == task)
    items = list(ScriptedSource(scenario, "intermediate", seed=1))
    renderer = Renderer(size)
    camera = default_camera(scenario)
    options = DrawOptions()
    pipeline = Pipeline(scenario)
    wall: list[float] = []
    cpu: list[float] = []
    i = 0
    warmup = 20
    dt = 1.0 / 60.0
    t = 0.0
    for n in range(frames + warmup):
        t += dt
        while i < len(items) and items[i].t_s <= t:  # the session, not timed
            pipeline.feed(items[i])
            i += 1
        if i >= len(items):  # loop the session for long runs
            pipeline, i, t = Pipeline(scenario), 0, 0.0
        w0 = time.perf_counter()
        c0 = time.thread_time()
        frame = frame_from_pipeline(pipeline, t_s=t)
        renderer.draw(frame, options, camera)
        c1 = time.thread_time()
        GL.glFinish()
        pygame.display.flip()
        w1 = time.perf_counter()
        if n >= warmup:
            wall.append(w1 - w0)
            cpu.append(c1 - c0)
    cpu_sorted = sorted(cpu)
    return (
        statistics.median(wall) * 1e3,
        statistics.median(cpu) * 1e3,
        cpu_sorted[int(0.95 * (len(cpu_sorted) - 1))] * 1e3,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="frames per scene (default 300)")
    parser.add_argument("--size", default="1280x720", help="WxH (default 1280x720)")
    args = parser.parse_args(argv)
    from sim.app.commands import parse_size
    from sim.errors import UserError
    from sim.render.offscreen import use_offscreen_if_headless

    size = parse_size(args.size)
    use_offscreen_if_headless()
    from sim.render.gl import open_window

    try:
        open_window(size, "procsim bench", hidden=True)
    except UserError as exc:
        print(f"bench_render: {exc}", file=sys.stderr)
        return 2
    from OpenGL import GL

    renderer_name = GL.glGetString(GL.GL_RENDERER).decode()
    print(f"renderer: {renderer_name}; {size[0]}x{size[1]}, scene + HUD, {args.frames} frames")
    print(f"{'procedure':16s} {'median frame ms':>16s} {'Python CPU ms/frame':>20s} {'(p95)':>7s}")
    ok = True
    from sim.procedures.registry import ids

    for sid in ids():
        frame_ms, cpu_ms, cpu95 = bench_scene(sid, args.frames, size)
        print(f"{sid:16s} {frame_ms:16.1f} {cpu_ms:20.2f} {cpu95:7.2f}")
        ok = ok and frame_ms <= 25.0 and cpu_ms <= 3.0
    print(
        "targets: median frame <= 25 ms, Python CPU <= 3 ms per frame: "
        + ("met" if ok else "NOT met")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
