"""Procedural meshes as numpy arrays (no OpenGL): the generic builders a procedure's scene
composes (tubes, boxes, ellipsoids, discs, an arm with its hand, a table, a tourniquet,
patches on the skin, a bruise, blood filling a tube) and the
instruments (syringe, curved needle, needle driver). They take plain numbers; shapes of one
procedure only live in its scene module (``sim/procedures/<name>/scene.py``), built with
:func:`pack` and :func:`merge`.

Every mesh is a :class:`MeshData`: interleaved float32 vertices with columns
``(x, y, z, nx, ny, nz, r, g, b, aux)`` (positions in mm, unit normals, linear RGB in 0-1,
``aux`` a 0-1 weight the shader uses to mix in a highlight colour: the vein under the skin,
blood in the needle hub) and uint32 triangle indices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.core.records import Vec3
from sim.render.scene import curved_needle_points

STRIDE = 10
"""Floats per vertex."""

SKIN = (0.86, 0.64, 0.52)
SKIN_SIDE = (0.93, 0.82, 0.55)  # subcutaneous fat on the cut sides of the pad
VEIN = (0.36, 0.42, 0.62)
STEEL = (0.78, 0.80, 0.84)
TABLE = (0.30, 0.45, 0.42)
TOURNIQUET = (0.25, 0.35, 0.80)
HAEMATOMA = (0.38, 0.16, 0.32)
THREAD = (0.45, 0.22, 0.70)
WOUND = (0.55, 0.12, 0.12)
TARGET = (0.10, 0.75, 0.30)
BLOOD = (0.62, 0.02, 0.04)


@dataclass(frozen=True)
class MeshData:
    """Triangles ready for upload.

    Attributes
    ----------
    vertices : ndarray, shape (N, 10), float32
        ``x y z nx ny nz r g b aux`` per vertex.
    indices : ndarray, shape (M,), uint32
        Three per triangle, counter-clockwise seen from outside.
    """

    vertices: np.ndarray
    indices: np.ndarray

    @property
    def triangles(self) -> int:
        return len(self.indices) // 3


def pack(
    pos: np.ndarray, nrm: np.ndarray, color: Sequence[float] | np.ndarray, aux: float | np.ndarray
) -> np.ndarray:
    """Interleaved vertices (N, 10) of positions, normals (N, 3 each), a colour (one, or
    one per vertex) and ``aux`` weights."""
    n = len(pos)
    v = np.empty((n, STRIDE), np.float32)
    v[:, 0:3] = pos
    v[:, 3:6] = nrm
    v[:, 6:9] = np.broadcast_to(np.asarray(color, np.float32), (n, 3))
    v[:, 9] = aux
    return v


def merge(meshes: Sequence[MeshData]) -> MeshData:
    """One mesh made of several (one draw call instead of many)."""
    verts, idx, base = [], [], 0
    for m in meshes:
        verts.append(m.vertices)
        idx.append(m.indices + base)
        base += len(m.vertices)
    return MeshData(np.concatenate(verts), np.concatenate(idx).astype(np.uint32))


def transformed(mesh: MeshData, matrix: np.ndarray) -> MeshData:
    """``mesh`` moved by a rigid 4x4 ``matrix`` (rotation + translation)."""
    v = mesh.vertices.copy()
    r, t = matrix[:3, :3], matrix[:3, 3]
    v[:, 0:3] = v[:, 0:3] @ r.T + t
    v[:, 3:6] = v[:, 3:6] @ r.T
    return MeshData(v, mesh.indices)


def grid_indices(rows: int, cols: int, wrap: bool = False) -> np.ndarray:
    """Triangles of a (rows x cols) vertex grid, optionally wrapping the columns."""
    i, j = np.meshgrid(np.arange(rows - 1), np.arange(cols if wrap else cols - 1), indexing="ij")
    a = i * cols + j
    b = i * cols + (j + 1) % cols
    c = (i + 1) * cols + j
    d = (i + 1) * cols + (j + 1) % cols
    return np.stack([a, b, c, b, d, c], axis=-1).reshape(-1).astype(np.uint32)


def tube(
    path: np.ndarray,
    radius: float | np.ndarray,
    color: Sequence[float],
    sides: int = 12,
    aux: float = 0.0,
    caps: bool = True,
) -> MeshData:
    """A tube along a polyline.

    Parameters
    ----------
    path : ndarray, shape (K, 3)
        Centre line, mm (K >= 2).
    radius : float or ndarray of shape (K,)
        Radius at each point, mm.
    """
    path = np.asarray(path, np.float64)
    k = len(path)
    rad = np.broadcast_to(np.asarray(radius, np.float64), (k,))
    tang = np.gradient(path, axis=0)
    tang /= np.linalg.norm(tang, axis=1, keepdims=True) + 1e-12
    ref = np.array([0.0, 1.0, 0.0]) if abs(tang[0, 1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    frames_n = np.empty_like(path)
    n = np.cross(np.cross(tang[0], ref), tang[0])
    for i in range(k):  # parallel transport so the tube does not twist
        n = n - tang[i] * np.dot(n, tang[i])
        n /= np.linalg.norm(n) + 1e-12
        frames_n[i] = n
    frames_b = np.cross(tang, frames_n)
    ang = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    dirs = (
        np.cos(ang)[None, :, None] * frames_n[:, None, :]
        + np.sin(ang)[None, :, None] * frames_b[:, None, :]
    )
    pos = path[:, None, :] + rad[:, None, None] * dirs
    parts = [
        MeshData(
            pack(pos.reshape(-1, 3), dirs.reshape(-1, 3), color, aux), grid_indices(k, sides, True)
        )
    ]
    if caps:
        for end, sign in ((0, -1.0), (k - 1, 1.0)):
            ring = pos[end]
            centre = path[end][None, :]
            cp = np.concatenate([centre, ring])
            cn = np.broadcast_to(sign * tang[end], cp.shape)
            j = np.arange(sides)
            tri = np.stack([np.zeros(sides, int), 1 + j, 1 + (j + 1) % sides], axis=1)
            if sign < 0:
                tri = tri[:, [0, 2, 1]]
            parts.append(MeshData(pack(cp, cn, color, aux), tri.reshape(-1).astype(np.uint32)))
    return merge(parts)


def box(
    lo: Vec3, hi: Vec3, color: Sequence[float], top_color: Sequence[float] | None = None
) -> MeshData:
    """An axis-aligned box from corner ``lo`` to corner ``hi`` (mm), flat-shaded."""
    x0, y0, z0 = lo
    x1, y1, z1 = hi
    faces = [
        ((0, 1, 0), [(x0, y1, z1), (x1, y1, z1), (x1, y1, z0), (x0, y1, z0)], top_color or color),
        ((0, -1, 0), [(x0, y0, z0), (x1, y0, z0), (x1, y0, z1), (x0, y0, z1)], color),
        ((0, 0, 1), [(x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)], color),
        ((0, 0, -1), [(x1, y0, z0), (x0, y0, z0), (x0, y1, z0), (x1, y1, z0)], color),
        ((1, 0, 0), [(x1, y0, z1), (x1, y0, z0), (x1, y1, z0), (x1, y1, z1)], color),
        ((-1, 0, 0), [(x0, y0, z0), (x0, y0, z1), (x0, y1, z1), (x0, y1, z0)], color),
    ]
    parts = []
    for nrm, quad, col in faces:
        p = np.array(quad, np.float64)
        parts.append(
            MeshData(
                pack(p, np.broadcast_to(np.array(nrm, float), p.shape), col, 0.0),
                np.array([0, 1, 2, 0, 2, 3], np.uint32),
            )
        )
    return merge(parts)


def ellipsoid(centre: Vec3, radii: Vec3, color: Sequence[float], n: int = 16) -> MeshData:
    """An ellipsoid (mm), smooth-shaded."""
    th = np.linspace(0, np.pi, n)
    ph = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
    st, ct = np.sin(th)[:, None], np.cos(th)[:, None]
    unit = np.stack([st * np.cos(ph), np.broadcast_to(ct, (n, 2 * n)), st * np.sin(ph)], axis=-1)
    r = np.array(radii)
    pos = unit * r + np.array(centre)
    nrm = unit / r
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True) + 1e-12
    return MeshData(
        pack(pos.reshape(-1, 3), nrm.reshape(-1, 3), color, 0.0), grid_indices(n, 2 * n, True)
    )


def disc_y(centre: Vec3, radius: float, color: Sequence[float], sides: int = 16) -> MeshData:
    """A flat disc facing +y (mm)."""
    a = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = np.stack([radius * np.cos(a), np.zeros(sides), radius * np.sin(a)], axis=1)
    pos = np.concatenate([[[0.0, 0.0, 0.0]], ring]) + np.array(centre)
    j = np.arange(sides)
    tri = np.stack([np.zeros(sides, int), 1 + (j + 1) % sides, 1 + j], axis=1)
    return MeshData(
        pack(pos, np.broadcast_to([0.0, 1.0, 0.0], pos.shape), color, 0.0),
        tri.reshape(-1).astype(np.uint32),
    )


# --- bodies and what goes on them ------------------------------------------------------
ARM_SITE_HALF_MM = 35.0
"""Half the length of the stretch of an :func:`arm` round the site where it is exactly the
task's cylinder (its radius, its top at ``y = 0``): the shape changes only beyond it, so the
task's geometry holds wherever a needle goes in (our choice)."""
WRIST_RATIO = 0.62
"""Wrist radius over the forearm's at the site (an adult's wrist circumference, about 16 cm,
over a forearm's near the elbow, about 26 cm: our reading of anthropometric tables)."""
PALM = (0.90, 0.62, 0.55)
"""The palm and fingers: a little pinker than the forearm."""
CREASE = (0.74, 0.52, 0.44)
"""The elbow's crease across the antecubital fossa."""


