"""The instruments that several procedures share under the mouse, parameterised by numbers
(never by procedure): a procedure's ``mouse.py`` reads its scenario's geometry into them.

- :class:`StraightNeedle` (venipuncture, IV cannulation): the cursor aims the needle at a
  point on a cylindrical skin; advancing (wheel, left-drag, W/S) pushes it along its own
  axis; right-drag or Q/E changes the angle, A/D rolls the bevel. Moving the mouse while the
  needle is in the skin slides the whole needle sideways through the tissue: that is
  probing.
- :class:`CurvedNeedle` (suturing): the cursor and left-drag (or R/F) move the hand,
  translating the needle over a flat pad; the wheel (or W/S) turns the wrist, rotating the
  needle about the centre of its arc; right-drag or Q/E pitches it about its tip (the entry
  angle is the trainee's). Rotating drives the tip along its own curve; pushing or sliding
  the hand in tissue moves it off the curve (tissue drag). Turned out across the line
  ``z = 0`` (the wound), the needle is pulled through and reloaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from sim.app.mouse import Bindings, Controls, Pose
from sim.core import geometry as g
from sim.core.records import Sample, Vec3

HOVER_MM = 10.0
"""How far above the skin a needle is held ready, mm."""
ADVANCE_KEY_MM_S = 6.0
"""W / S: speed of the advance (straight) or of the tip along its arc (curved), mm/s."""
ANGLE_KEY_DEG_S = 25.0
"""Q / E: rate of the angle, degrees/s."""
ROLL_KEY_DEG_S = 60.0
"""A / D: rate of the bevel's roll, degrees/s."""
HAND_KEY_MM_S = 4.0
"""Curved needle: speed of the hand up or down with R / F, mm/s."""
GRIP_MM = 3.0
"""Straight needle: the length at its hub that never goes in (the hand holds it), mm."""
WITHDRAWN_MM = 40.0
"""Straight needle: how far back from the aim point the tip may be withdrawn, mm."""
MAX_ANGLE_DEG = 80.0
"""Straight needle: the steepest angle into the skin, degrees."""
TURN_REST_DEG = 180.0
"""Curved needle: the wrist's rest position, the needle's tip pointing straight down."""
TURN_MIN_DEG = 90.0
"""Curved needle: the wrist turned back as far as it goes, degrees."""
TURN_MAX_DEG = 450.0
"""Curved needle: the wrist's whole turn, the needle's arc once round from the rest
position."""
OUT_MM = 2.5
"""Curved needle: a tip this far out of the skin past the wound is through: reload."""
HAND_TOP_MM = 40.0
"""Curved needle: the highest the hand holds the arc's centre above the skin, mm."""
FAR_MM = 5000.0
"""Length of the cursor's ray, mm (well past anything in the scene)."""

STRAIGHT_BINDINGS = Bindings(
    left_drag="advance",
    wheel="advance",
    keys={
        "w": ("advance", ADVANCE_KEY_MM_S),
        "s": ("advance", -ADVANCE_KEY_MM_S),
        "e": ("angle", ANGLE_KEY_DEG_S),
        "q": ("angle", -ANGLE_KEY_DEG_S),
        "d": ("roll", ROLL_KEY_DEG_S),
        "a": ("roll", -ROLL_KEY_DEG_S),
    },
)
"""A straight needle: left-drag, wheel and W/S advance; Q/E angle; A/D roll the bevel."""

CURVED_BINDINGS = Bindings(
    left_drag="height",
    wheel="turn",
    keys={
        "w": ("turn", ADVANCE_KEY_MM_S),
        "s": ("turn", -ADVANCE_KEY_MM_S),
        "r": ("height", HAND_KEY_MM_S),
        "f": ("height", -HAND_KEY_MM_S),
        "e": ("angle", ANGLE_KEY_DEG_S),
        "q": ("angle", -ANGLE_KEY_DEG_S),
        "d": ("roll", ROLL_KEY_DEG_S),
        "a": ("roll", -ROLL_KEY_DEG_S),
    },
)
"""A curved needle: left-drag and R/F raise or lower the hand; the wheel and W/S turn the
wrist; Q/E pitch about the tip; A/D are taken but do nothing (a curved needle has no bevel
to roll), so they never reach the camera."""


def _about_x(v: Vec3, angle_rad: float) -> Vec3:
    """``v`` turned about the x axis (the arm's) by ``angle_rad``, +y towards +z."""
    c, sn = math.cos(angle_rad), math.sin(angle_rad)
    return (v[0], v[1] * c - v[2] * sn, v[1] * sn + v[2] * c)


