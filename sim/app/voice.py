"""The patient's voice: lines spoken offline with espeak-ng, rendered once, played with
pygame.mixer, never stalling a frame.

:meth:`Voice.say` returns at once: a background worker renders the line to a wav with
``espeak-ng -w`` (once per line and voice: the wav is kept in a cache folder under the
app's data folder, :func:`voice_cache_dir`, private to the user) and plays it when the
mixer has a sound device. Without espeak-ng the patient's words still show on screen (the
HUD's speech bubble) and one line says so, once, on the log.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.paths import data_dir

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
"""The speech synthesiser (the Debian package of the same name; tools/setup-lib.sh
installs it)."""
VOICE_ARGS = ("-v", "en", "-s", "150")
"""The voice and speed, words a minute (our choice: a calm adult; espeak-ng's default
speed, 175, sounds hurried for a patient)."""
RENDER_TIMEOUT_S = 30.0
"""Longest a line may take to render before it is given up (a stuck synthesiser must not
keep the worker)."""
MISSING = (
    "espeak-ng was not found: the patient's words show on screen but are not spoken "
    "(install the Debian package espeak-ng)"
)

Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]


def voice_cache_dir() -> Path:
    """``data_dir() / "voice"``: the rendered lines (not created here)."""
    return data_dir() / "voice"


class Voice:
    """Speaks the patient's lines in the background.

    Parameters
    ----------
    enabled : bool
        False: muted (nothing rendered or played; :meth:`say` gives None).
    cache_dir : Path, optional
        Where rendered lines are kept (default :func:`voice_cache_dir`); created private
        (0700), each wav 0600.
    espeak : str or None, optional
        The synthesiser's path; default: ``espeak-ng`` found on the ``PATH`` (None there:
        no speech).
    play : bool
        Play the wav with pygame.mixer when one is initialised (tests render only).
    runner : callable, optional
        Runs the synthesiser (``subprocess.run``'s signature; tests count the calls).
    """

    def __init__(
        self,
        enabled: bool = True,
        cache_dir: Path | None = None,
        espeak: str | None = "",
        play: bool = True,
        runner: Runner = subprocess.run,
    ) -> None:
        self.enabled = enabled
        self.cache_dir = cache_dir if cache_dir is not None else voice_cache_dir()
        self.espeak = shutil.which(ESPEAK) if espeak == "" else espeak
        self.play = play
        self._run = runner
        self._warned = False
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._sounds: dict[Path, Any] = {}

    @property
    def available(self) -> bool:
        """Whether lines can be spoken (not muted, espeak-ng found)."""
        return self.enabled and self.espeak is not None

    def say(self, text: str) -> concurrent.futures.Future[Path | None]:
        """Speak ``text`` in the background; returns at once.

        Returns
        -------
        Future
            Resolves to the line's wav (rendered now or found in the cache), or None when
            muted, without espeak-ng or when rendering failed (the words still show on
            screen).
        """
        done: concurrent.futures.Future[Path | None] = concurrent.futures.Future()
        if not self.enabled or not text.strip():
            done.set_result(None)
            return done
        if self.espeak is None:
            if not self._warned:
                log.warning(MISSING)
                self._warned = True
            done.set_result(None)
            return done
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="voice")
        return self._pool.submit(self._speak, text)

    def wav_path(self, text: str) -> Path:
        """Where the wav of ``text`` is cached (named by a hash of the line and voice)."""
        key = hashlib.sha256("\0".join((*VOICE_ARGS, text)).encode()).hexdigest()[:32]
        return self.cache_dir / f"{key}.wav"

    def render(self, text: str) -> Path | None:
        """The wav of ``text``: from the cache, else rendered by espeak-ng now (blocking:
        the worker calls it); None when that failed (logged)."""
        path = self.wav_path(text)
        if path.is_file():
            return path
        assert self.espeak is not None
        self.cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(self.cache_dir, 0o700)
        fd, tmp = tempfile.mkstemp(suffix=".wav", dir=self.cache_dir)  # 0600
        os.close(fd)
        try:
            done = self._run(
                [self.espeak, *VOICE_ARGS, "-w", tmp, "--", text],
                capture_output=True,
                timeout=RENDER_TIMEOUT_S,
                check=False,
            )
            if done.returncode != 0 or os.path.getsize(tmp) == 0:
                err = done.stderr.decode(errors="replace").strip().splitlines()
                log.warning(
                    "espeak-ng could not speak a line: %s", err[-1] if err else done.returncode
                )
                return None
            os.replace(tmp, path)
            return path
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("espeak-ng could not speak a line: %s", exc)
            return None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def _speak(self, text: str) -> Path | None:
        path = self.render(text)
        if path is not None and self.play:
            self._play(path)
        return path

    def _play(self, path: Path) -> None:
        with contextlib.suppress(Exception):  # no mixer, no device: the words are on screen
            import pygame

            if not pygame.mixer.get_init():
                return
            snd = self._sounds.get(path)
            if snd is None:
                snd = self._sounds[path] = pygame.mixer.Sound(str(path))
            snd.play()

    def close(self) -> None:
        """Stop the worker (a line being rendered is finished first)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
