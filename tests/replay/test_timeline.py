"""Replay: the recorded timeline (samples, events and cues at any time, seeking by
timestamp, torn and corrupt files, and the speed and tremor series as shown live)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from sim.core.records import Sample
from sim.pipeline import Pipeline
from sim.replay.derived import Derived
from sim.replay.timeline import Timeline
from sim.scenarios import find_scenario
from sim.sources.scripted import ScriptedSource
from sim.storage.recording import RecordingError, load_recording
from sim.storage.session import run_session
from tests.replay.helpers import record, reference


def test_items_are_exactly_the_recorded_ones(recorded: Path) -> None:
    tl, rec = Timeline(recorded), load_recording(recorded)
    assert list(tl.items_from(0)) == rec.items
    assert [tl.item(j) for j in range(0, tl.n_items, 97)] == rec.items[::97]
    samples = rec.samples
    assert np.array_equal(tl.pos, np.array([s.tip_mm for s in samples]))
    assert np.array_equal(tl.tracked, np.array([s.tracked for s in samples]))
    assert tl.events == rec.events and tl.cues == rec.cues and tl.complete


def test_recorded_state_at_any_time(recorded: Path) -> None:
    tl, rec = Timeline(recorded), load_recording(recorded)
    samples = rec.samples
    times = [s.t_s for s in samples]
    rnd = random.Random(1)
    probes = [times[0] - 1.0, times[-1] + 5.0] + rnd.sample(times, 40)
    probes += [rnd.uniform(times[0], times[-1]) for _ in range(40)]
    ref = {t: active for t, _v, _p, _b, active in reference(recorded)}
    ref[times[-1]] = []  # the session closed every cue on its last sample
    for t in probes:
        st = tl.state_at(t)
        expect = max((s for s in samples if s.t_s <= t), key=lambda s: s.t_s, default=samples[0])
        assert st.sample == expect
        assert list(st.events) == [e for e in rec.events if e.t_s <= st.t_s]
        # the cues on screen, from the recorded cue changes, are what the engine had active
        assert [c.rule for c in st.cues] == ref[st.t_s]


def test_replay_shows_the_words_that_were_on_screen(recorded: Path) -> None:
    """A cue's words follow its live number; the replay shows the words of that moment."""
    tl, rec = Timeline(recorded), load_recording(recorded)
    assert any(c.update for c in rec.cues)  # the words changed while shown
    p = Pipeline(rec.scenario(), rec.noise_floor_mm)
    shown = {}
    for item in rec.items:
        p.feed(item)
        shown[item.t_s] = [(c.rule, c.message) for c in p.cues_engine.active()]
    last = rec.samples[-1].t_s
    for t, expect in shown.items():
        if t < last:  # the session closed every cue on its last sample
            assert [(c.rule, c.message) for c in tl.cues_at(t)] == expect
    # the timeline marks each cue once, where it appeared, not at each change of words
    assert len([m for m in tl.markers() if m.category == "cue"]) == len(
        [c for c in rec.cues if c.active and not c.update]
    )


def test_seek_by_timestamp_and_frame_steps(tmp_path: Path) -> None:
    path = record(tmp_path, "venipuncture", "expert", 0)
    tl = Timeline(path)
    t = tl.t
    mid = (t[10] + t[11]) / 2
    assert tl.index_at(mid) == 10 and tl.index_at(t[11]) == 11
    assert tl.index_at(-5) == 0 and tl.index_at(1e9) == tl.n - 1
    assert tl.step_time(t[10], 3) == t[13] and tl.step_time(t[2], -5) == t[0]
    kinds = [(m.category, m.kind) for m in tl.markers()]
    assert ("event", "skin_puncture") in kinds and ("event", "flashback") in kinds
    assert all(m.category != "cue" or m.kind for m in tl.markers())
    speed = tl.speed_mm_s()
    assert speed.shape == (tl.n,) and np.all(speed >= 0) and speed.max() > 1.0
    assert tl.tremor_mm().shape == (tl.n,)


def test_torn_and_corrupt_recordings(tmp_path: Path) -> None:
    path = record(tmp_path, "venipuncture", "expert", 0)
    lines = path.read_bytes().split(b"\n")
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(b"\n".join(lines[:200]) + b"\n" + lines[200][:25])
    tl = Timeline(torn)
    assert tl.truncated and not tl.complete
    assert tl.state_at(1e9).sample == load_recording(torn).samples[-1]
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join(lines[:50] + [b'{"type":"s","t":1.0,"p":[1,2'] + lines[50:]))
    with pytest.raises(RecordingError, match="line 51"):
        Timeline(bad)
    with pytest.raises(RecordingError, match="no such recording"):
        Timeline(tmp_path / "missing.jsonl")


