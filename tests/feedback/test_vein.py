"""The vein-entry rules (``sim.feedback.vein``): one definition, used by every procedure
that puts a straight needle into a vein, each with its own thresholds."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sim.feedback.vein import vein_entry_rules
from sim.procedures.iv_cannulation.view import IvView
from sim.procedures.registry import get
from sim.procedures.venipuncture.view import VenipunctureView
from tests.conftest import scenario_of

SHARED = {"probing", "tourniquet_too_long", "too_steep", "too_shallow", "off_vein", "bevel_down"}
BASE = dict(
    t_s=1.0,
    phase="insert",
    tracked=True,
    speed_mm_s=0.0,
    tremor_mm=0.0,
    moved=True,
    near=True,
    done=False,
    angle_deg=20.0,
    depth_mm=-3.0,
    distance_to_skin_mm=3.0,
    inserted=False,
)


@pytest.mark.parametrize("task", ["venipuncture", "iv-cannulation"])
def test_both_vein_procedures_use_the_shared_rules(task: str) -> None:
    names = [r.name for r in get(task).rules(scenario_of(task))]
    assert set(names) >= SHARED and all(names.count(n) == 1 for n in SHARED)


@dataclass(frozen=True)
class Limits:
    """Vein-entry tolerances of the test (the fields the rules read)."""

    angle_min_deg: float = 10.0
    angle_max_deg: float = 30.0
    bevel_roll_tol_deg: float = 20.0
    probe_mm: float = 3.0
    tourniquet_max_s: float = 60.0


@pytest.mark.parametrize("view", [VenipunctureView, IvView])
def test_the_shared_rules_word_each_problem_with_the_given_limits(view: type) -> None:
    sc = scenario_of("venipuncture")
    rules = {
        r.name: r
        for r in vein_entry_rules(
            sc.feedback,
            Limits(),
            vein_radius_mm=1.5,
            aiming=lambda v: v.moved and v.near and not v.done,
        )
    }
    cases = {
        "too_steep": (dict(angle_deg=34.2), "angle 34°: lower to 10-30°"),
        "too_shallow": (dict(angle_deg=6.0), "angle 6°: raise to 10-30°"),
        "off_vein": (dict(offset_mm=-3.5), "off the vein by 2.0 mm: move towards you"),
        "bevel_down": (dict(roll_deg=-50.0), "bevel 50° from up: turn it bevel up (max 20°)"),
        "tourniquet_too_long": (dict(tourniquet_s=75.0), "tourniquet on 75 s: release it (max 60)"),
        "probing": (
            dict(inserted=True, probe_mm=4.0),
            "probing: withdraw to just under the skin before redirecting",
        ),
    }
    for name, (kw, words) in cases.items():
        v = view(**{**BASE, **kw})
        rule = rules[name]
        assert rule.applies(v) and rule.on(v) and rule.text(v) == words, name
        calm = view(**BASE)
        assert not rule.on(calm), name  # a good aim raises none of them
