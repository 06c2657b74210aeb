"""Short sounds for critical events with pygame.mixer; silent where there is no sound device."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

RATE = 22050
TONES = {
    # tone -> (frequencies Hz, duration s, volume 0-1); a procedure says which of its
    # events sounds which tone (Procedure.sounds)
    "danger": ((220.0, 233.0), 0.35, 0.5),
    "miss": ((260.0,), 0.25, 0.4),
    "warning": ((440.0, 330.0), 0.3, 0.4),
    "step": ((880.0,), 0.12, 0.3),
    "progress": ((660.0, 990.0), 0.12, 0.3),
    "done": ((523.0, 659.0, 784.0), 0.3, 0.35),
}


class Sounds:
    """Plays one of the :data:`TONES` by name. Never raises: without a mixer it stays silent."""

    def __init__(self, enabled: bool = True) -> None:
        self._sounds: dict[str, Any] = {}
        if not enabled:
            return
        try:
            import pygame

            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=RATE, size=-16, channels=1)
            freq, _, channels = pygame.mixer.get_init()
            for name, (tones, dur, vol) in TONES.items():
                self._sounds[name] = pygame.mixer.Sound(
                    buffer=_tone(tones, dur, vol, freq, channels)
                )
        except Exception:  # no device, no driver, no mixer module: stay silent
            self._sounds = {}

    @property
    def available(self) -> bool:
        return bool(self._sounds)

    def play(self, tone: str) -> None:
        snd = self._sounds.get(tone)
        if snd is not None:
            with contextlib.suppress(Exception):
                snd.play()


def _tone(freqs: tuple[float, ...], dur: float, vol: float, rate: int, channels: int) -> bytes:
    """16-bit PCM of the notes ``freqs`` played one after another with soft edges."""
    n = int(rate * dur / len(freqs))
    t = np.arange(n) / rate
    env = np.minimum(1.0, np.minimum(t / 0.01, (t[-1] - t) / 0.03 + 1e-9))
    wave = np.concatenate([np.sin(2 * np.pi * f * t) * env for f in freqs]) * vol
    pcm = (wave * 32767).astype(np.int16)
    if channels > 1:
        pcm = np.repeat(pcm[:, None], channels, axis=1)
    return pcm.tobytes()
