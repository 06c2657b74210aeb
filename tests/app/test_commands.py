"""The ``practice``, ``render`` and ``station`` commands: pictures of recordings, and bad
input answered with one clear line and exit status 2 (never a traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
OFFSCREEN = {"SDL_VIDEODRIVER": "offscreen", "PYOPENGL_PLATFORM": "egl", "SDL_AUDIODRIVER": "dummy"}


def procsim(
    *args: str, env: dict[str, str] | None = None, headless: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim ARGS``: offscreen, or with ``headless`` as on a Linux machine with
    no display and no SDL driver chosen."""
    if headless:
        drop = (*OFFSCREEN, "DISPLAY", "WAYLAND_DISPLAY")
        base = {k: v for k, v in os.environ.items() if k not in drop}
    else:
        base = {**os.environ, **OFFSCREEN}
    full = {**base, "PYGAME_HIDE_SUPPORT_PROMPT": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        timeout=120,
    )


def one_clear_line(r: subprocess.CompletedProcess[str], *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("procsim: error:")
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "v.jsonl"
    r = procsim("simulate", "venipuncture", "--skill", "novice", "-o", str(path))
    assert r.returncode == 0, r.stderr
    return path


def test_render_writes_the_scene_at_a_moment(recording: Path, tmp_path: Path) -> None:
    import pygame

    out = tmp_path / "at10.png"
    r = procsim("render", str(recording), "--at", "10", "-o", str(out), "--size", "480x270")
    assert r.returncode == 0, r.stderr
    assert out.exists()
    img = pygame.surfarray.array3d(pygame.image.load(str(out))).transpose(1, 0, 2)
    assert img.shape == (270, 480, 3)
    skin = (img[:, :, 0] > 150) & (img[:, :, 0] > img[:, :, 1]) & (img[:, :, 1] > img[:, :, 2])
    assert skin.mean() > 0.15  # the forearm fills a good part of the picture
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 200  # a scene, not a flat colour


def test_unknown_scenario(tmp_path: Path) -> None:
    one_clear_line(procsim("practice", "no-such-scenario"), "unknown scenario", "venipuncture")


def test_unknown_input() -> None:
    one_clear_line(procsim("practice", "venipuncture", "--input", "joystick"), "unknown input")


def test_corrupt_recording(tmp_path: Path, recording: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    lines = recording.read_text().splitlines()
    bad.write_text("\n".join(lines[:5] + ["{not json", *lines[6:10]]) + "\n")
    one_clear_line(
        procsim("render", str(bad), "--at", "1", "-o", str(tmp_path / "x.png")), "corrupt"
    )
    one_clear_line(
        procsim(
            "render", str(tmp_path / "missing.jsonl"), "--at", "1", "-o", str(tmp_path / "x.png")
        ),
        "no such recording",
    )


def test_bad_size_and_output(recording: Path, tmp_path: Path) -> None:
    one_clear_line(
        procsim(
            "render", str(recording), "--at", "1", "-o", str(tmp_path / "x.png"), "--size", "big"
        ),
        "WIDTHxHEIGHT",
    )
    one_clear_line(
        procsim("render", str(recording), "--at", "1", "-o", str(tmp_path / "no" / "x.png")),
        "no such folder",
    )


def test_no_opengl_is_one_line() -> None:
    # SDL's dummy video driver has no OpenGL at all
    r = procsim("practice", "venipuncture", env={"SDL_VIDEODRIVER": "dummy"})
    one_clear_line(r, "OpenGL 3.3")


def test_no_display_is_one_line() -> None:
    env = {"SDL_VIDEODRIVER": "x11", "DISPLAY": ":97", "WAYLAND_DISPLAY": ""}
    one_clear_line(procsim("practice", "venipuncture", env=env), "display")


def test_render_needs_no_display_settings(recording: Path, tmp_path: Path) -> None:
    """On a headless Linux machine `procsim render` picks offscreen EGL by itself."""
    if not sys.platform.startswith("linux"):
        pytest.skip("headless selection is for Linux")
    out = tmp_path / "h.png"
    r = procsim(
        "render", str(recording), "--at", "2", "-o", str(out), "--size", "320x180", headless=True
    )
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 1000


def test_unknown_hand() -> None:
    one_clear_line(procsim("practice", "venipuncture", "--hand", "middle"), "unknown hand")


def test_station_with_an_unknown_scenario_in_its_config(tmp_path: Path) -> None:
    """The config is checked before any window opens or any store is touched."""
    cfg = tmp_path / "station.toml"
    cfg.write_text('[station]\nid = "s"\nassigned_scenario = "appendectomy"\n')
    env = {"PROCSIM_DATA_DIR": str(tmp_path / "data")}
    one_clear_line(procsim("station", "--config", str(cfg), env=env), "appendectomy")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("command", ["practice", "replay", "station"])
def test_a_window_on_a_machine_without_a_display_is_one_line(command: str, recording: Path) -> None:
    """No X, no Wayland, no SDL driver chosen: say a desktop is needed (or xvfb-run to try
    it without a screen), never an offscreen driver (an invisible window)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("display detection is for Linux")
    args = [command, str(recording)] if command == "replay" else [command]
    r = procsim(*args, headless=True)
    one_clear_line(r, "no display", f"procsim {command}", "desktop session", "xvfb-run")
    assert "offscreen" not in r.stderr
