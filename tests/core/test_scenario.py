from pathlib import Path

import pytest

from sim.core.scenario import ScenarioError
from sim.procedures.suturing.spec import parts as suturing_parts
from sim.procedures.venipuncture.spec import parts as venipuncture_parts
from sim.scenarios import SCENARIO_DIR, find_scenario, load_scenario


def test_shipped_scenarios_load_with_clinical_numbers(veni, sut):
    geo, tol = venipuncture_parts(veni)
    assert (tol.angle_min_deg, tol.angle_max_deg) == (15.0, 30.0)
    assert tol.tourniquet_max_s == 60.0
    assert 3.0 <= geo.vein_depth_mm <= 6.0 and 2.0 <= geo.vein_diameter_mm <= 5.0
    sgeo, stol = suturing_parts(sut)
    assert 3.0 <= stol.bite_target_mm <= 5.0
    assert stol.symmetry_max_mm == 1.0
    assert veni.proficiency.consecutive_passes == 2 and veni.proficiency.further_passes == 10
    assert "back_wall" in veni.scoring.critical_errors
    assert len(veni.content_hash) == 64


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    return p


def _variant(old: str, new: str) -> str:
    text = (SCENARIO_DIR / "venipuncture.toml").read_text()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "angle_max_deg = 30.0",
            'angle_max_deg = "steep"',
            "key 'tolerances.angle_max_deg': expected a number, got 'steep'",
        ),
        (
            "angle_max_deg = 30.0",
            "angle_max_deg = 10.0",
            "key 'tolerances.angle_max_deg': expected a value above angle_min_deg",
        ),
        (
            "vein_depth_mm = 4.0",
            "vein_depth_mm = -1.0",
            "key 'geometry.vein_depth_mm': expected a value between 0.5 and 15",
        ),
        (
            "max_attempts = 2",
            "max_attempts = 2.5",
            "key 'tolerances.max_attempts': expected an integer",
        ),
        ("schema_version = 1", "schema_version = 9", "key 'schema_version': expected 1, got 9"),
        ("draw_hold_s = 3.0", "draw_hold = 3.0", "key 'tolerances.draw_hold': unknown"),
        (
            'critical_errors = ["back_wall"',
            'critical_errors = ["explosion"',
            "key 'scoring.critical_errors[0]': expected one of",
        ),
        (
            "[scoring.metrics.sparc]",
            "[scoring.metrics.charm]",
            "key 'scoring.metrics.charm': unknown metric for task venipuncture",
        ),
        ("[proficiency]", "[proficiencyx]", "key 'proficiencyx': unknown"),
        ("sample_rate_hz = 60.0\n", "", "key 'sample_rate_hz': missing"),
        ("tourniquet_max_s = 60.0", "", "key 'tolerances.tourniquet_max_s': missing"),
    ],
)
def test_bad_scenario_names_file_key_and_expectation(tmp_path, old, new, expected):
    p = _write(tmp_path, _variant(old, new))
    with pytest.raises(ScenarioError) as err:
        load_scenario(p)
    msg = str(err.value)
    assert msg.startswith(str(p) + ": ")
    assert expected in msg
    assert "\n" not in msg


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"bad\.toml: invalid TOML"):
        load_scenario(_write(tmp_path, "id = [unclosed"))
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'"):
        find_scenario("nope")


def test_content_hash_changes_with_content(tmp_path):
    a = load_scenario(_write(tmp_path, _variant("draw_hold_s = 3.0", "draw_hold_s = 3.0")))
    b = load_scenario(_write(tmp_path, _variant("draw_hold_s = 3.0", "draw_hold_s = 4.0")))
    assert a.content_hash != b.content_hash
    assert venipuncture_parts(b)[1].draw_hold_s == 4.0
