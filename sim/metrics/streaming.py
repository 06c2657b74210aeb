"""Small streaming estimators for the live view, in pure Python scalar code.

They run once per sample, so they avoid numpy calls (whose overhead alone would exceed the
per-sample budget) and keep O(1) work per update.
"""

from __future__ import annotations

import math
from collections import deque

from scipy import signal

from sim.core.records import Vec3
from sim.metrics.motion import TREMOR_BAND_HZ


class StreamingTremor:
    """Tremor RMS (mm) over a sliding window: band-pass 4-12 Hz, then windowed RMS.

    An 8th-order Butterworth band-pass (four biquads) per axis, designed for the nominal
    ``rate_hz`` and steep enough that slow voluntary motion stays out of the band; then
    the mean square of the filtered 3-D signal over the last ``window_s``.
    The tracker's noise floor (mm RMS) is subtracted in quadrature. Call :meth:`reset`
    after a tracking gap: the filter never bridges one. A rate too low to hold the band
    (under about 8.4 Hz: the band's lower edge at 95 % of Nyquist) measures nothing and
    reports 0 (``measurable`` is False).
    """

    def __init__(self, rate_hz: float, window_s: float = 1.5, noise_floor_mm: float = 0.0):
        hi = min(TREMOR_BAND_HZ[1], 0.95 * rate_hz / 2)
        self.measurable = hi > TREMOR_BAND_HZ[0]
        self._sos: list[tuple[float, ...]] = []
        if self.measurable:
            sos = signal.butter(
                4, (TREMOR_BAND_HZ[0], hi), btype="bandpass", fs=rate_hz, output="sos"
            )
            self._sos = [tuple(float(c) for c in row) for row in sos]
        self._n = max(2, int(round(window_s * rate_hz)))
        self._floor_sq = noise_floor_mm * noise_floor_mm
        self._warmup = int(0.5 * rate_hz)
        self.reset()

    def reset(self) -> None:
        self._z = [[0.0, 0.0] for _ in range(3 * len(self._sos))]
        self._buf: deque[float] = deque()
        self._sum = 0.0
        self._origin: Vec3 | None = None
        self._count = 0

    def update(self, p: Vec3) -> float:
        """Add one position (mm); return the current tremor RMS estimate (mm)."""
        if not self.measurable:
            return 0.0
        if self._origin is None:
            self._origin = p
        o = self._origin
        sq = 0.0
        z = self._z
        k = 0
        for axis in range(3):
            x = p[axis] - o[axis]
            for b0, b1, b2, _a0, a1, a2 in self._sos:
                zk = z[k]
                y = b0 * x + zk[0]
                zk[0] = b1 * x - a1 * y + zk[1]
                zk[1] = b2 * x - a2 * y
                x = y
                k += 1
            sq += x * x
        self._count += 1
        if self._count <= self._warmup:  # let the filter settle after a (re)start
            return 0.0
        buf = self._buf
        buf.append(sq)
        self._sum += sq
        if len(buf) > self._n:
            self._sum -= buf.popleft()
        ms = max(self._sum / len(buf) - self._floor_sq, 0.0)
        return math.sqrt(ms)


class StreamingSpeed:
    """Tip speed (mm/s), exponentially smoothed with time constant ``tau_s``."""

    def __init__(self, tau_s: float = 0.1) -> None:
        self.tau_s = tau_s
        self.reset()

    def reset(self) -> None:
        self._last: Vec3 | None = None
        self._t = 0.0
        self.speed_mm_s = 0.0

    def update(self, t_s: float, p: Vec3) -> float:
        if self._last is not None:
            dt = t_s - self._t
            if dt > 0.0:
                lp = self._last
                v = math.sqrt((p[0] - lp[0]) ** 2 + (p[1] - lp[1]) ** 2 + (p[2] - lp[2]) ** 2) / dt
                a = dt / (self.tau_s + dt)
                self.speed_mm_s += a * (v - self.speed_mm_s)
        self._last, self._t = p, t_s
        return self.speed_mm_s
