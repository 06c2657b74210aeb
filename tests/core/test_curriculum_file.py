"""The curriculum file: the shipped one, one clear line for every bad value, and a fuzz."""

import math
import re

import pytest
from hypothesis import event, given, settings

from sim.core.competency import SignOffSpec, WarningSpec
from sim.curriculum import (
    CURRICULUM_FILE,
    CurriculumError,
    _scenarios,
    load_curriculum,
    parse_curriculum,
)
from sim.scenarios import SCENARIO_DIR
from tests.mutations import FUZZ, assert_one_clean_line, mutated, run_cli

SHIPPED = CURRICULUM_FILE.read_bytes()
SCENARIOS = _scenarios(SCENARIO_DIR)


def test_the_shipped_curriculum_has_a_ladder_per_procedure_ending_in_its_qualification():
    cur = load_curriculum()
    assert set(cur.tasks) == {"venipuncture", "iv-cannulation", "suturing"}
    veni = cur.procedure("venipuncture")
    assert veni.cases[0].scenario == "venipuncture"
    assert veni.exam.kind == "exam" and veni.exam is veni.cases[-1]
    # the defaults from DOMAIN.md: the IV catheter's 10 % / 25 %, Fisher's 6 weeks
    assert cur.procedure("iv-cannulation").signoff == SignOffSpec(0.10, 0.25, 0.05, 0.20)
    assert veni.warnings == WarningSpec(5, 42.0, 3)
    # a case opens after the one before it; the one before is the easier case
    elderly = veni.rung("elderly")
    assert (elderly.entry_after, elderly.fail_easier) == ("anticoagulated", "anticoagulated")
    assert elderly.title == "Venipuncture: elderly patient, thin arm, shallow vein"


def _with(old: str, new: str) -> bytes:
    text = SHIPPED.decode()
    assert old in text, old
    return text.replace(old, new, 1).encode()


BAD = [
    ("acceptable_failure = 0.10 ", "acceptable_failure = nan ",
     "key 'venipuncture.signoff.acceptable_failure': expected a finite number above 0 and "
     "at most 1, got nan"),
    ("acceptable_failure = 0.10 ", "acceptable_failure = 0.30 ",
     "key 'venipuncture.signoff.unacceptable_failure': expected a rate above "
     "acceptable_failure, got 0.25"),
    ("alpha = 0.05", "alpha = 0.7",
     "key 'venipuncture.signoff.alpha': expected a value above 0 and at most 0.5, got 0.7"),
    ("decay_days = 42.0 ", "decay_days = inf ",
     "key 'venipuncture.warnings.decay_days': expected a finite number between 1 and 3650"),
    ("plateau_sessions = 5 ", 'plateau_sessions = "5" ',
     "key 'venipuncture.warnings.plateau_sessions': expected an integer, got '5'"),
    ("repeated_critical = 3 ", "",
     "key 'venipuncture.warnings.repeated_critical': missing"),
    ('scenario = "venipuncture-elderly"', 'scenario = "venipuncture-moon"',
     "key 'venipuncture rung 5 (elderly).scenario': expected the id of a scenario in scenarios/, "
     "got 'venipuncture-moon'"),
    ('scenario = "venipuncture-elderly"', 'scenario = "suturing"',
     "key 'venipuncture rung 5 (elderly).scenario': expected a scenario of task venipuncture, "
     "got 'suturing', a scenario of task suturing"),
    ('scenario = "venipuncture-elderly"', 'scenario = "venipuncture"',
     "key 'venipuncture rung 5 (elderly).scenario': expected a scenario no other rung of the "
     "ladder plays, got 'venipuncture'"),
    ('id = "elderly"', 'id = "elderly"\nentry_passes = 0',
     "key 'venipuncture rung 5 (elderly).entry_passes': expected a value between 1 and 100, got 0"),
    ('id = "elderly"', 'id = "elderly"\nentry_min_score = nan',
     "key 'venipuncture rung 5 (elderly).entry_min_score': expected a finite number between 0 and "
     "100, got nan"),
    ('id = "elderly"', 'id = "elderly"\nentry_after = "child"',
     "key 'venipuncture rung 5 (elderly).entry_after': expected the id of an earlier case rung, "
     "got 'child'"),
    ('id = "elderly"', 'id = "elderly"\nfail_easier = "child"',
     "key 'venipuncture rung 5 (elderly).fail_easier': expected the id of an earlier case rung, "
     "got 'child'"),
    ('id = "elderly"', 'id = "elderly"\nfail_drill_after = -1',
     "key 'venipuncture rung 5 (elderly).fail_drill_after': expected a value between 0 and 100"),
    ('id = "elderly"', 'id = "elderly"\nqualify_passes = 2',
     "key 'venipuncture rung 5 (elderly).qualify_passes': not a key of a case rung"),
    ('id = "elderly"', 'id = "elderly"\nentry_in_a_row = 1',
     "key 'venipuncture rung 5 (elderly).entry_in_a_row': expected true or false, got 1"),
    ('id = "elderly"', 'id = "elderly"\nretries = 1',
     "key 'venipuncture rung 5 (elderly).retries': unknown (expected one of: id, scenario, kind,"),
    ('id = "anticoagulated"', 'id = "healthy-adult"',
     "key 'venipuncture rung 4 (healthy-adult).id': expected an id no other rung of the "
     "ladder has"),
    ('kind = "case"                 # difficulty 4', 'kind = "drill"',
     "key 'venipuncture rung 8 (child).scenario': expected a drill scenario (with [drill]) for "
     "kind \"drill\", got 'venipuncture-child'"),
    ('kind = "case"                 # difficulty 4', 'kind = "level"',
     "key 'venipuncture rung 8 (child).kind': expected one of \"case\", \"drill\", \"exam\""),
    ('kind = "exam"                 # difficulty 4: small flat vein\nqualify_passes = 1',
     'kind = "case"\n#',
     "key 'iv-cannulation.rungs': expected exactly one rung of kind \"exam\", after every "
     "case, got '0 exam rungs'"),
    ("[suturing]\n", "[sutures]\n", "key 'sutures': unknown (expected one of: schema_version,"),
    ("schema_version = 1", "schema_version = 2", "key 'schema_version': expected 1, got 2"),
    ("[venipuncture.signoff]", "[venipuncture.signof]",
     "key 'venipuncture.signof': unknown (expected one of: title, drill_min_share, signoff, "
     "warnings, rungs)"),
    ("drill_min_share = 0.30", "drill_min_share = 1.5",
     "key 'venipuncture.drill_min_share': expected a value between 0 and 1, got 1.5"),
    ("drill_min_share = 0.30", "drill_min_share = nan",
     "key 'venipuncture.drill_min_share': expected a finite number between 0 and 1, got nan"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), BAD)
