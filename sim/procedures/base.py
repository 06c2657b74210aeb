"""What a procedure is: the interface every package under :mod:`sim.procedures` implements.

A procedure (venipuncture, suturing, IV cannulation...) is one package
``sim/procedures/<name>/`` whose ``PROCEDURE`` is a :class:`Procedure`. The shared layers
(scenario reader, pipeline, cue engine, scorer, renderer, HUD, app, reports, store) know no
procedure by name: they look the scenario's ``task`` up in :mod:`sim.procedures.registry`
and call what its :class:`Procedure` offers. See ``docs/procedures.md`` for how to add one.

The pure parts (spec types, task model, live view, cue rules, metrics, scripted trainee) are
plain attributes; the parts that serve a window or OpenGL (the scene and side view, the
mouse mapping) are loaded only when asked for (:attr:`Procedure.scene`,
:attr:`Procedure.mouse`), so the core never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

import numpy as np

from sim.core.records import Event, Item, Sample
from sim.core.scenario import Scenario, SpecReader
from sim.feedback.cues import LiveView, Rule
from sim.metrics.catalog import MetricInfo
from sim.metrics.noise import InputNoise

if TYPE_CHECKING:
    from sim.app.mouse import MouseMapping
    from sim.render.plugin import ScenePlugin
    from sim.sources.scripted import Skill

S = TypeVar("S")
S_in = TypeVar("S_in", contravariant=True)
V = TypeVar("V", bound=LiveView)


class Task(Protocol[S]):
    """A task model: a pure state machine ``step(state, item) -> (state, events)``.

    A task never keeps state of its own: everything that changes lives in the immutable
    state value it is handed (a frozen dataclass), and time comes in with the items, so the
    same items always give the same events, in time order.
    """

    scenario: Scenario

    def initial(self) -> S:
        """The state before the first item."""

    def step(self, state: S, item: Item) -> tuple[S, tuple[Event, ...]]:
        """Consume one sample or action; return the new state and the events it caused."""

    def phase(self, state: S) -> str:
        """Name of the current phase, for the HUD and per-phase timing (``"done"`` at the
        end)."""

    def is_complete(self, state: S) -> bool:
        """Whether the procedure was carried out to its end (the task then finishes itself)."""

    def is_finished(self, state: S) -> bool:
        """Whether the session is over (completed, or the trainee pressed finish)."""


class Hand(NamedTuple):
    """What the pipeline measures at a sample for every procedure (the shared part of a
    :class:`~sim.feedback.cues.LiveView`, in its field order)."""

    t_s: float
    phase: str
    tracked: bool
    speed_mm_s: float
    tremor_mm: float
    moved: bool
    near: bool
    done: bool


class Live(Protocol[S_in, V]):
    """How a procedure's live view is measured from its task state and a sample."""

    def approach(self, state: S_in, sample: Sample) -> tuple[float, bool]:
        """``(distance_to_skin_mm, inserted)`` of the sample: what the cue gates' ``near``
        is judged on (inf when the needle does not point at the tissue)."""

    def view(self, state: S_in, sample: Sample, hand: Hand) -> V:
        """The live view at ``sample`` (``hand`` holds the shared fields)."""

    def at(self, state: S_in, last: V, hand: Hand) -> V:
        """The view after an action at ``hand.t_s``: ``last`` with its time, phase and
        whatever depends on time (a tourniquet's) brought up to date."""


class Scripted(Protocol):
    """A procedure's scripted trainee (see :mod:`sim.sources.scripted`)."""

    def __call__(
        self,
        scenario: Scenario,
        skill: Skill,
        rng: np.random.Generator,
        errors: Collection[str],
        habits: np.random.Generator,
    ) -> list[Item]:
        """Items of one session at ``skill`` that make each error kind in ``errors`` on
        purpose; ``habits`` draws the trainee's habits (such as probing) apart from ``rng``,
        so that adding a habit leaves the rest of a seed's trajectory as it was."""