@dataclass
class StraightNeedle:
    """A straight needle aimed at a point on a cylindrical skin (see the module).

    Parameters
    ----------
    skin_radius_mm : float
        Radius of the skin cylinder (:class:`sim.core.geometry.Cylinder`; its top runs along
        ``y = 0, z = 0``).
    needle_length_mm : float
        The needle's length; all but :data:`GRIP_MM` of it may go in.
    start_aim : tuple of 3 float
        Point on the skin the needle is aimed at when the session starts, mm.
    start_angle_deg : float
        Its angle then, degrees.
    """

    skin_radius_mm: float
    needle_length_mm: float
    start_aim: Vec3
    start_angle_deg: float = 20.0

    def start(self) -> Controls:
        """Held :data:`HOVER_MM` back from the start point, bevel up."""
        return Controls(self.start_aim, -HOVER_MM, self.start_angle_deg)

    def pose(self, c: Controls) -> Pose:
        """The tip ``advance_mm`` along the needle's axis from the aim point. The angle and
        the roll are the trainee's against the skin under the aim point, as the task judges
        them: aimed to the side of the arm, where the skin slopes, the needle turns with it
        (bevel up stays up from the skin there, and 20° stays 20° to it)."""
        axis, normal = g.pose_from_angles(c.yaw_deg, c.angle_deg, c.roll_deg)
        tilt = math.atan2(c.aim[2], c.aim[1] + self.skin_radius_mm)  # the skin's slope
        axis, normal = _about_x(axis, tilt), _about_x(normal, tilt)
        return g.add(c.aim, g.scale(axis, c.advance_mm)), axis, normal

    def pick(self, origin: Vec3, direction: Vec3) -> Vec3 | None:
        """Where the ray meets the skin, on the side facing up."""
        skin = g.Cylinder(self.skin_radius_mm)
        hit = skin.intersect_ray(origin, direction)
        if hit is not None and hit[1] < -self.skin_radius_mm * 0.6:
            return None  # the far side of the arm
        return hit

    def point(self, target: Controls, current: Controls, hit: Vec3) -> Controls:
        """Aim at ``hit``: out of the skin this aims; in it, it slides the needle sideways
        (probing)."""
        return replace(target, aim=hit)

    def change(self, target: Controls, control: str, amount: float) -> Controls:
        """``advance`` (mm), ``angle`` (degrees, 0 to :data:`MAX_ANGLE_DEG`), ``roll``
        (degrees, wrapped to [-180, 180))."""
        if control == "advance":
            most = self.needle_length_mm - GRIP_MM
            a = max(-WITHDRAWN_MM, min(most, target.advance_mm + amount))
            return replace(target, advance_mm=a)
        if control == "angle":
            return replace(
                target, angle_deg=max(0.0, min(MAX_ANGLE_DEG, target.angle_deg + amount))
            )
        if control == "roll":
            r = (target.roll_deg + amount + 180.0) % 360.0 - 180.0
            return replace(target, roll_deg=r)
        return target

    def sampled(self, s: Sample) -> Controls | None:
        """Nothing to do: the needle stays where the trainee puts it."""
        return None

    def advice(self, target: Controls, current: Controls) -> str | None:
        """None: every pose is within reach of the controls."""
        return None


