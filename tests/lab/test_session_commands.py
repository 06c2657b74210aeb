"""Stored sessions by id (show, get, report, replay and export-video with --session), and
every file and folder procsim creates is its user's only."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture()
def stored(
    data_dir: Path, recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> dict[str, str]:
    """exp1 and nov1 imported into this machine's store: {key: session id}."""
    assert main(["sessions", "import", str(recordings["exp1"]), str(recordings["nov1"])]) == 0
    capsys.readouterr()
    assert main(["sessions", "list", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    return {("exp1" if r["trainee_id"] == "t-001" else "nov1"): r["id"] for r in rows}


def test_show_and_get_a_stored_session(
    stored: dict[str, str],
    recordings: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sid = stored["nov1"]
    assert main(["sessions", "show", sid[:8]]) == 0  # a prefix is enough
    out = capsys.readouterr().out
    assert f"session   {sid}" in out and "trainee   t-002" in out
    assert "critical  back_wall" in out and "INCOMPLETE" in out and "Insertion angle" in out
    out_file = tmp_path / "back.jsonl"
    assert main(["sessions", "get", sid, "-o", str(out_file)]) == 0
    assert out_file.read_bytes() == recordings["nov1"].read_bytes()  # byte for byte
    assert _mode(out_file) == 0o600
    assert main(["sessions", "get", sid, "-o", str(out_file)]) == 2  # no silent overwrite
    assert "already exists" in capsys.readouterr().err
    for cmd in (
        ["sessions", "show", "0123abcd-dead-beef-0000-000000000000"],
        ["sessions", "get", "nosuchid", "-o", str(tmp_path / "n.jsonl")],
        ["report", "--session", "0123abcd", "-o", str(tmp_path / "n.html")],
        ["replay", "--session", "0123abcd"],
        ["export-video", "--session", "0123abcd", "-o", str(tmp_path / "n.mp4")],
    ):
        assert main(cmd) == 2, cmd
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no session" in err and "Traceback" not in err
    assert not list(tmp_path.glob("n.*"))


def test_report_of_a_stored_session(
    stored: dict[str, str], data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = stored["exp1"]
    from sim.lab.store import Store

    with Store(f"sqlite:///{data_dir / 'sessions.sqlite'}") as s:
        s.set_notes(sid, "steady <hands>")
    out = tmp_path / "s.html"
    assert main(["report", "--session", sid, "-o", str(out)]) == 0
    assert f"report of session {sid}" in capsys.readouterr().out
    html = out.read_text()
    assert "steady &lt;hands&gt;" in html  # the stored notes, escaped
    assert "PASS" in html and _mode(out) == 0o600
    assert main(["report", "--session", sid, "--trainee", "t-001", "-o", str(out)]) == 2


def test_replay_a_stored_session(
    stored: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.app.replay
    import sim.render.offscreen

    seen: dict[str, Any] = {}

    class Window:
        def __init__(self, tl: Any, ghost: Any, size: Any, **kw: Any) -> None:
            seen["path"] = Path(tl.path)
            seen["mode"] = _mode(Path(tl.path))
            seen["folder"] = _mode(Path(tl.path).parent)
            seen["trainee"] = tl.header["trainee"]

        def run(self) -> int:
            return 0

    monkeypatch.setattr(sim.render.offscreen, "require_display", lambda _what: None)
    monkeypatch.setattr(sim.app.replay, "ReplayWindow", Window)
    assert main(["replay", "--session", stored["exp1"], "--at", "1"]) == 0
    assert seen["trainee"] == "t-001" and seen["mode"] == 0o600 and seen["folder"] == 0o700
    assert not seen["path"].exists()  # the temporary copy is gone


def test_export_video_of_a_stored_session(
    stored: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    av = pytest.importorskip("av")
    out = tmp_path / "s.mp4"
    args = ["export-video", "--session", stored["nov1"], "-o", str(out), "--quiet"]
    assert main([*args, "--size", "160x90", "--fps", "2", "--speed", "4"]) == 0
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    assert _mode(out) == 0o600


def test_every_file_and_folder_procsim_creates_is_private(
    data_dir: Path, recordings: dict[str, Path], tmp_path: Path
) -> None:
    old = os.umask(0o022)  # a usual umask: without care everything would be 0644/0755
    try:
        from sim.paths import new_recording_path
        from sim.pipeline import Pipeline
        from sim.scenarios import find_scenario
        from sim.sources.scripted import ScriptedSource
        from sim.storage.session import run_session

        rec = new_recording_path("venipuncture", "t-001")
        sc = find_scenario("venipuncture")
        run_session(Pipeline(sc), ScriptedSource(sc, "expert", 1), rec, trainee="t-001")
        assert main(["sessions", "import", str(rec)]) == 0
        csv = tmp_path / "c.csv"
        assert main(["sessions", "export", "--csv", str(csv)]) == 0
        html = tmp_path / "t.html"
        assert main(["report", "--trainee", "t-001", "-o", str(html)]) == 0
        nested = tmp_path / "lab" / "store" / "s.sqlite"
        assert main(["sessions", "list", "--db", f"sqlite:///{nested}"]) == 0
        import numpy as np

        from sim.render.offscreen import save_png

        png = tmp_path / "shot.png"
        save_png(np.zeros((4, 4, 3), np.uint8), png)
    finally:
        os.umask(old)
    for d in (data_dir, data_dir / "recordings", tmp_path / "lab", nested.parent):
        assert _mode(d) == 0o700, d
    for f in (rec, data_dir / "sessions.sqlite", nested, csv, html, png):
        assert _mode(f) == 0o600, f


def test_erase_a_trainee_on_this_machine(
    data_dir: Path, recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    folder = data_dir / "recordings"
    folder.mkdir(parents=True)
    for k in ("exp1", "nov1"):
        shutil.copyfile(recordings[k], folder / recordings[k].name)
        assert main(["sessions", "import", str(folder / recordings[k].name)]) == 0
    capsys.readouterr()
    assert main(["sessions", "erase", "--trainee", "t-001"]) == 0
    out = capsys.readouterr().out
    assert "erased trainee 't-001': 1 session" in out and "1 recording file deleted" in out
    assert [p.name for p in folder.iterdir()] == [recordings["nov1"].name]
    assert main(["sessions", "list", "--trainee", "t-001"]) == 0
    assert "no sessions" in capsys.readouterr().out
    assert main(["sessions", "erase"]) == 2
    assert "--trainee ID or --expired" in capsys.readouterr().err
