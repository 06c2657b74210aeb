"""One Euro filter (Casiez, Roussel & Vogel, CHI 2012) for the on-screen instrument only.

Metrics must use the raw signal: with ``min_cutoff`` 1 Hz this filter removes exactly the
4-12 Hz band that the tremor metric measures.
"""

from __future__ import annotations

import math
from dataclasses import replace

from sim.core.records import Sample, Vec3


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One Euro filter of a scalar signal with irregular sample times.

    Parameters
    ----------
    min_cutoff_hz : float
        Cut-off at rest, Hz: lower removes more jitter when still.
    beta : float
        Speed coefficient (per unit of the signal per second): higher lags less when fast.
        About 0.1 for positions in mm.
    d_cutoff_hz : float
        Cut-off of the derivative's own low-pass, Hz.
    """

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float = 0.1, d_cutoff_hz: float = 1.0):
        self.min_cutoff_hz, self.beta, self.d_cutoff_hz = min_cutoff_hz, beta, d_cutoff_hz
        self.reset()

    def reset(self) -> None:
        self._x: float | None = None
        self._dx = 0.0
        self._t = 0.0

    def __call__(self, t_s: float, x: float) -> float:
        """Filter one value ``x`` taken at ``t_s`` seconds; returns the smoothed value."""
        if self._x is None:
            self._x, self._t = x, t_s
            return x
        dt = t_s - self._t
        if dt <= 0.0:
            return self._x
        dx = (x - self._x) / dt
        self._dx += _alpha(self.d_cutoff_hz, dt) * (dx - self._dx)
        cutoff = self.min_cutoff_hz + self.beta * abs(self._dx)
        self._x += _alpha(cutoff, dt) * (x - self._x)
        self._t = t_s
        return self._x


class PoseSmoother:
    """One Euro filters on a Sample's tip (mm) and orientation, for display.

    Untracked samples pass through unchanged and reset the filters, so the instrument does
    not glide across a tracking gap. The returned Sample keeps the raw landmarks; never feed
    it to the pipeline or a recording.
    """

    def __init__(
        self,
        min_cutoff_hz: float = 1.0,
        beta: float = 0.1,
        d_cutoff_hz: float = 1.0,
        angle_beta: float = 5.0,
    ) -> None:
        self._pos = [OneEuroFilter(min_cutoff_hz, beta, d_cutoff_hz) for _ in range(3)]
        # Direction vectors are unit length: a speed of 1/s is a fast turn, hence the beta.
        self._dirs = [OneEuroFilter(min_cutoff_hz, angle_beta, d_cutoff_hz) for _ in range(6)]

    def reset(self) -> None:
        for f in (*self._pos, *self._dirs):
            f.reset()

    def __call__(self, s: Sample) -> Sample:
        if not s.tracked:
            self.reset()
            return s
        t = s.t_s
        tip = tuple(f(t, v) for f, v in zip(self._pos, s.tip_mm, strict=True))
        ax = [f(t, v) for f, v in zip(self._dirs[:3], s.axis, strict=True)]
        nm = [f(t, v) for f, v in zip(self._dirs[3:], s.normal, strict=True)]
        axis = _unit(ax, s.axis)
        d = sum(a * b for a, b in zip(nm, axis, strict=True))
        normal = _unit([n - d * a for n, a in zip(nm, axis, strict=True)], s.normal)
        return replace(s, tip_mm=(tip[0], tip[1], tip[2]), axis=axis, normal=normal)


def _unit(v: list[float], fallback: Vec3) -> Vec3:
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    if n < 1e-9:
        return fallback
    return (v[0] / n, v[1] / n, v[2] / n)