def test_tracked_recording_with_raw_landmarks(tmp_path: Path) -> None:
    """Webcam recordings carry the raw landmarks with every sample: replayed exactly too."""
    import dataclasses

    sc = find_scenario("venipuncture")
    items = []
    for k, it in enumerate(ScriptedSource(sc, "intermediate", 2)):
        if isinstance(it, Sample):
            it = dataclasses.replace(it, raw=(0.5, k * 1e-3, -2.0), tracked=k % 50 != 0)
        items.append(it)
    path = tmp_path / "webcam.jsonl"
    # a station that keeps them (keep_raw_landmarks = true)
    run_session(Pipeline(sc, input_kind="webcam"), items, path, trainee="t", keep_raw=True)
    tl, rec = Timeline(path), load_recording(path)
    assert list(tl.items_from(0)) == rec.items
    assert tl.state_at(tl.end_s / 2).sample.raw is not None
    assert np.array_equal(tl.tracked, [s.tracked for s in rec.samples])
    d = Derived(tl, checkpoint_every=200)
    assert list(d.at(tl.end_s).events) == rec.events


def _live_and_replayed(
    tmp_path: Path, input_kind: str, noise_floor_mm: float
) -> tuple[list[float], list[float], list[float], Timeline]:
    """A scripted novice venipuncture with a 0.6 s tracking gap and a few lost frames,
    recorded live: the tremor each sample's live view showed, the replay's tremor series,
    the speed each live view showed, and the timeline."""
    import dataclasses

    from sim.sources.scripted import scripted_items

    sc = find_scenario("venipuncture")
    items = []
    for it in scripted_items(sc, "novice", 3):
        if isinstance(it, Sample):
            lost = 4.0 <= it.t_s < 4.6 or round(it.t_s * 60) % 97 == 0
            it = dataclasses.replace(it, tracked=not lost)
        items.append(it)
    path = tmp_path / f"{input_kind}.jsonl"
    live = Pipeline(sc, noise_floor_mm, input_kind)
    shown: list[float] = []
    speeds: list[float] = []
    rec_pipeline = Pipeline(sc, noise_floor_mm, input_kind)
    for it in items:
        step = live.feed(it)
        if step.view is not None:
            shown.append(step.view.tremor_mm)
            speeds.append(step.view.speed_mm_s)
    run_session(rec_pipeline, items, path, trainee="t")
    tl = Timeline(path)
    return shown, tl.tremor_mm().tolist(), speeds, tl


def test_replayed_tremor_is_what_the_trainee_saw_live(tmp_path: Path) -> None:
    """The tremor plot under the replay shows, sample by sample, the tremor the live view
    showed (same filter, rate, noise floor, restart after the tracking gap, warm-up)."""
    shown, replayed, speeds, tl = _live_and_replayed(tmp_path, "webcam", 0.05)
    assert len(replayed) == len(shown) == tl.n
    assert not any(math.isnan(v) for v in shown)
    np.testing.assert_allclose(replayed, shown, rtol=0, atol=1e-9)
    assert max(shown) > 0.1  # a novice's tremor shows
    after_gap = int(np.searchsorted(tl.t, 4.6))
    assert replayed[after_gap] == 0.0 < max(replayed[after_gap : after_gap + 60])  # restarted
    np.testing.assert_allclose(tl.speed_mm_s(), speeds, rtol=0, atol=1e-9)  # the speed plot too


def test_replay_has_no_tremor_for_a_mouse_recording(tmp_path: Path) -> None:
    shown, replayed, _, tl = _live_and_replayed(tmp_path, "mouse", 0.0)
    assert all(math.isnan(v) for v, tr in zip(replayed, tl.tracked) if tr)
    np.testing.assert_allclose(replayed, shown, rtol=0, atol=1e-9)  # NaN where live had NaN


def test_the_patient_on_the_timeline_discomfort_curve_and_reactions(tmp_path: Path) -> None:
    # a stick at the nerve: the patient cries out (a reaction marker), the nerve touch is an
    # error, and the curve under the timeline peaks where the score's discomfort says
    path = tmp_path / "nerve.jsonl"
    sc = find_scenario("venipuncture")
    run_session(Pipeline(sc), ScriptedSource(sc, "expert", 0, errors=("patient_nerve",)), path,
                trainee="t")  # fmt: skip
    tl = Timeline(path)
    marks = {(m.category, m.kind): m for m in tl.markers()}
    assert ("error", "patient_nerve") in marks
    said = marks[("patient", "patient_said")]
    assert said.label.startswith('the patient said: "')
    assert not any(k == "patient_discomfort" for _, k in marks)  # the curve shows those
    pain = tl.discomfort()
    assert pain.shape == (tl.n,) and np.all((pain >= 0) & (pain <= 10))
    # the replay's panel gets the same curve from its background worker
    from sim.replay.panel import PanelModel

    model = PanelModel(tl)
    assert model.wait(120.0) and model.has_patient
    assert np.array_equal(model.discomfort, pain)
    peak = load_recording(path).result["metrics"]["patient_discomfort"]["value"]
    assert float(pain.max()) == pytest.approx(peak)
    assert pain[0] == 0.0 and pain.max() > 5.0
    # suturing has no patient: no curve, and no pipeline run for it
    sut = Timeline(record(tmp_path, "suturing", "expert", 0))
    assert np.all(np.isnan(sut.discomfort()))