@dataclass
class CurvedNeedle:
    """A curved needle held over a flat pad (skin at ``y = 0``) with a wound along
    ``z = 0`` (see the module).

    Parameters
    ----------
    needle_radius_mm : float
        Radius of the needle's arc.
    pad_length_mm, pad_width_mm, pad_thickness_mm : float
        The pad's size along x and z, and its depth (the hand goes no lower than an arc
        under it).
    start_point : tuple of 3 float
        Point on the skin the needle is held ready above when the session starts, mm.
    """

    needle_radius_mm: float
    pad_length_mm: float
    pad_width_mm: float
    pad_thickness_mm: float
    start_point: Vec3
    _side: float = field(default=1.0, init=False)  # which way the needle crosses the wound
    _went_in: bool = field(default=False, init=False)
    _last_hit: Vec3 | None = field(default=None, init=False)

    def start(self) -> Controls:
        """The tip :data:`HOVER_MM` above the start point, wrist at rest."""
        return self.hover_at(self.start_point, HOVER_MM, TURN_REST_DEG)

    def tip_offset(self, turn_deg: float) -> Vec3:
        """The tip relative to the arc's centre at wrist turn ``turn_deg``."""
        a = math.radians(turn_deg)
        r = self.needle_radius_mm
        return (0.0, r * math.sin(a), self._side * r * math.cos(a))

    def hover_at(self, point: Vec3, height_mm: float, turn_deg: float) -> Controls:
        """Controls holding the tip ``height_mm`` above ``point``."""
        tip = (point[0], point[1] + height_mm, point[2])
        return Controls(g.sub(tip, self.tip_offset(turn_deg)), 0.0, turn_deg)

    def pose(self, c: Controls) -> Pose:
        """The tip on the arc about ``aim`` at the wrist's turn ``angle_deg``; the normal
        points to the arc's centre."""
        a = math.radians(c.angle_deg)
        side = self._side
        tip = g.add(c.aim, self.tip_offset(c.angle_deg))
        axis = (0.0, math.cos(a), -side * math.sin(a))
        normal = (0.0, -math.sin(a), -side * math.cos(a))
        return tip, axis, normal

    def pick(self, origin: Vec3, direction: Vec3) -> Vec3 | None:
        """Where the ray crosses the skin's plane, kept on the pad."""
        hit = g.plane_crossing(origin, g.add(origin, g.scale(direction, FAR_MM)))
        if hit is None:
            return None
        hl, hw = self.pad_length_mm / 2, self.pad_width_mm / 2
        return (max(-hl, min(hl, hit[0])), 0.0, max(-hw, min(hw, hit[2])))

    def _inserted(self, target: Controls, current: Controls) -> bool:
        return min(self.pose(target)[0][1], self.pose(current)[0][1]) < 0.0

    def point(self, target: Controls, current: Controls, hit: Vec3) -> Controls:
        """Out of the tissue, hold the tip over ``hit`` (on the side of the wound it is
        on) at its height; in it, the hand moves the needle across the tissue as far as the
        cursor moved."""
        last, self._last_hit = self._last_hit, hit
        if self._inserted(target, current):
            if last is None:
                return target
            d = (hit[0] - last[0], 0.0, hit[2] - last[2])
            return replace(target, aim=g.add(target.aim, d))
        tip_y = self.pose(target)[0][1]
        self._side = 1.0 if hit[2] <= 0.0 else -1.0
        return self.hover_at(hit, max(tip_y, 0.0), target.angle_deg)

    def change(self, target: Controls, control: str, amount: float) -> Controls:
        """``turn`` (mm of arc about the centre), ``angle`` (pitch about the tip, degrees),
        ``height`` (the hand up or down, mm); ``roll`` does nothing."""
        if control == "turn":
            turn = target.angle_deg + math.degrees(amount / self.needle_radius_mm)
            return replace(target, angle_deg=max(TURN_MIN_DEG, min(TURN_MAX_DEG, turn)))
        if control == "angle":  # pitch about the tip: the centre swings round it
            tip = self.pose(target)[0]
            turn = max(TURN_MIN_DEG, min(TURN_MAX_DEG, target.angle_deg + amount))
            return replace(target, aim=g.sub(tip, self.tip_offset(turn)), angle_deg=turn)
        if control == "height":
            c = target.aim
            low = -self.pad_thickness_mm - self.needle_radius_mm
            return replace(target, aim=(c[0], max(low, min(HAND_TOP_MM, c[1] + amount)), c[2]))
        return target

    def sampled(self, s: Sample) -> Controls | None:
        """Once the tip went in and came out :data:`OUT_MM` past the wound, the needle is
        through: pulled out and held ready above the cursor, wrist at rest, for the next
        stitch."""
        y, z = s.tip_mm[1], s.tip_mm[2]
        if y < 0.0:
            self._went_in = True
            return None
        if not (self._went_in and y > OUT_MM and z * self._side > 0.0):
            return None
        self._went_in = False
        point = self._last_hit if self._last_hit is not None else s.tip_mm
        point = (point[0], 0.0, point[2])
        self._side = 1.0 if point[2] <= 0.0 else -1.0
        return self.hover_at(point, HOVER_MM, TURN_REST_DEG)

    def advice(self, target: Controls, current: Controls) -> str | None:
        """The wrist has turned as far as it goes with the tip still in the tissue (the hand
        is too low for the needle to come out): raise the hand."""
        if not self._went_in or target.angle_deg < TURN_MAX_DEG:
            return None
        if self.pose(current)[0][1] > OUT_MM:
            return None
        return "the wrist is turned as far as it goes: raise the hand (R) to bring the tip out"