def _smooth(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def arm_profile(s_mm: np.ndarray, radius_mm: float, length_mm: float) -> np.ndarray:
    """The arm's cross-section along its length: rows ``(radius_y, radius_z, crease)`` at
    ``s_mm`` (mm from the site, positive towards the hand). Exactly ``radius_mm`` (circular)
    within :data:`ARM_SITE_HALF_MM` of the site; towards the hand it tapers to a flatter
    wrist (:data:`WRIST_RATIO`) at 0.8 of the half length; towards the shoulder it widens a
    little into the elbow, with the fossa's crease 12 mm beyond the flat stretch."""
    s = np.asarray(s_mm, np.float64)
    r, f = radius_mm, ARM_SITE_HALF_MM
    wrist = 0.8 * length_mm / 2
    t_hand = _smooth((s - f) / max(wrist - f, 1.0))
    t_elbow = _smooth((-s - f) / 40.0)
    rad = r * (1.0 - (1.0 - WRIST_RATIO) * t_hand + 0.08 * t_elbow)
    ry = rad * (1.0 - 0.2 * t_hand)
    rz = rad * (1.0 + 0.22 * t_hand)
    crease = np.exp(-(((s + f + 12.0) / 4.0) ** 2))
    return np.stack([ry, rz, crease], axis=1)


def arm(radius_mm: float, length_mm: float, hand_dir: float, around: int = 48) -> MeshData:
    """A forearm lying on a table (its underside at ``y = -2 radius_mm``) along ``x``: the
    task's cylinder round the site (``x`` near 0: axis at ``y = -radius_mm``, top at
    ``y = 0``), tapering to the wrist and a palm-up hand towards ``hand_dir`` (+1: +x,
    -1: -x), widening into the elbow with the fossa's crease the other way, skin shaded
    paler underneath and pinker at the hand.

    Parameters
    ----------
    radius_mm, length_mm : float
        The task's arm radius and length, mm (the hand lies beyond the wrist at 0.8 of the
        half length; the upper arm ends at the half length).
    hand_dir : float
        The side of the hand: +1 or -1.
    """
    r = radius_mm
    half = length_mm / 2
    wrist = 0.8 * half
    f = ARM_SITE_HALF_MM
    ss = np.unique(
        np.concatenate(
            [
                np.linspace(-half, -f, 8),
                np.linspace(-f, f, 3),
                np.linspace(f, wrist + 12.0, 10),
            ]
        )
    )
    prof = arm_profile(ss, r, length_mm)
    a = np.linspace(0, 2 * np.pi, around, endpoint=False)
    ca, sa = np.cos(a), np.sin(a)  # angle 0 = top
    pos = np.empty((len(ss), around, 3))
    pos[:, :, 0] = hand_dir * ss[:, None]
    cy = -2 * r + prof[:, 0]
    pos[:, :, 1] = cy[:, None] + prof[:, 0:1] * ca[None, :]
    pos[:, :, 2] = prof[:, 1:2] * sa[None, :]
    # normals from the surface's tangents (along the arm and round it)
    d_s = np.gradient(pos, axis=0)
    d_a = np.roll(pos, -1, axis=1) - np.roll(pos, 1, axis=1)
    nrm = np.cross(d_a, d_s) * hand_dir
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True) + 1e-12
    col = np.empty((len(ss), around, 3))
    under = 0.5 + 0.5 * ca  # 1 on top, 0 underneath
    base = np.array(SKIN)
    col[:] = base * (0.93 + 0.07 * under)[None, :, None]
    top = np.clip(ca, 0.0, 1.0) ** 2
    w = (prof[:, 2:3] * top[None, :])[:, :, None]
    col = col * (1 - w) + np.array(CREASE) * w
    v = np.empty((len(ss) * around, STRIDE), np.float32)
    v[:, 0:3] = pos.reshape(-1, 3)
    v[:, 3:6] = nrm.reshape(-1, 3)
    v[:, 6:9] = col.reshape(-1, 3)
    v[:, 9] = 0.0
    idx = grid_indices(len(ss), around, True)
    if hand_dir < 0:  # mirrored: keep the triangles counter-clockwise seen from outside
        idx = idx.reshape(-1, 3)[:, [0, 2, 1]].reshape(-1)
    skin = MeshData(v, idx)
    end = prof[0]
    shoulder = ellipsoid(
        (-hand_dir * half, -2 * r + end[0], 0.0), (end[0] * 0.4, end[0], end[1]), SKIN, 10
    )
    return merge([skin, shoulder, hand(r * WRIST_RATIO, hand_dir * wrist, -2 * r, hand_dir)])


