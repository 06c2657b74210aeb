"""Replay: the ghost (an expert's recording) aligned at the start of each phase."""

from __future__ import annotations

from pathlib import Path

from sim.core.records import Sample
from sim.replay.ghost import GhostAlignment, phase_starts
from sim.replay.timeline import Timeline
from tests.replay.helpers import record


def test_ghost_aligned_at_each_phase(tmp_path: Path) -> None:
    align = GhostAlignment(
        [("prepare", 0.0), ("insert", 10.0), ("draw", 20.0)],
        [("prepare", 0.0), ("insert", 4.0), ("draw", 6.0)],
        ghost_end_s=9.0,
    )
    assert align.ghost_time(1.0) == 1.0
    assert align.ghost_time(8.0) == 4.0  # the expert waits at the end of its own phase
    assert align.ghost_time(10.5) == 4.5 and align.ghost_time(12.0) == 6.0
    assert align.ghost_time(21.0) == 7.0 and align.ghost_time(40.0) == 9.0
    assert GhostAlignment([("x", 0.0)], [("y", 0.0)], 1.0).ghost_time(0.5) is None

    novice = Timeline(record(tmp_path, "venipuncture", "novice", 1))
    expert = Timeline(record(tmp_path, "venipuncture", "expert", 1))
    mine, theirs = phase_starts(novice), phase_starts(expert)
    align = GhostAlignment(mine, theirs, expert.end_s)
    for phase, t0 in mine:
        g = align.ghost_time(t0)
        starts = [t for p, t in theirs if p == phase]
        assert g is None if not starts else g in starts
    assert isinstance(expert.state_at(align.ghost_time(novice.end_s) or 0.0).sample, Sample)
