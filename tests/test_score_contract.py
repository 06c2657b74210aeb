"""The score contract as a trainee meets it: no free points for sessions that did nothing,
metrics only where the input measures them, a clock that is the trainee's."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core import geometry as g
from sim.core.records import Action, ActionKind, Sample
from sim.metrics import motion as m
from sim.pipeline import Pipeline
from sim.sources.scripted import scripted_items

SCENARIOS = ["venipuncture", "suturing"]


def _scenario(request: pytest.FixtureRequest, sid: str):
    return request.getfixturevalue("veni" if sid == "venipuncture" else "sut")


def hover(seconds: float, rate_hz: float = 60.0, noise_mm: float = 0.0, seed: int = 0):
    """A needle brought in over the site, then hovering 20 mm above it doing nothing."""
    rng = np.random.default_rng(seed)
    axis, normal = g.pose_from_angles(0.0, -20.0, 0.0)
    out = []
    for i in range(int(seconds * rate_hz)):
        t = i / rate_hz
        x = -60.0 + min(t, 1.0) * 40.0  # one second of approach, then still
        p = np.array([x, 20.0, 0.0]) + noise_mm * rng.standard_normal(3)
        out.append(Sample(round(t, 6), tuple(float(v) for v in p), axis, normal))
    return out


def run(scenario, items, input_kind="scripted"):
    p = Pipeline(scenario, input_kind=input_kind)
    p.feed_all(items)
    p.close_cues()
    return p, p.result()


@pytest.mark.parametrize("sid", SCENARIOS)
@pytest.mark.parametrize("input_kind,noise", [("mouse", 0.0), ("webcam", 0.4)])
def test_idle_and_abandoned_sessions_earn_almost_nothing_and_never_pass(
    sid, input_kind, noise, request
):
    sc = _scenario(request, sid)
    for seconds in (60.0, 4.0):  # idle for a minute; abandoned after 4 s
        items = hover(seconds, noise_mm=noise)
        items.append(Action(items[-1].t_s, ActionKind.FINISH))
        _, r = run(sc, items, input_kind)
        assert not r.complete and not r.passed and r.verdict == "INCOMPLETE"
        assert r.score <= 20.0, (seconds, r.score)
        assert r.advice[0].startswith("Incomplete")
        # every step that never happened earns nothing and says so
        for mr in r.metrics:
            if mr.status == "not done":
                assert mr.points == 0.0 and mr.note == "not done"
        if sid == "venipuncture":
            for name in ("attempts", "redirections", "tourniquet_time_s", "angle_error_deg"):
                assert r.metric(name).status == "not done" and r.metric(name).points == 0.0


@pytest.mark.parametrize("sid", SCENARIOS)
def test_a_session_without_samples_is_empty_not_scored(sid, request):
    sc = _scenario(request, sid)
    _, r = run(sc, [Action(3.0, ActionKind.FINISH)], "webcam")
    assert r.empty and not r.complete and not r.passed and r.score == 0.0
    assert r.verdict == "EMPTY" and r.as_dict()["empty"] is True
    # a camera that never saw the hand is no better than no camera
    lost = [Sample(i / 30, (0.0, 20.0, 0.0), tracked=False) for i in range(90)]
    _, r2 = run(sc, lost, "webcam")
    assert r2.empty and r2.score == 0.0 and not r2.passed


@pytest.mark.parametrize("sid", SCENARIOS)
def test_an_experts_complete_session_passes_and_says_complete(sid, request):
    sc = _scenario(request, sid)
    for seed in range(3):
        p, r = run(sc, scripted_items(sc, "expert", seed))
        assert p.complete and r.complete and r.passed and r.verdict == "PASS"
        assert r.as_dict()["complete"] is True


@pytest.mark.parametrize("sid", SCENARIOS)
def test_the_mouse_is_not_scored_on_tremor_or_smoothness(sid, request):
    sc = _scenario(request, sid)
    items = scripted_items(sc, "expert", 0)
    _, hand = run(sc, items, "scripted")
    _, mouse = run(sc, items, "mouse")
    for name in ("tremor_rms_mm", "tremor_peak_hz", "sparc", "ldlj"):
        mr = mouse.metric(name)
        assert mr.status == "not measured" and mr.points is None and mr.weight == 0.0
        assert mr.note == "not measured with the mouse" and math.isnan(mr.value)
    assert hand.metric("tremor_rms_mm").status == "scored"
    assert hand.metric("tremor_rms_mm").weight > 0
    # the weight left is shared by what the mouse does measure: a perfect hand session and
    # its mouse twin differ only by the hand-only metrics
    assert mouse.complete and mouse.passed
    # and no live "hold steady" from an eased pointer
    p, _ = run(sc, items, "mouse")
    assert p.view is not None and math.isnan(p.view.tremor_mm)
    assert "hold_steady" not in {c.rule for c in p.cues}


def test_tremor_peak_only_where_the_band_holds_one():
    rate = 60.0
    t = np.arange(0, 8, 1 / rate)
    rng = np.random.default_rng(1)
    still = np.zeros((len(t), 3))
    # a real 8 Hz tremor on slow motion: its peak is found
    shaky = still.copy()
    shaky[:, 0] = 20 * np.sin(2 * np.pi * 0.2 * t) + 0.5 * np.sin(2 * np.pi * 8.0 * t)
    assert m.tremor(shaky, rate).peak_hz == pytest.approx(8.0, abs=0.3)
    # slow voluntary motion only: its spectrum falls through the band, no peak at its edge
    slow = still.copy()
    slow[:, 0] = 30 * np.sin(2 * np.pi * 0.3 * t) + 0.01 * rng.standard_normal(len(t))
    tr = m.tremor(slow, rate)
    assert math.isnan(tr.peak_hz) and tr.peak_hz != m.TREMOR_BAND_HZ[0]
    # white noise: flat in the band, no peak stands out
    noise = 0.3 * rng.standard_normal((len(t), 3))
    assert math.isnan(m.tremor(noise, rate).peak_hz)
    # noise under the measured floor: no tremor, so no peak
    tr = m.tremor(noise, rate, noise_floor_mm=5.0)
    assert tr.rms_mm == 0.0 and math.isnan(tr.peak_hz)


def test_the_clock_starts_at_the_first_move_and_stops_at_completion(veni):
    items = scripted_items(veni, "expert", 0)
    _, ref = run(veni, items)
    first = items[0]
    assert isinstance(first, Sample)
    # 20 s of the needle lying still before the trainee starts, shifted in front
    wait = [Sample(i / 60, first.tip_mm, first.axis, first.normal) for i in range(1200)]
    late = [_shift(it, 20.0) for it in items]
    last = late[-1]
    # and 30 s of doing nothing after the procedure is complete
    after = [Sample(last.t_s + (i + 1) / 60, (0.0, 40.0, 0.0)) for i in range(1800)]
    p, r = run(veni, wait + late + after)
    assert r.complete
    total = r.metric("total_time_s").value
    assert total == pytest.approx(ref.metric("total_time_s").value, abs=0.05)
    assert p.clock_s(0.0) == 0.0 and p.clock_s(10.0) == 0.0  # not started yet
    assert p.clock_s(1e6) == pytest.approx(total)  # stopped at completion
    assert r.score == pytest.approx(ref.score, abs=1.0)


def test_phases_are_listed_in_procedure_order(veni):
    _, r = run(veni, scripted_items(veni, "expert", 0))
    names = [name for name, _ in r.phases_s]
    assert names == ["prepare", "insert", "draw", "withdraw"]


def _shift(item, dt):
    from dataclasses import replace

    return replace(item, t_s=round(item.t_s + dt, 6))


def test_a_blown_vein_says_so_until_the_needle_is_out_and_never_asks_to_hold(veni):
    """After the back wall is pierced, pulling back into the lumen draws no blood: the cue
    says to withdraw, never "flashback: hold the needle still"."""
    p, r = run(veni, scripted_items(veni, "expert", 0, errors=("back_wall",)))
    blown = [e.t_s for e in p.events if e.kind == "back_wall"]
    out = [e.t_s for e in p.events if e.kind == "withdrawal"]
    assert blown and out
    t0, t1 = blown[0], min(t for t in out if t > blown[0])
    shown = [c for c in p.cues if c.active and t0 <= c.t_s < t1]
    assert not [c for c in shown if c.rule == "flashback"]
    words = {c.message for c in shown if c.rule == "back_wall"}
    assert "vein blown: withdraw, press on the site and try a new stick" in words
    ended = [c for c in p.cues if c.rule == "back_wall" and not c.active]
    assert ended and ended[0].t_s >= t1 - 1e-9  # kept until the needle came out


@pytest.mark.parametrize("seed", range(3))
def test_probing_costs_points(veni, seed):
    _, clean = run(veni, scripted_items(veni, "expert", seed))
    _, probed = run(veni, scripted_items(veni, "expert", seed, errors=("probing",)))
    m = probed.metric("probes")
    assert m.value >= 1 and m.points is not None and m.points < 100
    assert clean.metric("probes").value == 0 and clean.metric("probes").points == 100
    assert probed.score < clean.score
