"""The practice screen asks the procedure for its help, hint and keys: the help overlay
lists the procedure's controls and then the app's, and a procedure's key sends the action
its function picks from the task state."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pygame = pytest.importorskip("pygame")

from sim.app.help import COMMON_HELP, checklist_help  # noqa: E402
from sim.core.records import ActionKind  # noqa: E402
from sim.procedures.registry import get, procedures  # noqa: E402
from tests.app.driver import Driver  # noqa: E402


@pytest.mark.parametrize("proc", procedures(), ids=lambda p: p.id)
def test_help_lists_the_procedures_controls_then_the_apps(
    proc: Any, data_dir: Path, quit_display: None
) -> None:
    d = Driver(proc.id)
    d.frames(2)
    assert d.screen.options().message == proc.help.hint  # a new trainee: the hint shows
    d.key(pygame.K_F1)
    opts = d.screen.options()
    assert opts.help
    steps = checklist_help(d.screen.settings.scenario.checklist)
    assert opts.help_lines == proc.help.controls + steps + COMMON_HELP
    keys = [k for k, _ in opts.help_lines]
    assert len(keys) == len(set(keys))  # no line twice (the tourniquet's is the procedure's)


def test_the_tourniquet_line_is_venipunctures_only(data_dir: Path, quit_display: None) -> None:
    assert ("T", "tourniquet on / off") in get("venipuncture").help.controls
    d = Driver("suturing")
    d.frames(2)
    assert all(k != "T" for k, _ in d.screen.options().help_lines)


def test_a_procedures_key_sends_the_action_picked_from_its_state(
    data_dir: Path, quit_display: None
) -> None:
    from sim.app.practice import PracticeScreen
    from sim.app.results import ResultsScreen

    d = Driver("suturing")
    d.frames(2)
    screen = d.screen
    d.key(pygame.K_t)  # suturing has no T key: nothing happens
    d.frames(2)
    assert isinstance(d.screen, PracticeScreen) and not screen.pipeline.finished
    seen: list[Any] = []

    def finish_key(state: Any) -> ActionKind:
        seen.append(state)
        return ActionKind.FINISH

    screen.procedure = replace(screen.procedure, keys={"t": finish_key})
    d.key(pygame.K_t)
    d.frames(2)
    assert len(seen) == 1 and type(seen[0]) is type(screen.pipeline.state)
    assert screen.pipeline.finished  # the action the key picked was sent: the session ended
    assert isinstance(d.screen, ResultsScreen)


def test_venipunctures_t_puts_the_tourniquet_on_and_takes_it_off(
    data_dir: Path, quit_display: None
) -> None:
    d = Driver("venipuncture")
    d.frames(2)
    state = d.screen.pipeline
    d.key(pygame.K_t)
    assert state.state.tourniquet_on
    d.key(pygame.K_t)
    assert not state.state.tourniquet_on
    kinds = [e.kind for e in state.events]
    assert kinds.count("tourniquet_on") == 1 and kinds.count("tourniquet_off") == 1, kinds


def test_a_held_repeating_key_acts_at_its_rate_until_released(
    data_dir: Path, quit_display: None
) -> None:
    """A procedure key in ``repeat_hz`` acts once when pressed, then again each period it is
    held (on the session's clock), and stops when released."""
    d = Driver("suturing")
    d.frames(2)
    screen = d.screen
    sent: list[float] = []

    def step(state: Any) -> str:
        sent.append(screen.now())
        return "slide"  # an action the task does not know: it ignores it

    screen.procedure = replace(screen.procedure, keys={"k": step}, repeat_hz={"k": 10.0})
    d.key(pygame.K_k, hold_s=1.0)
    held = len(sent)
    assert 10 <= held <= 12  # pressed, then 10 a second for about a second
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert all(g == pytest.approx(0.1, abs=1e-6) for g in gaps[1:])
    d.frames(60)  # released: no more
    assert len(sent) == held
    d.key(pygame.K_RETURN)
    from sim.core.records import Action
    from sim.storage.recording import load_recording

    recorded = [i for i in load_recording(screen.path).items if isinstance(i, Action)]
    assert [a.kind for a in recorded].count("slide") == held  # each one was recorded


def test_the_checklists_keys_and_buttons_take_its_steps(data_dir: Path, quit_display: None) -> None:
    """A digit key takes its checklist step (recorded as its action, an event step_<id>),
    a click on a step's button too, and a step the scenario's checklist lacks has no key."""
    from sim.core.records import Action
    from sim.storage.recording import load_recording

    d = Driver("suturing")  # identity, hygiene and sharps only
    d.frames(2)
    screen = d.screen
    line = (
        "1 / 2 / 8",
        "checklist: identity, hand hygiene and gloves, sharps (or click its button)",
    )
    assert line in screen.help_lines
    d.key(pygame.K_2)
    d.key(pygame.K_4)  # "clean the site": not in suturing's checklist
    d.frames(2)  # the buttons are drawn (and clickable) from the next frame
    assert [x for x in screen.clicks.items] and len(screen.clicks.items) == 3
    (x, y, w, h), _ = screen.clicks.items[0]  # identity's button
    pygame.event.post(
        pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x + w / 2, y + h / 2), button=1)
    )
    d.frames(2)
    kinds = [e.kind for e in screen.pipeline.events]
    assert kinds == ["step_hygiene", "step_identity"]
    assert screen.steps_left() == ("sharps",)
    d.key(pygame.K_RETURN)
    recorded = [i.kind for i in load_recording(screen.path).items if isinstance(i, Action)]
    assert recorded[:2] == ["hygiene", "identity"]
    assert [st.id for st in d.screen.result.checklist if st.done] == ["identity", "hygiene"]


def test_a_step_that_needs_the_needle_out_is_refused_while_it_is_in(
    data_dir: Path, quit_display: None
) -> None:
    """Sharps and gauze come after the withdrawal: taken before it, the step is not recorded
    (no green tick that the debrief later fails) and the screen says what must come first."""
    d = Driver("venipuncture")
    d.frames(2)
    screen = d.screen
    d.key(pygame.K_8)  # dispose of sharps, with the needle never out
    d.frames(2)
    assert not any(e.kind == "step_sharps" for e in screen.pipeline.events)
    assert "sharps" in screen.steps_left()
    msg = screen.options().message or ""
    assert msg.startswith("Dispose of sharps: not yet") and "withdrawn first" in msg
    d.key(pygame.K_1)  # a step before the puncture is taken as usual
    d.frames(2)
    assert any(e.kind == "step_identity" for e in screen.pipeline.events)