def hand(wrist_radius_mm: float, wrist_x_mm: float, table_y_mm: float, hand_dir: float) -> MeshData:
    """A relaxed palm-up hand beyond a wrist of ``wrist_radius_mm`` at ``wrist_x_mm``, resting
    on a table at ``table_y_mm``: the palm, four fingers curling up a little, the thumb."""
    k = wrist_radius_mm / 21.7  # sizes below are an adult's, for a 21.7 mm wrist
    d = hand_dir

    def at(s: float, y: float, z: float) -> tuple[float, float, float]:
        return (wrist_x_mm + d * s * k, table_y_mm + y * k, z * k)

    palm = ellipsoid(at(40.0, 17.0, 0.0), (52.0 * k, 17.0 * k, 40.0 * k), PALM, 12)
    parts = [palm]
    for z, length in ((-27.0, 52.0), (-9.0, 68.0), (9.0, 72.0), (27.0, 64.0)):
        t = np.linspace(0.0, 1.0, 6)
        curl = 0.6 * t**2
        path = np.array(
            [
                at(85.0 + length * np.cos(c) * ti, 14.0 + length * 0.5 * np.sin(c) * ti, z * 1.0)
                for ti, c in zip(t, curl, strict=True)
            ]
        )
        parts.append(tube(path, np.linspace(8.5, 7.0, 6) * k, PALM, sides=8, caps=False))
        parts.append(ellipsoid(tuple(path[-1]), (7.0 * k, 7.0 * k, 7.0 * k), PALM, 6))
    thumb = np.array([at(25.0, 18.0, 40.0), at(55.0, 26.0, 52.0), at(80.0, 30.0, 50.0)])
    parts.append(tube(thumb, np.array([11.0, 9.0, 8.0]) * k, PALM, sides=8, caps=False))
    parts.append(ellipsoid(tuple(thumb[-1]), (8.0 * k, 8.0 * k, 8.0 * k), PALM, 6))
    return merge(parts)