@dataclass(frozen=True, slots=True)
class HelpText:
    """What the practice screen tells a trainee about this procedure.

    Attributes
    ----------
    controls : tuple of (str, str)
        ``(keys, what they do)`` lines of the help overlay (the procedure's own: the app
        adds the shared ones).
    hint : str
        One line shown at the start of a session.
    """

    controls: tuple[tuple[str, str], ...]
    hint: str


@dataclass(frozen=True, slots=True)
class ReportTable:
    """One section a procedure adds to a session's report: a titled table.

    Attributes
    ----------
    title : str
        The section's heading ("Attempts").
    intro : str
        One sentence on what the table shows ("" for none).
    header : tuple of str
        Column headings, units in brackets ("angle (°)").
    rows : tuple of tuple of str
        The cells, already worded and rounded.
    numeric : tuple of int
        Columns to align right.
    """

    title: str
    intro: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[int, ...] = ()


def no_report(scenario: Scenario, events: Sequence[Event]) -> tuple[ReportTable, ...]:
    """A procedure without report sections of its own."""
    return ()


KeyAction = Callable[[Any], str]
"""What a procedure's key does, given the task state: the kind of the action it sends (a
shared :class:`~sim.core.records.ActionKind` or the procedure's own; e.g. the tourniquet
key puts it on or takes it off)."""


