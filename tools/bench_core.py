"""Benchmark the core: scoring a 10-minute 60 Hz recording, and streaming cost per sample.

Run: .venv/bin/python tools/bench_core.py
Targets (issue): scoring <= 100 ms; metrics + cues per sample <= 20 microseconds.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sim.core.records import Sample
from sim.core.scenario import find_scenario
from sim.core.tasks import make_task
from sim.pipeline import Pipeline
from sim.sources.scripted import scripted_items
from sim.storage.recording import load_recording
from sim.storage.session import rescore, run_session


def ten_minute_items(scenario_id: str) -> list:
    """Scripted sessions laid end to end (each re-timed) until 10 minutes at 60 Hz."""
    scenario = find_scenario(scenario_id)
    items: list = []
    offset = 0.0
    seed = 0
    while offset < 600.0:
        chunk = [
            i
            for i in scripted_items(scenario, ("expert", "intermediate", "novice")[seed % 3], seed)
            if isinstance(i, Sample)
        ]
        for s in chunk:
            items.append(Sample(s.t_s + offset, s.tip_mm, s.axis, s.normal, s.grip, s.tracked))
        offset = items[-1].t_s + 1.0 / 60.0
        seed += 1
    return [s for s in items if s.t_s < 600.0]


def run_task(scenario, items: list) -> None:
    """The task state machine alone over the items."""
    task = make_task(scenario)
    state = task.initial()
    for it in items:
        state, _ = task.step(state, it)


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    for sid in ("venipuncture", "suturing"):
        scenario = find_scenario(sid)
        items = ten_minute_items(sid)
        n = len(items)
        # 1. streaming: the full pipeline (task + live view + estimators + cues) per sample,
        #    and the task model alone; metrics + cues cost the difference
        full_s = best_of(lambda sc=scenario, it=items: Pipeline(sc).feed_all(it), 3)
        task_s = best_of(lambda sc=scenario, it=items: run_task(sc, it), 3)
        # 2. scoring a finished session: metrics over the whole arrays + precision + score
        p = Pipeline(scenario)
        p.feed_all(items)
        score_s = best_of(p.result)
        # 4. file round trip: write, load and re-score a 10-minute recording
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "ten.jsonl"
            run_session(Pipeline(scenario), items, path)
            load_s = best_of(lambda p=path: load_recording(p), 3)
            rescore_s = best_of(lambda p=path: rescore(p), 1)
        print(f"{sid}: {n} samples (10 min at 60 Hz)")
        print(
            f"  score a session (metrics + precision + score): {score_s * 1e3:7.1f} ms"
            f"   target <= 100 ms"
        )
        stream_us = (full_s - task_s) / n * 1e6
        print(
            f"  streaming metrics + cues per sample:          {stream_us:7.1f} us   target <= 20 us"
        )
        print(f"  task model per sample:                        {task_s / n * 1e6:7.1f} us")
        print(f"  whole live pipeline per sample:               {full_s / n * 1e6:7.1f} us")
        print(f"  load recording from disk:                     {load_s * 1e3:7.1f} ms")
        print(f"  re-score from disk (load + replay + score):   {rescore_s * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
