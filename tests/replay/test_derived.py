"""Replay: the re-derived state (phase, live view, banner, events) equals a fresh run of the
pipeline, whatever the seek order, with checkpoints."""

from __future__ import annotations

import random
from pathlib import Path

from sim.replay.derived import Derived
from sim.replay.timeline import Timeline
from tests.replay.helpers import reference


def test_derived_state_equals_a_fresh_run_whatever_the_seek_order(recorded: Path) -> None:
    tl = Timeline(recorded)
    ref = reference(recorded)
    last_by_time = {t: (v, p, b) for t, v, p, b, _a in ref}
    d = Derived(tl, checkpoint_every=50)
    rnd = random.Random(2)
    probes = [tl.end_s, tl.start_s] + [rnd.uniform(tl.start_s, tl.end_s) for _ in range(30)]
    probes += [tl.t[k] for k in range(100, 400)]  # playing forward, frame by frame
    for t in probes:
        got = d.at(t)
        key = float(tl.item_t[tl.item_t <= t][-1])
        view, phase, banner = last_by_time[key]
        assert (got.view, got.phase, got.banner) == (view, phase, banner)
    assert d.checkpoints > 2 and d.complete
    assert list(d.at(tl.end_s).events) == tl.events  # the re-run detects what was recorded


def test_warm_up_in_slices_gives_the_same_checkpoints(recorded: Path) -> None:
    tl = Timeline(recorded)
    d = Derived(tl, checkpoint_every=50)
    assert not d.ready(tl.end_s) and d.ready(tl.start_s)
    while not d.warm(0.0005):
        pass
    assert d.ready(tl.end_s)
    want = Derived(tl, checkpoint_every=50).at(tl.end_s)
    got = d.at(tl.end_s)
    assert (got.view, got.phase, got.banner, got.events) == (
        want.view,
        want.phase,
        want.banner,
        want.events,
    )
