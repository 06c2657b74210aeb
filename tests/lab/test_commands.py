"""The lab commands as a user runs them: import, list, export, sync, and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sim.cli import main

from .conftest import PG_PASSWORD, PgServer


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

    out = tmp_path / "cohort.csv"
    assert main(["sessions", "export", "--csv", str(out)]) == 0
    with out.open() as f:
        table = list(csv.DictReader(f))
    assert len(table) == 3
    assert {"score", "passed", "path_length_mm", "tremor_rms_mm"} <= set(table[0])
    nov = next(r for r in table if r["trainee_id"] == "t-002")
    assert nov["critical_errors"] == "back_wall" and nov["passed"] == "False"
    assert all(r["display_name"].startswith("'=") for r in table)  # no spreadsheet formula


def test_bad_input_is_one_line_exit_2(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sessions", "list", "--db", "mysql://root:hunter2@x/db"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unsupported database" in err and "hunter2" not in err
    assert main(["report", "-o", str(tmp_path / "x.html")]) == 2
    assert "RECORDING or --trainee" in capsys.readouterr().err
    assert main(["report", "--trainee", "nobody", "-o", str(tmp_path / "x.html")]) == 2
    assert "no sessions of trainee 'nobody'" in capsys.readouterr().err
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


def test_window_commands_check_their_input_first(
    data_dir: Path, recordings: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such recording" in capsys.readouterr().err
    assert main(["replay", str(recordings["exp1"]), "--ghost", str(recordings["sut1"])]) == 2
    assert "cannot be the ghost" in capsys.readouterr().err
    cfg = tmp_path / "station.toml"
    cfg.write_text('[station]\nid = "s"\nassigned_scenario = "appendectomy"\n')
    assert main(["station", "--config", str(cfg)]) == 2
    assert "appendectomy" in capsys.readouterr().err
