"""The ghost: a reference (expert) recording drawn beside the replayed one, aligned at the
start of each task phase."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from sim.procedures import registry
from sim.replay.timeline import Timeline


def phase_starts(tl: Timeline) -> list[tuple[str, float]]:
    """(phase, start time) of every phase the task went through, in order (runs the task
    state machine only, not the whole pipeline)."""
    scenario = tl.scenario()
    task = registry.get(scenario.task).task(scenario)
    state = task.initial()
    out: list[tuple[str, float]] = []
    last = None
    for j in range(tl.n_items):
        item = tl.item(j)
        state, _ = task.step(state, item)
        ph = task.phase(state)
        if ph != last:
            out.append((ph, item.t_s))
            last = ph
    return out


class GhostAlignment:
    """Maps the replayed recording's time to a reference (expert) recording's time, aligned
    at the start of each phase: in phase P, the ghost is as far into its own phase P as the
    trainee is into theirs, and waits at the end of it if the trainee is slower.

    Parameters
    ----------
    main, ghost : sequence of (phase, start time)
        From :func:`phase_starts`. Phases are matched by name and occurrence (the second
        "insert" of the trainee to the ghost's second, or its last one).
    ghost_end_s : float
        Last time of the ghost recording.
    """

    def __init__(
        self,
        main: Sequence[tuple[str, float]],
        ghost: Sequence[tuple[str, float]],
        ghost_end_s: float,
    ) -> None:
        self.main = list(main)
        self._main_t = [t for _, t in self.main]
        spans: dict[str, list[tuple[float, float]]] = {}
        for k, (ph, t0) in enumerate(ghost):
            t1 = ghost[k + 1][1] if k + 1 < len(ghost) else ghost_end_s
            spans.setdefault(ph, []).append((t0, t1))
        self._spans = spans
        self._occurrence = []
        seen: dict[str, int] = {}
        for ph, _ in self.main:
            self._occurrence.append(seen.get(ph, 0))
            seen[ph] = seen.get(ph, 0) + 1

    def ghost_time(self, t_s: float) -> float | None:
        """The ghost's time to draw at the trainee's ``t_s``; None when the ghost never went
        through the trainee's current phase."""
        k = bisect_right(self._main_t, t_s) - 1
        if k < 0:
            k = 0
        phase, start = self.main[k]
        spans = self._spans.get(phase)
        if not spans:
            return None
        g0, g1 = spans[min(self._occurrence[k], len(spans) - 1)]
        return min(g0 + max(t_s - start, 0.0), g1)
