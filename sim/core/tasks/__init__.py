"""Task models: pure state machines ``step(state, item) -> (state, events)``.

A task never keeps state of its own: everything that changes lives in the immutable state
value it is handed, and time comes in with the samples, so the same items always give the
same events.
"""

from __future__ import annotations

from typing import Any, Protocol

from sim.core.records import Event, Item
from sim.core.scenario import Scenario


class Task(Protocol):
    """The contract every task model follows."""

    scenario: Scenario

    def initial(self) -> Any:
        """The state before the first item."""

    def step(self, state: Any, item: Item) -> tuple[Any, tuple[Event, ...]]:
        """Consume one sample or action; return the new state and the events it caused."""

    def phase(self, state: Any) -> str:
        """Name of the current phase, for the HUD and per-phase timing."""

    def is_complete(self, state: Any) -> bool:
        """Whether the procedure was carried out to its end (the task then finishes itself)."""


# The error event kinds each task model emits (each can be provoked on demand by a scripted
# trainee: ``procsim simulate --error KIND``).
VENIPUNCTURE_ERRORS = (
    "back_wall",
    "missed_vein",
    "angle_out_of_range",
    "bevel_down",
    "no_tourniquet",
    "tourniquet_too_long",
    "tourniquet_reapplied_early",
    "tourniquet_on_at_withdrawal",
    "probing",
    "attempt_limit",
    "incomplete",
)
SUTURING_ERRORS = (
    "bite_out_of_range",
    "not_perpendicular",
    "asymmetric_bites",
    "tissue_drag",
    "through_pad",
    "missed_wound",
    "stitch_too_close",
    "stitch_crossing",
    "incomplete",
)
# Kinds older task models emitted: still accepted in scenario files (and the scenarios
# embedded in old recordings), never emitted now. A venipuncture now ends at the attempt
# limit, so another attempt after it cannot happen.
LEGACY_ERRORS = ("attempts_exceeded",)


def error_kinds_for_task(task: str) -> tuple[str, ...]:
    """Event kinds that are procedural errors the model of ``task`` emits."""
    kinds = {"venipuncture": VENIPUNCTURE_ERRORS, "suturing": SUTURING_ERRORS}.get(task)
    if kinds is None:
        raise ValueError(f"unknown task '{task}' (expected venipuncture or suturing)")
    return kinds


def known_error_kinds(task: str) -> tuple[str, ...]:
    """Error kinds a scenario of ``task`` may name: those emitted now and legacy ones."""
    legacy = LEGACY_ERRORS if task == "venipuncture" else ()
    return error_kinds_for_task(task) + legacy


def make_task(scenario: Scenario) -> Task:
    """The task model for a scenario."""
    if scenario.task == "venipuncture":
        from sim.core.tasks.venipuncture import VenipunctureTask

        return VenipunctureTask(scenario)
    if scenario.task == "suturing":
        from sim.core.tasks.suturing import SuturingTask

        return SuturingTask(scenario)
    raise ValueError(f"{scenario.path}: unknown task '{scenario.task}'")
