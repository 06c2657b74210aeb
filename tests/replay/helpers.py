"""Recordings for the replay tests: scripted sessions recorded through the real pipeline,
and the reference the replay must reproduce (a fresh pipeline fed item by item)."""

from __future__ import annotations

from pathlib import Path

from sim.pipeline import Pipeline
from sim.scenarios import find_scenario
from sim.sources.scripted import ScriptedSource
from sim.storage.recording import load_recording
from sim.storage.session import run_session


def record(folder: Path, scenario: str, skill: str, seed: int) -> Path:
    """A scripted ``skill`` session of ``scenario`` recorded into ``folder``."""
    path = folder / f"{scenario}-{skill}-{seed}.jsonl"
    sc = find_scenario(scenario)
    run_session(Pipeline(sc), ScriptedSource(sc, skill, seed), path, trainee="t")
    return path


def reference(path: Path) -> list[tuple[float, object, str, object, list[str]]]:
    """Run the recording through a fresh pipeline item by item, as the session did:
    after each item, (time, view, phase, banner, active cue rules)."""
    rec = load_recording(path)
    p = Pipeline(rec.scenario(), rec.noise_floor_mm)
    out = []
    for item in rec.items:
        p.feed(item)
        active = [c.rule for c in p.cues_engine.active()]
        out.append((item.t_s, p.view, p.phase, p.cues_engine.banner(), active))
    return out
