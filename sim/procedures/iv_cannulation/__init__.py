"""Peripheral IV cannulation (catheter over needle) of a forearm or dorsal hand vein:
tourniquet, insertion, flashback, lower and advance, thread, release, occlude, withdraw,
flush, secure (see ``docs/procedures/iv-cannulation.md`` and ``scenarios/iv-cannulation.toml``)."""

from __future__ import annotations

from typing import Any

from sim.core import patient as pt
from sim.core.records import ActionKind
from sim.procedures.base import HelpText, KeyAction, Procedure
from sim.procedures.iv_cannulation import metrics, rules, scripted, spec
from sim.procedures.iv_cannulation.task import IvAction, IvCannulationTask, IvState
from sim.procedures.iv_cannulation.view import IvLive, IvView


def _scene() -> Any:
    from sim.procedures.iv_cannulation.scene import SCENE

    return SCENE


def _mouse() -> Any:
    from sim.procedures.iv_cannulation.mouse import MOUSE

    return MOUSE


def _tourniquet(state: IvState) -> ActionKind:
    return ActionKind.TOURNIQUET_OFF if state.tourniquet_on else ActionKind.TOURNIQUET_ON


def _catheter(state: IvState) -> IvAction:
    return IvAction.CATHETER_ADVANCE


def _occlude(state: IvState) -> IvAction:
    return IvAction.OCCLUDE


def _flush(state: IvState) -> IvAction:
    return IvAction.FLUSH


def _secure(state: IvState) -> IvAction:
    return IvAction.SECURE


CATHETER_STEPS_HZ = 12.0
"""How often a held K slides the catheter one ``catheter_step_mm`` (our choice: with 0.5 mm
steps, 6 mm/s, a 32 mm catheter threaded in about 5 s)."""

_KEYS: dict[str, KeyAction] = {
    "t": _tourniquet,
    "k": _catheter,
    "o": _occlude,
    "l": _flush,
    "p": _secure,
}

PROCEDURE: Procedure[IvState, IvView] = Procedure(
    id="iv-cannulation",
    name="peripheral IV cannulation",
    geometry=spec.IvGeometry,
    tolerances=spec.IvTolerances,
    check=spec.check,
    task=IvCannulationTask,
    live=IvLive,
    rules=rules.rules,
    metrics=metrics.METRICS,
    precision=metrics.precision,
    error_kinds=metrics.ERRORS,
    complete_from_events=metrics.complete_from_events,
    scripted=scripted.scripted,
    target_words=metrics.target_words,
    along="the arm",
    help=HelpText(
        controls=(
            ("move the mouse", "aim the cannula at a point on the skin"),
            ("wheel, left-drag, W / S", "advance / withdraw the needle along itself"),
            ("right-drag up-down, Q / E", "angle to the skin (lower it after flashback)"),
            ("right-drag sideways, A / D", "roll the bevel (orange fin = bevel side)"),
            ("mouse moved with the needle in", "slides it sideways in the tissue: probing"),
            ("T", "tourniquet on / off"),
            ("K (hold)", "slide the catheter off the needle; hold the needle still"),
            ("O", "press on the vein above the catheter tip (occlude)"),
            ("L", "connect and flush the cannula (needle out)"),
            ("P", "secure the cannula: done"),
        ),
        hint=(
            "First time? Aim at the vein, T tourniquet, W in to flashback, Q a little lower, "
            "W about 2 mm on, hold K to thread, T off, O press, S out, L flush, P secure. "
            "F1: all controls"
        ),
    ),
    keys=_KEYS,
    repeat_hz={"k": CATHETER_STEPS_HZ},
    report=metrics.report,
    milestones={
        "skin_puncture": "skin punctured",
        "flashback": "flashback",
        "threaded": "catheter threaded",
        "needle_withdrawn": "needle withdrawn",
        "secured": "cannula secured",
    },
    reactions=pt.REACTIONS,
    notes=metrics.notes,
    scene=_scene,
    mouse=_mouse,
    aim_across_mm=lambda sc: spec.parts(sc)[0].vein_lateral_mm,
    mirror=spec.mirror,
)
