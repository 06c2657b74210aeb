"""The lab commands as a user runs them: import, list, export, sync, and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sim.cli import main

from .pgserver import PG_PASSWORD, PgServer


def test_import_list_export(
    data_dir: Path, recordings: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(recordings[k]) for k in ("exp1", "nov1", "sut1")]
    assert main(["sessions", "import", *files, "--name", '=HYPERLINK("x")']) == 0
    assert "3 new of 3" in capsys.readouterr().out
    assert main(["sessions", "import", files[0]]) == 0  # the same file again: no duplicate
    assert "already stored" in capsys.readouterr().out

    assert main(["sessions", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["trainee_id"] for r in rows) == ["t-001", "t-001", "t-002"]
    assert main(["sessions", "list", "--trainee", "t-001", "--scenario", "suturing"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert len(text) == 2 and "suturing" in text[1] and "t-001" in text[1]
    # the table's columns line up and no name is cut short, however long
    assert main(["sessions", "list"]) == 0
    text = capsys.readouterr().out.splitlines()
    head, body = text[0], [ln for ln in text[1:4]]
    col = head.index("station")
    assert all(ln[col - 1] == " " and ln[col] != " " for ln in body), body
    assert any(" venipuncture " in ln for ln in body)

    out = tmp_path / "cohort.csv"
    assert main(["sessions", "export", "--csv", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets then read "°" right
    with out.open(encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 3
    assert {"id", "score", "passed", "Path length (mm)", "Tremor (mm)"} <= set(table[0])
    nov = next(r for r in table if r["trainee_id"] == "t-002")
    assert nov["critical_errors"] == "back_wall" and nov["passed"] == "False"
    assert all(r["display_name"].startswith("'=") for r in table)  # no spreadsheet formula


def test_bad_input_is_one_line_exit_2(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sessions", "list", "--db", "mysql://root:hunter2@x/db"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unsupported database" in err and "hunter2" not in err
    assert main(["sessions", "import", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such recording" in capsys.readouterr().err
    bad = tmp_path / "station.toml"
    bad.write_text('[station]\nid = "a"\ninputs = ["telepathy"]\n')
    assert main(["sessions", "list", "--config", str(bad)]) == 2
    assert "station.inputs" in capsys.readouterr().err


def test_station_with_lab_server(
    data_dir: Path,
    pg_server: PgServer,
    pg_url: str,
    recordings: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = tmp_path / "station.toml"
    cfg.write_text(f'[station]\nid = "lab-2"\ndatabase = "{pg_url}"\n')
    args = ["--config", str(cfg)]
    pg_server.stop()
    try:
        assert main(["sessions", "import", str(recordings["exp1"]), *args]) == 0
        out = capsys.readouterr()
        assert "0 pushed, 0 already there, 1 waiting" in out.out
        assert main(["sessions", "sync", *args]) == 1  # still down
        assert main(["sessions", "list", *args]) == 0  # falls back to the local copy
        out2 = capsys.readouterr()
        assert "unreachable" in out2.err and "t-001" in out2.out
        for text in (out.out, out.err, out2.out, out2.err):
            assert PG_PASSWORD not in text
    finally:
        pg_server.start()
    assert main(["sessions", "sync", *args]) == 0
    assert "1 pushed, 0 already there, 0 waiting" in capsys.readouterr().out
    monkeypatch.setenv("PROCSIM_DB_URL", pg_url)  # the environment variable wins over none
    assert main(["sessions", "list", "--json"]) == 0
    assert [r["trainee_id"] for r in json.loads(capsys.readouterr().out)] == ["t-001"]


def test_import_of_a_rescored_file_replaces_nothing_silently(
    data_dir: Path, recordings: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import as_old_recording

    old = as_old_recording(recordings["exp1"], tmp_path / "old.jsonl", score=41.0, passed=False)
    new = tmp_path / "new.jsonl"
    assert main(["rescore", str(old), "-o", str(new)]) == 0
    assert main(["sessions", "import", str(old), "--note", "angle drifts"]) == 0
    capsys.readouterr()

    assert main(["sessions", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    # the recording's own result is not trusted: today's score is stored, the claim marked
    assert row["score"] > 41.0 and row["passed"]
    assert row["recorded_score"] == 41.0 and row["score_differs"]
    assert main(["sessions", "list"]) == 0
    assert "recorded 41.0" in capsys.readouterr().out

    assert main(["sessions", "import", str(new)]) == 1
    out = capsys.readouterr().out
    assert "not stored: session" in out and "already stored with another recording" in out
    assert "Use --replace" in out
    assert "0 new of 1" in out and "1 refused" in out

    assert main(["sessions", "import", str(new), "--replace"]) == 0
    out = capsys.readouterr().out
    assert f"replaced {row['id']}: score {row['score']:.1f} PASS -> score " in out
    assert "1 replaced" in out
    assert main(["sessions", "list", "--json"]) == 0
    (again,) = json.loads(capsys.readouterr().out)
    assert again["id"] == row["id"] and again["score"] == row["score"] and again["passed"]
    assert not again["score_differs"]  # the re-score's own result is today's
    assert again["notes"] == "angle drifts"  # the instructor's note stays


def test_list_and_export_mark_incomplete_and_empty_sessions(
    data_dir: Path,
    recordings: dict[str, Path],
    veni: object,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sim.core.records import Action, ActionKind
    from sim.pipeline import Pipeline
    from sim.storage.session import run_session

    empty = tmp_path / "empty.jsonl"  # camera failed, then Esc: no samples at all
    run_session(Pipeline(veni), [Action(0.0, ActionKind.FINISH)], empty, trainee="t-002")  # type: ignore[arg-type]
    files = [str(recordings["exp1"]), str(recordings["nov1"]), str(empty)]
    assert main(["sessions", "import", *files]) == 0
    capsys.readouterr()
    assert main(["sessions", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "status" in lines[0]
    status = {ln.split()[2]: ln for ln in lines[1:4]}
    assert "complete" in status["t-001"]
    t2 = [ln for ln in lines[1:4] if "t-002" in ln]
    assert sorted("incomplete" in ln for ln in t2) == [False, True]
    assert sorted(" empty " in ln for ln in t2) == [False, True]
    # the result column says what the app says: neither a pass nor a fail
    assert sorted(ln.split()[7] for ln in t2) == ["EMPTY", "INCOMPLETE"]
    assert "Neither counts for the learning curve or sign-off" in lines[-1]
    out = tmp_path / "all.csv"
    assert main(["sessions", "export", "--csv", str(out)]) == 0
    with out.open(encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    assert sorted((r["complete"], r["empty"]) for r in table) == [
        ("False", "False"),
        ("False", "True"),
        ("True", "False"),
    ]


def test_export_heads_metric_columns_in_words_with_units(
    data_dir: Path,
    recordings: dict[str, Path],
    mouse_sessions: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import re

    from sim.procedures.registry import get, metric_order, metrics_of
    from sim.procedures.registry import metric_info as info
    from tests.conftest import identifier_pattern

    files = [str(recordings["exp1"]), str(recordings["sut1"]), str(mouse_sessions["complete"])]
    assert main(["sessions", "import", *files]) == 0
    out = tmp_path / "cohort.csv"
    assert main(["sessions", "export", "--csv", str(out)]) == 0
    with out.open(encoding="utf-8-sig") as f:
        header = next(csv.reader(f))
    with out.open(encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    metric_cols = header[header.index("notes") + 1 :]
    # every metric of both tasks, headed "Label (unit)", in the catalogue's order
    both = {n for task in ("venipuncture", "suturing") for n in metrics_of(get(task))}
    want = sorted(both, key=metric_order)
    assert metric_cols == [info(n).heading for n in want]
    assert {"Path length (mm)", "Insertion angle error (°)", "Tremor peak (Hz)"} <= set(header)
    assert not any(re.search(identifier_pattern(), h) for h in metric_cols)
    # the session id stays, so a machine can join the export to the store
    capsys.readouterr()
    assert main(["sessions", "list", "--json"]) == 0
    stored = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert {r["id"] for r in table} == set(stored)
    for r in table:
        m = stored[r["id"]]["metrics"]["path_length_mm"]
        assert float(r["Path length (mm)"]) == pytest.approx(m["value"])
    mouse = next(r for r in table if r["input_kind"] == "mouse")
    assert mouse["Smoothness (SPARC)"] == "" and mouse["Tremor (mm)"] == ""  # not measured


def test_store_doc_lists_every_csv_metric_heading() -> None:
    """docs/store.md maps each CSV heading to its metric name, as the catalogue says."""
    import re

    from sim.procedures.registry import metric_info as info
    from sim.procedures.registry import metrics_of, procedures

    doc = (Path(__file__).resolve().parents[2] / "docs" / "store.md").read_text("utf-8")
    documented = dict(re.findall(r"^\| ([^|`]+?) \| `(\w+)` \|$", doc, re.M))
    names = {n for proc in procedures() for n in metrics_of(proc)}
    assert documented == {info(n).heading: n for n in names}


def test_import_with_a_station_config_stores_its_station_id(
    data_dir: Path, recordings: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .conftest import make_recording

    cfg = tmp_path / "station.toml"
    cfg.write_text('[station]\nid = "skills-lab-a-03"\n')
    practice = make_recording(tmp_path, "venipuncture", "expert", 5, "t-005")  # names none
    args = ["sessions", "import", str(practice), str(recordings["nov1"]), "--config", str(cfg)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["sessions", "list", "--json"]) == 0
    stations = {r["trainee_id"]: r["station_id"] for r in json.loads(capsys.readouterr().out)}
    # this station's id for the recording made here; the other keeps the station it names
    assert stations == {"t-005": "skills-lab-a-03", "t-002": "s2"}
