"""Benchmark the core: scoring a 10-minute 60 Hz recording, and streaming cost per sample.

Run: .venv/bin/python tools/bench_core.py [--procedure ID ...]
Targets (issue): scoring <= 100 ms; metrics + cues per sample <= 20 microseconds.
Every registered procedure is measured, on the first shipped scenario of its task.

A task ends when its procedure is complete, so 10 minutes of scripted sessions laid end to
end are streamed as separate sessions (a fresh pipeline each), as a trainee practising for
10 minutes would; the scoring and file figures use one 10-minute session that never
completes (blood is never drawn, stitches are never enough), the worst case where every
sample is scored.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sim.core.records import Sample
from sim.core.scenario import Scenario
from sim.pipeline import Pipeline
from sim.procedures.base import Procedure
from sim.procedures.registry import get as procedure
from sim.procedures.registry import ids
from sim.scenarios import load_scenario, scenario_paths
from sim.sources.scripted import scripted_items
from sim.storage.recording import load_recording
from sim.storage.session import rescore, run_session


def scenario_of(task: str) -> Scenario:
    """The first shipped scenario of procedure ``task``."""
    for path in scenario_paths():
        sc = load_scenario(path)
        if sc.task == task:
            return sc
    raise SystemExit(f"no shipped scenario of {task}")


def ten_minutes_of_sessions(scenario: Scenario) -> list[list]:
    """Scripted sessions (samples only, each re-timed after the last) for 10 minutes."""
    sessions: list[list] = []
    offset = 0.0
    seed = 0
    while offset < 600.0:
        skill = ("expert", "intermediate", "novice")[seed % 3]
        chunk = [
            Sample(i.t_s + offset, i.tip_mm, i.axis, i.normal, i.grip, i.tracked)
            for i in scripted_items(scenario, skill, seed)
            if isinstance(i, Sample) and i.t_s + offset < 600.0
        ]
        sessions.append(chunk)
        offset = chunk[-1].t_s + 1.0 / 60.0
        seed += 1
    return sessions


class _Endless:
    """A task model that never completes (for a 10-minute session scored throughout)."""

    def __init__(self, task: Any) -> None:
        self.task = task
        self.scenario = task.scenario

    def __getattr__(self, name: str) -> Any:
        return getattr(self.task, name)

    def is_complete(self, state: Any) -> bool:
        return False


def never_complete(proc: Procedure[Any, Any]) -> Procedure[Any, Any]:
    """``proc`` with a task that cannot be completed: every sample of a 10-minute session
    is scored."""
    return replace(proc, task=lambda sc: _Endless(proc.task(sc)))


def feed_sessions(scenario: Scenario, sessions: list[list]) -> None:
    for chunk in sessions:
        Pipeline(scenario).feed_all(chunk)


def run_task(scenario, items: list) -> None:
    """The task state machine alone over the items."""
    task = procedure(scenario.task).task(scenario)
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--procedure", action="append", choices=ids(), help="only this procedure (repeatable)"
    )
    args = parser.parse_args()
    for sid in args.procedure or ids():
        scenario = scenario_of(sid)
        sessions = ten_minutes_of_sessions(scenario)
        items = [s for chunk in sessions for s in chunk]
        n = len(items)
        # 1. streaming: the full pipeline (task + live view + estimators + cues) per sample,
        #    and the task model alone; metrics + cues cost the difference
        full_s = best_of(lambda sc=scenario, ss=sessions: feed_sessions(sc, ss), 3)
        task_s = best_of(lambda sc=scenario, ss=sessions: [run_task(sc, chunk) for chunk in ss], 3)
        # 2. scoring a 10-minute session: metrics over the whole arrays + precision + score
        endless = never_complete(procedure(sid))
        p = Pipeline(scenario, procedure=endless)
        p.feed_all(items)
        score_s = best_of(p.result)
        # 4. file round trip: write, load and re-score a 10-minute recording (re-scoring
        #    runs the real task, which may complete before the end)
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "ten.jsonl"
            run_session(Pipeline(scenario, procedure=endless), items, path)
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