def on_limb(limb_radius_mm: float, x_mm: float, z_mm: float) -> np.ndarray:
    """The rigid 4x4 matrix that carries a mesh built on top of a limb of ``limb_radius_mm``
    (round ``x = 0``, ``z = 0``, the skin's top at ``y = 0``, e.g. :func:`skin_patch`) to the
    skin point above ``(x_mm, z_mm)``: moved along the limb and turned round its axis
    (``y = -limb_radius_mm``, ``z = 0``), which carries the limb's surface onto itself."""
    r = limb_radius_mm
    th = math.asin(max(-0.98, min(0.98, z_mm / r)))
    c, s = math.cos(th), math.sin(th)
    m = np.eye(4, dtype=np.float32)
    m[1, 1], m[1, 2], m[2, 1], m[2, 2] = c, -s, s, c  # y' = y c - z s, z' = y s + z c
    m[0, 3], m[1, 3], m[2, 3] = x_mm, -r + r * c, r * s  # the axis stays where it is
    return m


def skin_patch(
    limb_radius_mm: float,
    radius_mm: float,
    color: Sequence[float],
    lift_mm: float = 0.15,
    rings: int = 6,
    sides: int = 24,
    dimple_mm: float = 0.0,
    rim: Sequence[float] | None = None,
) -> MeshData:
    """A round patch of ``radius_mm`` lying on top of a limb of ``limb_radius_mm`` (centred on
    ``x = 0``, ``z = 0``; place it with :func:`on_limb`), ``lift_mm`` above the skin: a bruise,
    a cleaned area, blood on the skin. With ``dimple_mm`` its normals lean in as a dimple that
    deep would (the skin tenting under a pressing tip) and its centre darkens a little. With
    ``rim`` its colour fades into that one towards the edge (a bruise's soft edge)."""
    r = limb_radius_mm
    rho = np.linspace(0.0, 1.0, rings + 1)[1:]
    a = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    u = np.concatenate([[0.0], (rho[:, None] * np.cos(a)[None, :]).reshape(-1)]) * radius_mm
    w = np.concatenate([[0.0], (rho[:, None] * np.sin(a)[None, :]).reshape(-1)]) * radius_mm
    th = w / (r + lift_mm)
    rr = r + lift_mm
    pos = np.stack([u, -r + rr * np.cos(th), rr * np.sin(th)], axis=1)
    nrm = np.stack([np.zeros_like(u), np.cos(th), np.sin(th)], axis=1)
    col = np.broadcast_to(np.asarray(color, np.float64), pos.shape).copy()
    if rim is not None:
        q3 = (np.hypot(u, w) / radius_mm)[:, None] ** 3
        col = col * (1 - q3) + np.asarray(rim, np.float64) * q3
    if dimple_mm > 0:
        q = np.hypot(u, w) / radius_mm  # 0 at the centre, 1 at the rim
        slope = dimple_mm * 2.0 * np.pi * np.sin(np.pi * q) / (2 * radius_mm)
        with np.errstate(invalid="ignore", divide="ignore"):
            du = np.where(q > 0, u / np.maximum(np.hypot(u, w), 1e-9), 0.0)
            dw = np.where(q > 0, w / np.maximum(np.hypot(u, w), 1e-9), 0.0)
        nrm[:, 0] -= slope * du
        nrm[:, 2] -= slope * dw
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
        col *= (0.9 + 0.1 * q)[:, None]
    tri = [
        np.stack(
            [np.zeros(sides, int), 1 + (np.arange(sides) + 1) % sides, 1 + np.arange(sides)], 1
        )
    ]
    for i in range(rings - 1):
        a0 = 1 + i * sides + np.arange(sides)
        a1 = 1 + i * sides + (np.arange(sides) + 1) % sides
        b0, b1 = a0 + sides, a1 + sides
        tri.append(np.stack([a0, a1, b0], 1))
        tri.append(np.stack([a1, b1, b0], 1))
    return MeshData(
        pack(pos, nrm, col, 0.0),
        np.concatenate(tri).reshape(-1).astype(np.uint32),
    )


