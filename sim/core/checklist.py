"""The procedure's checklist: the steps a trainee takes besides moving the needle (check the
patient's identity, hand hygiene and gloves, choose and clean the site, ...), and their
evaluation against a scenario's ``[checklist]``.

Pure and deterministic. Each step is taken by an :class:`~sim.core.records.Action` whose kind
is the step's id (``"identity"``, ``"anchor"``...; releasing the tourniquet is the shared
:attr:`~sim.core.records.ActionKind.TOURNIQUET_OFF`). The pipeline turns a step's action into
an event ``step_<id>`` (:func:`step_event`) carrying what the evaluation needs (where the site
is, where and how wide the skin was cleaned), so that a recording re-scores from its items
alone; the release of the tourniquet is the task's own ``tourniquet_off`` event.

A scenario's checklist (:class:`ChecklistSpec`) lists its steps in the order they are to be
taken, and may place the procedure's milestones among them (events such as
``skin_puncture`` and ``withdrawal``, :attr:`sim.procedures.base.Procedure.milestones`), so
that "clean before the puncture" and "pressure after the withdrawal" can be checked.
:func:`evaluate` gives one :class:`StepResult` per step: taken or not, in order or not,
critical or not, when, and a short note.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sim.core.records import Action, ActionKind, Event, Vec3
from sim.core.scenario import spec_range
from sim.core.tourniquet import AT_FINISH

IDENTITY, HYGIENE, SITE, CLEAN, FIST, ANCHOR, RELEASE, PRESSURE, SHARPS = (
    "identity",
    "hygiene",
    "site",
    "clean",
    "fist",
    "anchor",
    ActionKind.TOURNIQUET_OFF.value,
    "pressure",
    "sharps",
)

STEPS: dict[str, str] = {
    IDENTITY: "check the patient's identity",
    HYGIENE: "hand hygiene and gloves",
    SITE: "choose the site",
    CLEAN: "clean the site",
    FIST: "ask for a fist",
    ANCHOR: "anchor the skin",
    RELEASE: "release the tourniquet",
    PRESSURE: "gauze and pressure",
    SHARPS: "dispose of sharps",
}
"""Every step by its id (the kind of the action that takes it), in the usual order, with the
words the screens and the debrief use."""

STEP_EVENT_PREFIX = "step_"
"""Kind of the event a step's action becomes: ``step_<id>`` (the release of the tourniquet is
the task's ``tourniquet_off`` event instead)."""

PUNCTURE = "skin_puncture"
"""The event whose ``x_mm``, ``z_mm`` must fall inside the cleaned area."""


def step_kind(step: str) -> str:
    """The event kind that records ``step`` being taken."""
    return RELEASE if step == RELEASE else STEP_EVENT_PREFIX + step


@dataclass(frozen=True, slots=True)
class ChecklistSpec:
    """A scenario's ``[checklist]``.

    Attributes
    ----------
    order : tuple of str
        The steps (ids of :data:`STEPS`) in the order they are to be taken, with the
        procedure's milestones (event kinds) placed among them.
    critical : tuple of str
        Steps that fail the session when not taken, or taken out of order (a critical error's
        weight); the others are reported only.
    clean_radius_mm : float
        Radius of the disc of skin that "clean the site" cleans, around the chosen site (or
        the needle tip's position on the skin when no site was chosen), mm.
    """

    order: tuple[str, ...]
    critical: tuple[str, ...] = ()
    clean_radius_mm: float = field(default=25.0, metadata=spec_range(1, 200))

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps, in order, without the milestones."""
        return tuple(s for s in self.order if s in STEPS)

    def takes(self, kind: str) -> bool:
        """Whether an action of ``kind`` takes one of this checklist's steps (a step the
        pipeline records as ``step_<id>``; not the tourniquet's release, the task's own)."""
        return kind != RELEASE and kind in self.steps


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of a session's checklist.

    Attributes
    ----------
    id : str
        The step (a key of :data:`STEPS`).
    label : str
        Its words.
    done : bool
        Whether it was taken.
    in_order : bool
        Whether it was taken in the checklist's order (False when not taken).
    critical : bool
        Whether the scenario makes it critical (not satisfied: the session fails).
    t_s : float or None
        When it was taken, s of the recording (None when not taken).
    note : str
        A short note: why it is not satisfied ("not done", "after skin punctured",
        "puncture 31 mm from the cleaned site's centre..."), "" when it is.
    ok : bool
        Taken, in order, and (cleaning) the puncture inside the cleaned area.
    """

    id: str
    label: str
    done: bool
    in_order: bool
    critical: bool
    t_s: float | None
    note: str = ""
    ok: bool = field(default=False)

    @property
    def status(self) -> str:
        """One word or two for every view: "done", "not done", "out of order", "not met"
        (taken in order, but the puncture outside the cleaned area)."""
        if self.ok:
            return "done"
        if not self.done:
            return "not done"
        return "out of order" if not self.in_order else "not met"

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "done": self.done,
            "in_order": self.in_order,
            "critical": self.critical,
            "t_s": self.t_s,
            "note": self.note,
            "ok": self.ok,
        }


