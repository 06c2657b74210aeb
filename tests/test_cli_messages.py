"""What the command line tells a user is true: times within the recording, a missing file
before a missing display, an unreachable --db as an error, counts in the right number, help
that lists the choices, and a README table that lists every option."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import build_parser, main
from sim.words import plural

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sim.pipeline import Pipeline
    from sim.scenarios import find_scenario
    from sim.sources.scripted import ScriptedSource
    from sim.storage.session import run_session

    path = tmp_path_factory.mktemp("rec") / "v.jsonl"
    sc = find_scenario("venipuncture")
    run_session(Pipeline(sc), ScriptedSource(sc, "expert", 0), path, trainee="t-1")
    return path


def one_line(capsys: pytest.CaptureFixture[str], status: int, *words: str) -> str:
    """The command's only stderr line, after checking the exit status and the words."""
    assert status == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1, err
    for w in words:
        assert w in err[0], err[0]
    return err[0]


# --- times within the recording --------------------------------------------------------------
def test_render_at_a_time_past_the_end_names_the_recordings_length(
    recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.storage.recording import load_recording
    from sim.storage.session import end_s

    length = end_s(load_recording(recording))
    out = tmp_path / "x.png"
    line = one_line(
        capsys,
        main(["render", str(recording), "--at", "999", "-o", str(out)]),
        "--at 999",
        f"{length:.1f} s long",
    )
    assert not out.exists(), line


def test_replay_at_a_time_past_the_end_is_refused_before_any_window(
    recording: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    one_line(capsys, main(["replay", str(recording), "--at", "999"]), "--at 999", "s long")


# --- no display ------------------------------------------------------------------------------
def headless(*args: str) -> subprocess.CompletedProcess[str]:
    """``procsim ARGS`` on a Linux machine with no display and no SDL driver chosen."""
    drop = ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "PYOPENGL_PLATFORM")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display detection is Linux's")
def test_replay_of_a_missing_file_says_the_file_is_missing_not_the_display(
    tmp_path: Path,
) -> None:
    r = headless("replay", str(tmp_path / "missing.rec"))
    assert r.returncode == 2
    assert r.stderr.strip() == f"procsim: error: {tmp_path / 'missing.rec'}: no such recording"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display detection is Linux's")
def test_without_a_display_practice_asks_for_a_desktop_not_an_invisible_window(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    line = one_line(
        capsys,
        main(["practice", "venipuncture"]),
        "no display",
        "procsim practice",
        "desktop session",
        "xvfb-run",
    )
    assert "offscreen" not in line and "SDL_VIDEODRIVER" not in line


# --- the lab database ------------------------------------------------------------------------
UNREACHABLE = "postgresql://lab@127.0.0.1:1/procsim"  # port 1: nothing listens there


def test_an_unreachable_db_given_on_the_command_line_is_an_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_line(capsys, main(["sessions", "list", "--db", UNREACHABLE]), "--db", "cannot reach")
    assert "127.0.0.1" in line
    one_line(capsys, main(["sessions", "export", "--csv", "x.csv", "--db", UNREACHABLE]), "--db")


def test_an_unreachable_db_from_the_environment_is_an_error_too(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCSIM_DB_URL", UNREACHABLE)
    one_line(capsys, main(["sessions", "list"]), "$PROCSIM_DB_URL", "cannot reach")


def test_the_station_configs_unreachable_db_falls_back_with_a_warning(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "station.toml"
    cfg.write_text(f'[station]\nid = "lab-1"\ndatabase = "{UNREACHABLE}"\n')
    assert main(["sessions", "list", "--config", str(cfg)]) == 0
    out = capsys.readouterr()
    assert "warning: lab database unreachable" in out.err
    assert "no sessions in sqlite" in out.out


def test_a_station_given_an_unreachable_db_does_not_start(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """procsim station --db URL: the lab's own database named on the command line cannot be
    reached, so the station does not start pretending that sessions go there."""
    line = one_line(capsys, main(["station", "--db", UNREACHABLE]), "--db", "cannot reach")
    assert "127.0.0.1" in line


# --- counts ----------------------------------------------------------------------------------
def test_plural() -> None:
    assert [plural(n, "session") for n in (0, 1, 2)] == ["0 sessions", "1 session", "2 sessions"]
    assert plural(1, "stitch", "stitches") == "1 stitch"
    assert plural(3, "stitch", "stitches") == "3 stitches"


def test_one_exported_session_is_one_session(
    data_dir: Path, recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sessions", "import", str(recording)]) == 0
    capsys.readouterr()
    out = tmp_path / "s.csv"
    assert main(["sessions", "export", "--csv", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{out}: 1 session, ") and "1 sessions" not in line


def test_a_rule_of_one_pass_is_said_in_the_singular() -> None:
    from sim.lab.proficiency import proficiency

    assert proficiency([False], 1, 1).line() == "working towards 1 consecutive pass (current run 0)"
    assert proficiency([True], 1, 1).line() == (
        "1 consecutive pass reached (session 1); 0 of 1 further pass"
    )


def test_no_count_in_the_code_is_glued_to_a_plural_noun() -> None:
    """A count printed before a fixed plural noun ("{n} sessions") says "1 sessions" one day:
    every such message goes through sim.words.plural."""
    glued = re.compile(
        r"\{(?:len\([^}]*\)|n|count|done|failed|new|rep\.frames|self\.total)\} "
        r"(sessions|trainees|frames|metrics|attempts|stitches|recordings|passes)\b"
    )
    found = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in sorted((ROOT / "sim").rglob("*.py"))
        for i, line in enumerate(p.read_text("utf-8").splitlines(), start=1)
        if glued.search(line)
    ]
    allowed = {"sim/replay/video.py"}  # the progress bar "12/300 frames": a fraction
    assert [f for f in found if f.split(":")[0] not in allowed] == []


# --- help --------------------------------------------------------------------------------------
def leaf_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command that runs (``("sessions", "list")``...) and its parser."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {path: parser}
    out: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for name, sub in subs[0].choices.items():
        out.update(leaf_parsers(sub, (*path, name)))
    return out


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and a.dest != "help"]


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"procsim {' '.join(path)} {a.option_strings[0]}"
        for path, p in leaf_parsers(build_parser()).items()
        for a in options(p)
        if not a.help
    ]
    assert missing == []


def test_help_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    def help_of(*args: str) -> str:
        with pytest.raises(SystemExit) as stop:
            main([*args, "--help"])
        assert stop.value.code == 0
        return " ".join(capsys.readouterr().out.split())

    practice = help_of("practice")
    for choice in ("mouse", "webcam[:N]", "video:PATH"):
        assert choice in practice
    simulate = help_of("simulate")
    assert "how well the scripted trainee works (expert, intermediate, novice)" in simulate
    check = help_of("scenarios", "check")
    assert check.startswith("usage: procsim scenarios check") and "FILE" in check


def test_scenarios_check_without_a_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["scenarios", "check"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "FILE" in err[0] and "procsim scenarios check --help" in err[0]


def test_the_readme_table_lists_every_option_of_every_command() -> None:
    """Each command's row in the README's table names each of its options."""
    readme = (ROOT / "README.md").read_text("utf-8")
    rows = [
        ln.split(" | ")[0].replace("\\|", "|")
        for ln in readme.splitlines()
        if ln.startswith("| `procsim ")
    ]
    unlisted = []
    for path, parser in leaf_parsers(build_parser()).items():
        mine = [r for r in rows if f"`procsim {' '.join(path)}" in r]
        if not mine:
            unlisted.append(f"procsim {' '.join(path)}: no row")
            continue
        words = " ".join(mine)
        for a in options(parser):
            if a.dest == "version":
                continue
            if not any(
                re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", words) for o in a.option_strings
            ):
                unlisted.append(f"procsim {' '.join(path)} {a.option_strings[-1]}")
    assert unlisted == []
