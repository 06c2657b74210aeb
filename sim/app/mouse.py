"""Mouse (and keyboard) control of the instrument, as a live source of samples.

What is shared by every procedure lives here: :class:`MouseSource` (a
:class:`~sim.sources.LiveSource`) turns pygame events into changes of named controls, eases
the instrument towards them, picks the point under the cursor with the camera's ray and
emits samples at the scenario's rate. What the controls *mean* (which gesture moves what,
and the instrument's pose for control values) is the procedure's :class:`MouseMapping`
(its package's ``mouse.MOUSE``, loaded through :attr:`sim.procedures.base.Procedure.mouse`).
Instrument kinds that several procedures share are generic, parameterised by numbers (see
:mod:`sim.app.needles`). The controls separate what the hand does from what the wrist
does, so that technique shows in the measurements (see ``docs/controls.md``).

Samples come at the scenario's sample rate whatever the frame rate: :meth:`MouseSource.poll`
emits one sample per tick elapsed since the last call, with the controls eased towards the
mouse over a short time constant (a real hand does not teleport).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sim.core import geometry as g
from sim.core.records import Item, Sample, Vec3
from sim.core.scenario import Scenario

if TYPE_CHECKING:
    from sim.render.scene import OrbitCamera

EASE_S = 0.06
"""Time constant with which the instrument follows the controls, s."""
DRAG_MM_PER_PX = 0.05
"""Left-drag: mm of the left-drag control per pixel of vertical motion."""
DRAG_DEG_PER_PX = 0.25
"""Right-drag: degrees of angle per pixel up-down (and twice that of roll sideways)."""
WHEEL_MM = 0.5
"""Wheel: mm of the wheel's control per click."""
MAX_CATCH_UP_S = 0.5
"""After a stall longer than this the source skips ahead instead of catching up, s."""
GLIDE_S = 0.5
"""How long the instrument glides to where the mapping put it (a reload), s."""

Pose = tuple[Vec3, Vec3, Vec3]
"""``(tip, axis, normal)`` of the instrument, as in :class:`~sim.core.records.Sample`."""


@dataclass(frozen=True)
class Controls:
    """The instrument's control parameters (what each means is the instrument's).

    Attributes
    ----------
    aim : tuple of 3 float
        Where the hand holds the instrument, mm: for a straight needle the point on the skin
        it is aimed at, for a curved needle the centre of its arc.
    advance_mm : float
        Straight needle: tip position along the needle from the aim point (negative above
        the skin). Curved needle: unused (0).
    angle_deg : float
        Straight needle: pitch into the skin. Curved needle: the wrist's turn, the tip's
        position on the arc (180 points the tip straight down).
    roll_deg : float
        Bevel roll (straight needle).
    yaw_deg : float
        Heading in the skin plane (straight needle).
    """

    aim: Vec3
    advance_mm: float
    angle_deg: float
    roll_deg: float = 0.0
    yaw_deg: float = 0.0


@dataclass(frozen=True, slots=True)
class Bindings:
    """Which gesture moves which of an instrument's controls.

    Control names are the instrument's own (see :meth:`Instrument.change`); right-drag is
    the same for every instrument: up-down changes ``"angle"`` by :data:`DRAG_DEG_PER_PX`
    per pixel, sideways ``"roll"`` by twice that.

    Attributes
    ----------
    left_drag : str
        The control that left-drag up-down changes, by :data:`DRAG_MM_PER_PX` per pixel.
    wheel : str
        The control that a wheel click changes, by :data:`WHEEL_MM`.
    keys : mapping of str to (str, float)
        Held keys, by pygame key name (``"w"``): the control each changes and how fast (its
        unit per second, negative to decrease). Held keys apply in this order each tick.
    """

    left_drag: str
    wheel: str
    keys: Mapping[str, tuple[str, float]]


class Instrument(Protocol):
    """One session's instrument under the mouse: from controls to its pose, and what each
    gesture does to the controls. It may keep state of the session (which way a curved
    needle crosses the wound); :class:`MouseSource` keeps the controls and eases them."""

    def start(self) -> Controls:
        """The controls at the start of the session (the instrument held ready)."""

    def pose(self, c: Controls) -> Pose:
        """``(tip, axis, normal)`` of the instrument for control values ``c``."""

    def pick(self, origin: Vec3, direction: Vec3) -> Vec3 | None:
        """The point of the work surface the cursor's ray hits (None: none there)."""

    def point(self, target: Controls, current: Controls, hit: Vec3) -> Controls:
        """The controls aimed for once the cursor moved onto surface point ``hit``
        (``target`` before, ``current`` where the instrument is now)."""

    def change(self, target: Controls, control: str, amount: float) -> Controls:
        """``target`` with one named control (a :class:`Bindings` name) changed by
        ``amount`` (its unit: mm, degrees...), within its limits; unknown names change
        nothing."""

    def sampled(self, s: Sample) -> Controls | None:
        """Told each sample emitted; controls to jump to from there (the instrument glides
        there over :data:`GLIDE_S`), e.g. a needle reloaded after a stitch; None to go on."""

    def advice(self, target: Controls, current: Controls) -> str | None:
        """What to do when the controls themselves are the obstacle (None otherwise)."""