def step_event(
    spec: ChecklistSpec, action: Action, tip_mm: Vec3 | None, site: Event | None
) -> Event:
    """The ``step_<id>`` event of a checklist action.

    Parameters
    ----------
    spec : ChecklistSpec
        The scenario's checklist (``spec.takes(action.kind)``).
    action : Action
        The step's action.
    tip_mm : tuple of 3 float or None
        The needle tip at the last sample (None before the first): the site chosen, or the
        centre cleaned when no site was chosen, is the point of skin below it.
    site : Event or None
        The latest ``step_site`` event, whose point a cleaning is centred on.

    Returns
    -------
    Event
        ``step_site`` with ``x_mm``, ``z_mm``; ``step_clean`` with ``x_mm``, ``z_mm``,
        ``radius_mm``; the other steps without values. A point that is not known (no sample
        yet) is left out.
    """
    step = str(action.kind)
    words = STEPS[step]
    where: tuple[tuple[str, float], ...] = ()
    if step == SITE and tip_mm is not None:
        where = (("x_mm", tip_mm[0]), ("z_mm", tip_mm[2]))
    elif step == CLEAN:
        if site is not None and math.isfinite(site.value("x_mm")):
            where = (("x_mm", site.value("x_mm")), ("z_mm", site.value("z_mm")))
        elif tip_mm is not None:
            where = (("x_mm", tip_mm[0]), ("z_mm", tip_mm[2]))
        where += (("radius_mm", spec.clean_radius_mm),)
    return Event(action.t_s, step_kind(step), words, values=where)


def took(e: Event, kind: str) -> bool:
    """Whether event ``e`` is the trainee taking the step recorded as ``kind`` (a tourniquet
    still on at the session's end was taken off by the end, not released by the trainee)."""
    return e.kind == kind and e.value(AT_FINISH, 0.0) == 0.0


def taken(spec: ChecklistSpec, events: Sequence[Event]) -> tuple[str, ...]:
    """The checklist's steps taken so far (in checklist order)."""
    kinds = {step_kind(s) for s in spec.steps}
    done = {e.kind for e in events if e.kind in kinds and took(e, e.kind)}
    return tuple(s for s in spec.steps if step_kind(s) in done)


def waits_for(spec: ChecklistSpec, step: str, events: Sequence[Event]) -> str | None:
    """The milestone (an event kind) the order puts before ``step`` that has not happened
    yet (the nearest such), or None: a step that comes after the needle is out (gauze,
    sharps) cannot be taken while it is still in the patient."""
    if step not in spec.order:
        return None
    happened = {e.kind for e in events}
    before = spec.order[: spec.order.index(step)]
    return next((m for m in reversed(before) if m not in STEPS and m not in happened), None)


def pending(spec: ChecklistSpec | None, events: Sequence[Event]) -> tuple[str, ...]:
    """The checklist's steps not taken yet (in checklist order; none without a checklist)."""
    if spec is None:
        return ()
    done = set(taken(spec, events))
    return tuple(s for s in spec.steps if s not in done)


def _times(events: Sequence[Event], kind: str) -> list[float]:
    return [e.t_s for e in events if took(e, kind)]


