"""The patient's voice (sim.app.voice): a wav per line from espeak-ng, cached, rendered in
the background; without espeak-ng the words stay on screen and one line is logged."""

from __future__ import annotations

import logging
import shutil
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from sim.app.voice import MISSING, Voice

WAIT_S = 120.0  # generous: a loaded machine may take a while to start espeak-ng

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (tools/setup.sh installs the Debian package)",
)


class Counting:
    """subprocess.run that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kw: Any) -> subprocess.CompletedProcess[bytes]:
        self.calls += 1
        return subprocess.run(*args, **kw)  # noqa: PLW1510 (check is passed in kw)


@needs_espeak
def test_a_line_becomes_a_private_wav_once(tmp_path: Path) -> None:
    run = Counting()
    voice = Voice(cache_dir=tmp_path / "voice", play=False, runner=run)
    wav = voice.say("Ouch, that hurts.").result(WAIT_S)
    assert wav is not None and wav.is_file()
    head = wav.read_bytes()[:12]
    assert head[:4] == b"RIFF" and head[8:12] == b"WAVE"  # a wav file a mixer can play
    assert wav.stat().st_size > 1000  # with sound in it, not just a header
    assert stat.S_IMODE(wav.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "voice").stat().st_mode) == 0o700
    # the second time the line comes from the cache: no second espeak-ng process
    again = voice.say("Ouch, that hurts.").result(WAIT_S)
    assert again == wav
    assert run.calls == 1
    other = voice.say("Is it nearly done?").result(WAIT_S)
    assert other is not None and other != wav and run.calls == 2
    assert sorted(p.name for p in (tmp_path / "voice").iterdir()) == sorted([wav.name, other.name])
    voice.close()


def test_say_never_waits_for_the_synthesiser(tmp_path: Path) -> None:
    """say() returns while the synthesiser is still busy (here held until released)."""
    release = threading.Event()
    started = threading.Event()

    def slow(args: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
        started.set()
        assert release.wait(WAIT_S)
        Path(args[args.index("-w") + 1]).write_bytes(b"RIFF\0\0\0\0WAVEdata")
        return subprocess.CompletedProcess(args, 0, b"", b"")

    voice = Voice(cache_dir=tmp_path, espeak="/usr/bin/espeak-ng", play=False, runner=slow)
    future = voice.say("Could you be gentle?")
    # back in the caller while the render is held: it has not finished and cannot have
    assert started.wait(WAIT_S)
    assert not future.done()
    release.set()
    assert future.result(WAIT_S) == voice.wav_path("Could you be gentle?")
    voice.close()


def test_without_espeak_the_words_stay_on_screen_and_one_line_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    voice = Voice(cache_dir=tmp_path, espeak=None, play=False)
    assert not voice.available
    with caplog.at_level(logging.WARNING, logger="sim.app.voice"):
        assert voice.say("Ouch!").result(WAIT_S) is None
        assert voice.say("That hurts.").result(WAIT_S) is None
    said = [r.getMessage() for r in caplog.records]
    assert said == [MISSING]  # once, however many lines
    assert "espeak-ng" in said[0] and "on screen" in said[0]
    assert not list(tmp_path.iterdir())


def test_a_failing_synthesiser_gives_no_wav_and_no_leftovers(tmp_path: Path) -> None:
    def fails(args: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(args, 1, b"", b"espeak-ng: no voice")

    voice = Voice(cache_dir=tmp_path, espeak="/usr/bin/espeak-ng", play=False, runner=fails)
    assert voice.say("Ouch!").result(WAIT_S) is None
    assert not list(tmp_path.iterdir())  # no half-written wav to be taken for the line later
    voice.close()


def test_muted_speaks_nothing(tmp_path: Path) -> None:
    run = Counting()
    voice = Voice(enabled=False, cache_dir=tmp_path, play=False, runner=run)
    assert voice.say("Ouch!").result(WAIT_S) is None
    assert run.calls == 0 and not list(tmp_path.iterdir())


@needs_espeak
def test_the_practice_screen_speaks_what_the_patient_says(
    tmp_path: Path, data_dir: Path, quit_display: None
) -> None:
    """Each line the patient says in a session is handed to the voice: its wav appears in
    the cache without any frame waiting for it."""
    import time

    from sim.app.practice import PracticeScreen
    from sim.core import patient
    from sim.sources.scripted import scripted_items
    from tests.app.driver import Driver

    d = Driver("venipuncture")
    screen = d.screen
    assert isinstance(screen, PracticeScreen)
    d.app.voice = Voice(cache_dir=tmp_path / "voice", play=False)
    items = scripted_items(screen.pipeline.scenario, "expert", 0, errors=(patient.SAID,))
    for item in items:
        screen._feed(item)  # the session's own path from an item to the screen
    said = [e.message for e in screen.pipeline.events if e.kind == patient.SAID]
    assert said
    deadline = time.monotonic() + WAIT_S
    wavs = [d.app.voice.wav_path(line) for line in said]
    while not all(w.is_file() for w in wavs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(w.is_file() and w.stat().st_size > 1000 for w in wavs)
