"""Benchmark: open a 30-minute, 60 Hz recording for replay and seek to its end.

Builds the recording by concatenating scripted venipuncture sessions (shifted in time, run
through the real pipeline and recorded with ``run_session``), then measures:

- open: :class:`sim.replay.timeline.Timeline` (arrays, events, cues), against the core's
  ``load_recording`` for reference;
- the plot series under the timeline (speed and tremor at every sample, as shown live);
- seek to the end, recorded state (pose, events, cues): binary search;
- seek to the end, derived state (task phase, live view): the first time (the pipeline
  replays the whole session, leaving checkpoints), then again anywhere (from a checkpoint);
- playing forward: one frame of 1/60 s.

Usage: ``.venv/bin/python tools/bench_replay.py [--minutes 30] [--keep FILE]``
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.core.records import Action, ActionKind, Item  # noqa: E402
from sim.pipeline import Pipeline  # noqa: E402
from sim.replay.derived import Derived  # noqa: E402
from sim.replay.timeline import Timeline  # noqa: E402
from sim.scenarios import find_scenario  # noqa: E402
from sim.sources.scripted import ScriptedSource  # noqa: E402
from sim.storage.recording import load_recording  # noqa: E402
from sim.storage.session import run_session  # noqa: E402


def long_items(minutes: float) -> list[Item]:
    """Scripted sessions one after another (seeds 0, 1, ...), until ``minutes`` long."""
    sc = find_scenario("venipuncture")
    out: list[Item] = []
    offset = 0.0
    seed = 0
    dt = 1.0 / sc.sample_rate_hz
    while offset < minutes * 60:
        items = [
            i
            for i in ScriptedSource(sc, ("novice", "intermediate", "expert")[seed % 3], seed)
            if not (isinstance(i, Action) and i.kind == ActionKind.FINISH)
        ]
        for it in items:
            if it.t_s + offset > minutes * 60:
                break
            out.append(dataclasses.replace(it, t_s=it.t_s + offset))
        offset = out[-1].t_s + dt
        seed += 1
    out.append(Action(out[-1].t_s, ActionKind.FINISH))
    return out


def best(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--keep", help="write the recording here (default: a temporary file)")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    path = Path(args.keep) if args.keep else Path(tmp.name) / "long.jsonl"
    if not path.exists():
        t0 = time.perf_counter()
        sc = find_scenario("venipuncture")
        run_session(Pipeline(sc), long_items(args.minutes), path, trainee="bench")
        print(f"built {path.name} in {time.perf_counter() - t0:.1f} s")
    size_mb = path.stat().st_size / 1e6

    def open_and_seek() -> None:
        tl = Timeline(path)
        st = tl.state_at(tl.end_s)
        assert st.index == tl.n - 1

    tl = Timeline(path)
    print(
        f"recording: {tl.duration_s / 60:.1f} min, {tl.n} samples, {len(tl.events)} events, "
        f"{len(tl.cues)} cue changes, {size_mb:.1f} MB"
    )
    t_open = best(lambda: Timeline(path))
    t_open_seek = best(open_and_seek)
    t_seek = best(lambda: tl.state_at(tl.end_s), 20)
    t_core = best(lambda: load_recording(path), 1)
    t_series = best(lambda: (tl.speed_mm_s(), tl.tremor_mm()))
    print(f"open (Timeline)                    {t_open * 1e3:8.1f} ms")
    print(f"plot series (speed, tremor)        {t_series * 1e3:8.1f} ms")
    print(f"open + seek to end, recorded state {t_open_seek * 1e3:8.1f} ms")
    print(f"seek alone, recorded state         {t_seek * 1e6:8.1f} us")
    print(
        f"core load_recording, for reference {t_core * 1e3:8.1f} ms  "
        f"(Timeline is {t_core / t_open:.1f}x faster)"
    )

    d = Derived(tl)
    t0 = time.perf_counter()
    end = d.at(tl.end_s)
    t_cold = time.perf_counter() - t0
    assert end.view is not None
    import random

    rnd = random.Random(0)
    targets = [rnd.uniform(tl.start_s, tl.end_s) for _ in range(20)]
    t0 = time.perf_counter()
    for t in targets:
        d.at(t)
    t_warm = (time.perf_counter() - t0) / len(targets)
    d.at(tl.start_s + 60)
    t0 = time.perf_counter()
    frames = 600
    for k in range(frames):
        d.at(tl.start_s + 60 + k / 60)
    t_play = (time.perf_counter() - t0) / frames
    print(
        f"derived state at the end, first time {t_cold * 1e3:8.1f} ms ({d.checkpoints} checkpoints)"
    )
    print(
        f"derived state, seek anywhere after   {t_warm * 1e3:8.1f} ms "
        f"({t_cold / t_warm:.0f}x faster than the first)"
    )
    print(f"derived state, playing one frame     {t_play * 1e3:8.2f} ms")
    d2 = Derived(Timeline(path))
    slices = 0
    t0 = time.perf_counter()
    while not d2.warm(0.008):
        slices += 1
    t_bg = time.perf_counter() - t0
    print(f"first pass in 8 ms slices (viewer)   {t_bg * 1e3:8.1f} ms in {slices + 1} slices")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
