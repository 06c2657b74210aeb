"""Venipuncture at the antecubital fossa: tourniquet, puncture, flashback, draw, release,
withdraw (see ``docs/procedures.md`` and ``scenarios/venipuncture.toml``)."""

from __future__ import annotations

from typing import Any

from sim.core import patient as pt
from sim.core.records import ActionKind
from sim.procedures.base import HelpText, Procedure
from sim.procedures.venipuncture import metrics, rules, scripted, spec
from sim.procedures.venipuncture.task import VenipunctureState, VenipunctureTask
from sim.procedures.venipuncture.view import VenipunctureLive, VenipunctureView


def _scene() -> Any:
    from sim.procedures.venipuncture.scene import SCENE

    return SCENE


def _mouse() -> Any:
    from sim.procedures.venipuncture.mouse import MOUSE

    return MOUSE


def _tourniquet(state: VenipunctureState) -> ActionKind:
    return ActionKind.TOURNIQUET_OFF if state.tourniquet_on else ActionKind.TOURNIQUET_ON


PROCEDURE: Procedure[VenipunctureState, VenipunctureView] = Procedure(
    id="venipuncture",
    name="venipuncture",
    geometry=spec.VenipunctureGeometry,
    tolerances=spec.VenipunctureTolerances,
    check=spec.check,
    task=VenipunctureTask,
    live=VenipunctureLive,
    rules=rules.rules,
    metrics=metrics.METRICS,
    precision=metrics.precision,
    error_kinds=metrics.ERRORS,
    legacy_error_kinds=metrics.LEGACY_ERRORS,
    complete_from_events=metrics.complete_from_events,
    scripted=scripted.scripted,
    target_words=metrics.target_words,
    report=metrics.report,
    reactions=pt.REACTIONS,
    notes=metrics.notes,
    along="the arm",
    help=HelpText(
        controls=(
            ("move the mouse", "aim the needle at a point on the skin"),
            ("wheel, left-drag, W / S", "advance / withdraw along the needle"),
            ("right-drag up-down, Q / E", "insertion angle (shallower / steeper)"),
            ("right-drag sideways, A / D", "roll the bevel (orange fin = bevel side)"),
            ("mouse moved with the needle in", "slides it sideways in the tissue: probing"),
            ("T", "tourniquet on / off"),
        ),
        hint=(
            "First time? Point at the vein, T tourniquet, wheel or W to advance; keep the "
            "mouse still in the skin. F1: all controls"
        ),
    ),
    keys={"t": _tourniquet},
    sounds={
        "back_wall": "danger",
        "missed_vein": "miss",
        "tourniquet_too_long": "warning",
        "flashback": "step",
        "completed": "done",
    },
    milestones={
        "skin_puncture": "skin punctured",
        "flashback": "flashback",
        "withdrawal": "needle withdrawn",
    },
    scene=_scene,
    mouse=_mouse,
    aim_across_mm=lambda sc: spec.parts(sc)[0].vein_lateral_mm,
    mirror=spec.mirror,
)
