"""Mouse (and keyboard) control of the needle, as a live source of samples.

The controls separate what the hand does from what the wrist does, so that technique shows
in the measurements (see ``docs/controls.md``):

- Venipuncture (straight needle): the cursor aims the needle at a point on the skin;
  advancing (wheel, left-drag, W/S) pushes it along its own axis; right-drag or Q/E
  changes the angle, A/D rolls the bevel. Moving the mouse while the needle is in the skin
  slides the whole needle sideways through the tissue: that is probing.
- Suturing (curved needle): the cursor and left-drag (or R/F) move the hand, translating
  the needle; the wheel (or W/S) turns the wrist, rotating the needle about the centre of
  its arc; right-drag or Q/E pitches it about its tip (the entry angle is the trainee's).
  Rotating drives the tip along its own curve; pushing or sliding the hand in tissue moves
  it off the curve (tissue drag).

Samples come at the scenario's sample rate whatever the frame rate: :meth:`MouseSource.poll`
emits one sample per tick elapsed since the last call, with the controls eased towards the
mouse over a short time constant (a real hand does not teleport).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sim.core import geometry as g
from sim.core.records import Item, Sample, Vec3
from sim.core.scenario import Scenario
from sim.procedures.suturing.spec import SuturingGeometry
from sim.procedures.venipuncture.spec import VenipunctureGeometry
from sim.render.scene import OrbitCamera

EASE_S = 0.06
"""Time constant with which the needle follows the controls, s."""
ADVANCE_KEY_MM_S = 6.0
ANGLE_KEY_DEG_S = 25.0
ROLL_KEY_DEG_S = 60.0
WHEEL_MM = 0.5
DRAG_MM_PER_PX = 0.05
DRAG_DEG_PER_PX = 0.25
HOVER_MM = 10.0
MAX_CATCH_UP_S = 0.5
HAND_KEY_MM_S = 4.0
"""Suturing: speed of the hand up or down with R / F, mm/s."""
TURN_REST_DEG = 180.0
"""Suturing: the wrist's rest position, the needle's tip pointing straight down."""
OUT_MM = 2.5
"""Suturing: a tip this far out of the skin past the wound is through: reload."""
TURN_MAX_DEG = 450.0
"""Suturing: the wrist's whole turn, the needle's arc once round from the rest position."""


@dataclass(frozen=True)
class Controls:
    """The needle's control parameters.

    Attributes
    ----------
    aim : tuple of 3 float
        Venipuncture: point on the skin the needle is aimed at, mm. Suturing: the centre of
        the needle's arc (where the hand holds it), mm.
    advance_mm : float
        Venipuncture: tip position along the needle from the aim point (negative above the
        skin). Suturing: unused (0).
    angle_deg : float
        Venipuncture: pitch into the skin. Suturing: the wrist's turn, the tip's position on
        the arc: 180 points the tip straight down, more turns it on towards the wound.
    roll_deg : float
        Bevel roll (venipuncture).
    yaw_deg : float
        Heading in the skin plane (venipuncture).
    """

    aim: Vec3
    advance_mm: float
    angle_deg: float
    roll_deg: float = 0.0
    yaw_deg: float = 0.0


def _ease(a: float, b: float, f: float) -> float:
    return a + (b - a) * f


class MouseSource:
    """A :class:`~sim.sources.LiveSource` driven by pygame mouse and keyboard events.

    Parameters
    ----------
    scenario : Scenario
        Venipuncture or suturing.
    camera : callable returning OrbitCamera
        The camera the trainee currently sees (for pointing at the skin).
    size : callable returning (int, int)
        The window size, pixels.
    clock : callable returning float
        Monotonic seconds (``time.monotonic``; tests pass a stepped clock).
    """

    input_kind = "mouse"

    def __init__(
        self,
        scenario: Scenario,
        camera: Callable[[], OrbitCamera],
        size: Callable[[], tuple[int, int]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scenario = scenario
        self.error: str | None = None
        self._camera = camera
        self._size = size
        self._clock = clock
        self._rate = scenario.sample_rate_hz
        geo = scenario.geometry
        self.suturing = isinstance(geo, SuturingGeometry)
        if isinstance(geo, VenipunctureGeometry):
            self._skin: g.Cylinder | None = g.Cylinder(geo.arm_radius_mm)
            start = Controls((-12.0, 0.0, geo.vein_lateral_mm + 6.0), -HOVER_MM, 20.0)
            self._max_advance = geo.needle_length_mm - 3.0
        else:
            self._skin = None
            tol = scenario.suturing[1]
            self._radius = geo.needle_radius_mm
            self._side = 1.0  # which way the needle crosses the wound (+z)
            self._max_advance = 0.0
            start = self._hover_at((-20.0, 0.0, -tol.bite_target_mm), HOVER_MM, TURN_REST_DEG)
        self._went_in = False
        self._last_hit: Vec3 | None = None
        self.target = start
        self.current = start
        self._held: set[str] = set()
        self._drag: str | None = None
        self._t0: float | None = None
        self._next_tick = 0
        self._glide: tuple[float, Sample, float] | None = None  # (start t, from, duration)
        self._last_sample: Sample | None = None

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
        """Use a pygame event if it is a needle control; True when consumed."""
        import pygame

        et = event.type
        if et == pygame.MOUSEMOTION:
            if tuple(event.rel) == (0, 0) and self._drag is None:
                # where the pointer rests when the window opens (SDL reports it as a motion
                # with rel 0): the trainee has not moved, so the needle does not either
                return True
            if self._drag == "advance":
                if self.suturing:
                    self._add_height(-event.rel[1] * DRAG_MM_PER_PX)
                else:
                    self._add_advance(-event.rel[1] * DRAG_MM_PER_PX)
            elif self._drag == "angle":
                self._add_angle(-event.rel[1] * DRAG_DEG_PER_PX)
                self._add_roll(event.rel[0] * DRAG_DEG_PER_PX * 2)
            else:
                self.point_at(event.pos)
            return True
        if et == pygame.MOUSEBUTTONDOWN and event.button in (1, 3):
            mods = pygame.key.get_mods()
            if event.button == 1 and mods & (pygame.KMOD_SHIFT | pygame.KMOD_ALT):
                return False  # camera orbit
            self._drag = "advance" if event.button == 1 else "angle"
            return True
        if et == pygame.MOUSEBUTTONUP and event.button in (1, 3):
            was = self._drag is not None
            self._drag = None
            return was
        if et == pygame.MOUSEWHEEL:
            if pygame.key.get_mods() & pygame.KMOD_CTRL:
                return False  # camera zoom
            if self.suturing:
                self._add_turn(event.y * WHEEL_MM)
            else:
                self._add_advance(event.y * WHEEL_MM)
            return True
        if et in (pygame.KEYDOWN, pygame.KEYUP):
            keys = {
                pygame.K_w: "advance+",
                pygame.K_s: "advance-",
                pygame.K_e: "angle+",
                pygame.K_q: "angle-",
                pygame.K_d: "roll+",
                pygame.K_a: "roll-",
            }
            if self.suturing:
                keys.update({pygame.K_r: "height+", pygame.K_f: "height-"})
            name = keys.get(event.key)
            if name is None:
                return False
            if et == pygame.KEYDOWN:
                self._held.add(name)
            else:
                self._held.discard(name)
            return True
        return False

    def point_at(self, pos: tuple[float, float]) -> None:
        """The cursor at pixel ``pos``: aim at the skin there, or, with the needle in the
        tissue, slide the hand (and the needle with it) as far as the cursor moved."""
        origin, direction = self._camera().ray(pos[0], pos[1], self._size())
        hit: Vec3 | None
        if self._skin is not None:
            hit = self._skin.intersect_ray(origin, direction)
            if hit is not None and hit[1] < -self._skin.radius_mm * 0.6:
                hit = None  # the far side of the arm
        else:
            far = g.add(origin, g.scale(direction, 5000.0))
            hit = g.plane_crossing(origin, far)
            if hit is not None:
                geo = self.scenario.geometry
                assert isinstance(geo, SuturingGeometry)
                hl, hw = geo.pad_length_mm / 2, geo.pad_width_mm / 2
                hit = (max(-hl, min(hl, hit[0])), 0.0, max(-hw, min(hw, hit[2])))
        if hit is None:
            return
        last, self._last_hit = self._last_hit, hit
        if not self.suturing:
            # out of the skin this aims; in it, it slides the needle sideways (probing)
            self.target = replace(self.target, aim=hit)
            return
        if self._inserted():
            if last is not None:  # the hand moves the needle across the tissue
                d = (hit[0] - last[0], 0.0, hit[2] - last[2])
                self.target = replace(self.target, aim=g.add(self.target.aim, d))
            return
        tip_y = self.pose(self.target)[0][1]
        self._side = 1.0 if hit[2] <= 0.0 else -1.0
        self.target = self._hover_at(hit, max(tip_y, 0.0), self.target.angle_deg)

    # --- control changes ------------------------------------------------------------------
    def _inserted(self) -> bool:
        if self.suturing:
            return min(self.pose(self.target)[0][1], self.pose(self.current)[0][1]) < 0.0
        return self.target.advance_mm > -1.5 or self.current.advance_mm > -1.5

    def _add_advance(self, d: float) -> None:
        a = max(-40.0, min(self._max_advance, self.target.advance_mm + d))
        self.target = replace(self.target, advance_mm=a)

    def _add_angle(self, d: float) -> None:
        if self.suturing:  # pitch about the tip: the centre swings round it
            tip = self.pose(self.target)[0]
            turn = max(90.0, min(TURN_MAX_DEG, self.target.angle_deg + d))
            centre = g.sub(tip, self._tip_offset(turn))
            self.target = replace(self.target, aim=centre, angle_deg=turn)
            return
        a = max(0.0, min(80.0, self.target.angle_deg + d))
        self.target = replace(self.target, angle_deg=a)

    def _add_turn(self, arc_mm: float) -> None:
        """Suturing: the wrist turns the needle about its arc's centre by ``arc_mm`` of arc."""
        turn = self.target.angle_deg + math.degrees(arc_mm / self._radius)
        self.target = replace(self.target, angle_deg=max(90.0, min(TURN_MAX_DEG, turn)))

    def advice(self) -> str | None:
        """What to do when the controls themselves are the obstacle (None otherwise):
        suturing, the wrist has turned as far as it goes with the tip still in the tissue
        (the hand is too low for the needle to come out)."""
        if not self.suturing or not self._went_in or self.target.angle_deg < TURN_MAX_DEG:
            return None
        if self.pose(self.current)[0][1] > OUT_MM:
            return None
        return "the wrist is turned as far as it goes: raise the hand (R) to bring the tip out"

    def _add_height(self, d: float) -> None:
        """Suturing: the hand moves the whole needle up (``d`` > 0) or down, mm."""
        geo = self.scenario.geometry
        assert isinstance(geo, SuturingGeometry)
        c = self.target.aim
        y = max(-geo.pad_thickness_mm - self._radius, min(40.0, c[1] + d))
        self.target = replace(self.target, aim=(c[0], y, c[2]))

    def _add_roll(self, d: float) -> None:
        if self.suturing:
            return
        r = (self.target.roll_deg + d + 180.0) % 360.0 - 180.0
        self.target = replace(self.target, roll_deg=r)

    def _apply_held(self, dt: float) -> None:
        h = self._held
        if not h:
            return
        advance = self._add_turn if self.suturing else self._add_advance
        if "advance+" in h:
            advance(ADVANCE_KEY_MM_S * dt)
        if "advance-" in h:
            advance(-ADVANCE_KEY_MM_S * dt)
        if "height+" in h:
            self._add_height(HAND_KEY_MM_S * dt)
        if "height-" in h:
            self._add_height(-HAND_KEY_MM_S * dt)
        if "angle+" in h:
            self._add_angle(ANGLE_KEY_DEG_S * dt)
        if "angle-" in h:
            self._add_angle(-ANGLE_KEY_DEG_S * dt)
        if "roll+" in h:
            self._add_roll(ROLL_KEY_DEG_S * dt)
        if "roll-" in h:
            self._add_roll(-ROLL_KEY_DEG_S * dt)

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
        pose = self.pose(self.current)
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
        if self.suturing:
            y, z = s.tip_mm[1], s.tip_mm[2]
            if y < 0.0:
                self._went_in = True
            elif self._went_in and y > OUT_MM and z * self._side > 0.0:
                self._reload(s)
        self._last_sample = s
        return s

    def _tip_offset(self, turn_deg: float) -> Vec3:
        """Suturing: the tip relative to the arc's centre at wrist turn ``turn_deg``."""
        a = math.radians(turn_deg)
        r = self._radius
        return (0.0, r * math.sin(a), self._side * r * math.cos(a))

    def _hover_at(self, point: Vec3, height_mm: float, turn_deg: float) -> Controls:
        """Suturing: controls holding the tip ``height_mm`` above ``point``."""
        tip = (point[0], point[1] + height_mm, point[2])
        return Controls(g.sub(tip, self._tip_offset(turn_deg)), 0.0, turn_deg)

    def pose(self, c: Controls) -> tuple[Vec3, Vec3, Vec3]:
        """(tip, axis, normal) of the needle for control values ``c``."""
        if not self.suturing:
            axis, normal = g.pose_from_angles(c.yaw_deg, c.angle_deg, c.roll_deg)
            return g.add(c.aim, g.scale(axis, c.advance_mm)), axis, normal
        a = math.radians(c.angle_deg)
        side = self._side
        tip = g.add(c.aim, self._tip_offset(c.angle_deg))
        axis = (0.0, math.cos(a), -side * math.sin(a))
        normal = (0.0, -math.sin(a), -side * math.cos(a))
        return tip, axis, normal

    def _reload(self, s: Sample) -> None:
        """The needle is through: pull it out and hold it ready above the cursor, wrist at
        rest, for the next stitch."""
        self._went_in = False
        point = self._last_hit if self._last_hit is not None else s.tip_mm
        point = (point[0], 0.0, point[2])
        self._side = 1.0 if point[2] <= 0.0 else -1.0
        nxt = self._hover_at(point, HOVER_MM, TURN_REST_DEG)
        self.target = nxt
        self.current = nxt
        self._glide = (s.t_s, s, 0.5)
