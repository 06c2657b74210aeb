"""``procsim next`` end to end: real scripted sessions imported into a store."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.cli import main
from sim.curriculum import attempts_from_rows
from sim.pipeline import Pipeline
from sim.scenarios import find_scenario
from sim.sources.scripted import scripted_items
from sim.storage.session import run_session
from tests.mutations import assert_one_clean_line, finite_json, run_cli

from .conftest import make_recording


@pytest.fixture(scope="module")
def ladder_recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """t-up passed the first venipuncture case twice (expert sessions); t-down failed it once,
    a complete session at 50° with probing and the bevel down, whose angle lost the most."""
    d = tmp_path_factory.mktemp("ladder")
    sc = find_scenario("venipuncture")
    bad = d / "t-down.jsonl"
    items = scripted_items(sc, "intermediate", 1, angle_deg=50.0, errors=("probing", "bevel_down"))
    run_session(Pipeline(sc), items, bad, trainee="t-down")
    return {
        "up1": make_recording(d, "venipuncture", "expert", 1, "t-up"),
        "up2": make_recording(d, "venipuncture", "expert", 2, "t-up"),
        "down": bad,
    }


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, ladder_recordings: dict[str, Path]) -> Path:
    """A data folder whose store holds the recordings (imported once for the module)."""
    d = tmp_path_factory.mktemp("next-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PROCSIM_DATA_DIR", str(d))
        mp.delenv("PROCSIM_DB_URL", raising=False)
        mp.delenv("PROCSIM_STATION_CONFIG", raising=False)
        assert main(["sessions", "import", *map(str, ladder_recordings.values())]) == 0
    return d


@pytest.fixture()
def store(filled: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine's store is the filled one."""
    monkeypatch.setenv("PROCSIM_DATA_DIR", str(filled))
    return filled


def test_two_passes_lead_to_the_next_case_in_words_and_json(store, capsys):
    rc, out, err = run_cli(["next", "--trainee", "t-up"])
    assert rc == 0 and err == ""
    assert out.splitlines() == [
        "Next for t-up: Venipuncture: patient on anticoagulants [venipuncture-anticoagulated]",
        "  You passed 'Venipuncture: median cubital vein' twice in a row: next, "
        "'Venipuncture: patient on anticoagulants'.",
        "  Sign-off (venipuncture): not yet signed off: LC-CUSUM 0.36 of limit 3.82 (2 full cases)",
        "  Start it: procsim practice venipuncture-anticoagulated --trainee t-up",
    ]
    rc, out, err = run_cli(["next", "--trainee", "t-up", "--json"])
    data = finite_json(out)
    assert rc == 0 and data["sessions"] == 2
    assert (data["task"], data["scenario"], data["kind"], data["exam"]) == (
        "venipuncture", "venipuncture-anticoagulated", "advance", False,
    )  # fmt: skip
    assert data["curriculum"].endswith("scenarios/curriculum.toml")


def test_next_json_carries_the_same_sign_off_as_progress(store):
    rc, out, _ = run_cli(["next", "--trainee", "t-up", "--json"])
    so = finite_json(out)["signoff"]
    assert rc == 0
    # two passes: S_2 = 2 ln(0.90/0.75) = 0.36 of h 3.82; 19 more passes in a row
    # make the 21 that sign off
    assert (so["signed_off"], so["status"], so["sessions"], so["cases"]) == (
        False, "not_yet", 2, 2,
    )  # fmt: skip
    assert so["lc_cusum"] == pytest.approx(2 * math.log(0.90 / 0.75))
    assert so["passes_to_signoff"] == 19 and so["relapse_cusum"] is None
    rc, out, _ = run_cli(["progress", "--trainee", "t-up", "--json"])
    (proc,) = finite_json(out)["trainees"][0]["procedures"]
    assert rc == 0 and proc["task"] == "venipuncture"
    for key in ("status", "sessions", "cases", "lc_cusum", "signoff_limit", "line"):
        assert so[key] == proc[key], key


