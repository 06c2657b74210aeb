"""IV cannulation as the shared layers see it: found by the registry, its own actions read
back from a recording as plain words, its keys, the view after an action, and every cue
under the cue contract on scripted sessions of each skill and each error."""

from __future__ import annotations

import pytest

from sim.core.records import Action, ActionKind, Item
from sim.pipeline import Pipeline
from sim.procedures.iv_cannulation import PROCEDURE
from sim.procedures.iv_cannulation.task import IvAction, IvCannulationTask
from sim.procedures.registry import get
from sim.storage.session import rescore
from tests.feedback.contract import CueContract
from tests.mutations import run_cli
from tests.procedures.iv_cannulation.helpers import clean, run, scripted, thread, views


def _plain(items: list[Item]) -> list[Item]:
    """``items`` with every action kind a plain string, as a recording reads back."""
    return [
        Action(i.t_s, str(getattr(i.kind, "value", i.kind))) if isinstance(i, Action) else i
        for i in items
    ]


def test_the_registry_finds_it_by_its_scenario_task(iv):
    assert get(iv.task) is PROCEDURE and PROCEDURE.name == "peripheral IV cannulation"


def test_actions_read_back_as_plain_words_do_what_the_members_did(iv):
    items = scripted(iv, "expert", 2)
    assert any(isinstance(i, Action) and i.kind == IvAction.SECURE for i in items)
    _, a, _ = run(iv, items)
    st, b, _ = run(iv, _plain(items))
    assert a == b and st.completed


def test_a_simulated_recording_scores_the_same_read_back(iv, tmp_path):
    out = tmp_path / "iv.rec"
    rc, _, err = run_cli(["simulate", "iv-cannulation", "--skill", "expert", "-o", str(out)])
    assert rc == 0, err
    again = rescore(out)
    kinds = {i.kind for i in again.recording.items if isinstance(i, Action)}
    assert {"catheter_advance", "occlude", "flush", "secure"} <= kinds
    assert again.matches and again.result.passed and again.result.complete


def test_each_key_sends_the_action_its_help_line_names(iv):
    task = IvCannulationTask(iv)
    off = task.initial()
    on, _ = task.step(off, Action(0.0, ActionKind.TOURNIQUET_ON))
    keys = PROCEDURE.keys
    assert keys["t"](off) == ActionKind.TOURNIQUET_ON and keys["t"](on) == ActionKind.TOURNIQUET_OFF
    sent = {k: keys[k](on) for k in "kolp"}
    assert sent == {"k": "catheter_advance", "o": "occlude", "l": "flush", "p": "secure"}
    helped = " ".join(k for k, _ in PROCEDURE.help.controls)
    assert all(k.upper() in helped for k in keys)


def test_the_view_after_an_action_shows_what_it_changed_before_the_next_sample(iv):
    tr = clean(iv)
    tr.items.append(Action(tr.t, IvAction.CATHETER_ADVANCE))  # no sample after it
    before, after = views(iv, tr.items)[-2:]
    assert not before.threading and before.catheter_advance_mm == 0.0
    assert after.threading and after.catheter_advance_mm == iv.geometry.catheter_step_mm
    # the geometry is the last sample's
    assert (after.angle_deg, after.depth_mm, after.offset_mm) == (
        before.angle_deg,
        before.depth_mm,
        before.offset_mm,
    )
    tr.items.pop()
    thread(tr)
    tr.items.append(Action(tr.t, ActionKind.TOURNIQUET_OFF))
    tr.items.append(Action(tr.t, IvAction.OCCLUDE))
    last = views(iv, tr.items)[-1]
    assert last.threaded and last.occluded and last.tourniquet_s == 0.0
    assert last.phase == "withdraw"


SESSIONS: list[tuple[str, int, tuple[str, ...]]] = [
    (skill, seed, ()) for skill in ("expert", "intermediate", "novice") for seed in (0, 1)
]
SESSIONS += [("expert", 0, (kind,)) for kind in PROCEDURE.error_kinds]


@pytest.mark.parametrize(("skill", "seed", "errors"), SESSIONS)
def test_every_cue_keeps_the_cue_contract(iv, skill, seed, errors):
    p = Pipeline(iv)
    check = CueContract(p)
    for item in scripted(iv, skill, seed, errors):
        p.feed(item)
        check.after_item()
    p.close_cues()
    check.after_item(closing=True)
    check.after_session(p.result())
    assert check.stats["sessions"] == 1 and check.stats["items"] > 100
