"""Scripted trainees: realistic synthetic trajectories at three skill levels.

Movements between waypoints follow minimum-jerk profiles; tremor is a sum of sinusoids of
chosen RMS amplitude and frequency; errors (angle, bevel, aim, bite, dragging the needle,
probing, hesitation) are drawn from skill-dependent distributions with a seed, so the same
seed always gives the same trajectory. Any error kind a task model emits can also be
provoked on demand (``errors``: see :func:`scripted_items`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace

import numpy as np

from sim.core import geometry as g
from sim.core import patient as pt
from sim.core.checklist import RELEASE, STEPS
from sim.core.records import Action, ActionKind, Item, Sample, Vec3
from sim.core.scenario import Scenario
from sim.procedures import registry

SKILLS = ("expert", "intermediate", "novice")


@dataclass(frozen=True, slots=True)
class Skill:
    """How a scripted trainee performs. Angles in degrees, distances in mm."""

    angle_deg: tuple[float, float]  # mean, sd of the insertion angle
    roll_sd_deg: float
    aim_sd_mm: float
    tremor_rms_mm: float
    tremor_hz: float
    speed_mm_s: float  # insertion / needle-passage speed
    hesitation_s: float  # pause before each critical move
    overshoot_mm: float  # how far past the target the needle is pushed
    bite_sd_mm: float
    perp_sd_deg: float
    drag: float  # 0 follows the needle's arc, 1 pushes it straight
    spacing_sd_mm: float
    probe_p: float  # chance of moving the needle sideways in the tissue, per attempt
    drift_mm_s: float = 0.0  # how fast the hand creeps forward while holding still


# Our choice, tuned so that scores order expert > intermediate > novice. A novice's first
# stick misses the vein about a quarter of the time (aim sd against the vein's radius) and
# a novice enters 15 deg or more off perpendicular about 40 % of the time.
SKILL_LEVELS = {
    "expert": Skill(
        (22.0, 2.0), 4.0, 0.2, 0.06, 9.0, 4.0, 0.3, 0.0, 0.15, 3.0, 0.05, 0.3, 0.01, 0.02
    ),
    "intermediate": Skill(
        (29.0, 3.0), 12.0, 0.8, 0.3, 8.5, 7.0, 1.5, 0.5, 0.5, 8.0, 0.3, 1.2, 0.1, 0.12
    ),
    "novice": Skill(
        (40.0, 4.0), 25.0, 1.6, 0.8, 7.5, 12.0, 3.0, 3.0, 1.2, 18.0, 0.75, 2.5, 0.35, 0.4
    ),
}
# drift_mm_s (our choice): a hold of 10 s moves an expert's tip 0.2 mm, a novice's 4 mm
# (through a 3.5 mm vein); used where a scenario's drill judges the hold (hold_drift_mm)


class Script:
    """Builds a trajectory piece by piece at a fixed rate."""

    def __init__(self, rate_hz: float, skill: Skill, rng: np.random.Generator) -> None:
        self.rate = rate_hz
        self.skill = skill
        self.rng = rng
        self.t = 0.0
        self.items: list[Item] = []
        self.pos: Vec3 = (0.0, 0.0, 0.0)
        self.axis: Vec3 = (1.0, 0.0, 0.0)
        self.normal: Vec3 = (0.0, 1.0, 0.0)
        self._poses: list[tuple[float, Vec3, Vec3, Vec3]] = []

    def place(self, pos: Vec3, axis: Vec3, normal: Vec3) -> None:
        self.pos, self.axis, self.normal = pos, axis, normal

    def action(self, kind: str) -> None:
        """An action at the time of the next sample (never after it: items stay in order)."""
        self.items.append(Action(self.t, kind))

    def _emit(self, pos: Vec3, axis: Vec3, normal: Vec3) -> None:
        self._poses.append((self.t, pos, axis, normal))
        self.items.append(Sample(self.t, pos, axis, normal))  # tremor added in finish()
        self.t = round(self.t + 1.0 / self.rate, 9)
        self.pos, self.axis, self.normal = pos, axis, normal

    def hold(self, seconds: float) -> None:
        for _ in range(max(1, int(round(seconds * self.rate)))):
            self._emit(self.pos, self.axis, self.normal)

    def drift(self, seconds: float, direction: Vec3, speed_mm_s: float) -> None:
        """Hold still for ``seconds`` while the hand creeps along ``direction`` (a unit
        vector) at ``speed_mm_s``."""
        p0 = self.pos
        for i in range(1, max(1, int(round(seconds * self.rate))) + 1):
            self._emit(
                g.add(p0, g.scale(direction, speed_mm_s * i / self.rate)), self.axis, self.normal
            )

    def move(
        self,
        pos: Vec3,
        axis: Vec3 | None = None,
        normal: Vec3 | None = None,
        duration_s: float | None = None,
        speed_mm_s: float = 60.0,
    ) -> None:
        """Minimum-jerk move to ``pos`` (orientation interpolated alongside)."""
        a0, n0 = self.axis, self.normal
        a1, n1 = axis or a0, normal or n0
        p0 = self.pos
        dist = g.norm(g.sub(pos, p0))
        dur = duration_s if duration_s is not None else max(0.3, 1.875 * dist / speed_mm_s)
        steps = max(1, int(round(dur * self.rate)))
        for i in range(1, steps + 1):
            tau = i / steps
            f = 10 * tau**3 - 15 * tau**4 + 6 * tau**5
            ax = g.unit(g.lerp(a0, a1, f))
            nm = g.lerp(n0, n1, f)
            nm = g.sub(nm, g.scale(ax, g.dot(nm, ax)))
            if g.norm(nm) < 1e-9:  # the blend of the normals lies along the axis here
                nm = g.sub(self.normal, g.scale(ax, g.dot(self.normal, ax)))
            nm = g.unit(nm)
            self._emit(g.lerp(p0, pos, f), ax, nm)

    def path(self, poses: list[tuple[Vec3, Vec3, Vec3]], speed_mm_s: float) -> None:
        """Follow a dense list of poses at roughly constant speed."""
        for pos, ax, nm in poses:
            step = g.norm(g.sub(pos, self.pos))
            reps = max(1, int(round(step / speed_mm_s * self.rate)))
            for r in range(1, reps + 1):
                self._emit(g.lerp(self.pos, pos, r / reps) if reps > 1 else pos, ax, nm)

    def finish(self) -> list[Item]:
        """Add tremor to every sample and end with a finish action."""
        sk = self.skill
        n = len(self._poses)
        t = np.array([p[0] for p in self._poses])
        amp = sk.tremor_rms_mm * math.sqrt(2.0 / 3.0)  # per axis, so that 3-D RMS matches
        freq = sk.tremor_hz + self.rng.normal(0, 0.2, 3)
        phase = self.rng.uniform(0, 2 * math.pi, 3)
        trem = amp * np.sin(2 * math.pi * freq[None, :] * t[:, None] + phase[None, :])
        out: list[Item] = []
        k = 0
        for item in self.items:
            if isinstance(item, Sample):
                d = trem[k]
                p = item.tip_mm
                out.append(
                    Sample(
                        item.t_s,
                        (p[0] + float(d[0]), p[1] + float(d[1]), p[2] + float(d[2])),
                        item.axis,
                        item.normal,
                    )
                )
                k += 1
            else:
                out.append(item)
        assert k == n
        out.append(Action(round(self.t, 6), ActionKind.FINISH))
        return out


PATIENT_AIMS = (pt.NERVE, pt.ARTERY, pt.FLINCH)
"""Patient reactions a trainee provokes by aiming the first stick elsewhere than the vein:
at the median nerve (a nerve touch; the pain makes the patient flinch) or at the artery."""


def patient_aim(scenario: Scenario, errors: Collection[str]) -> tuple[float, float] | None:
    """Where a first stick asked for a nerve touch, a flinch or an arterial puncture aims:
    ``(z_mm, depth_mm)`` of the nerve's or the artery's centreline; None otherwise."""
    c = scenario.condition
    if c is None:
        return None
    if pt.ARTERY in errors:
        return c.artery_z_mm, c.artery_depth_mm
    if pt.NERVE in errors or pt.FLINCH in errors:
        return c.nerve_z_mm, c.nerve_depth_mm
    return None


def fast_draw(s: Script) -> None:
    """Jiggles the needle along the vein (x) and back, fast, with the tip in the lumen: the
    draw a fragile vein collapses under."""
    held = s.pos
    s.move(g.add(held, (7.0, 0.0, 0.0)), duration_s=0.5)  # the shaft shifts 2.6 mm: not probing
    s.move(held, duration_s=0.5)


def anchors(scenario: Scenario, errors: Collection[str], first: bool) -> bool:
    """Whether the trainee anchors the skin before this stick: always on a vein that rolls
    (a habit every level has), except on the first stick asked to let the vein roll."""
    c = scenario.condition
    if c is None or c.vein_roll_mm <= 0.0:
        return False
    return not (first and pt.VEIN_ROLLED in errors)


def scripted_items(
    scenario: Scenario,
    skill: str,
    seed: int = 0,
    *,
    tremor_rms_mm: float | None = None,
    tremor_hz: float | None = None,
    angle_deg: float | None = None,
    errors: Collection[str] = (),
    skip_steps: Collection[str] = (),
) -> list[Item]:
    """The items of a scripted session: ``skill`` is expert, intermediate or novice.

    ``tremor_rms_mm``, ``tremor_hz`` and ``angle_deg`` (mean insertion angle, venipuncture)
    override the skill level's values. ``errors`` are error kinds (of
    :attr:`sim.procedures.base.Procedure.error_kinds`: every kind the task emits) the trainee
    makes on purpose. The trainee takes the steps of the scenario's checklist in its order
    (:func:`with_checklist`) but those in ``skip_steps``.
    """
    if skill not in SKILL_LEVELS:
        raise ValueError(f"unknown skill '{skill}' (expected one of: {', '.join(SKILLS)})")
    proc = registry.get(scenario.task)
    known = proc.error_kinds + proc.reactions
    for kind in errors:
        if kind not in known:
            raise ValueError(
                f"unknown error '{kind}' for {scenario.task} (expected one of: {', '.join(known)})"
            )
    rng = np.random.default_rng(seed)
    level = SKILL_LEVELS[skill]
    if tremor_rms_mm is not None:
        level = replace(level, tremor_rms_mm=tremor_rms_mm)
    if tremor_hz is not None:
        level = replace(level, tremor_hz=tremor_hz)
    if angle_deg is not None:
        level = replace(level, angle_deg=(angle_deg, level.angle_deg[1]))
    items = proc.scripted(scenario, level, rng, errors, np.random.default_rng([seed, 1]))
    if pt.VEIN_ROLLED in errors:  # a trainee who lets the vein roll did not anchor the skin
        skip_steps = {*skip_steps, pt.ANCHOR}
    return with_checklist(scenario, items, skip_steps)


def with_checklist(scenario: Scenario, items: list[Item], skip: Collection[str] = ()) -> list[Item]:
    """``items`` with the actions of the scenario's checklist steps added where its order
    puts them (all of them but those in ``skip``; none without a checklist).

    The task is run over the items to find when each milestone of the order happens; a step
    goes just before the item that brought the next milestone after it in the order (the
    needle then hovers over the site, which becomes the site chosen and cleaned), else just
    after the one that brought the milestone before it, else after the first sample. The
    tourniquet's release is the trainee's own action (already among the items).
    """
    spec = scenario.checklist
    if spec is None:
        return items
    task = registry.get(scenario.task).task(scenario)
    state = task.initial()
    at: dict[str, int] = {}  # milestone -> index of the item that brought it first
    for i, item in enumerate(items):
        state, events = task.step(state, item)
        for e in events:
            at.setdefault(e.kind, i)
    inserts: dict[int, list[str]] = {}  # insert before this index
    for k, step in enumerate(spec.order):
        if step not in STEPS or step == RELEASE or step in skip:
            continue
        later = [at[m] for m in spec.order[k + 1 :] if m not in STEPS and m in at]
        earlier = [at[m] for m in spec.order[:k] if m not in STEPS and m in at]
        if later:
            pos = later[0]
        elif earlier:
            pos = earlier[-1] + 1
        else:
            pos = next((i + 1 for i, it in enumerate(items) if isinstance(it, Sample)), 0)
        inserts.setdefault(pos, []).append(step)
    out: list[Item] = []
    for i in range(len(items) + 1):
        for step in inserts.get(i, ()):
            t = out[-1].t_s if out else (items[i].t_s if i < len(items) else 0.0)
            out.append(Action(t, step))
        if i < len(items):
            out.append(items[i])
    return out


class ScriptedSource:
    """A scripted trainee as a source (an iterable of items)."""

    input_kind = "scripted"

    def __init__(
        self,
        scenario: Scenario,
        skill: str,
        seed: int = 0,
        errors: Collection[str] = (),
        skip_steps: Collection[str] = (),
        **overrides: float,
    ) -> None:
        self.items = scripted_items(
            scenario, skill, seed, errors=errors, skip_steps=skip_steps, **overrides
        )

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)
