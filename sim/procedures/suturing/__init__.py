"""Simple interrupted suturing of a straight wound with a curved needle (see
``docs/procedures.md`` and ``scenarios/suturing.toml``)."""

from __future__ import annotations

from typing import Any

from sim.procedures.base import HelpText, Procedure
from sim.procedures.suturing import metrics, rules, scripted, spec
from sim.procedures.suturing.task import SuturingState, SuturingTask
from sim.procedures.suturing.view import SuturingLive, SuturingView


def _scene() -> Any:
    from sim.procedures.suturing.scene import SCENE

    return SCENE


def _mouse() -> Any:
    from sim.procedures.suturing.mouse import MOUSE

    return MOUSE


PROCEDURE: Procedure[SuturingState, SuturingView] = Procedure(
    id="suturing",
    name="suturing",
    geometry=spec.SuturingGeometry,
    tolerances=spec.SuturingTolerances,
    check=spec.check,
    task=SuturingTask,
    live=SuturingLive,
    rules=rules.rules,
    metrics=metrics.METRICS,
    precision=metrics.precision,
    error_kinds=metrics.ERRORS,
    complete_from_events=metrics.complete_from_events,
    scripted=scripted.scripted,
    target_words=metrics.target_words,
    report=metrics.report,
    along="the wound",
    help=HelpText(
        controls=(
            ("move the mouse", "hand: place the needle over the entry point"),
            ("left-drag up-down, R / F", "hand: raise / lower the needle"),
            ("wheel, W / S", "wrist: rotate the needle about its curve"),
            ("right-drag up-down, Q / E", "pitch the needle about its tip (entry angle)"),
            ("in the tissue", "rotate, do not push: hand moves drag tissue"),
            ("turn past the exit", "the needle is pulled through and reloaded"),
        ),
        hint=(
            "First time? Point at the entry, F lowers the needle to the skin, then the wheel "
            "rotates it through. F1: all controls"
        ),
    ),
    keys={},
    sounds={"through_pad": "danger", "stitch_completed": "progress"},
    milestones={"stitch_completed": "a stitch placed", "finish": "task complete"},
    scene=_scene,
    mouse=_mouse,
)
