"""``tools/bench_curriculum.py``: the learning model behaves, sessions are scored as the app
scores them, and a tiny cohort's run prints every figure the note quotes, the same for the
same seed."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.curriculum import load_curriculum
from sim.scenarios import find_scenario

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_curriculum", ROOT / "tools" / "bench_curriculum.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_curriculum"] = mod
    spec.loader.exec_module(mod)
    return mod


bc = _bench()


def test_skills_stay_within_bounds_and_practice_never_lowers_them() -> None:
    """Any rate and intensity, however large: a practised skill stays in [0, 1] and never
    falls; practising more sessions in a row (no gap) never ends lower than fewer."""
    rng = np.random.default_rng(3)
    for _ in range(2000):
        s = float(rng.uniform(0.0, 1.0))
        rate, e = float(rng.uniform(0.0, 2.0)), float(rng.uniform(0.0, 10.0))
        after = bc.practised(s, rate, e)
        assert s <= after <= 1.0
    s = 0.1
    for _ in range(300):
        nxt = bc.practised(s, 0.3, 4.0)
        assert s <= nxt <= 1.0
        s = nxt
    assert s == pytest.approx(1.0)


def test_a_learner_improves_with_practice_most_on_a_drills_targets() -> None:
    """Whole learners: sessions on a full case raise every scored skill and never lower one;
    a drill (intensity drill_gain) raises its targets more than a case does and leaves the
    other skills as they were."""
    model = bc.Model()
    veni = find_scenario("venipuncture")
    metrics = bc.scored_metrics(veni)
    person = bc.new_learner(metrics, model, np.random.default_rng(5))
    before = dict(person.skills)
    case = person.copy()
    for _ in range(20):
        was = dict(case.skills)
        bc.learn(case, veni, model)
        assert all(was[m] <= case.skills[m] <= 1.0 for m in metrics)
    assert all(case.skills[m] > before[m] for m in metrics)
    one_case = person.copy()
    bc.learn(one_case, veni, model)
    drilled = person.copy()
    m = "angle_error_deg"  # a drill of the angle alone, as learn() applies one
    drilled.skills[m] = bc.practised(drilled.skills[m], drilled.rates[m], model.drill_gain)
    assert drilled.skills["angle_error_deg"] > one_case.skills["angle_error_deg"]
    assert all(drilled.skills[m] == before[m] for m in metrics if m != "angle_error_deg")


def test_forgetting_lowers_skill_towards_the_start_never_below() -> None:
    assert bc.forgotten(0.8, 0.2, 0.0, 0.01) == pytest.approx(0.8)
    week, year = bc.forgotten(0.8, 0.2, 7.0, 0.01), bc.forgotten(0.8, 0.2, 365.0, 0.01)
    assert 0.2 < year < week < 0.8
    # DOMAIN.md "Skill decay": half the gain lost in about 6.5 months (the default rate)
    half = bc.forgotten(0.8, 0.2, 197.0, bc.Model().forget_per_day)
    assert half == pytest.approx(0.5, abs=0.01)
    assert bc.forgotten(0.1, 0.2, 100.0, 0.01) == 0.1  # nothing gained, nothing to forget


def test_sessions_are_scored_by_the_apps_scoring() -> None:
    """An expert's skills pass the scenario as the app scores it (its pass line, 70); a
    novice's fail; the Attempt carries the points each metric lost."""
    model = bc.Model(day_sd=0.0, metric_sd=0.0, crit_max=0.0)
    veni = find_scenario("venipuncture")
    metrics = bc.scored_metrics(veni)
    rng = np.random.default_rng(0)
    expert = bc.Learner(
        dict.fromkeys(metrics, 1.0), dict.fromkeys(metrics, 1.0), dict.fromkeys(metrics, 0.1)
    )
    novice = bc.Learner(
        dict.fromkeys(metrics, 0.0), dict.fromkeys(metrics, 0.0), dict.fromkeys(metrics, 0.1)
    )
    good, bad = bc.perform(expert, veni, model, rng), bc.perform(novice, veni, model, rng)
    assert (good.score, good.passed) == (100.0, True)
    assert (bad.score, bad.passed) == (0.0, False)
    att = bc.attempt_of(bad, veni, bc.START_UTC)
    assert sum(att.points_lost.values()) == pytest.approx(100.0)
    assert att.points_lost["angle_error_deg"] == pytest.approx(100.0 * 3.0 / 17.0)  # weight 3 of 17


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = bc.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_tiny_cohort_prints_every_figure_and_is_deterministic(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("--learners", "4", "--budget", "30", "--seed", "7")
    code, out, _ = _run(capsys, *args, "--sweep-learners", "1")
    assert code == 0
    for arm in ("syllabus", "cases-only", "adaptive"):
        # each arm's line indented as the curriculum lines above it
        line = next(ln for ln in out.splitlines() if ln.startswith(f"  {arm}:"))
        assert re.search(r"sessions to proficiency median >?[\d.]+ \(IQR >?[\d.]+->?[\d.]+\)", line)
        assert re.search(r"reached \d+ %", line) and re.search(r"post-test score [\d.]+", line)
    for arm in ("syllabus", "cases-only"):  # both comparators' ratios, in one run
        assert re.search(
            rf"adaptive vs {arm}: ratio of median sessions [\d.]+ \(\d+ % (fewer|more); "
            r"95 % bootstrap CI [\d.]+-[\d.]+\); post-test difference [+-][\d.]+ points",
            out,
        )
    for key, _, values in bc.SWEEP:
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(f"{key} ["))
        assert len(re.findall(r": [\d.]+, [\d.]+ \(", line)) == len(values)
    # the sensitivity line with each drill's transfer factor from its own scenario file
    assert re.search(
        r"drill-angle 3\.00 \(entries_required 3 vs 1\), drill-steady-hold 3\.33 "
        r"\(draw_hold_s 10 vs 3\).*, 4 learners: adaptive median >?[\d.]+, ratio adaptive / "
        r"syllabus [\d.]+, adaptive / cases-only [\d.]+",
        out,
    )
    _, again, _ = _run(capsys, *args, "--sweep-learners", "0")
    assert again.splitlines()[:-1] == out.splitlines()[: len(again.splitlines()) - 1]
    assert again.splitlines()[-1].startswith("ran in")


