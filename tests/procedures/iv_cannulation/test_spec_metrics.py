"""The IV cannulation scenario file, its cross-check, and its precision metrics."""

from __future__ import annotations

import math

import pytest

from sim.core.scenario import ScenarioError
from sim.metrics.catalog import MOTION
from sim.procedures.iv_cannulation.metrics import ERRORS, METRICS, precision
from sim.scenarios import SCENARIO_DIR, parse_scenario
from tests.procedures.iv_cannulation.helpers import run, scripted

TEXT = (SCENARIO_DIR / "iv-cannulation.toml").read_text(encoding="utf-8")


def _variant(old: str, new: str) -> bytes:
    """The file with ``old`` replaced by ``new`` (several at once when separated by ``|``)."""
    text = TEXT
    for o, n in zip(old.split("|"), new.split("|")):
        assert o in text
        text = text.replace(o, n, 1)
    return text.encode("utf-8")


def test_the_scenario_file_reads_with_every_number_in_range(iv):
    assert iv.task == "iv-cannulation"
    assert iv.tolerances.angle_min_deg == 10.0 and iv.tolerances.angle_max_deg == 30.0
    assert iv.geometry.needle_length_mm == pytest.approx(33.5)


def test_every_number_in_the_scenario_file_says_where_it_comes_from():
    section = ""
    for line in TEXT.splitlines():
        if line.startswith("["):
            section = line
        if section in ("[geometry]", "[tolerances]") and "=" in line:
            key = line.split("=")[0].strip()
            if key == "vein_lateral_mm" or key.endswith(("length_mm", "_x_mm")):
                continue  # placement and size of the model, not clinical numbers
            if key == "angle_max_deg":
                continue  # shares angle_min_deg's source on the line above
            assert "#" in line, f"{key} has no source"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "angle_max_deg = 30.0",
            "angle_max_deg = 10.0",
            "key 'tolerances.angle_max_deg': expected a value above angle_min_deg (10), got 10.0",
        ),
        (
            "thread_angle_max_deg = 15.0",
            "thread_angle_max_deg = 35.0",
            "key 'tolerances.thread_angle_max_deg': expected a value at most angle_max_deg (30)",
        ),
        (
            "vein_depth_mm = 3.0 ",
            "vein_depth_mm = 1.0 ",
            "key 'geometry.vein_depth_mm': expected a depth greater than half the vein diameter",
        ),
        (
            "arm_radius_mm = 35.0|vein_depth_mm = 3.0 ",
            "arm_radius_mm = 15.0|vein_depth_mm = 14.0 ",
            "key 'geometry.vein_depth_mm': expected a depth that keeps the vein inside the limb",
        ),
        (
            "catheter_diameter_mm = 1.1",
            "catheter_diameter_mm = 3.0",
            "key 'geometry.catheter_diameter_mm': expected a catheter narrower than the vein (3)",
        ),
        (
            "needle_protrusion_mm = 1.5",
            "needle_protrusion_mm = 2.5",
            "key 'tolerances.advance_after_flash_mm': expected at least needle_protrusion_mm",
        ),
        (
            "tourniquet_x_mm = 90.0",
            "tourniquet_x_mm = 200.0",
            "key 'geometry.tourniquet_x_mm': expected a position on the limb (within +-160)",
        ),
        (
            "reinsert_mm = 3.0",
            "reinsert_mm = 0.0",
            "key 'tolerances.reinsert_mm': expected a value between 0.1 and 20, got 0.0",
        ),
    ],
)
def test_values_that_cannot_go_together_are_one_line_naming_the_key(old, new, expected):
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(_variant(old, new), "x.toml")
    message = str(exc.value)
    assert message.startswith("x.toml: ") and expected in message and "\n" not in message


def test_scoring_names_known_metrics_and_error_kinds(iv):
    known = {m.name for m in MOTION + METRICS}
    assert {a.name for a in iv.scoring.anchors} <= known
    assert set(iv.scoring.critical_errors) <= set(ERRORS)


def test_no_events_means_nothing_measured(iv):
    values = precision(iv, [], 0.0)
    assert set(values) == {m.name for m in METRICS}
    assert all(math.isnan(v) for v in values.values())


def test_an_expert_session_measures_every_metric_and_better_than_a_novice(iv):
    _, ev_e, _ = run(iv, scripted(iv, "expert", 1))
    _, ev_n, _ = run(iv, scripted(iv, "novice", 1))
    e, n = precision(iv, ev_e, 0.0), precision(iv, ev_n, 0.0)
    assert all(math.isfinite(v) for v in e.values()), e
    assert e["angle_error_deg"] == 0.0 < n["angle_error_deg"]
    assert e["needle_motion_mm"] < iv.tolerances.needle_still_mm / 4
    assert e["threading_angle_deg"] <= iv.tolerances.thread_angle_max_deg
    assert e["attempts"] == 1.0