def fill_cylinder(radius_mm: float, color: Sequence[float], sides: int = 16) -> MeshData:
    """A cylinder of unit length from ``x = 0`` back to ``x = -1``: blood filling a tube or a
    chamber, scaled along ``x`` by the filled length (its normals do not change with it)."""
    return tube(np.array([[-1.0, 0, 0], [0.0, 0, 0]]), radius_mm, color, sides=sides)


def table(y: float, size: float = 900.0) -> MeshData:
    """A draped table top at height ``y`` (mm)."""
    return box((-size / 2, y - 10, -size / 3), (size / 2, y, size / 3), TABLE)


def tourniquet(
    limb_radius_mm: float, x_mm: float, section: tuple[float, float, float] | None = None
) -> MeshData:
    """A rubber band round a limb at ``x_mm``, knotted on top: round a cylinder of
    ``limb_radius_mm`` (its top at ``y = 0``), or round the cross-section ``section`` =
    ``(axis_y, radius_y, radius_z)`` mm there (an :func:`arm`'s, :func:`arm_section`)."""
    r = limb_radius_mm
    cy, ry, rz = section if section is not None else (-r, r, r)
    a = np.linspace(0, 2 * np.pi, 48)
    ring = np.stack(
        [np.full_like(a, x_mm), cy + (ry + 1.2) * np.cos(a), (rz + 1.2) * np.sin(a)],
        axis=1,
    )
    band = tube(ring, 1.6, TOURNIQUET, sides=6, caps=False)
    ring2 = ring.copy()
    ring2[:, 0] += 18.0
    band2 = tube(ring2, 1.6, TOURNIQUET, sides=6, caps=False)
    kz = rz * 0.35
    ky = cy + ry * math.sqrt(1 - 0.35**2) + 1.5
    knot = ellipsoid((x_mm + 9, ky, kz), (12.0, 2.5, 6.0), TOURNIQUET, 10)
    return merge([band, band2, knot])


