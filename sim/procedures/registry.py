"""The procedures procsim knows, found by looking: every package under ``sim/procedures/``
whose ``__init__`` defines ``PROCEDURE`` (a :class:`~sim.procedures.base.Procedure`).

Adding a procedure is adding a package; nothing here names one. The metric catalogue as a
whole (the shared motion metrics and every procedure's own) is looked up here too, so that
a metric name reads the same in every view (:func:`format_value`).
"""

from __future__ import annotations

import functools
import importlib
import math
import pkgutil
from typing import Any

import sim.procedures as package
from sim.metrics.catalog import MOTION, MetricInfo
from sim.procedures.base import Procedure


class UnknownProcedure(KeyError):
    """A task id no procedure answers to (the message names the known ones)."""

    def __str__(self) -> str:
        return str(self.args[0])


@functools.cache
def _found() -> dict[str, Procedure[Any, Any]]:
    found: dict[str, Procedure[Any, Any]] = {}
    for mod in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not mod.ispkg:
            continue
        proc = getattr(importlib.import_module(f"{package.__name__}.{mod.name}"), "PROCEDURE", None)
        if not isinstance(proc, Procedure):
            raise TypeError(f"sim/procedures/{mod.name}: no PROCEDURE (a Procedure) defined")
        if proc.id in found:
            raise TypeError(f"sim/procedures/{mod.name}: task id '{proc.id}' taken twice")
        found[proc.id] = proc
    return found


def procedures() -> tuple[Procedure[Any, Any], ...]:
    """Every procedure, by task id."""
    return tuple(_found()[k] for k in sorted(_found()))


def ids() -> tuple[str, ...]:
    """Every task id, sorted."""
    return tuple(sorted(_found()))


def get(task_id: str) -> Procedure[Any, Any]:
    """The procedure of ``task_id``; an unknown id names the known ones."""
    found = _found().get(task_id)
    if found is None:
        raise UnknownProcedure(
            f"unknown procedure '{task_id}' (expected one of: {', '.join(ids())})"
        )
    return found


def metrics_of(proc: Procedure[Any, Any]) -> dict[str, MetricInfo]:
    """Every metric a session of ``proc`` is scored on, by name, in the order shown: the
    shared motion metrics, then the procedure's own."""
    return {m.name: m for m in MOTION + proc.metrics}


@functools.cache
def _catalogue() -> dict[str, tuple[int, MetricInfo]]:
    out: dict[str, tuple[int, MetricInfo]] = {}
    for m in MOTION + tuple(m for p in procedures() for m in p.metrics):
        out.setdefault(m.name, (len(out), m))
    return out


def metric_info(name: str) -> MetricInfo:
    """The catalogue entry of a metric; an unknown name gets a plain entry of its own."""
    found = _catalogue().get(name)
    return found[1] if found is not None else MetricInfo(name, name.replace("_", " "), "", "")


def metric_order(name: str) -> tuple[int, str]:
    """Sort key of a metric name: the catalogue's order (motion, then each procedure's),
    names it does not know last, by name."""
    found = _catalogue().get(name)
    return (found[0] if found is not None else len(_catalogue())), name


def format_value(name: str, value: float | None, unit: bool = True) -> str:
    """A metric value rounded and worded the one way every view shows it.

    ``None`` or NaN read "-"; units follow the number ("58°", "3.2 mm", "41 s").
    """
    if value is None or not math.isfinite(value):
        return "-"
    mi = metric_info(name)
    text = f"{value:.{mi.decimals}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    if not unit or not mi.unit:
        return text
    return f"{text}{mi.unit}" if mi.unit in ("°", "/10") else f"{text} {mi.unit}"
