"""Bad numbers in a scenario file never reach a score: `procsim scenarios check` refuses
them with one line naming the file and the key; per-input-kind anchors."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given, settings

from sim.core.patient import PatientSpec
from sim.core.scenario import INPUT_KINDS, Scenario, ScenarioError
from sim.scenarios import SCENARIO_DIR, find_scenario, load_scenario, parse_scenario
from sim.storage.recording import parse_recording
from tests.mutations import FUZZ, assert_finite, assert_one_clean_line, mutated, run_cli

VENI = (SCENARIO_DIR / "venipuncture.toml").read_bytes()
SUT = (SCENARIO_DIR / "suturing.toml").read_bytes()


def _check(tmp_path: Path, text: bytes | str) -> tuple[int, str, str, Path]:
    p = tmp_path / "x.toml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return (*run_cli(["scenarios", "check", str(p)]), p)


def _variant(base: bytes, old: str, new: str) -> str:
    """``base`` with ``old`` replaced by ``new`` (several at once when separated by ``|``)."""
    text = base.decode("utf-8")
    for o, n in zip(old.split("|"), new.split("|")):
        assert o in text
        text = text.replace(o, n, 1)
    return text


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "angle_min_deg = 15.0",
            "angle_min_deg = nan",
            "key 'tolerances.angle_min_deg': expected a finite number between 0 and 90, got nan",
        ),
        (
            "angle_min_deg = 15.0",
            "angle_min_deg = inf",
            "key 'tolerances.angle_min_deg': expected a finite number between 0 and 90, got inf",
        ),
        (
            "angle_min_deg = 15.0",
            "angle_min_deg = -inf",
            "key 'tolerances.angle_min_deg': expected a finite number between 0 and 90",
        ),
        (
            "angle_min_deg = 15.0",
            "angle_min_deg = 1e308",
            "key 'tolerances.angle_min_deg': expected a value between 0 and 90, got 1e+308",
        ),
        (
            "angle_min_deg = 15.0",
            "angle_min_deg = " + "9" * 400,
            "key 'tolerances.angle_min_deg': expected a finite number between 0 and 90, got 999",
        ),
        (
            "weight = 3.0",
            "weight = nan",
            "key 'scoring.metrics.angle_error_deg.weight': expected a finite number above 0 "
            "and at most 100, got nan",
        ),
        (
            "weight = 3.0",
            "weight = 0.0",
            "key 'scoring.metrics.angle_error_deg.weight': expected a value above 0",
        ),
        (
            "expert = 0.0",
            "expert = 1e300",
            "key 'scoring.metrics.angle_error_deg.expert': expected a value between -1e+06",
        ),
        (
            "novice = 15.0",
            "novice = -inf",
            "key 'scoring.metrics.angle_error_deg.novice': expected a finite number",
        ),
        (
            "pass_score = 70.0",
            "pass_score = 101.0",
            "key 'scoring.pass_score': expected a value between 0 and 100, got 101.0",
        ),
        (
            "max_attempts = 2",
            "max_attempts = 99999999999999999999999",
            "key 'tolerances.max_attempts': expected a value between 1 and 10",
        ),
        (
            "sample_rate_hz = 60.0",
            "sample_rate_hz = nan",
            "key 'sample_rate_hz': expected a finite number between 1 and 1000, got nan",
        ),
        (
            "arm_radius_mm = 35.0|vein_depth_mm = 4.0",
            "arm_radius_mm = 15.0|vein_depth_mm = 14.0",
            "key 'geometry.vein_depth_mm': expected a depth that keeps the vein inside the arm",
        ),
    ],
)
def test_venipuncture_bad_numbers_are_refused_naming_file_and_key(tmp_path, old, new, expected):
    rc, out, err, p = _check(tmp_path, _variant(VENI, old, new))
    assert rc == 2 and out == ""
    assert_one_clean_line(err, p)
    assert expected in err


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "planned_stitch_x_mm = [-8.0, 0.0, 8.0]",
            "planned_stitch_x_mm = [-8.0, nan, 8.0]",
            "key 'geometry.planned_stitch_x_mm[1]': expected a finite number, got nan",
        ),
        (
            "planned_stitch_x_mm = [-8.0, 0.0, 8.0]",
            "planned_stitch_x_mm = [-8.0, 8.0, 0.0]",
            "key 'geometry.planned_stitch_x_mm[2]': expected positions that increase (after 8)",
        ),
        (
            "planned_stitch_x_mm = [-8.0, 0.0, 8.0]",
            "planned_stitch_x_mm = [0.0, 0.0, 8.0]",
            "key 'geometry.planned_stitch_x_mm[1]': expected positions that increase",
        ),
        (
            "planned_stitch_x_mm = [-8.0, 0.0, 8.0]",
            "planned_stitch_x_mm = []",
            "key 'geometry.planned_stitch_x_mm': expected 1 to 50 positions, got 0",
        ),
        (
            "stitches_required = 3",
            "stitches_required = 4",
            "key 'tolerances.stitches_required': expected at most the number of planned "
            "stitches (3), got 4",
        ),
    ],
)
def test_suturing_stitch_plan_must_be_consistent(tmp_path, old, new, expected):
    rc, _, err, p = _check(tmp_path, _variant(SUT, old, new))
    assert rc == 2
    assert_one_clean_line(err, p)
    assert expected in err


def test_unreadable_text_long_lines_and_huge_files_get_one_line(tmp_path):
    rc, _, err, p = _check(tmp_path, VENI.replace(b"Venipuncture: median", b"Venipuncture\xff"))
    assert rc == 2 and "line 6: not UTF-8 text" in err
    assert_one_clean_line(err, p)
    long_title = _variant(VENI, 'title = "', 'title = "' + "x" * 5000)
    rc, _, err, p = _check(tmp_path, long_title)
    assert rc == 2 and "line 6: 5043 characters long (expected at most 4096)" in err
    rc, _, err, p = _check(tmp_path, VENI + b"# padding\n" * 7000)
    assert rc == 2 and "too large (expected at most 65536 bytes" in err
    rc, _, err, p = _check(tmp_path, VENI + b"x = " + b"[\n" * 3000 + b"]" * 3000 + b"\n")
    assert rc == 2 and "invalid TOML" in err
    assert_one_clean_line(err, p)


WEBCAM_TIME = """
[scoring.metrics.total_time_s.webcam]
expert = 35.0
novice = 120.0