def arm_section(
    radius_mm: float, length_mm: float, hand_dir: float, x_mm: float
) -> tuple[float, float, float]:
    """An :func:`arm`'s cross-section at ``x_mm``: ``(axis_y, radius_y, radius_z)``, mm."""
    ry, rz, _ = arm_profile(np.array([hand_dir * x_mm]), radius_mm, length_mm)[0]
    return (-2 * radius_mm + float(ry), float(ry), float(rz))


def haematoma(site: Vec3, limb_radius_mm: float) -> MeshData:
    """A bruise-coloured swelling on a limb (a cylinder) of ``limb_radius_mm`` at a puncture
    ``site`` (its ``x`` and ``z``), mm."""
    x, _, z = site
    y = math.sqrt(max(limb_radius_mm**2 - z * z, 0.0)) - limb_radius_mm
    return ellipsoid((x + 4.0, y - 0.8, z), (9.0, 2.4, 7.0), HAEMATOMA, 20)


# --- instruments ------------------------------------------------------------------------
def syringe(needle_length_mm: float) -> MeshData:
    """Needle, hub (``aux`` 1 on the flashback chamber) and holder in the needle's local frame.

    Local frame (see :func:`sim.render.scene.needle_frame`): tip at the origin, ``+x``
    towards the tip, ``+y`` the bevel side. An orange fin on the hub marks the bevel side so
    the trainee sees the roll.
    """
    L = needle_length_mm
    bevel = 1.8
    shaft = tube(np.array([[-L, 0, 0], [-bevel, 0, 0]]), 0.45, STEEL, sides=10)
    # bevel: the last part of the shaft cut at an angle, open towards +y
    tip_pts = np.array([[-bevel, 0, 0], [-bevel * 0.5, -0.1, 0], [0.0, -0.42, 0]])
    tip = tube(tip_pts, np.array([0.45, 0.3, 0.05]), STEEL, sides=10)
    bevel_face = box((-bevel, 0.25, -0.3), (-0.1, 0.3, 0.3), (0.95, 0.55, 0.10))
    hub = tube(np.array([[-L - 14, 0, 0], [-L - 2, 0, 0]]), 3.0, (0.35, 0.78, 0.45), sides=16)
    chamber = tube(
        np.array([[-L - 13, 0, 0], [-L - 3, 0, 0]]), 3.2, (0.85, 0.92, 0.88), sides=16, aux=1.0
    )
    cone = tube(
        np.array([[-L - 2, 0, 0], [-L, 0, 0]]), np.array([2.0, 0.8]), (0.35, 0.78, 0.45), sides=12
    )
    fin = box((-L - 12, 3.0, -0.6), (-L - 4, 6.5, 0.6), (0.98, 0.50, 0.05))
    holder = tube(np.array([[-L - 78, 0, 0], [-L - 14, 0, 0]]), 7.5, (0.92, 0.93, 0.95), sides=24)
    flange = tube(np.array([[-L - 80, 0, 0], [-L - 77, 0, 0]]), 12.0, (0.92, 0.93, 0.95), sides=24)
    return merge([shaft, tip, bevel_face, hub, chamber, cone, fin, holder, flange])