def test_a_failed_session_names_the_metric_that_lost_the_most_points(store):
    rows = _rows("t-down")
    (a,) = attempts_from_rows(rows)
    # what each metric cost adds up to what the session lost
    assert not a.passed and sum(a.points_lost.values()) == pytest.approx(100 - a.score, abs=0.02)
    worst = max(a.points_lost, key=a.points_lost.__getitem__)
    assert worst == "angle_error_deg" and a.points_lost[worst] > 15
    rc, out, _ = run_cli(["next", "--trainee", "t-down", "--json"])
    data = finite_json(out)
    assert rc == 0 and (data["scenario"], data["kind"]) == ("drill-angle", "drill")
    assert data["targets"] == ["angle_error_deg", "bevel_roll_error_deg"]
    # 18 of the 40 points lost: concentrated enough (drill_min_share 0.30) for the drill
    assert data["reason"] == (
        "Your last session of 'Venipuncture: median cubital vein' lost 18 points on insertion "
        "angle error, 45 % of the points it lost: practise 'Drill: insertion angle and bevel'."
    )


def test_another_procedure_and_a_trainee_without_sessions(store):
    rc, out, _ = run_cli(["next", "--trainee", "t-up", "--procedure", "iv-cannulation"])
    assert rc == 0 and "Next for t-up: IV cannulation: forearm vein, 20G [iv-cannulation]" in out
    assert "You have no IV cannulation sessions yet" in out
    rc, out, _ = run_cli(["next", "--trainee", "t-new"])
    assert rc == 0 and "(t-new has no counted sessions in the store yet.)" in out


def test_bad_arguments_are_one_line_with_status_2(store, tmp_path):
    rc, _, err = run_cli(["next", "--trainee", "t-up", "--procedure", "knitting"])
    assert rc == 2
    assert_one_clean_line(err, "--procedure 'knitting': expected one of venipuncture")
    rc, _, err = run_cli(["next", "--trainee", "-x y"])
    assert rc == 2 and err.count("\n") == 1 and "trainee" in err
    missing = tmp_path / "none.toml"
    rc, _, err = run_cli(["next", "--trainee", "t-up", "--curriculum", str(missing)])
    assert rc == 2
    assert_one_clean_line(err, missing)


def _rows(trainee: str):
    from sim.lab.config import local_url
    from sim.lab.store import Store

    with Store(local_url()) as s:
        return s.find(trainee=trainee)


def _row(sid: str, scenario: str, start: str, minutes: float, score: float, **kw: object):
    import datetime as dt

    from sim.lab.store import SessionRow

    t0 = dt.datetime.fromisoformat(start)
    fields: dict[str, object] = dict(
        id=sid, trainee_id="t-x", display_name=None, station_id="", scenario=scenario,
        scenario_hash="", input_kind="mouse", started_utc=t0,
        ended_utc=t0 + dt.timedelta(minutes=minutes), duration_s=60.0 * minutes, score=score,
        passed=score >= 70, complete=True, critical_errors=(), notes=None,
    )  # fmt: skip
    fields.update(kw)
    return SessionRow(**fields)  # type: ignore[arg-type]


def test_the_last_session_is_the_one_started_last_even_when_a_drill_overlaps_it():
    import datetime as dt

    from sim.curriculum import load_curriculum
    from sim.lab.next import recommend

    rows = [
        _row("a", "venipuncture", "2026-11-01T09:00", 2, 85),
        # a long simulated drill that ends after the next case has started and ended
        _row("b", "drill-angle", "2026-11-01T09:50", 20, 90),
        _row("c", "venipuncture", "2026-11-01T10:00", 2, 88),
    ]
    got = attempts_from_rows(rows)
    assert [a.scenario for a in got] == ["venipuncture", "drill-angle", "venipuncture"]
    rec = recommend(load_curriculum(), "t-x", rows, dt.datetime(2026, 11, 2))
    assert not rec.reason.startswith("You passed 'Drill")
    assert rec.reason.startswith("You passed 'Venipuncture: median cubital vein'")
