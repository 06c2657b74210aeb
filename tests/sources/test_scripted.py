"""Scripted trainees make every error a task can score, on demand and at their skill's rate."""

from __future__ import annotations

import pytest

from sim.pipeline import Pipeline
from sim.procedures.registry import get as procedure
from sim.scenarios import find_scenario
from sim.sources.scripted import scripted_items

CASES = [(sid, kind) for sid in ("venipuncture", "suturing") for kind in procedure(sid).error_kinds]


def _events(scenario, items):
    p = Pipeline(scenario)
    p.feed_all(items)
    return p


@pytest.mark.parametrize(("sid", "kind"), CASES)
def test_each_error_kind_can_be_provoked(sid: str, kind: str) -> None:
    sc = find_scenario(sid)
    p = _events(sc, scripted_items(sc, "expert", 0, errors=[kind]))
    made = [e for e in p.events if e.kind == kind]
    assert made and all(e.error for e in made), [e.kind for e in p.events]
    # and an expert left alone does not make it
    clean = _events(sc, scripted_items(sc, "expert", 0))
    assert kind not in {e.kind for e in clean.events}


def test_an_unknown_error_kind_is_refused() -> None:
    sc = find_scenario("suturing")
    with pytest.raises(ValueError, match="unknown error 'probing' for suturing"):
        scripted_items(sc, "novice", 0, errors=["probing"])


def test_novices_probe_more_often_than_experts() -> None:
    sc = find_scenario("venipuncture")
    counts = {}
    for skill in ("expert", "novice"):
        counts[skill] = sum(
            any(e.kind == "probing" for e in _events(sc, scripted_items(sc, skill, seed)).events)
            for seed in range(12)
        )
    assert counts["novice"] >= 2 and counts["expert"] <= 1, counts