GRASP_DEG = 90.0
"""Where a needle driver holds a curved needle: 90 of its 135 degrees from the tip (the
junction of the proximal and middle thirds)."""


def curved_needle(radius_mm: float) -> MeshData:
    """Curved needle (3/8 circle) of ``radius_mm`` with its thread, in the needle's local
    frame (see :func:`sim.render.scene.curved_needle_points`)."""
    r = radius_mm
    arc = curved_needle_points(r, 135.0, 40)
    radius = np.linspace(0.05, 0.42, 40)
    radius[6:] = 0.42
    needle = tube(arc, radius, STEEL, sides=8)
    swage = arc[-1]
    tang = arc[-1] - arc[-2]
    tang /= np.linalg.norm(tang)
    out = swage - np.array([0.0, r, 0.0])
    out /= np.linalg.norm(out)
    s = np.linspace(0, 1, 16)[:, None]
    thread_path = swage + tang * 30.0 * s + out * 12.0 * s**2 + np.array([0, 0, -8.0]) * s**2
    thread = tube(thread_path, 0.22, THREAD, sides=6, caps=False)
    return merge([needle, thread])


def grasp_point(radius_mm: float) -> np.ndarray:
    """Where the driver's jaws hold a curved needle of ``radius_mm``, in the needle's local
    frame, mm."""
    return curved_needle_points(radius_mm, GRASP_DEG, 2)[-1]


def needle_driver() -> MeshData:
    """The needle driver in its own frame: jaws at the origin, handle along ``+x``, finger
    rings towards ``+y``."""
    grey = (0.58, 0.60, 0.66)
    jaw = tube(np.array([[1.0, 0, 0], [14.0, 0, 0]]), np.array([0.6, 1.3]), grey, sides=10)
    shank = tube(np.array([[14.0, 0, 0], [75.0, 0, 0]]), 1.8, grey, sides=10)
    rings = tube(np.array([[75.0, 0, 0], [80.0, 8.0, 0]]), 4.0, grey, sides=10)
    return merge([jaw, shank, rings])