def _in_order(times: Sequence[float | None], fixed: Sequence[bool]) -> list[bool]:
    """Which items keep the order: the largest set (milestones first, then the most steps)
    whose times do not decrease along the list; items not taken (None) are False."""
    n = len(times)
    weight = [1000 if fixed[i] else 1 for i in range(n)]
    best = [0] * n
    prev = [-1] * n
    for i in range(n):
        ti = times[i]
        if ti is None:
            continue
        best[i] = weight[i]
        for j in range(i):
            tj = times[j]
            if tj is not None and tj <= ti and best[j] + weight[i] > best[i]:
                best[i], prev[i] = best[j] + weight[i], j
    keep = [False] * n
    if any(t is not None for t in times):
        i = max((k for k in range(n) if times[k] is not None), key=lambda k: (best[k], -k))
        while i >= 0:
            keep[i] = True
            i = prev[i]
    return keep


def evaluate(
    spec: ChecklistSpec, events: Sequence[Event], milestones: dict[str, str] | None = None
) -> tuple[StepResult, ...]:
    """One result per step of ``spec``, from a session's events.

    Parameters
    ----------
    spec : ChecklistSpec
        The scenario's checklist.
    events : sequence of Event
        The session's events (the pipeline's ``step_<id>``, the task's ``tourniquet_off``,
        ``skin_puncture`` and the milestones).
    milestones : dict of str to str, optional
        Words for the milestones in ``spec.order`` (event kind -> "skin punctured"); the
        kind itself where none is given.

    Returns
    -------
    tuple of StepResult
        In the checklist's order. A step taken several times counts from its first time
        after the milestone placed before it (the tourniquet released after the puncture),
        else its first. A step is in order when it is in the longest run of the checklist's
        items whose times do not decrease (the milestones always in it), so one late step
        is blamed, not every step around it. Cleaning is satisfied only when every skin
        puncture after it falls inside the disc it cleaned (the latest cleaning before each
        puncture) and no puncture came before it.
    """
    words = milestones or {}
    times: list[float | None] = []
    last_milestone: float | None = None
    for item in spec.order:
        if item in STEPS:
            ts = _times(events, step_kind(item))
            after = [t for t in ts if last_milestone is None or t >= last_milestone]
            first = after or ts
            times.append(first[0] if first else None)
        else:
            ms = _times(events, item)
            times.append(ms[0] if ms else None)
            if ms:
                last_milestone = ms[0]
    keep = _in_order(times, [item not in STEPS for item in spec.order])
    out = []
    for i, item in enumerate(spec.order):
        if item not in STEPS:
            continue
        t = times[i]
        critical = item in spec.critical
        if t is None:
            out.append(StepResult(item, STEPS[item], False, False, critical, None, "not done"))
            continue
        note = ""
        if not keep[i]:
            at = [math.nan if u is None else u for u in times]  # NaN compares False
            later = [j for j in range(i + 1, len(spec.order)) if at[j] < t]
            earlier = [j for j in range(i) if at[j] > t]
            if later:
                note = f"taken after: {_name(spec.order[later[0]], words)}"
            elif earlier:
                note = f"taken before: {_name(spec.order[earlier[-1]], words)}"
            else:  # pragma: no cover - an item out of the run has one on either side
                note = "out of order"
        elif item == CLEAN:
            note = _outside(events)
        out.append(
            StepResult(item, STEPS[item], True, keep[i], critical, t, note, keep[i] and not note)
        )
    return tuple(out)


def _name(item: str, words: dict[str, str]) -> str:
    return STEPS.get(item) or words.get(item) or item.replace("_", " ")


def _outside(events: Sequence[Event]) -> str:
    """Why the punctures do not all fall inside the cleaned area ("" when they do)."""
    cleaned: Event | None = None
    for e in events:
        if e.kind == step_kind(CLEAN):
            cleaned = e
        elif e.kind == PUNCTURE:
            if cleaned is None:
                return "the skin was punctured before it was cleaned"
            x, z = e.value("x_mm"), e.value("z_mm")
            cx, cz, r = cleaned.value("x_mm"), cleaned.value("z_mm"), cleaned.value("radius_mm")
            if not all(math.isfinite(v) for v in (cx, cz)):
                return "cleaned before the needle was on the arm: no site to clean"
            d = math.hypot(x - cx, z - cz)
            if not d <= r:
                return (
                    f"puncture {d:.0f} mm from the cleaned site's centre, outside the "
                    f"cleaned {r:.0f} mm radius"
                )
    return ""