[scoring.metrics.sparc.mouse]
weight = 0.5
"""


def test_anchors_per_input_kind_override_the_base_anchor(tmp_path):
    p = tmp_path / "per_input.toml"
    p.write_bytes(VENI + WEBCAM_TIME.encode())
    sc = load_scenario(p)
    base = sc.scoring.anchor("total_time_s")
    assert base is not None and (base.expert, base.novice, base.weight) == (25.0, 90.0, 1.0)
    cam = sc.scoring.anchor("total_time_s", "webcam")
    assert cam is not None and (cam.expert, cam.novice, cam.weight) == (35.0, 120.0, 1.0)
    assert cam.input_kind == "webcam"
    # An input kind without its own table gets the base anchor.
    assert sc.scoring.anchor("total_time_s", "mouse") == base
    mouse_sparc = sc.scoring.anchor("sparc", "mouse")
    assert mouse_sparc is not None
    assert (mouse_sparc.expert, mouse_sparc.novice, mouse_sparc.weight) == (-2.0, -8.0, 0.5)
    assert sc.scoring.anchor("no_such_metric", "webcam") is None
    assert set(INPUT_KINDS) == {"mouse", "webcam", "video", "scripted", "recording"}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "[scoring.metrics.total_time_s.keyboard]\nexpert = 3.0\n",
            "key 'scoring.metrics.total_time_s.keyboard': unknown (expected one of: expert, "
            "novice, weight, resolution, or an input kind: mouse, webcam, video, scripted, "
            "recording)",
        ),
        (
            "[scoring.metrics.total_time_s.webcam]\nexpert = nan\n",
            "key 'scoring.metrics.total_time_s.webcam.expert': expected a finite number",
        ),
        (
            "[scoring.metrics.total_time_s.webcam]\nexpert = 90.0\n",
            "key 'scoring.metrics.total_time_s.webcam.expert': expected a value different "
            "from novice, got 90.0",
        ),
        (
            "[scoring.metrics.total_time_s.video]\nweight = -1\n",
            "key 'scoring.metrics.total_time_s.video.weight': expected a value above 0",
        ),
        (
            "[scoring.metrics.total_time_s.video]\nlimit = 1\n",
            "key 'scoring.metrics.total_time_s.video.limit': unknown",
        ),
    ],
)
def test_bad_per_input_anchors_are_refused(tmp_path, extra, expected):
    rc, _, err, p = _check(tmp_path, VENI + extra.encode())
    assert rc == 2 and expected in err, err
    assert_one_clean_line(err, p)


def test_old_recordings_embedding_a_scenario_without_per_input_anchors_still_load(tmp_path):
    # A recording carries the scenario's text; the shipped text has no per-input tables.
    from sim.storage.recording import make_header

    veni = find_scenario("venipuncture")
    header = make_header(veni)
    import json

    rec = parse_recording((json.dumps(header) + "\n").encode(), tmp_path / "old.jsonl")
    sc = rec.scenario()
    assert sc.content_hash == veni.content_hash
    assert sc.scoring.anchor("total_time_s", "webcam") == veni.scoring.anchor("total_time_s")


def _assert_all_finite(sc: Scenario) -> None:
    for part in (sc.geometry, sc.tolerances, sc.feedback, sc.proficiency):
        assert_finite([getattr(part, f) for f in part.__dataclass_fields__], type(part).__name__)
    assert_finite([(a.expert, a.novice, a.weight) for a in sc.scoring.anchors])
    assert_finite([(a.expert, a.novice, a.weight) for a in sc.scoring.input_anchors])
    assert all(a.weight > 0 and a.expert != a.novice for a in sc.scoring.anchors)
    assert 0 <= sc.scoring.pass_score <= 100 and math.isfinite(sc.sample_rate_hz)


SCENARIO_EXAMPLES = 100
_FUZZ_DIR = Path(tempfile.mkdtemp(prefix="procsim-fuzz-scenario-"))
_FUZZED = (VENI + WEBCAM_TIME.encode(), SUT)


@settings(FUZZ, max_examples=SCENARIO_EXAMPLES)
@given(mutated(_FUZZED[0]), mutated(_FUZZED[1]))
def test_fuzz_scenarios_check_gives_one_line_or_a_finite_scenario(veni: bytes, sut: bytes):
    for data in (veni, sut):
        p = _FUZZ_DIR / "fuzz.toml"
        p.write_bytes(data)
        rc, out, err = run_cli(["scenarios", "check", str(p)])
        event("refused" if rc == 2 else "read")
        if rc == 2:
            assert_one_clean_line(err, p)
        else:
            assert rc == 0 and err == "" and out.startswith(f"{p}: ok"), (rc, err)
            _assert_all_finite(parse_scenario(data, str(p)))


CASE = (SCENARIO_DIR / "cases" / "healthy-adult.toml").read_bytes()
ELDERLY = _variant(VENI, "\ntitle =", '\npatient = "elderly"\ntitle =').encode()


@settings(FUZZ, max_examples=SCENARIO_EXAMPLES)
@given(mutated(CASE))
def test_fuzz_a_patient_case_gives_one_line_or_a_finite_condition(case: bytes):
    # the case text as a recording embeds it: for a named case and for the default one
    for kw in ({"case_text": case}, {"default_case_text": case}):
        scenario = ELDERLY if "case_text" in kw else VENI
        try:
            sc = parse_scenario(scenario, "s.toml", **kw)  # type: ignore[arg-type]
        except ScenarioError as exc:
            event("refused")
            msg = str(exc)
            assert "\n" not in msg and msg.startswith("s.toml")
            assert "key '" in msg or "line " in msg or "invalid TOML" in msg, msg
            continue
        event("read")
        c = sc.condition
        assert c is not None
        assert_finite([getattr(c, f) for f in c.__dataclass_fields__ if f[:5] != "line_"])
        assert all(getattr(c, f) for f in c.__dataclass_fields__ if f[:5] == "line_")


def _range_rows() -> list[str]:
    """One row of the ranges table in docs/scenarios.md per section, from the code."""
    import dataclasses

    from sim.core import scenario as s
    from sim.core.checklist import ChecklistSpec
    from sim.procedures.registry import procedures

    sections: list[tuple[type, str]] = []
    for proc in procedures():
        sections += [(proc.geometry, f"[geometry] {proc.id}")]
        sections += [(proc.tolerances, f"[tolerances] {proc.id}")]
    sections += [
        (s.FeedbackSpec, "[feedback]"),
        (s.ScoringSpec, "[scoring]"),
        (s.MetricAnchor, "[scoring.metrics.NAME]"),
        (s.ProficiencySpec, "[proficiency]"),
        (ChecklistSpec, "[checklist]"),
        (PatientSpec, "[patient] (case files)"),
    ]
    rows = []
    for cls, name in sections:
        ranges = [
            f"`{f.name}` {'above ' if f.metadata.get('above') else ''}"
            f"{f.metadata['min']:g} to {f.metadata['max']:g}"
            for f in dataclasses.fields(cls)
            if f.metadata.get("min") is not None
        ]
        rows.append(f"| {name} | {', '.join(ranges)} |")
    return rows


def test_docs_state_the_range_of_every_number():
    docs = (SCENARIO_DIR.parent / "docs" / "scenarios.md").read_text()
    for row in _range_rows():
        assert row in docs, row
