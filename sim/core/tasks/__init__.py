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


def make_task(scenario: Scenario) -> Task:
    """The task model for a scenario."""
    if scenario.task == "venipuncture":
        from sim.core.tasks.venipuncture import VenipunctureTask

        return VenipunctureTask(scenario)
    if scenario.task == "suturing":
        from sim.core.tasks.suturing import SuturingTask

        return SuturingTask(scenario)
    raise ValueError(f"{scenario.path}: unknown task '{scenario.task}'")