class MouseMapping(Protocol):
    """What a procedure's mouse control provides (its package's ``mouse.MOUSE``): which
    gesture moves which control, and the session's instrument that gives them meaning."""

    @property
    def bindings(self) -> Bindings:
        """Which gesture moves which control."""

    def instrument(self, scenario: Scenario) -> Instrument:
        """A fresh instrument for one session of ``scenario`` (its geometry read from
        there)."""


@dataclass(frozen=True, slots=True)
class InstrumentMouse:
    """A :class:`MouseMapping` made of bindings and a builder of the session's instrument.

    Attributes
    ----------
    bindings : Bindings
        Which gesture moves which control.
    build : callable
        ``build(scenario) -> Instrument``.
    """

    bindings: Bindings
    build: Callable[[Scenario], Instrument]

    def instrument(self, scenario: Scenario) -> Instrument:
        """A fresh instrument for one session of ``scenario``."""
        return self.build(scenario)


def _ease(a: float, b: float, f: float) -> float:
    return a + (b - a) * f


def _mapping_of(scenario: Scenario) -> MouseMapping:
    from sim.procedures.registry import get

    return get(scenario.task).mouse()


class MouseSource:
    """A :class:`~sim.sources.LiveSource` driven by pygame mouse and keyboard events.

    Parameters
    ----------
    scenario : Scenario
        The scenario practised (its procedure's :class:`MouseMapping` is used).
    camera : callable returning OrbitCamera
        The camera the trainee currently sees (for pointing at the skin).
    size : callable returning (int, int)
        The window size, pixels.
    clock : callable returning float
        Monotonic seconds (``time.monotonic``; tests pass a stepped clock).
    mapping : MouseMapping, optional
        Default: the scenario's procedure's.
    """

    input_kind = "mouse"

    def __init__(
        self,
        scenario: Scenario,
        camera: Callable[[], OrbitCamera],
        size: Callable[[], tuple[int, int]],
        clock: Callable[[], float] = time.monotonic,
        mapping: MouseMapping | None = None,
    ) -> None:
        self.scenario = scenario
        self.error: str | None = None
        self._camera = camera
        self._size = size
        self._clock = clock
        self._rate = scenario.sample_rate_hz
        m = mapping if mapping is not None else _mapping_of(scenario)
        self.bindings = m.bindings
        self.instrument = m.instrument(scenario)
        start = self.instrument.start()
        self.target = start
        self.current = start
        self._held: set[str] = set()
        self._drag: str | None = None
        self._t0: float | None = None
        self._next_tick = 0
        self._glide: tuple[float, Sample, float] | None = None  # (start t, from, duration)

    # --- LiveSource -----------------------------------------------------------------------
    def start(self, t0_monotonic_s: float) -> None:
        self._t0 = t0_monotonic_s
        self._next_tick = 0
        import pygame

        if pygame.display.get_init() and pygame.mouse.get_focused():
            # the needle starts where the pointer already rests (after Retry the pointer
            # does not move, and SDL reports no motion): placed there, not glided there,
            # so the trainee has not moved yet
            self.point_at(pygame.mouse.get_pos())
            self.current = self.target

    def close(self) -> None:
        self._held.clear()

    def poll(self) -> list[Item]:
        """One sample per tick of the scenario's rate elapsed since the last call."""
        if self._t0 is None:
            self.start(self._clock())
        assert self._t0 is not None
        now = self._clock() - self._t0
        dt = 1.0 / self._rate
        last_due = int(math.floor(now * self._rate + 1e-9))
        if (last_due - self._next_tick) * dt > MAX_CATCH_UP_S:  # the app stalled: skip
            self._next_tick = last_due - int(MAX_CATCH_UP_S * self._rate)
        out: list[Item] = []
        f = 1.0 - math.exp(-dt / EASE_S)
        while self._next_tick <= last_due:
            t = round(self._next_tick * dt, 9)
            self._apply_held(dt)
            self._step(f)
            out.append(self._sample(t))
            self._next_tick += 1
        return out

    # --- events ---------------------------------------------------------------------------
    def handle_event(self, event: Any) -> bool:
        """Use a pygame event if it is an instrument control; True when consumed."""
        import pygame

        et = event.type
        if et == pygame.MOUSEMOTION:
            if tuple(event.rel) == (0, 0) and self._drag is None:
                # where the pointer rests when the window opens (SDL reports it as a motion
                # with rel 0): the trainee has not moved, so the needle does not either
                return True
            if self._drag == "left":
                self._change(self.bindings.left_drag, -event.rel[1] * DRAG_MM_PER_PX)
            elif self._drag == "right":
                self._change("angle", -event.rel[1] * DRAG_DEG_PER_PX)
                self._change("roll", event.rel[0] * DRAG_DEG_PER_PX * 2)
            else:
                self.point_at(event.pos)
            return True
        if et == pygame.MOUSEBUTTONDOWN and event.button in (1, 3):
            mods = pygame.key.get_mods()
            if event.button == 1 and mods & (pygame.KMOD_SHIFT | pygame.KMOD_ALT):
                return False  # camera orbit
            self._drag = "left" if event.button == 1 else "right"
            return True
        if et == pygame.MOUSEBUTTONUP and event.button in (1, 3):
            was = self._drag is not None
            self._drag = None
            return was
        if et == pygame.MOUSEWHEEL:
            if pygame.key.get_mods() & pygame.KMOD_CTRL:
                return False  # camera zoom
            self._change(self.bindings.wheel, event.y * WHEEL_MM)
            return True
        if et in (pygame.KEYDOWN, pygame.KEYUP):
            name = pygame.key.name(event.key)
            if name not in self.bindings.keys:
                return False
            if et == pygame.KEYDOWN:
                self._held.add(name)
            else:
                self._held.discard(name)
            return True
        return False

    def point_at(self, pos: tuple[float, float]) -> None:
        """The cursor at pixel ``pos``: the instrument follows the surface point there (how
        is the instrument's: aim at it, or slide the hand with the needle in the tissue)."""
        origin, direction = self._camera().ray(pos[0], pos[1], self._size())
        hit = self.instrument.pick(origin, direction)
        if hit is not None:
            self.target = self.instrument.point(self.target, self.current, hit)

    def pose(self, c: Controls) -> Pose:
        """(tip, axis, normal) of the instrument for control values ``c``."""
        return self.instrument.pose(c)

    def advice(self) -> str | None:
        """What to do when the controls themselves are the obstacle (None otherwise)."""
        return self.instrument.advice(self.target, self.current)

    # --- control changes ------------------------------------------------------------------
    def _change(self, control: str, amount: float) -> None:
        self.target = self.instrument.change(self.target, control, amount)

    def _apply_held(self, dt: float) -> None:
        if not self._held:
            return
        for name, (control, rate) in self.bindings.keys.items():
            if name in self._held:
                self._change(control, rate * dt)

    def _step(self, f: float) -> None:
        c, t = self.current, self.target
        roll = c.roll_deg + ((t.roll_deg - c.roll_deg + 180.0) % 360.0 - 180.0) * f
        self.current = Controls(
            (
                _ease(c.aim[0], t.aim[0], f),
                _ease(c.aim[1], t.aim[1], f),
                _ease(c.aim[2], t.aim[2], f),
            ),
            _ease(c.advance_mm, t.advance_mm, f),
            _ease(c.angle_deg, t.angle_deg, f),
            roll,
            _ease(c.yaw_deg, t.yaw_deg, f),
        )

    # --- poses ----------------------------------------------------------------------------
    def _sample(self, t: float) -> Sample:
        pose = self.instrument.pose(self.current)
        s = Sample(t, pose[0], pose[1], pose[2])
        if self._glide is not None:
            t_start, frm, dur = self._glide
            k = (t - t_start) / dur
            if k >= 1.0:
                self._glide = None
            else:
                k = k * k * (3 - 2 * k)
                ax = g.unit(g.lerp(frm.axis, s.axis, k))
                nm = g.lerp(frm.normal, s.normal, k)
                nm = g.sub(nm, g.scale(ax, g.dot(nm, ax)))
                nm = g.unit(nm) if g.norm(nm) > 1e-9 else s.normal
                s = Sample(t, g.lerp(frm.tip_mm, s.tip_mm, k), ax, nm)
        jump = self.instrument.sampled(s)
        if jump is not None:
            self.target = jump
            self.current = jump
            self._glide = (s.t_s, s, GLIDE_S)
        return s
