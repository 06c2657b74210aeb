"""The procedures procsim knows, by task id, and what each offers the shared layers.

A first step towards procedures as plug-ins: today the task models live in
:mod:`sim.core.tasks`, their metrics in :mod:`sim.metrics.catalog` and their error kinds in
:data:`sim.core.error_kinds.VENIPUNCTURE_ERRORS` / ``SUTURING_ERRORS``; this registry names them in
one place, so that :func:`sim.procedures.check.check_procedure` can be run over every
procedure and an unknown task id is one clear error instead of falling through to another
procedure's rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.error_kinds import error_kinds_for_task
from sim.core.scenario import TASKS, Scenario
from sim.core.tasks import Task, make_task
from sim.metrics.catalog import MetricInfo, metrics_for_task


class UnknownProcedure(KeyError):
    """A task id no procedure answers to (the message names the known ones)."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Procedure:
    """One procedure: its task id, the errors its task model emits and its metrics.

    Attributes
    ----------
    id : str
        The scenario files' ``task``.
    error_kinds : tuple of str
        Every error event kind the task model emits (each provokable by a scripted trainee).
    metrics : tuple of MetricInfo
        Every metric a session of it is scored on, in the order they are shown.
    """

    id: str
    error_kinds: tuple[str, ...]
    metrics: tuple[MetricInfo, ...]

    def new_task(self, scenario: Scenario) -> Task:
        """The task model for ``scenario`` (a scenario of this procedure)."""
        if scenario.task != self.id:
            raise ValueError(f"{scenario.path}: a {scenario.task} scenario, not {self.id}")
        return make_task(scenario)


REGISTRY: dict[str, Procedure] = {
    task: Procedure(task, error_kinds_for_task(task), tuple(metrics_for_task(task).values()))
    for task in TASKS
}


def get(task_id: str) -> Procedure:
    """The procedure of ``task_id``; an unknown id names the known ones."""
    found = REGISTRY.get(task_id)
    if found is None:
        raise UnknownProcedure(
            f"unknown procedure '{task_id}' (expected one of: {', '.join(sorted(REGISTRY))})"
        )
    return found