def test_the_syllabus_arm_plays_every_rung_of_the_ladder_in_turn() -> None:
    """The fixed comparator has the adaptive arm's content: a learner who never signs off
    plays the shipped venipuncture ladder's rungs (its cases, drills and exam, read from the
    curriculum file) in ladder order, each as many sessions in a row as the ladder asks of it
    (a case: the passes that open the next; a drill: 1 + drill_retries; the exam: its
    qualify_passes), and round again; a set --syllabus-repeats gives every rung that many."""
    ladder = load_curriculum().procedure("venipuncture")
    kinds = {r.kind for r in ladder.rungs}
    assert kinds == {"case", "drill", "exam"}  # the shipped ladder has drill rungs
    want_round: list[str] = []
    for r in ladder.rungs:
        n = {"drill": 1 + r.drill_retries, "exam": r.qualify_passes}.get(r.kind)
        if n is None:
            n = next(x.entry_passes for x in ladder.rungs if x.entry_after == r.id)
        want_round += [r.scenario] * n
    assert len(set(want_round)) == len(ladder.rungs)
    setup = bc.build_setup("venipuncture", None, 3, 1)
    assert setup.syllabus_round == tuple(want_round)
    model = bc.Model()
    person = bc.new_learner(setup.metrics, model, np.random.default_rng(1))
    budget = 2 * len(want_round) + 3
    res = bc.run_arm(person, setup.syllabus, lambda h: False, setup.scenarios, setup.exam,
                     model, np.random.default_rng(2), budget)  # fmt: skip
    assert res.to_proficiency is None and res.sessions == budget
    assert list(res.played) == (want_round * 3)[:budget]
    drills = {r.scenario for r in ladder.rungs if r.kind == "drill"}
    assert res.drills == sum(sid in drills for sid in res.played) > 0
    twice = bc.build_setup("venipuncture", None, 3, 1, syllabus_repeats=2).syllabus_round
    assert twice == tuple(r.scenario for r in ladder.rungs for _ in range(2))


def test_bad_input_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--learners", "0")
    assert code == 2 and err.strip() == "--learners: expected a whole number of at least 1"
    code, out, err = _run(capsys, "--procedure", "knitting")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "knitting" in err
