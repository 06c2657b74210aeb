"""Patient cases (``scenarios/cases/``): each loads and replaces a scenario's arm and vein;
bad ones get one line naming the file and the key."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest

from sim.core.scenario import ScenarioError
from sim.scenarios import (
    CASE_DIR,
    DEFAULT_PATIENT,
    PATIENT_KEYS,
    SCENARIO_DIR,
    case_ids,
    find_scenario,
    load_scenario,
    parse_scenario,
    patient_of,
    scenario_paths,
)
from sim.storage.recording import RecordingHeader, make_header

PATIENT_TASKS = ("venipuncture", "iv-cannulation")


def _with_patient(base: str, case: str) -> bytes:
    """The shipped scenario ``base`` naming patient ``case``."""
    text = (SCENARIO_DIR / f"{base}.toml").read_bytes()
    assert b"\ntitle =" in text
    return text.replace(b"\ntitle =", f'\npatient = "{case}"\ntitle ='.encode(), 1)


def test_the_cases_the_issue_asks_for_are_shipped() -> None:
    assert {
        "healthy-adult",
        "elderly",
        "obese",
        "dehydrated",
        "child",
        "anticoagulated",
        "anxious",
        "median-cubital-unusable",
    } <= set(case_ids())


@pytest.mark.parametrize("case", case_ids())
@pytest.mark.parametrize("base", PATIENT_TASKS)
def test_every_case_loads_and_replaces_the_arm_and_vein(base: str, case: str) -> None:
    own = find_scenario(base)
    sc = parse_scenario(_with_patient(base, case), f"{base}+{case}")
    assert sc.patient is not None and sc.patient.id == case
    assert 1 <= sc.patient.difficulty <= 5 and sc.patient.title and sc.patient.description
    anatomy = dict(sc.patient.anatomy)
    assert anatomy and set(anatomy) <= set(PATIENT_KEYS)
    for key, value in anatomy.items():
        assert getattr(sc.geometry, key) == value
    for f in dataclasses.fields(sc.geometry):  # what the case does not set stays
        if f.name not in anatomy:
            assert getattr(sc.geometry, f.name) == getattr(own.geometry, f.name)
    assert sc.tolerances == own.tolerances and sc.scoring == own.scoring
    assert sc.content_hash != own.content_hash


def test_cases_differ_in_anatomy_and_the_default_is_the_venipuncture_arm() -> None:
    by_case = {
        c: find_scenario("venipuncture")
        if c == DEFAULT_PATIENT
        else parse_scenario(_with_patient("venipuncture", c), c)
        for c in case_ids()
    }
    named = parse_scenario(_with_patient("venipuncture", DEFAULT_PATIENT), "named")
    assert named.geometry == by_case[DEFAULT_PATIENT].geometry
    anatomies = {tuple(getattr(sc.geometry, k) for k in PATIENT_KEYS) for sc in by_case.values()}
    # only the anticoagulated patient has a healthy adult's arm: its bleeding differs
    assert len(anatomies) == len(by_case) - 1
    conditions = {sc.condition for sc in by_case.values()}
    assert len(conditions) == len(by_case) - 1  # the median cubital case: another vein only
    anticoag, adult = by_case["anticoagulated"].condition, by_case[DEFAULT_PATIENT].condition
    assert anticoag is not None and adult is not None
    assert anticoag.pressure_s > adult.pressure_s and anticoag.bruise_mm_s > adult.bruise_mm_s
    obese, healthy = by_case["obese"].geometry, by_case[DEFAULT_PATIENT].geometry
    assert obese.vein_depth_mm > 2 * healthy.vein_depth_mm  # type: ignore[attr-defined]
    assert by_case["dehydrated"].geometry.vein_diameter_mm < 2.0  # type: ignore[attr-defined]


def test_a_scenario_without_a_patient_is_unchanged() -> None:
    for base in PATIENT_TASKS:
        sc = find_scenario(base)
        assert sc.patient is None
        raw = (SCENARIO_DIR / f"{base}.toml").read_bytes()
        assert sc.content_hash == hashlib.sha256(raw).hexdigest()
        case = patient_of(sc)
        assert case is not None and case.id == DEFAULT_PATIENT and case.difficulty == 1
    assert patient_of(find_scenario("suturing")) is None


def test_shipped_scenarios_with_a_patient() -> None:
    named = {sc.id: sc.patient.id for sc in map(load_scenario, scenario_paths()) if sc.patient}
    assert named == {
        "venipuncture-elderly": "elderly",
        "venipuncture-obese": "obese",
        "venipuncture-child": "child",
        "venipuncture-anxious": "anxious",
        "venipuncture-anticoagulated": "anticoagulated",
        "venipuncture-cephalic": "median-cubital-unusable",
        "iv-cannulation-dehydrated": "dehydrated",
    }


def test_a_recording_carries_the_case_it_was_made_with() -> None:
    sc = find_scenario("venipuncture-obese")
    header = make_header(sc)
    assert header["patient_toml"] == (CASE_DIR / "obese.toml").read_text("utf-8")
    rec = RecordingHeader()
    rec.path, rec.header = "rec.jsonl", header
    again = rec.scenario()
    assert again.content_hash == sc.content_hash and again.geometry == sc.geometry
    # the embedded text is read, not today's case file
    header["patient_toml"] = header["patient_toml"].replace(
        "vein_depth_mm = 9.0", "vein_depth_mm = 7.0"
    )
    changed = rec.scenario()
    assert changed.geometry.vein_depth_mm == 7.0  # type: ignore[attr-defined]
    assert changed.content_hash != sc.content_hash
    assert "patient_toml" not in make_header(find_scenario("venipuncture"))


def test_a_recording_without_a_case_carries_the_default_patients_condition() -> None:
    sc = find_scenario("venipuncture")
    assert sc.default_patient is not None and sc.condition == sc.default_patient.condition
    header = make_header(sc)
    assert header["default_patient_toml"] == (CASE_DIR / "healthy-adult.toml").read_text("utf-8")
    rec = RecordingHeader()
    rec.path, rec.header = "rec.jsonl", header
    assert rec.scenario().condition == sc.condition
    # the embedded text is read, not today's file; the hash stays the scenario's own
    header["default_patient_toml"] = header["default_patient_toml"].replace(
        "flinch_at = 7.0", "flinch_at = 3.0"
    )
    again = rec.scenario()
    assert again.condition is not None and again.condition.flinch_at == 3.0
    assert again.content_hash == sc.content_hash
    assert "default_patient_toml" not in make_header(find_scenario("suturing"))


def _case_dir(tmp_path: Path, old: str = "", new: str = "") -> Path:
    d = tmp_path / "cases"
    shutil.copytree(CASE_DIR, d)
    if old:
        p = d / "obese.toml"
        text = p.read_text()
        assert old in text
        p.write_text(text.replace(old, new, 1))
    return d


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "vein_depth_mm = 9.0",
            "vein_depth_mm = 40.0",
            "key 'geometry.vein_depth_mm': expected a value between 0.5 and 15, got 40.0",
        ),
        (
            "vein_depth_mm = 9.0",
            'vein_depth_mm = "deep"',
            "key 'geometry.vein_depth_mm': expected a number, got 'deep'",
        ),
        (
            "vein_visibility = 0.3",
            "vein_visibility = 1.5",
            "key 'geometry.vein_visibility': expected a value between 0 and 1, got 1.5",
        ),
        (
            "vein_depth_mm = 9.0",
            "tourniquet_x_mm = 9.0",
            "key 'geometry.tourniquet_x_mm': unknown (expected one of: arm_radius_mm,",
        ),
        ("difficulty = 5", "difficulty = 7", "key 'difficulty': expected a value between 1 and 5"),
        ('title = "Obese, deep veins"', "", "key 'title': missing"),
        (
            "[geometry]",
            "[anatomy]",
            "key 'anatomy': unknown (expected one of: title, description, difficulty, geometry, "
            "patient)",
        ),
        ("title =", "title = = ", "invalid TOML"),
        (
            "flinch_at = 7.0",
            "flinch_at = nan",
            "key 'patient.flinch_at': expected a finite number between 0 and 11, got nan",
        ),
        (
            "pressure_s = 15.0",
            "pressure_s = -1.0",
            "key 'patient.pressure_s': expected a value between 0 and 600, got -1.0",
        ),
        ('line_nerve = "Aah! A shock down my arm!"', "", "key 'patient.line_nerve': missing"),
        (
            'line_mild = "Ow, that stings."',
            "line_mild = 3",
            "key 'patient.line_mild': expected a non-empty string, got 3",
        ),
        (
            "vein_roll_mm = 0.0",
            "vein_roll = 0.0",
            "key 'patient.vein_roll': unknown (expected one of: pain_sensitivity,",
        ),
        ("[patient]", "[patients]", "key 'patients': unknown (expected one of: title,"),
    ],
)
def test_a_bad_case_file_names_the_file_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    cases = _case_dir(tmp_path, old, new)
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(_with_patient("venipuncture", "obese"), "s.toml", case_dir=cases)
    msg = str(exc.value)
    assert msg.startswith(f"{cases / 'obese.toml'}: ") and expected in msg
    assert "\n" not in msg


def test_a_case_that_does_not_fit_the_scenario_names_both_files(tmp_path: Path) -> None:
    # each value in range, but a 14 mm deep vein in a 15 mm arm is outside it
    cases = _case_dir(tmp_path, "arm_radius_mm = 55.0", "arm_radius_mm = 15.0")
    text = _with_patient("venipuncture", "obese")
    p = tmp_path / "cases" / "obese.toml"
    p.write_text(p.read_text().replace("vein_depth_mm = 9.0", "vein_depth_mm = 14.0"))
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(text, "s.toml", case_dir=cases)
    assert str(exc.value).startswith(
        f"s.toml with patient case {p}: key 'geometry.vein_depth_mm': expected a depth that "
        "keeps the vein inside the arm (radius 15)"
    )


def test_an_unknown_case_lists_the_cases() -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(_with_patient("venipuncture", "pregnant"), "s.toml")
    assert str(exc.value) == (
        f"s.toml: key 'patient': unknown patient case 'pregnant' (expected one of: "
        f"{', '.join(case_ids())}; files in {CASE_DIR})"
    )
    with pytest.raises(ScenarioError, match="unknown patient case '../venipuncture'"):
        parse_scenario(_with_patient("venipuncture", "../venipuncture"), "s.toml")


def test_a_procedure_without_a_patient_refuses_one() -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(_with_patient("suturing", "obese"), "s.toml")
    assert str(exc.value) == (
        "s.toml: key 'patient': expected no patient key (task suturing has no patient), got 'obese'"
    )


def test_vein_visibility_fades_the_vein_on_the_skin() -> None:
    scene = pytest.importorskip("sim.procedures.venipuncture.scene")
    healthy, obese = find_scenario("venipuncture"), find_scenario("venipuncture-obese")
    deep = dataclasses.replace(obese.geometry, vein_visibility=1.0)  # type: ignore[type-var]
    on = scene.vein_tint(obese.geometry, True).strength
    assert on == pytest.approx(0.3 * scene.vein_tint(deep, True).strength)
    assert on < 0.2 * scene.vein_tint(healthy.geometry, True).strength
