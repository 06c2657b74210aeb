"""Assisted depth: for a webcam, the scene axis the camera cannot resolve is guided.

One camera sees the image plane (the scene's x along the arm and y up) well and its own
depth, which procsim maps onto z across the arm, poorly: on real footage a still hand's depth
jitters by 1-9 mm against 0.2-1.5 mm in the image plane (``tools/noise_axes.py``). Where the
task aims across the arm (the puncture's offset from a vein 3.5 mm wide), that noise is larger
than what is being practised. A scenario chooses, per tracked input kind, how z is set
(``[input.webcam] depth = ...``, docs/scenarios.md):

``camera``
    z follows the camera's depth, as x and y follow the image (no assist).
``snap``
    The aim across the arm snaps to the task's line (the vein's centreline): within
    ``snap_mm`` of it the tip sits on the line, and beyond it the tip moves off by how far
    it is beyond (a dead zone, so nothing jumps), and the needle is kept in the plane along
    the arm (its sideways yaw, also read from depth, is dropped). The camera still drives
    everything it sees; z is *guided*: the metrics that read it are reported as guided,
    not scored (:mod:`sim.metrics.scoring`).
``fixed``
    As ``snap`` with no way off the line: the aim across the arm is always on it (the
    trainee practises the angle, bevel and motion; never the aim across).

Pure: a function of one pose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.core import geometry as g
from sim.core.records import Vec3

DEPTH_MODES = ("camera", "snap", "fixed")


@dataclass(frozen=True, slots=True)
class DepthAssist:
    """How a tracked input sets z (across the arm).

    Attributes
    ----------
    mode : {"camera", "snap", "fixed"}
        See the module notes.
    line_z_mm : float
        The task's line across the arm (e.g. the vein's centreline z), mm.
    snap_mm : float
        Half-width of the zone around the line where the aim snaps onto it, mm.
    """

    mode: str = "camera"
    line_z_mm: float = 0.0
    snap_mm: float = 0.0

    @property
    def guided(self) -> frozenset[str]:
        """The quantities the assist sets instead of the hand (``{"z"}`` for snap, fixed)."""
        return frozenset() if self.mode == "camera" else frozenset({"z"})

    def as_dict(self) -> dict[str, object]:
        """The ``calibration.depth_assist`` block of a recording header."""
        return {"mode": self.mode, "line_z_mm": self.line_z_mm, "snap_mm": self.snap_mm}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> DepthAssist:
        """The assist a ``calibration.depth_assist`` block records (as checked on reading)."""
        line, snap = d.get("line_z_mm", 0.0), d.get("snap_mm", 0.0)
        return cls(
            str(d.get("mode", "camera")),
            float(line) if isinstance(line, (int, float)) else 0.0,
            float(snap) if isinstance(snap, (int, float)) else 0.0,
        )

    def apply(self, tip_mm: Vec3, axis: Vec3, normal: Vec3) -> tuple[Vec3, Vec3, Vec3]:
        """The pose with z assisted.

        Parameters
        ----------
        tip_mm : tuple of 3 float
            Tip in the scene frame as the camera reads it, mm.
        axis, normal : tuple of 3 float
            Unit needle axis and normal.

        Returns
        -------
        tip_mm, axis, normal : tuple of 3 float
            Unchanged for ``camera``; else the tip's z in the dead zone (on the line for
            ``fixed``) and the axis flattened into the plane along the arm, the normal
            turned with it so that the bevel's roll from up is kept. An axis pointing
            straight across the arm is left as it is.
        """
        if self.mode == "camera":
            return tip_mm, axis, normal
        d = tip_mm[2] - self.line_z_mm
        beyond = 0.0 if self.mode == "fixed" else max(abs(d) - self.snap_mm, 0.0)
        z = self.line_z_mm + math.copysign(beyond, d)
        flat = (axis[0], axis[1], 0.0)
        n = g.norm(flat)
        if n < 1e-6:
            return (tip_mm[0], tip_mm[1], z), axis, normal
        a = g.scale(flat, 1.0 / n)
        # the same bevel roll about the flattened axis (the roll from "up" the HUD and the
        # metrics judge), so that flattening the yaw does not turn the bevel
        up = (0.0, 1.0, 0.0)
        roll = math.radians(g.signed_roll_deg(normal, up, axis))
        u = g.sub(up, g.scale(a, a[1]))
        if g.norm(u) < 1e-6:  # straight up or down: no roll from up to keep
            return (tip_mm[0], tip_mm[1], z), a, (1.0, 0.0, 0.0)
        u = g.scale(u, 1.0 / g.norm(u))
        side = g.cross(a, u)
        out_normal = g.add(g.scale(u, math.cos(roll)), g.scale(side, math.sin(roll)))
        return (tip_mm[0], tip_mm[1], z), a, out_normal
