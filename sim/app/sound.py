"""Short sounds for critical events with pygame.mixer; silent where there is no sound device."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

RATE = 22050
TONES = {
    # event kind -> (frequencies Hz, duration s, volume 0-1)
    "back_wall": ((220.0, 233.0), 0.35, 0.5),
    "missed_vein": ((260.0,), 0.25, 0.4),
    "through_pad": ((220.0, 233.0), 0.35, 0.5),
    "tourniquet_too_long": ((440.0, 330.0), 0.3, 0.4),
    "flashback": ((880.0,), 0.12, 0.3),
    "stitch_completed": ((660.0, 990.0), 0.12, 0.3),
    "completed": ((523.0, 659.0, 784.0), 0.3, 0.35),
}


class Sounds:
    """Plays a short tone per event kind. Never raises: without a mixer it stays silent."""

    def __init__(self, enabled: bool = True) -> None:
        self._sounds: dict[str, Any] = {}
        if not enabled:
            return
        try:
            import pygame

            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=RATE, size=-16, channels=1)
            freq, _, channels = pygame.mixer.get_init()
            for kind, (tones, dur, vol) in TONES.items():
                self._sounds[kind] = pygame.mixer.Sound(
                    buffer=_tone(tones, dur, vol, freq, channels)
                )
        except Exception:  # no device, no driver, no mixer module: stay silent
            self._sounds = {}

    @property
    def available(self) -> bool:
        return bool(self._sounds)

    def play(self, kind: str) -> None:
        snd = self._sounds.get(kind)
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
