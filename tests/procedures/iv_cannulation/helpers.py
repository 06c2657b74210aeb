"""Hand-built IV cannulation trajectories with known geometry, and runners."""

from __future__ import annotations

import math

from sim.core import geometry as g
from sim.core.records import Action, ActionKind, Cue, Event, Item, Sample, Vec3
from sim.core.scenario import Scenario
from sim.pipeline import Pipeline
from sim.procedures.iv_cannulation.spec import parts
from sim.procedures.iv_cannulation.task import IvAction, IvCannulationTask, IvState
from sim.procedures.iv_cannulation.view import IvView
from sim.sources.scripted import scripted_items

RATE = 60.0


def run(sc: Scenario, items: list[Item]) -> tuple[IvState, list[Event], list[str]]:
    """Final state, events, and the phases in the order they were entered."""
    task = IvCannulationTask(sc)
    st = task.initial()
    events: list[Event] = []
    phases = [task.phase(st)]
    for it in items:
        st, ev = task.step(st, it)
        events.extend(ev)
        ph = task.phase(st)
        if ph != phases[-1]:
            phases.append(ph)
    return st, events, phases


def kinds(events: list[Event], errors_only: bool = False) -> list[str]:
    """The task's own event kinds (the patient's reactions, ``patient_*``, left out)."""
    return [
        e.kind for e in events if (e.error or not errors_only) and not e.kind.startswith("patient_")
    ]


def views(sc: Scenario, items: list[Item]) -> list[IvView]:
    """The live view after every item, as the pipeline builds it (after an action: the
    last sample's view brought up to date)."""
    p = Pipeline(sc)
    out: list[IvView] = []
    for it in items:
        p.feed(it)
        v = p.cues_engine.view
        if isinstance(v, IvView):
            out.append(v)
    return out


def cues_of(sc: Scenario, items: list[Item]) -> list[Cue]:
    """Every cue change of a session through the pipeline, all ended at the close."""
    p = Pipeline(sc)
    p.feed_all(items)
    p.close_cues()
    return p.cues


def scripted(sc: Scenario, skill: str, seed: int = 0, errors: tuple[str, ...] = ()) -> list[Item]:
    """A scripted IV cannulation session (the shared entry point)."""
    return scripted_items(sc, skill, seed, errors=errors)


class Traj:
    """Builds a needle trajectory sample by sample at 60 Hz (bevel up, along +x)."""

    def __init__(self, sc: Scenario) -> None:
        self.geo, self.tol = parts(sc)
        self.t = 0.0
        self.items: list[Item] = []
        self.tip: Vec3 = (-40.0, 20.0, 0.0)
        self.angle = 20.0
        self.to_wall_mm = 0.0

    @property
    def axis(self) -> Vec3:
        return g.pose_from_angles(0.0, self.angle, 0.0)[0]

    def act(self, kind: str, n: int = 1) -> Traj:
        """``n`` actions, one per sample period (the needle held where it is)."""
        for _ in range(n):
            self.items.append(Action(self.t, kind))
            self.sample()
        return self

    def sample(self) -> None:
        ax, nm = g.pose_from_angles(0.0, self.angle, 0.0)
        self.items.append(Sample(self.t, self.tip, ax, nm))
        self.t += 1 / RATE

    def to(self, p: Vec3, step_mm: float = 0.05) -> Traj:
        n = max(1, math.ceil(g.norm(g.sub(p, self.tip)) / step_mm))
        a = self.tip
        for i in range(1, n + 1):
            self.tip = g.lerp(a, p, i / n)
            self.sample()
        return self

    def along(self, mm: float, step_mm: float = 0.05) -> Traj:
        """Move the tip ``mm`` along the needle (negative: back)."""
        return self.to(g.add(self.tip, g.scale(self.axis, mm)), step_mm)

    def lower(self, angle_deg: float) -> Traj:
        """Turn the needle to ``angle_deg`` about its tip."""
        self.angle = angle_deg
        self.sample()
        return self

    def hold(self, seconds: float) -> Traj:
        for _ in range(int(seconds * RATE)):
            self.sample()
        return self

    def aim(self, z_mm: float = 0.0, x_flash: float = 0.0) -> Traj:
        """Place the tip above the skin on a line that meets the vein's near wall at
        ``x_flash`` (offset ``z_mm``), 10 mm before the skin."""
        vein_y, r = -self.geo.vein_depth_mm, self.geo.vein_diameter_mm / 2
        R = self.geo.arm_radius_mm
        surf_y = math.sqrt(R * R - z_mm * z_mm) - R
        top = vein_y + math.sqrt(max(r * r - z_mm * z_mm, 0.0))
        a = math.radians(self.angle)
        along = (surf_y - top) / math.sin(a)
        puncture = (x_flash - along * math.cos(a), surf_y, z_mm)
        self.tip = g.sub(puncture, g.scale(self.axis, 10.0))
        self.to_wall_mm = 10.0 + along
        self.sample()
        return self

    def enter(self, past_wall_mm: float = 0.3) -> Traj:
        """From :meth:`aim`, in through the skin to ``past_wall_mm`` past the vein's near
        wall (along the needle)."""
        return self.along(self.to_wall_mm + past_wall_mm)

    def skin_to_tip_mm(self) -> float:
        """Length of needle under the skin now."""
        R = self.geo.arm_radius_mm
        surf_y = math.sqrt(R * R - self.tip[2] ** 2) - R
        return (surf_y - self.tip[1]) / math.sin(math.radians(self.angle))

    def out(self) -> Traj:
        """Pull the needle straight back until the tip is 15 mm (along it) out of the skin."""
        return self.along(-(self.skin_to_tip_mm() + 15.0), 0.2)


def clean(sc: Scenario, *, tourniquet: bool = True) -> Traj:
    """A clean cannulation up to the threaded catheter (20° in, flash, 8° and 2 mm on)."""
    tr = Traj(sc)
    if tourniquet:
        tr.act(ActionKind.TOURNIQUET_ON)
    tr.aim().enter(0.3).lower(8.0).along(2.0).hold(0.2)
    return tr


def thread(tr: Traj) -> Traj:
    """Slide the catheter to its hub, one action per sample."""
    inside = tr.skin_to_tip_mm() - tr.geo.needle_protrusion_mm
    n = math.ceil((tr.geo.catheter_length_mm - inside) / tr.geo.catheter_step_mm)
    return tr.act(IvAction.CATHETER_ADVANCE, n)
