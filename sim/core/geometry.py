"""Exact geometry on plain 3-tuples (mm), fast enough to run per sample in pure Python.

The forearm skin is a cylinder whose axis runs along ``x``; the suturing pad is the plane
``y = 0``. Angles are in degrees unless a name says otherwise.
"""

from __future__ import annotations

import math

from sim.core.records import Vec3


def add(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def scale(a: Vec3, k: float) -> Vec3:
    return (a[0] * k, a[1] * k, a[2] * k)


def dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a: Vec3, b: Vec3) -> Vec3:
    return (
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    )


def norm(a: Vec3) -> float:
    return math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])


def unit(a: Vec3) -> Vec3:
    """``a`` scaled to length 1; raises ValueError for a zero vector."""
    n = norm(a)
    if n == 0.0:
        raise ValueError("cannot normalise a zero vector")
    return (a[0] / n, a[1] / n, a[2] / n)


def lerp(a: Vec3, b: Vec3, f: float) -> Vec3:
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f)


def angle_between_deg(a: Vec3, b: Vec3) -> float:
    """Unsigned angle between two non-zero vectors, degrees in [0, 180]."""
    c = dot(a, b) / (norm(a) * norm(b))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def angle_to_plane_deg(axis: Vec3, plane_normal: Vec3) -> float:
    """Angle between a direction and a plane, degrees in [0, 90]; 90 is perpendicular."""
    s = abs(dot(axis, plane_normal)) / (norm(axis) * norm(plane_normal))
    return math.degrees(math.asin(min(1.0, s)))


def signed_roll_deg(normal: Vec3, reference: Vec3, axis: Vec3) -> float:
    """Roll of ``normal`` away from ``reference``, both projected perpendicular to ``axis``.

    Degrees in (-180, 180], positive counter-clockwise looking down ``axis`` towards the
    tip... i.e. right-handed about ``axis``. Returns 0 when ``reference`` is parallel to axis.
    """
    ref = sub(reference, scale(axis, dot(reference, axis)))
    nrm = sub(normal, scale(axis, dot(normal, axis)))
    if norm(ref) < 1e-12 or norm(nrm) < 1e-12:
        return 0.0
    return math.degrees(math.atan2(dot(cross(ref, nrm), axis), dot(ref, nrm)))


def pose_from_angles(yaw_deg: float, pitch_deg: float, roll_deg: float) -> tuple[Vec3, Vec3]:
    """Needle axis and normal from yaw, pitch and roll.

    Parameters
    ----------
    yaw_deg : float
        Heading in the skin plane, measured from +x towards -z (0 points along +x).
    pitch_deg : float
        Downward tilt from the horizontal plane; 20 means the tip points 20 deg into the skin.
    roll_deg : float
        Rotation of the normal about the axis; 0 keeps the normal as close to +y as possible.

    Returns
    -------
    axis, normal : tuple of 3 float
        Unit vectors (see :class:`sim.core.records.Sample`).
    """
    cy, sy = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    cp, sp = math.cos(math.radians(pitch_deg)), math.sin(math.radians(pitch_deg))
    axis = (cp * cy, -sp, -cp * sy)
    up0 = (sp * cy, cp, -sp * sy)  # +y tilted with the pitch, perpendicular to axis
    side = cross(axis, up0)
    cr, sr = math.cos(math.radians(roll_deg)), math.sin(math.radians(roll_deg))
    normal = add(scale(up0, cr), scale(side, sr))
    return axis, normal


class Cylinder:
    """Skin of a forearm: a cylinder of ``radius_mm`` about the line ``y = -radius, z = 0``.

    The top of the skin runs along ``y = 0, z = 0``.
    """

    __slots__ = ("radius_mm",)

    def __init__(self, radius_mm: float) -> None:
        self.radius_mm = radius_mm

    def radial(self, p: Vec3) -> float:
        """Distance of ``p`` from the cylinder axis, mm."""
        return math.hypot(p[1] + self.radius_mm, p[2])

    def depth_mm(self, p: Vec3) -> float:
        """Depth of ``p`` under the skin, mm (negative outside the arm)."""
        return self.radius_mm - self.radial(p)

    def normal_at(self, p: Vec3) -> Vec3:
        """Outward skin normal at the surface point nearest to ``p``."""
        y, z = p[1] + self.radius_mm, p[2]
        r = math.hypot(y, z)
        if r == 0.0:
            return (0.0, 1.0, 0.0)
        return (0.0, y / r, z / r)

    def intersect_segment(self, a: Vec3, b: Vec3) -> Vec3 | None:
        """First point where the segment from outside ``a`` to inside ``b`` crosses the skin."""
        r = self.radius_mm
        ay, az = a[1] + r, a[2]
        dy, dz = b[1] - a[1], b[2] - a[2]
        qa = dy * dy + dz * dz
        qb = 2.0 * (ay * dy + az * dz)
        qc = ay * ay + az * az - r * r
        if qa == 0.0:
            return None
        disc = qb * qb - 4.0 * qa * qc
        if disc < 0.0:
            return None
        f = (-qb - math.sqrt(disc)) / (2.0 * qa)
        if not 0.0 <= f <= 1.0:
            f = (-qb + math.sqrt(disc)) / (2.0 * qa)
            if not 0.0 <= f <= 1.0:
                return None
        return lerp(a, b, f)

    def intersect_ray(self, origin: Vec3, direction: Vec3) -> Vec3 | None:
        """First point where a ray from outside the arm enters the skin, or None."""
        far = add(origin, scale(unit(direction), 4.0 * self.radius_mm + norm(origin) + 1.0))
        if self.depth_mm(origin) >= 0.0:
            return None
        return self.intersect_segment(origin, far)


def distance_to_line_x(p: Vec3, y0: float, z0: float) -> float:
    """Distance of ``p`` from the line parallel to x through ``(., y0, z0)``, mm."""
    return math.hypot(p[1] - y0, p[2] - z0)


def plane_crossing(a: Vec3, b: Vec3) -> Vec3 | None:
    """Point where the segment ``a -> b`` crosses the plane ``y = 0``, or None."""
    if (a[1] > 0.0) == (b[1] > 0.0) or a[1] == b[1]:
        return None
    f = a[1] / (a[1] - b[1])
    return lerp(a, b, f)


def distance_to_circle(p: Vec3, centre: Vec3, plane_normal: Vec3, radius_mm: float) -> float:
    """Distance of ``p`` from a circle in 3-D (centre, unit plane normal, radius), mm."""
    d = sub(p, centre)
    h = dot(d, plane_normal)
    in_plane = sub(d, scale(plane_normal, h))
    return math.hypot(h, norm(in_plane) - radius_mm)


def distance_point_to_line(p: Vec3, origin: Vec3, direction: Vec3) -> float:
    """Distance of ``p`` from the line through ``origin`` along unit ``direction``, mm."""
    v = sub(p, origin)
    return norm(sub(v, scale(direction, dot(v, direction))))


def segments_cross_xz(a0: Vec3, a1: Vec3, b0: Vec3, b1: Vec3) -> bool:
    """Whether segments ``a0-a1`` and ``b0-b1``, seen from above (x-z plane), intersect."""

    def orient(p: Vec3, q: Vec3, r: Vec3) -> float:
        return (q[0] - p[0]) * (r[2] - p[2]) - (q[2] - p[2]) * (r[0] - p[0])

    d1, d2 = orient(b0, b1, a0), orient(b0, b1, a1)
    d3, d4 = orient(a0, a1, b0), orient(a0, a1, b1)
    return d1 * d2 < 0.0 and d3 * d4 < 0.0
