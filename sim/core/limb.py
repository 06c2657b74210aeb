"""A limb with a vein as exact geometry: the skin, the vein and a straight needle against
them (pure functions of positions, mm).

The limb is a cylinder along x whose top runs along ``y = 0`` (see
:class:`sim.core.geometry.Cylinder`); the vein is a straight tube parallel to x at ``y =
-depth``, ``z = lateral``, ``|x| <= length / 2``. Every procedure that puts a straight needle
into a vein of a limb (venipuncture, IV cannulation) measures it here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.core import geometry as g
from sim.core.records import Event, Sample, Vec3

PASSED_MM = 3.0
"""How far beside a vein's wall a tip deeper than the vein still "passed the vein without
entering" (our choice: a near miss the trainee can correct; farther aside the off-vein cue
says where the vein is, and no miss is claimed)."""


@dataclass(frozen=True, slots=True)
class NeedleMeasure:
    """A straight needle against the skin and the vein at one sample.

    Attributes
    ----------
    depth_mm : float
        Tip depth under the skin (negative above it).
    angle_deg : float
        Angle of the needle to the skin where it crosses (or would cross) it.
    roll_deg : float
        Bevel roll from bevel-up.
    offset_mm : float
        Lateral distance (z) of the skin crossing from the vein centreline.
    distance_to_skin_mm : float
        Distance along the needle from the tip to the skin, 0 once in; the tip's height above
        the skin when the needle does not point at it.
    """

    depth_mm: float
    angle_deg: float
    roll_deg: float
    offset_mm: float
    distance_to_skin_mm: float


class Limb:
    """The skin cylinder and the vein tube of a limb.

    Parameters
    ----------
    arm_radius_mm, vein_depth_mm, vein_lateral_mm, vein_diameter_mm, vein_length_mm : float
        The limb's radius; the vein's centreline depth under the top of the skin, its
        lateral position (z), diameter and length, mm.
    """

    def __init__(
        self,
        arm_radius_mm: float,
        vein_depth_mm: float,
        vein_lateral_mm: float,
        vein_diameter_mm: float,
        vein_length_mm: float,
    ) -> None:
        self.skin = g.Cylinder(arm_radius_mm)
        self.vein_y = -vein_depth_mm
        self.vein_z = vein_lateral_mm
        self.vein_r = vein_diameter_mm / 2
        self.vein_half = vein_length_mm / 2

    def vein_distance_mm(self, p: Vec3) -> float:
        """Distance of ``p`` from the vein centreline (infinite beyond the vein's ends)."""
        if abs(p[0]) > self.vein_half:
            return math.inf
        return math.hypot(p[1] - self.vein_y, p[2] - self.vein_z)

    def in_lumen(self, p: Vec3) -> bool:
        """Whether ``p`` is inside the vein."""
        return self.vein_distance_mm(p) < self.vein_r

    def beyond_vein(self, p: Vec3) -> bool:
        """True when ``p`` is deeper than the vein's far wall."""
        return p[1] < self.vein_y - self.vein_r

    def under_vein(self, p: Vec3) -> bool:
        """Whether ``p`` is deeper than the vein's far wall and within its width: where a tip
        that went into the vein ends up once it has gone on through its wall."""
        return self.beyond_vein(p) and abs(p[2] - self.vein_z) <= self.vein_r

    def passed_beside_vein(self, p: Vec3) -> bool:
        """Whether ``p`` is deeper than the vein's centre and within :data:`PASSED_MM` (or
        one vein diameter, if more) of its wall sideways: a tip there went past the vein;
        farther aside it was never near it."""
        reach = self.vein_r + max(PASSED_MM, 2 * self.vein_r)
        return p[1] < self.vein_y and abs(p[2] - self.vein_z) <= reach

    def crosses_lumen(self, a: Vec3, b: Vec3) -> bool:
        """Whether the straight segment ``a -> b`` passes through the lumen."""
        d = g.sub(b, a)
        dd = d[1] * d[1] + d[2] * d[2]
        f = 0.0 if dd == 0.0 else ((self.vein_y - a[1]) * d[1] + (self.vein_z - a[2]) * d[2]) / dd
        f = min(1.0, max(0.0, f))
        return self.in_lumen(g.add(a, g.scale(d, f)))

    def angle_deg(self, axis: Vec3, at: Vec3) -> float:
        """Angle of direction ``axis`` into the skin at the skin point nearest ``at``."""
        n = self.skin.normal_at(at)
        return math.degrees(math.asin(max(-1.0, min(1.0, -g.dot(axis, n)))))

    def measure(self, s: Sample) -> NeedleMeasure:
        """Angle to the skin, bevel roll and lateral offset of where the needle is aimed."""
        p = s.tip_mm
        depth = self.skin.depth_mm(p)
        if depth < 0.0:
            hit = self.skin.intersect_ray(p, s.axis)
            surface = hit if hit is not None else p
            dist = g.norm(g.sub(surface, p)) if hit is not None else -depth
        else:
            surface, dist = p, 0.0
        n = self.skin.normal_at(surface)
        angle = math.degrees(math.asin(max(-1.0, min(1.0, -g.dot(s.axis, n)))))
        roll = g.signed_roll_deg(s.normal, n, s.axis)
        return NeedleMeasure(depth, angle, roll, surface[2] - self.vein_z, dist)

    def puncture(
        self,
        prev: Vec3,
        s: Sample,
        attempt: int,
        *,
        angle_min_deg: float,
        angle_max_deg: float,
        bevel_roll_tol_deg: float,
        tourniquet_on: bool,
    ) -> tuple[Vec3, tuple[Event, ...]]:
        """The skin punctured between the tip at ``prev`` and at ``s``: where, and the
        events (``skin_puncture`` with its angle, bevel roll, offset from the vein and
        point; ``angle_out_of_range``, ``bevel_down`` and ``no_tourniquet`` errors).

        Parameters
        ----------
        prev : tuple of 3 float
            The tip at the sample before, outside the skin, mm.
        s : Sample
            The first sample with the tip in the skin.
        attempt : int
            The attempt this puncture starts (1 for the first).
        angle_min_deg, angle_max_deg, bevel_roll_tol_deg : float
            The insertion angle's range and the bevel's tolerance, degrees.
        tourniquet_on : bool
            Whether the tourniquet is on.

        Returns
        -------
        (hit, events)
            The puncture point on the skin (mm) and the events, in order.
        """
        t = s.t_s
        hit = self.skin.intersect_segment(prev, s.tip_mm) or s.tip_mm
        angle = self.angle_deg(s.axis, hit)
        roll = g.signed_roll_deg(s.normal, self.skin.normal_at(hit), s.axis)
        offset = hit[2] - self.vein_z
        events = [
            Event(
                t,
                "skin_puncture",
                f"skin punctured at {angle:.0f}° (attempt {attempt})",
                values=(
                    ("attempt", float(attempt)),
                    ("angle_deg", angle),
                    ("roll_deg", roll),
                    ("offset_mm", offset),
                    ("x_mm", hit[0]),
                    ("y_mm", hit[1]),
                    ("z_mm", hit[2]),
                ),
            )
        ]
        if not angle_min_deg <= angle <= angle_max_deg:
            word = "too steep" if angle > angle_max_deg else "too shallow"
            events.append(
                Event(
                    t,
                    "angle_out_of_range",
                    f"insertion angle {angle:.0f}° {word} "
                    f"(target {angle_min_deg:g}-{angle_max_deg:g}°)",
                    True,
                    (("angle_deg", angle),),
                )
            )
        if abs(roll) > bevel_roll_tol_deg:
            events.append(
                Event(
                    t,
                    "bevel_down",
                    f"bevel rolled {roll:.0f}° from up",
                    True,
                    (("roll_deg", roll),),
                )
            )
        if not tourniquet_on:
            events.append(Event(t, "no_tourniquet", "punctured without a tourniquet", True))
        return hit, tuple(events)


class LastMeasure:
    """``limb.measure`` of the latest sample, computed once however often it is asked for (a
    live view asks for the approach, then for the view, of the same sample)."""

    def __init__(self, limb: Limb) -> None:
        self.limb = limb
        self._last: tuple[Sample, NeedleMeasure] | None = None

    def __call__(self, sample: Sample) -> NeedleMeasure:
        if self._last is None or self._last[0] is not sample:
            self._last = (sample, self.limb.measure(sample))
        return self._last[1]
