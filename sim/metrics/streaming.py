"""Small streaming estimators for the live view, in pure Python scalar code, and the
vectorised form of the live tremor for whole recordings (the replay's plot).

The streaming estimators run once per sample, so they avoid numpy calls (whose overhead
alone would exceed the per-sample budget) and keep O(1) work per update.
:func:`tremor_series_mm` gives, at every sample of a recording, the very value the live
view showed (same filter design, rate rule, gap resets and warm-up).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from sim.core.records import Vec3
from sim.metrics.motion import MAX_GAP_S, MIN_TREMOR_RATE_HZ, TREMOR_BAND_HZ, step_lengths_mm

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TremorDesign:
    """The live tremor estimator's settings at one sample rate.

    Attributes
    ----------
    sos : (4, 6) float array, or None
        The band-pass: an 8th-order Butterworth over :data:`TREMOR_BAND_HZ` (its top
        lowered to 95 % of Nyquist), as second-order sections; None below
        :data:`~sim.metrics.motion.MIN_TREMOR_RATE_HZ`: tremor cannot be measured.
    window_n : int
        Samples in the RMS window (at least 2).
    warmup_n : int
        Samples after a (re)start during which the filter settles and the estimate is 0.
    """

    sos: FloatArray | None
    window_n: int
    warmup_n: int


def tremor_design(rate_hz: float, window_s: float) -> TremorDesign:
    """The live tremor estimator's filter, window and warm-up at ``rate_hz`` (Hz) for an
    RMS window of ``window_s`` (s): the one design :class:`StreamingTremor` and
    :func:`tremor_series_mm` share."""
    hi = min(TREMOR_BAND_HZ[1], 0.95 * rate_hz / 2)
    sos = None
    if rate_hz >= MIN_TREMOR_RATE_HZ:
        sos = np.asarray(
            signal.butter(4, (TREMOR_BAND_HZ[0], hi), btype="bandpass", fs=rate_hz, output="sos"),
            dtype=np.float64,
        )
    return TremorDesign(sos, max(2, int(round(window_s * rate_hz))), int(0.5 * rate_hz))


class StreamingTremor:
    """Tremor RMS (mm) over a sliding window: band-pass 4-12 Hz, then windowed RMS.

    An 8th-order Butterworth band-pass (four biquads) per axis, designed for the nominal
    ``rate_hz`` and steep enough that slow voluntary motion stays out of the band; then
    the mean square of the filtered 3-D signal over the last ``window_s``.
    The tracker's noise floor (mm RMS) is subtracted in quadrature. Call :meth:`reset`
    after a tracking gap: the filter never bridges one. Below
    :data:`~sim.metrics.motion.MIN_TREMOR_RATE_HZ` tremor cannot be measured and
    :meth:`update` returns NaN.
    """

    def __init__(self, rate_hz: float, window_s: float = 1.5, noise_floor_mm: float = 0.0):
        d = tremor_design(rate_hz, window_s)
        self.measurable = d.sos is not None
        self._sos: list[tuple[float, ...]] = []
        if d.sos is not None:
            self._sos = [tuple(float(c) for c in row) for row in d.sos]
        self._n = d.window_n
        self._floor_sq = noise_floor_mm * noise_floor_mm
        self._warmup = d.warmup_n
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
            return math.nan
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


def probed_rate_hz(intervals_s: Sequence[float]) -> float:
    """The sampling rate the live tremor filter is designed at: one over the median of the
    first tracked intervals (s), Hz."""
    return 1.0 / statistics.median(intervals_s)


def tremor_series_mm(
    t_s: FloatArray,
    pos_mm: FloatArray,
    tracked: NDArray[np.bool_],
    window_s: float,
    noise_floor_mm: float,
    *,
    rate_probe: int,
    hand_measured: bool = True,
    max_gap_s: float = MAX_GAP_S,
) -> FloatArray:
    """The live view's tremor at every sample, vectorised: what feeding the samples one by
    one through the pipeline's :class:`StreamingTremor` gives.

    The rule the pipeline (:meth:`sim.pipeline.Pipeline._view`) follows: the filter is
    designed at the rate ``1 / median`` of the first ``rate_probe`` positive intervals
    between tracked samples (intervals across a gap longer than ``max_gap_s`` not counted),
    and runs from the sample that completes the probe; it restarts (origin, filter state,
    warm-up, window) at the first tracked sample after such a gap.

    Parameters
    ----------
    t_s : (n,) float array
        Sample times, s, non-decreasing.
    pos_mm : (n, 3) float array
        Tip positions, mm.
    tracked : (n,) bool array
        Whether each sample was tracked.
    window_s : float
        RMS window, s (the scenario's ``feedback.tremor_window_s``).
    noise_floor_mm : float
        Tracker noise floor, mm RMS, subtracted in quadrature.
    rate_probe : int
        Intervals the rate is measured over (:attr:`sim.pipeline.Pipeline.RATE_PROBE`).
    hand_measured : bool
        Whether the input can measure the hand's tremor
        (:func:`sim.metrics.catalog.can_measure`); if not, NaN at every tracked sample.
    max_gap_s : float
        Longest interval between tracked samples the filter bridges, s.

    Returns
    -------
    (n,) float array
        Tremor, mm RMS: 0 where the hand was not tracked, before the rate is known and
        during the warm-up; NaN where it cannot be measured (sampled below about 8.4 Hz,
        or an input that cannot measure the hand).
    """
    t = np.asarray(t_s, dtype=np.float64)
    pos = np.asarray(pos_mm, dtype=np.float64).reshape(len(t), 3)
    tr = np.asarray(tracked, dtype=bool)
    out = np.zeros(len(t), dtype=np.float64)
    idx = np.flatnonzero(tr)  # the tracked samples, the only ones the estimator sees
    if not hand_measured:
        out[idx] = math.nan
        return out
    if len(idx) == 0:
        return out
    dt = np.diff(t[idx])
    gap = dt > max_gap_s  # gap[k]: a restart at tracked sample k + 1
    probe = np.flatnonzero(~gap & (dt > 0))
    if len(probe) < rate_probe:
        return out  # the rate is never known: 0, as live
    first = int(probe[rate_probe - 1]) + 1  # the tracked sample that completes the probe
    rate = probed_rate_hz(dt[probe[:rate_probe]].tolist())
    d = tremor_design(rate, window_s)
    if d.sos is None:
        out[idx[first:]] = math.nan
        return out
    starts = [first, *(int(k) + 1 for k in np.flatnonzero(gap) if k + 1 > first), len(idx)]
    floor_sq = noise_floor_mm * noise_floor_mm
    for a, b in zip(starts[:-1], starts[1:]):
        seg = pos[idx[a:b]]
        filt = signal.sosfilt(d.sos, seg - seg[0], axis=0)
        sq = np.sum(filt * filt, axis=1)[d.warmup_n :]
        if len(sq) == 0:
            continue
        c = np.concatenate(([0.0], np.cumsum(sq)))
        hi = np.arange(1, len(sq) + 1)
        lo = np.maximum(hi - d.window_n, 0)
        ms = np.maximum((c[hi] - c[lo]) / (hi - lo) - floor_sq, 0.0)
        out[idx[a + d.warmup_n : b]] = np.sqrt(ms)
    return out


def speed_series_mm_s(
    t_s: FloatArray,
    pos_mm: FloatArray,
    tracked: NDArray[np.bool_],
    tau_s: float = 0.1,
    max_gap_s: float = MAX_GAP_S,
) -> FloatArray:
    """The live view's tip speed at every sample: :class:`StreamingSpeed` run over the
    tracked samples as the pipeline runs it (restarted after a gap longer than
    ``max_gap_s`` between tracked samples).

    Parameters
    ----------
    t_s : (n,) float array
        Sample times, s, non-decreasing.
    pos_mm : (n, 3) float array
        Tip positions, mm.
    tracked : (n,) bool array
        Whether each sample was tracked.
    tau_s : float
        Smoothing time constant, s.
    max_gap_s : float
        Longest interval between tracked samples the estimate bridges, s.

    Returns
    -------
    (n,) float array
        Speed, mm/s; 0 where the hand was not tracked.

    Notes
    -----
    The smoothing weight ``a = dt / (tau_s + dt)`` depends on each interval, so this is no
    fixed-coefficient filter: the recurrence ``s[k] = (1 - a[k]) s[k-1] + a[k] v[k]`` is
    solved by a parallel prefix scan (log2 n vector passes), with ``1 - a = 0`` at each
    restart.
    """
    t = np.asarray(t_s, dtype=np.float64)
    out = np.zeros(len(t), dtype=np.float64)
    idx = np.flatnonzero(np.asarray(tracked, dtype=bool))
    if len(idx) < 2:
        return out
    tt = t[idx]
    p = np.asarray(pos_mm, dtype=np.float64).reshape(len(t), 3)[idx]
    dt = np.diff(tt)
    step = step_lengths_mm(p)
    moving = dt > 0.0
    safe = np.where(moving, dt, 1.0)
    a = np.where(moving, safe / (tau_s + safe), 0.0)
    keep = np.concatenate(([0.0], 1.0 - a))  # s[k] = keep[k] s[k-1] + add[k]
    add = np.concatenate(([0.0], a * (step / safe)))
    restart = np.concatenate(([True], dt > max_gap_s))
    keep[restart] = 0.0
    add[restart] = 0.0
    span = 1
    while span < len(keep):  # compose each step with the one ``span`` before it
        add[span:] = add[span:] + keep[span:] * add[:-span]
        keep[span:] = keep[span:] * keep[:-span]
        span *= 2
    out[idx] = add
    return out
