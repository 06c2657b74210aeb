"""Scoring fairness (issue 14): the same motion scores the same whatever the trainee id, the
station, the time of day it was recorded at or the hand setting; only the recording's header
differs. (The other hand's mirrored motion: the contract checker, tests/procedures.)"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from sim.lab.ingest import session_from_recording
from sim.lab.store import Store
from sim.pipeline import Pipeline
from sim.procedures.registry import ids
from sim.scenarios import find_scenario
from sim.sources.scripted import scripted_items
from sim.storage.recording import load_recording, make_header
from sim.storage.session import rescore, run_session

WHO = (
    # (trainee id, station, created at: early morning, afternoon, just before midnight; hand)
    ("t-001", "ward-3-pc1", "2026-03-02T06:05:00Z", "right"),
    ("a.very-long.trainee_id@hospital.example", "", "2026-07-15T14:30:00Z", "left"),
    ("7", "sim-lab-east", "2026-12-31T23:59:59Z", "right"),
)


@pytest.mark.parametrize(
    ("task", "input_kind"), list(zip(ids(), itertools.cycle(["webcam", "mouse"]), strict=False))
)
def test_the_same_motion_scores_the_same_for_anyone_anywhere_any_time(
    tmp_path: Path, task: str, input_kind: str
) -> None:
    sc = find_scenario(task)
    # an intermediate's session: neither 0 nor 100, so a score that moved would show
    items = scripted_items(sc, "intermediate", 2)
    paths, results = [], []
    for i, (trainee, station, created, hand) in enumerate(WHO):
        pipeline = Pipeline(sc, input_kind=input_kind, noise_floor_mm=0.2)
        header = make_header(
            sc,
            trainee=trainee,
            station=station,
            input_kind=input_kind,
            calibration={"noise_floor_mm": 0.2},
            meta={"session_id": f"s-{i}", "hand": hand},
        )
        header["created_utc"] = created
        paths.append(tmp_path / f"{i}.jsonl")
        results.append(run_session(pipeline, items, paths[-1], header=header))
    heads = [load_recording(p).header for p in paths]
    assert len({(h["trainee"], h["station"], h["created_utc"]) for h in heads}) == len(WHO)
    # live, re-scored from the file, and as the session store files it
    assert len({repr(r.as_dict()) for r in results}) == 1
    again = [rescore(p) for p in paths]
    assert all(r.matches for r in again)
    assert len({repr(r.result.as_dict()) for r in again}) == 1
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        for p in paths:
            store.add(session_from_recording(p))
        rows = store.find(scenario=sc.id)
    assert sorted(r.trainee_id for r in rows) == sorted(w[0] for w in WHO)
    assert {(r.score, r.passed, r.complete, r.input_kind) for r in rows} == {
        (results[0].score, results[0].passed, results[0].complete, input_kind)
    }
    assert 0.0 < results[0].score < 100.0