def test_a_bad_value_is_one_line_naming_the_file_the_key_and_what_was_expected(
    old: str, new: str, expected: str
) -> None:
    with pytest.raises(CurriculumError) as exc:
        parse_curriculum(_with(old, new), "my.toml", SCENARIOS)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith("my.toml: ") and expected in msg, msg


def test_a_bad_curriculum_file_from_the_command_line(tmp_path, data_dir):
    bad = tmp_path / "c.toml"
    bad.write_bytes(_with("decay_days = 42.0 ", "decay_days = nan "))
    rc, out, err = run_cli(["next", "--trainee", "t1", "--curriculum", str(bad)])
    assert rc == 2 and out == ""
    assert_one_clean_line(err, bad)
    assert "key 'venipuncture.warnings.decay_days': expected a finite number" in err


FUZZ_EXAMPLES = 200
"""Mutated files per run (each read in about a millisecond)."""


@settings(FUZZ, max_examples=FUZZ_EXAMPLES)
@given(mutated(SHIPPED))
def test_fuzz_every_mutated_file_is_read_or_refused_in_one_line(data: bytes) -> None:
    try:
        cur = parse_curriculum(data, "fuzz.toml", SCENARIOS)
    except CurriculumError as exc:
        event("refused")
        msg = str(exc)
        assert msg.startswith("fuzz.toml") and "\n" not in msg and len(msg) < 600, msg
        assert any(w in msg for w in ("key '", "line ", "invalid TOML", "no procedure", "large"))
        return
    event("read")
    for lad in cur.ladders:
        so, wa = lad.signoff, lad.warnings
        assert 0 < so.acceptable_failure < so.unacceptable_failure <= 1
        assert 0 < so.alpha <= 0.5 and 0 < so.beta <= 0.5
        assert math.isfinite(wa.decay_days) and 1 <= wa.decay_days <= 3650
        assert lad.exam is lad.cases[-1]
        for r in lad.rungs:
            assert math.isfinite(r.entry_min_score) and 0 <= r.entry_min_score <= 100


def test_the_docs_describe_every_key():
    doc = (SCENARIO_DIR.parent / "docs" / "curriculum.md").read_text()
    from sim.curriculum import _RUNG_KEYS, _SIGNOFF, _WARNINGS

    for key in (*_RUNG_KEYS, *_SIGNOFF, *_WARNINGS, "drill_min_share"):
        assert re.search(rf"`{key}`", doc), key
