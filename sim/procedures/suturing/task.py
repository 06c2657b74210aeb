"""Simple interrupted suturing with a curved needle as a pure state machine.

Geometry: the skin pad's top face is the plane ``y = 0``; the wound is a straight line along
x at ``z = 0``. The needle is an arc of ``needle_radius_mm``; at the tip, ``Sample.axis`` is
the arc's tangent and ``Sample.normal`` points towards the arc's centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sim.core import geometry as g
from sim.core.records import Action, ActionKind, Event, Item, Sample, Vec3
from sim.core.scenario import Scenario
from sim.procedures.suturing.spec import parts
from sim.words import plural


@dataclass(frozen=True, slots=True)
class Entry:
    """Where and how the needle entered the skin for the stitch in progress."""

    t_s: float
    point: Vec3
    side: float
    bite_mm: float
    angle_deg: float
    arc_centre: Vec3
    arc_normal: Vec3


@dataclass(frozen=True, slots=True)
class SuturingState:
    """Everything that changes during a suturing session."""

    last: Sample | None = None
    entry: Entry | None = None
    max_depth_mm: float = 0.0
    max_arc_dev_mm: float = 0.0
    through_pad: bool = False
    exit_point: Vec3 | None = None
    exit_axis: Vec3 = (0.0, 1.0, 0.0)
    stitch_x_mm: tuple[float, ...] = ()
    stitch_ends: tuple[tuple[Vec3, Vec3], ...] = ()
    finished: bool = False


class SuturingTask:
    """Detects entries, passage under the wound, exits and completed stitches."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.geo, self.tol = parts(scenario)

    def initial(self) -> SuturingState:
        return SuturingState()

    def is_complete(self, state: SuturingState) -> bool:
        """Every planned stitch placed (the task then finishes itself)."""
        return len(state.stitch_x_mm) >= self.tol.stitches_required

    def is_finished(self, state: SuturingState) -> bool:
        """Whether the session is over: completed, or the trainee pressed finish."""
        return state.finished

    def phase(self, state: SuturingState) -> str:
        if state.finished:
            return "done"
        n = len(state.stitch_x_mm) + 1
        return f"stitch {n}: pass" if state.entry is not None else f"stitch {n}: aim"

    def on_pad(self, p: Vec3) -> bool:
        return abs(p[0]) <= self.geo.pad_length_mm / 2 and abs(p[2]) <= self.geo.pad_width_mm / 2

    def arc_deviation_mm(self, entry: Entry, p: Vec3) -> float:
        """Distance of the tip from the circle the needle was on when it entered, mm."""
        return g.distance_to_circle(
            p, entry.arc_centre, entry.arc_normal, self.geo.needle_radius_mm
        )

    def step(self, state: SuturingState, item: Item) -> tuple[SuturingState, tuple[Event, ...]]:
        if isinstance(item, Action):
            if item.kind is ActionKind.FINISH and not state.finished:
                events = []
                done = len(state.stitch_x_mm)
                if not self.is_complete(state):
                    events.append(
                        Event(
                            item.t_s,
                            "incomplete",
                            f"{done} of "
                            f"{plural(self.tol.stitches_required, 'stitch', 'stitches')} placed",
                            True,
                            (("stitches", float(done)),),
                        )
                    )
                events.append(Event(item.t_s, "finish", "session finished"))
                return replace(state, finished=True), tuple(events)
            return state, ()
        return self._sample(state, item)

    def _sample(self, st: SuturingState, s: Sample) -> tuple[SuturingState, tuple[Event, ...]]:
        if not s.tracked or st.finished:
            return st, ()
        prev = st.last
        if prev is None:
            return replace(st, last=s), ()
        p, q = s.tip_mm, prev.tip_mm
        events: list[Event] = []
        if st.entry is None:
            if p[1] < 0.0 <= q[1]:
                hit, axis, normal = _crossing(prev, s)
                if self.on_pad(hit):
                    st = self._enter(st, s.t_s, hit, axis, normal, events)
        elif p[1] >= 0.0:
            if q[1] < 0.0:  # crossed the skin upwards: where it will have come out
                hit, axis, _ = _crossing(prev, s)
                st = replace(st, exit_point=hit, exit_axis=axis)
            if p[1] > self.tol.exit_margin_mm and st.exit_point is not None:
                st = self._exit(st, s.t_s, st.exit_point, st.exit_axis, events)
        else:
            if st.exit_point is not None:  # went back in before clearing the skin
                st = replace(st, exit_point=None)
            st = self._pass(st, s, events)
        return replace(st, last=s), tuple(events)

    def _enter(
        self,
        st: SuturingState,
        t: float,
        hit: Vec3,
        axis: Vec3,
        normal: Vec3,
        events: list[Event],
    ) -> SuturingState:
        angle = g.angle_to_plane_deg(axis, (0.0, 1.0, 0.0))
        bite = abs(hit[2])
        centre = g.add(hit, g.scale(normal, self.geo.needle_radius_mm))
        entry = Entry(
            t,
            hit,
            math.copysign(1.0, hit[2]),
            bite,
            angle,
            centre,
            g.unit(g.cross(axis, normal)),
        )
        n = len(st.stitch_x_mm) + 1
        events.append(
            Event(
                t,
                "needle_entry",
                f"stitch {n}: entry, bite {bite:.1f} mm",
                values=(
                    ("stitch", float(n)),
                    ("bite_mm", bite),
                    ("angle_deg", angle),
                    ("x_mm", hit[0]),
                    ("z_mm", hit[2]),
                ),
            )
        )
        self._check_bite_angle(t, n, "entry", bite, angle, events)
        return replace(
            st,
            entry=entry,
            max_depth_mm=0.0,
            max_arc_dev_mm=0.0,
            through_pad=False,
            exit_point=None,
        )

    def _check_bite_angle(
        self, t: float, n: int, where: str, bite: float, angle: float, events: list[Event]
    ) -> None:
        tol = self.tol
        if abs(bite - tol.bite_target_mm) > tol.bite_tol_mm:
            word = "short" if bite < tol.bite_target_mm else "long"
            events.append(
                Event(
                    t,
                    "bite_out_of_range",
                    f"stitch {n}: {where} bite {bite:.1f} mm, too {word} "
                    f"(target {tol.bite_target_mm:g} ± {tol.bite_tol_mm:g} mm)",
                    True,
                    (("bite_mm", bite),),
                )
            )
        if 90.0 - angle > tol.perpendicular_tol_deg:
            events.append(
                Event(
                    t,
                    "not_perpendicular",
                    f"stitch {n}: {where} at {angle:.0f}° to the skin "
                    f"(target 90 ± {tol.perpendicular_tol_deg:g}°)",
                    True,
                    (("angle_deg", angle),),
                )
            )

    def _pass(self, st: SuturingState, s: Sample, events: list[Event]) -> SuturingState:
        assert st.entry is not None
        p = s.tip_mm
        depth = -p[1]
        dev = self.arc_deviation_mm(st.entry, p)
        changed = depth > st.max_depth_mm or dev > st.max_arc_dev_mm
        through = st.through_pad
        if depth > self.geo.pad_thickness_mm and not through:
            events.append(
                Event(
                    s.t_s,
                    "through_pad",
                    "needle went through the full skin pad",
                    True,
                    (("depth_mm", depth),),
                )
            )
            through, changed = True, True
        if not changed:
            return st
        return replace(
            st,
            max_depth_mm=max(depth, st.max_depth_mm),
            max_arc_dev_mm=max(dev, st.max_arc_dev_mm),
            through_pad=through,
        )

    def _exit(
        self, st: SuturingState, t: float, hit: Vec3, axis: Vec3, events: list[Event]
    ) -> SuturingState:
        entry = st.entry
        assert entry is not None
        tol = self.tol
        n = len(st.stitch_x_mm) + 1
        bite = abs(hit[2])
        angle = g.angle_to_plane_deg(axis, (0.0, 1.0, 0.0))
        events.append(
            Event(
                t,
                "needle_exit",
                f"stitch {n}: exit, bite {bite:.1f} mm",
                values=(
                    ("stitch", float(n)),
                    ("bite_mm", bite),
                    ("angle_deg", angle),
                    ("x_mm", hit[0]),
                    ("z_mm", hit[2]),
                ),
            )
        )
        if math.copysign(1.0, hit[2]) == entry.side or bite < 1e-9:
            events.append(
                Event(
                    t,
                    "missed_wound",
                    f"stitch {n}: the needle came out on the side it went in",
                    True,
                )
            )
            return replace(st, entry=None, exit_point=None)
        self._check_bite_angle(t, n, "exit", bite, angle, events)
        symmetry = abs(entry.bite_mm - bite)
        if symmetry > tol.symmetry_max_mm:
            events.append(
                Event(
                    t,
                    "asymmetric_bites",
                    f"stitch {n}: bites differ by {symmetry:.1f} mm",
                    True,
                    (("symmetry_mm", symmetry),),
                )
            )
        if st.max_arc_dev_mm > tol.arc_deviation_max_mm:
            events.append(
                Event(
                    t,
                    "tissue_drag",
                    f"stitch {n}: needle dragged {st.max_arc_dev_mm:.1f} mm off its curve",
                    True,
                    (("arc_deviation_mm", st.max_arc_dev_mm),),
                )
            )
        x = (entry.point[0] + hit[0]) / 2
        self._check_neighbours(t, n, x, entry.point, hit, st, events)
        dx, dz = hit[0] - entry.point[0], hit[2] - entry.point[2]
        alignment = math.degrees(math.atan2(abs(dx), abs(dz)))
        spacing = abs(x - st.stitch_x_mm[-1]) if st.stitch_x_mm else math.nan
        events.append(
            Event(
                t,
                "stitch_completed",
                f"stitch {n} placed",
                values=(
                    ("stitch", float(n)),
                    ("x_mm", x),
                    ("entry_bite_mm", entry.bite_mm),
                    ("exit_bite_mm", bite),
                    ("entry_angle_deg", entry.angle_deg),
                    ("exit_angle_deg", angle),
                    ("symmetry_mm", symmetry),
                    ("depth_mm", st.max_depth_mm),
                    ("arc_deviation_mm", st.max_arc_dev_mm),
                    ("alignment_deg", alignment),
                    ("spacing_mm", spacing),
                    ("duration_s", t - entry.t_s),
                ),
            )
        )
        st = replace(
            st,
            entry=None,
            exit_point=None,
            stitch_x_mm=st.stitch_x_mm + (x,),
            stitch_ends=st.stitch_ends + ((entry.point, hit),),
        )
        if self.is_complete(st):
            need = self.tol.stitches_required
            placed = f"{n} of {plural(need, 'stitch', 'stitches')} placed"
            events.append(Event(t, "finish", f"{placed}: task complete"))
            st = replace(st, finished=True)
        return st

    def _check_neighbours(
        self,
        t: float,
        n: int,
        x: float,
        a: Vec3,
        b: Vec3,
        st: SuturingState,
        events: list[Event],
    ) -> None:
        """A stitch closer than half the planned spacing to another, or crossing one."""
        tol = self.tol
        least = tol.spacing_target_mm / 2
        for k, (xk, (ak, bk)) in enumerate(zip(st.stitch_x_mm, st.stitch_ends), start=1):
            gap = abs(x - xk)
            if gap < least:
                events.append(
                    Event(
                        t,
                        "stitch_too_close",
                        f"stitch {n}: {gap:.1f} mm from stitch {k} "
                        f"(keep at least {least:g} mm apart; plan {tol.spacing_target_mm:g})",
                        True,
                        (("gap_mm", gap), ("other", float(k))),
                    )
                )
            elif g.segments_cross_xz(a, b, ak, bk):
                events.append(
                    Event(
                        t,
                        "stitch_crossing",
                        f"stitch {n} crosses stitch {k}",
                        True,
                        (("other", float(k)),),
                    )
                )


def _crossing(a: Sample, b: Sample) -> tuple[Vec3, Vec3, Vec3]:
    """Where and with which orientation the tip crossed ``y = 0`` between two samples."""
    f = a.tip_mm[1] / (a.tip_mm[1] - b.tip_mm[1])
    axis = g.unit(g.lerp(a.axis, b.axis, f))
    normal = g.lerp(a.normal, b.normal, f)
    normal = g.unit(g.sub(normal, g.scale(axis, g.dot(normal, axis))))
    return g.lerp(a.tip_mm, b.tip_mm, f), axis, normal