@dataclass(frozen=True)
class Procedure(Generic[S, V]):
    """One procedure and everything the shared layers need of it.

    Attributes
    ----------
    id : str
        The scenario files' ``task`` (e.g. ``"iv-cannulation"``).
    name : str
        Words for people ("peripheral IV cannulation").
    geometry, tolerances : type
        Frozen dataclasses read from the scenario's ``[geometry]`` and ``[tolerances]``
        tables (fields with range metadata, see :class:`sim.core.scenario.SpecReader`).
    check : callable
        ``check(reader, geometry, tolerances)``: cross-field checks of a scenario, raising
        ``reader.fail(...)`` for the first problem.
    task : callable
        ``task(scenario) -> Task``: the task model.
    live : callable
        ``live(task) -> Live``: the live view's measurement.
    rules : callable
        ``rules(scenario, noise) -> list of Rule``: the live cue rules for a session whose
        input has ``noise`` (an :class:`~sim.metrics.noise.InputNoise`; thresholds rise above
        it, see :mod:`sim.feedback.cues`).
    metrics : tuple of MetricInfo
        The procedure's own metrics (shown after the shared motion metrics), each computed
        by ``precision``.
    precision : callable
        ``precision(scenario, events, total_time_s) -> {name: value}``: every metric in
        ``metrics`` (NaN for a step that never happened).
    error_kinds : tuple of str
        Every error event kind the task model emits (each provokable by ``scripted``).
    legacy_error_kinds : tuple of str
        Kinds older versions emitted: scenario files may still name them.
    reactions : tuple of str
        The patient's reactions that are not errors (``patient_*`` event kinds of
        :mod:`sim.core.patient`) its scripted trainee provokes on demand, as it does the
        error kinds (most only on a patient case whose condition allows them: a vein that
        rolls, a fragile wall). Empty for a procedure without a patient.
    notes : callable
        ``notes(scenario, events) -> {metric: words}``: what some of its metrics' values
        came from, in words ("Patient discomfort peaked at 6.5/10: ..."); the results, the
        report and ``procsim score`` show a scored metric's words as a line of their notes
        (:func:`sim.metrics.scoring.measurement_notes`). Default: none.
    complete_from_events : callable
        ``complete_from_events(scenario, events) -> bool``: whether a recording made before
        results carried ``complete`` shows the procedure carried out to its end.
    scripted : Scripted
        The scripted trainee.
    target_words : callable
        ``target_words(scenario, metric, values) -> str or None``: the debrief's words for
        one of its metrics with its target ("Insertion angle: 42° (target 15-30°)"); None
        for the default wording.
    along : str
        What the scene's x axis runs along, in words ("the arm").
    help : HelpText
        Controls and hint of the practice screen.
    keys : mapping of str to callable
        The procedure's keys (by their name, ``"t"``) and the action each sends, given the
        task state.
    repeat_hz : mapping of str to float
        Keys whose action repeats while the key is held, and how many times a second (a
        catheter slid off its needle in steps).
    sounds : mapping of str to str
        Which of its events sound which tone in practice (event kind -> a name of
        :data:`sim.app.sound.TONES`: danger, miss, warning, step, progress, done).
    report : callable
        ``report(scenario, events) -> tuple of ReportTable``: the sections it adds to a
        session's report, after the metrics (each attempt, each stitch...).
    scene : callable
        Loads the procedure's scene: meshes, side view, HUD readouts and camera (its
        ``scene`` module's ``SCENE``, a :class:`sim.render.plugin.ScenePlugin`).
    mouse : callable
        Loads the procedure's mouse mapping (its ``mouse`` module's ``MOUSE``, a
        :class:`sim.app.mouse.MouseMapping`).
    aim_across_mm : callable, optional
        ``aim_across_mm(scenario)``: the line across the arm (scene z, mm) the task aims at,
        e.g. the vein's centreline; a webcam's aim may snap to it (:mod:`sim.core.assist`).
        None for a task that has no single such line (suturing bites on both sides).
    milestones : mapping of str to str
        Events of the task a scenario's checklist may place its steps around (event kind ->
        words: ``"skin_puncture": "skin punctured"``), :mod:`sim.core.checklist`.
    mirror : callable
        ``mirror(scenario) -> Scenario``: the scene seen in a mirror across the vertical plane
        along x through z = 0 (the limb's axis, the wound's line): every position across it
        negated (a vein off the arm's middle, the patient's artery and nerve). A session from
        a left-handed trainee is the mirror image of a right-handed one's on this scene; the
        contract checker holds every procedure to scoring the two alike
        (:mod:`sim.procedures.check`). Default: the scene is its own mirror image.
    """

    id: str
    name: str
    geometry: type
    tolerances: type
    check: Callable[[SpecReader, Any, Any], None]
    task: Callable[[Scenario], Task[S]]
    live: Callable[[Any], Live[S, V]]
    rules: Callable[[Scenario, InputNoise], list[Rule[Any]]]
    metrics: tuple[MetricInfo, ...]
    precision: Callable[[Scenario, Sequence[Event], float], dict[str, float]]
    error_kinds: tuple[str, ...]
    complete_from_events: Callable[[Scenario, Sequence[Event]], bool]
    scripted: Scripted
    target_words: Callable[[Scenario, str, Mapping[str, float]], str | None]
    along: str
    help: HelpText
    keys: Mapping[str, KeyAction]
    scene: Callable[[], ScenePlugin]
    mouse: Callable[[], MouseMapping]
    legacy_error_kinds: tuple[str, ...] = ()
    reactions: tuple[str, ...] = ()
    notes: Callable[[Scenario, Sequence[Event]], dict[str, str]] = field(
        default=lambda scenario, events: {}
    )
    repeat_hz: Mapping[str, float] = field(default_factory=dict)
    sounds: Mapping[str, str] = field(default_factory=dict)
    report: Callable[[Scenario, Sequence[Event]], tuple[ReportTable, ...]] = no_report
    aim_across_mm: Callable[[Scenario], float] | None = None
    milestones: Mapping[str, str] = field(default_factory=dict)
    mirror: Callable[[Scenario], Scenario] = field(default=lambda scenario: scenario)

    def known_error_kinds(self) -> tuple[str, ...]:
        """Error kinds a scenario of this procedure may name: emitted now, and legacy."""
        return self.error_kinds + self.legacy_error_kinds
