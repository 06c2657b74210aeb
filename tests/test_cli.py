"""The procsim command as a user runs it (in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def procsim(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_for_every_command():
    top = procsim("--help")
    assert top.returncode == 0
    commands = ["scenarios", "simulate", "score", "rescore", "motion"]
    for c in commands:
        assert c in top.stdout
        r = procsim(c, "--help")
        assert r.returncode == 0 and "usage: procsim " + c in r.stdout


def test_help_names_every_procedure_from_the_registry(monkeypatch):
    from dataclasses import replace

    from sim import cli
    from sim.procedures import registry

    top = procsim("--help")
    names = [p.name for p in registry.procedures()]
    words = " ".join(top.stdout.split())
    assert top.returncode == 0
    assert words.count(f"Practise {cli.practised()} with") == 1
    assert all(name in cli.practised() for name in names)
    more = (*registry.procedures(), replace(registry.procedures()[0], name="knot tying"))
    monkeypatch.setattr(registry, "procedures", lambda: more)
    assert cli.practised() == f"{', '.join(names)} and knot tying"


def test_scenarios_list_and_check(tmp_path):
    r = procsim("scenarios")
    assert r.returncode == 0
    assert "venipuncture" in r.stdout and "suturing" in r.stdout
    rows = {line.split()[0]: line.split()[1:4] for line in r.stdout.splitlines()[1:]}
    assert rows["venipuncture"] == ["venipuncture", "healthy-adult", "1"]
    assert rows["venipuncture-obese"] == ["venipuncture", "obese", "5"]
    assert rows["iv-cannulation-dehydrated"] == ["iv-cannulation", "dehydrated", "4"]
    assert rows["suturing"][1:] == ["-", "-"]
    ok = procsim("scenarios", "check", REPO / "scenarios" / "suturing.toml")
    assert ok.returncode == 0 and ": ok (suturing" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (REPO / "scenarios" / "suturing.toml")
        .read_text()
        .replace("bite_target_mm = 4.0", "bite_target_mm = []")
    )
    r = procsim("scenarios", "check", bad)
    assert r.returncode == 2
    assert r.stderr.strip() == (
        f"procsim: error: {bad}: key 'tolerances.bite_target_mm': expected a number, got []"
    )
    assert "Traceback" not in r.stderr
    ok = procsim("scenarios", "check", REPO / "scenarios" / "venipuncture-obese.toml")
    assert (
        ok.returncode == 0
        and "(venipuncture-obese, task venipuncture, schema 1, patient obese" in ok.stdout
    )
    unknown = tmp_path / "unknown-case.toml"
    unknown.write_text(
        (REPO / "scenarios" / "venipuncture-obese.toml")
        .read_text()
        .replace('patient = "obese"', 'patient = "obses"')
    )
    r = procsim("scenarios", "check", unknown)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith(
        f"procsim: error: {unknown}: key 'patient': unknown patient case 'obses' (expected "
        "one of: anticoagulated, anxious, child, dehydrated,"
    )
    assert len(r.stderr.strip().splitlines()) == 1


def test_simulate_then_score_json(tmp_path):
    out = tmp_path / "n.jsonl"
    r = procsim("simulate", "venipuncture", "--skill", "novice", "--seed", "2", "-o", out)
    assert r.returncode == 0, r.stderr
    # this novice pierces the back wall and stops: not a fail, not scored
    assert "INCOMPLETE (pass at 70): incomplete: not scored for sign-off" in r.stdout
    again = procsim("simulate", "venipuncture", "-o", out)
    assert again.returncode == 2 and "already exists" in again.stderr
    s = procsim("score", "--json", out)
    assert s.returncode == 0, s.stderr
    data = json.loads(s.stdout)
    assert data["scenario"] == "venipuncture" and data["passed"] is False
    assert data["matches_recording"] is True
    assert any(e["kind"] == "back_wall" for e in data["critical_errors"])
    m = data["metrics"]["angle_error_deg"]
    assert set(m) >= {"value", "unit", "points"} and m["unit"] == "°"
    assert m["label"] == "Insertion angle error" and data["verdict"] == "INCOMPLETE"
    assert data["complete"] is False  # the novice pierced the back wall and stopped
    human = procsim("score", out)
    assert "CRITICAL" in human.stdout and "work on:" in human.stdout


def test_score_errors_are_one_line(tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\nworld\n")
    r = procsim("score", junk)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and str(junk) in r.stderr
    r = procsim("simulate", "appendectomy", "-o", tmp_path / "x.jsonl")
    assert r.returncode == 2 and "unknown scenario 'appendectomy'" in r.stderr


def test_motion_on_a_csv_from_another_tracker(tmp_path):
    fs = 100.0
    t = np.arange(0, 6, 1 / fs)
    x = 50 * (1 - np.cos(np.pi * t / 6)) + 0.4 * np.sqrt(2) * np.sin(2 * np.pi * 9 * t)
    csv = tmp_path / "traj.csv"
    lines = ["t_s,x_mm,y_mm,z_mm,extra"] + [f"{a},{b},0,0,q" for a, b in zip(t, x)]
    csv.write_text("\n".join(lines) + "\n")
    r = procsim("motion", "--json", csv)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert abs(data["tremor_rms_mm"]["value"] - 0.4) < 0.04
    assert abs(data["tremor_peak_hz"]["value"] - 9.0) <= 0.5
    assert abs(data["total_time_s"]["value"] - t[-1]) < 1e-9
    assert data["sparc"]["label"] == "Smoothness (SPARC)" and data["path_length_mm"]["unit"] == "mm"
    human = procsim("motion", csv).stdout
    assert "Tremor (mm)" in human and "Smoothness (SPARC)" in human and "tremor_rms_mm" not in human
    tremor = next(ln for ln in human.splitlines() if ln.startswith("Tremor (mm)"))
    assert tremor.split()[2] == f"{data['tremor_rms_mm']['value']:.2f}"  # the catalogue's rounding
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,x_mm,y_mm,z_mm\n0,1,2,3\n0.1,1,two,3\n")
    r = procsim("motion", bad)
    assert r.returncode == 2
    assert f"{bad}: line 3: column y_mm: expected a number, got 'two'" in r.stderr
    r = procsim("motion", tmp_path / "none.csv")
    assert r.returncode == 2 and "no such trajectory CSV" in r.stderr


def test_simulate_with_chosen_tremor_is_measured_back(tmp_path):
    out = tmp_path / "t.jsonl"
    r = procsim("simulate", "suturing", "--tremor-mm", "0.5", "--tremor-hz", "10", "-o", out)
    assert r.returncode == 0, r.stderr
    data = json.loads(procsim("score", "--json", out).stdout)
    assert abs(data["metrics"]["tremor_rms_mm"]["value"] - 0.5) < 0.05
    assert abs(data["metrics"]["tremor_peak_hz"]["value"] - 10.0) <= 0.5
    bad = procsim("simulate", "suturing", "--tremor-hz", "45", "-o", tmp_path / "b.jsonl")
    assert bad.returncode == 2 and "--tremor-hz: 45 is out of range" in bad.stderr


def test_score_tells_the_recorded_score_from_today_s_and_rescore_writes_it(tmp_path, capsys):
    from sim.cli import main
    from tests.conftest import as_old_recording

    def run(*args):
        status = main([str(a) for a in args])
        out = capsys.readouterr()
        return status, out.out, out.err

    made = tmp_path / "made.jsonl"
    assert run("simulate", "suturing", "--seed", "3", "-o", made)[0] == 0
    old = as_old_recording(made, tmp_path / "old.jsonl", score=63.2, app_version="0.0.9")
    status, out, _ = run("score", old)
    assert status == 1  # a recorded score that today's rules do not give
    today = json.loads(run("score", "--json", made)[1])["score"]
    line = f"suturing  recorded 63.2 PASS by 0.0.9; today {today:.1f} PASS"
    assert line in out and "(rules changed since)" in out
    data = json.loads(run("score", "--json", old)[1])
    assert data["recorded"] == {
        "score": 63.2,
        "passed": True,
        "complete": True,  # all planned stitches placed
        "empty": False,
        "app_version": "0.0.9",
    }
    assert data["today"]["score"] == today and data["today"]["complete"] is True
    assert data["matches_recording"] is False

    new = tmp_path / "new.jsonl"
    status, out, _ = run("rescore", old, "-o", new)
    assert status == 0 and line in out
    status, out, _ = run("score", new)
    assert status == 0 and "today the same" in out
    for dst in (old, new):  # never over the input, nor over another file
        status, _, err = run("rescore", old, "-o", dst)
        assert status == 2 and err.count("\n") == 1
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not a recording\n")
    status, _, err = run("rescore", junk, "-o", tmp_path / "x.jsonl")
    assert status == 2 and err.count("\n") == 1 and str(junk) in err
    assert not (tmp_path / "x.jsonl").exists()
    # and as a user runs it: the exit statuses are documented, bad input is one line
    assert "exit status" in procsim("score", "--help").stdout
    r = procsim("rescore", junk, "-o", tmp_path / "x.jsonl")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--tremor-mm", "nan"), ("--tremor-mm", "inf"), ("--angle", "nan"), ("--angle", "1e308")],
)
def test_simulate_refuses_numbers_that_are_not_finite_or_out_of_range(tmp_path, flag, value):
    from tests.mutations import run_cli

    out = tmp_path / "x.jsonl"
    rc, _, err = run_cli(["simulate", "venipuncture", flag, value, "-o", str(out)])
    assert rc == 2 and err.startswith(f"procsim: error: {flag}: ") and "out of range" in err
    assert err.count("\n") == 1 and not out.exists()


def test_simulate_provokes_the_error_asked_for_and_help_lists_the_kinds(tmp_path):
    from sim.procedures.registry import get as procedure

    helptext = procsim("simulate", "--help").stdout
    for task in ("venipuncture", "suturing"):
        for kind in procedure(task).error_kinds:
            assert kind in helptext
    out = tmp_path / "err.jsonl"
    r = procsim(
        "simulate", "suturing", "--error", "stitch_crossing", "--error", "tissue_drag", "-o", out
    )
    assert r.returncode == 0, r.stderr
    s = json.loads(procsim("score", "--json", out).stdout)
    kinds = {e["kind"] for e in s["errors"] + s["critical_errors"]}
    assert {"stitch_crossing", "tissue_drag"} <= kinds and not s["passed"]
    bad = procsim("simulate", "suturing", "--error", "probing", "-o", tmp_path / "b.jsonl")
    assert bad.returncode == 2 and "not an error of suturing" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_score_speaks_in_labels_and_json_keeps_identifiers(mouse_sessions, capsys):
    """What `procsim score` prints for a person (labels, units, why a metric earned nothing,
    the verdict said plainly) and for a machine (identifiers as keys, with the label)."""
    import re

    from sim.cli import main
    from tests.conftest import identifier_pattern

    assert main(["score", str(mouse_sessions["incomplete"])]) == 0
    out = capsys.readouterr().out
    assert "score 0.0/100  INCOMPLETE (pass at 70): incomplete: not scored for sign-off" in out
    assert "FAIL" not in out and not re.search(identifier_pattern(), out)
    rows = {ln[2:26].strip(): ln[26:] for ln in out.splitlines()[4:] if ln.startswith("  ")}
    assert "not measured with the mouse" in rows["Smoothness (SPARC)"]
    assert "not done" in rows["Insertion angle error"]
    assert "(no points: the procedure was not completed)" in rows["Path length"]
    assert re.match(r"\s+\d+ mm\s+0\s+1\s", rows["Path length"])

    assert main(["score", "--json", str(mouse_sessions["complete"])]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "PASS" and data["input_kind"] == "mouse"
    assert data["metrics"]["sparc"]["label"] == "Smoothness (SPARC)"
    assert data["metrics"]["sparc"]["status"] == "not measured"
    assert data["metrics"]["path_length_mm"]["label"] == "Path length"
    phases = re.search(r"phases: (.*)", _human(main, capsys, mouse_sessions["complete"]))
    assert phases is not None
    assert [p.split()[0] for p in phases.group(1).split(", ")] == list(data["phases_s"])
    assert list(data["phases_s"]) == ["prepare", "insert", "draw", "withdraw"]


def _human(main, capsys, path):
    assert main(["score", str(path)]) == 0
    return capsys.readouterr().out


def test_output_piped_into_a_reader_that_stops_early_is_no_traceback(tmp_path):
    """`procsim score FILE | head -1`: the reader goes away; procsim stops quietly."""
    rec = tmp_path / "s.jsonl"
    assert procsim("simulate", "venipuncture", "--skill", "novice", "-o", rec).returncode == 0
    proc = subprocess.Popen(
        # more output than a pipe holds (about 190 kB against 64 kB)
        [sys.executable, "-m", "sim", "score", "--json", *[str(rec)] * 25],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline()
    proc.stdout.close()  # as head does after its first line
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err


@pytest.mark.parametrize(
    "args",
    [["simulate", "venipuncture", "--error", "bogus", "-o", "x.jsonl"], ["bogus"], ["score"]],
)
def test_a_usage_error_is_one_line_naming_the_command(args, tmp_path):
    r = procsim(*args, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("procsim")
    assert "--help" in r.stderr and "usage:" not in r.stderr


def test_score_table_columns_line_up(tmp_path, mouse_sessions):
    """Every metric's value ends where the 'value' heading ends, however long the labels
    (IV cannulation's) or the notes ("not measured with the mouse") are."""
    rec = tmp_path / "iv.jsonl"
    assert (
        procsim("simulate", "iv-cannulation", "--skill", "novice", "-o", str(rec)).returncode == 0
    )
    for path in (rec, mouse_sessions["complete"]):
        out = procsim("score", str(path)).stdout.splitlines()
        head = next(i for i, line in enumerate(out) if line.strip().startswith("metric"))
        end = out[head].index("value") + len("value")
        notes = ("work on", "The tracker", "Set by", "Patient discomfort peaked")
        rows = [line for line in out[head + 1 :] if not line.strip().startswith(notes)]
        rows = [line for line in rows if not line.strip().startswith(("iv-cannulation", "venip"))]
        assert rows
        for line in rows:
            assert line[end - 1] != " " and (len(line) == end or line[end] == " "), line


def test_score_prints_the_checklist_and_json_carries_it(mouse_sessions, capsys):
    """`procsim score --json` has the scenario's checklist beside the metrics (each step: id,
    label, done, in order, critical, time, note) and the text lists it, critical ones starred."""
    from sim.cli import main
    from sim.scenarios import find_scenario

    assert main(["score", "--json", str(mouse_sessions["complete"])]) == 0
    data = json.loads(capsys.readouterr().out)
    steps = {s["id"]: s for s in data["checklist"]}
    assert list(steps) == list(find_scenario("venipuncture").checklist.steps)
    clean = steps["clean"]
    assert clean["done"] and clean["in_order"] and clean["critical"] and clean["note"] == ""
    assert clean["label"] == "clean the site" and isinstance(clean["t_s"], float)
    assert not steps["fist"]["critical"]
    out = _human(main, capsys, mouse_sessions["incomplete"])  # abandoned before any step
    assert "  checklist (critical: *)" in out
    line = next(ln for ln in out.splitlines() if "clean the site" in ln)
    assert line.lstrip().startswith("*") and "not done" in line
