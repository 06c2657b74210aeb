"""Task-independent motion metrics: timing, economy, smoothness and tremor.

All functions are pure. Positions are arrays of shape ``(n, 3)`` in mm, times of shape
``(n,)`` in s, strictly increasing. Tracking gaps are never bridged: the trajectory is split
into :func:`segments` first, and every metric is computed within segments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import fft as scipy_fft
from scipy import signal

FloatArray = NDArray[np.float64]

TREMOR_BAND_HZ = (4.0, 12.0)
MIN_TREMOR_RATE_HZ = 2 * 0.95 * TREMOR_BAND_HZ[1]
"""The lowest sample rate, Hz, at which tremor is measured: its Nyquist limit must reach 95 %
of the band's top (22.8 Hz; a 25 or 30 fps camera does, a 15 fps one does not). Below it the
tremor metrics are "not measured", never a sliver of the band read as the whole."""
MOVEMENT_SPEED_MM_S = 50.0
MOVEMENT_RELEASE_MM_S = 40.0
MOVEMENT_MIN_S = 0.2
IDLE_SPEED_MM_S = 5.0
IDLE_MIN_S = 0.5
MAX_GAP_S = 0.25


def segments(
    t_s: FloatArray, tracked: NDArray[np.bool_], max_gap_s: float = MAX_GAP_S
) -> list[slice]:
    """Runs of tracked samples with no time gap longer than ``max_gap_s``.

    Parameters
    ----------
    t_s : (n,) float array
        Sample times, s.
    tracked : (n,) bool array
        Whether each sample was tracked.

    Returns
    -------
    list of slice
        Each slice selects one run of at least 2 samples.
    """
    t = np.asarray(t_s, dtype=np.float64)
    tr = np.asarray(tracked, dtype=bool)
    n = len(t)
    if n == 0:
        return []
    broken = np.diff(t) > max_gap_s
    opens = np.ones(n, dtype=bool)  # a run may start here: first sample, or after a break
    opens[1:] = ~tr[:-1] | broken
    closes = np.ones(n, dtype=bool)  # a run may end here: last sample, or before a break
    closes[:-1] = ~tr[1:] | broken
    starts = np.flatnonzero(tr & opens)
    ends = np.flatnonzero(tr & closes) + 1
    return [slice(int(a), int(b)) for a, b in zip(starts, ends) if b - a >= 2]


def step_lengths_mm(pos_mm: FloatArray) -> FloatArray:
    """Distance between consecutive positions of ``pos_mm`` (shape (n, 3)), mm, shape
    (n - 1,): the steps that both the path length and the live speed are made of."""
    return np.asarray(np.sqrt(np.sum(np.diff(pos_mm, axis=0) ** 2, axis=1)), dtype=np.float64)


def path_length_mm(pos_mm: FloatArray) -> float:
    """Length of the polyline through ``pos_mm`` (shape (n, 3)), mm."""
    if len(pos_mm) < 2:
        return 0.0
    return float(np.sum(step_lengths_mm(pos_mm)))


def resample(t_s: FloatArray, pos_mm: FloatArray, rate_hz: float) -> FloatArray:
    """Positions linearly resampled on a uniform grid from ``t_s[0]`` at ``rate_hz``.

    Returns an array of shape (m, 3). Only meant within a segment (no long gaps).
    """
    grid = np.arange(t_s[0], t_s[-1] + 1e-9, 1.0 / rate_hz)
    return np.column_stack([np.interp(grid, t_s, pos_mm[:, k]) for k in range(pos_mm.shape[1])])


def nominal_rate_hz(t_s: FloatArray) -> float:
    """Median sampling rate of a time vector, Hz."""
    dt = np.diff(t_s)
    dt = dt[dt > 0]
    return float(1.0 / np.median(dt)) if len(dt) else 0.0


def speed_mm_s(pos_mm: FloatArray, rate_hz: float) -> FloatArray:
    """Tip speed of uniformly sampled positions (n, 3), mm/s, shape (n,)."""
    if len(pos_mm) < 2:
        return np.zeros(len(pos_mm))
    vel = np.gradient(pos_mm, 1.0 / rate_hz, axis=0)
    return np.asarray(np.linalg.norm(vel, axis=1), dtype=np.float64)


def smooth_speed_mm_s(pos_mm: FloatArray, rate_hz: float, cutoff_hz: float = 6.0) -> FloatArray:
    """Speed after a zero-phase 2nd-order low-pass at ``cutoff_hz`` (for movement counts)."""
    if len(pos_mm) < 16 or cutoff_hz >= rate_hz / 2:
        return speed_mm_s(pos_mm, rate_hz)
    sos = signal.butter(2, cutoff_hz, fs=rate_hz, output="sos")
    filt = signal.sosfiltfilt(sos, pos_mm, axis=0)
    return speed_mm_s(filt, rate_hz)


def movement_count(
    speed: FloatArray,
    rate_hz: float,
    threshold_mm_s: float = MOVEMENT_SPEED_MM_S,
    release_mm_s: float = MOVEMENT_RELEASE_MM_S,
    min_duration_s: float = MOVEMENT_MIN_S,
) -> int:
    """Number of movements: speed above ``threshold`` for at least ``min_duration_s``.

    A movement starts when the speed rises above ``threshold_mm_s`` and ends when it falls
    below ``release_mm_s`` (hysteresis), as in PerkTutor.
    """
    v = np.asarray(speed, dtype=np.float64)
    if len(v) == 0:
        return 0
    # Hysteresis without a Python loop: each sample takes the state of the last threshold
    # crossing at or before it (+1 above ``threshold``, -1 below ``release``).
    mark = np.where(v > threshold_mm_s, 1, np.where(v < release_mm_s, -1, 0))
    idx = np.where(mark != 0, np.arange(len(v)), 0)
    np.maximum.accumulate(idx, out=idx)
    moving = (mark[idx] == 1).astype(np.int8)
    edges = np.diff(np.concatenate(([0], moving, [0])))
    durations = (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)) / rate_hz
    return int(np.sum(durations >= min_duration_s))


def idle_time_s(
    speed: FloatArray,
    rate_hz: float,
    below_mm_s: float = IDLE_SPEED_MM_S,
    min_s: float = IDLE_MIN_S,
) -> float:
    """Total time in runs of speed below ``below_mm_s`` lasting at least ``min_s``, s."""
    slow = np.concatenate([[False], speed < below_mm_s, [False]])
    edges = np.flatnonzero(np.diff(slow.astype(np.int8)))
    runs = (edges[1::2] - edges[::2]) / rate_hz
    return float(np.sum(runs[runs >= min_s]))


def sparc(
    speed: FloatArray, rate_hz: float, padlevel: int = 4, fc_hz: float = 10.0, amp_th: float = 0.05
) -> float:
    """Spectral arc length of a speed profile (Balasubramanian et al. 2012, 2015).

    Parameters
    ----------
    speed : (n,) float array
        Speed profile, any unit (the measure is dimensionless).
    rate_hz : float
        Sampling rate, Hz.

    Returns
    -------
    float
        SPARC, negative; closer to 0 is smoother. NaN for a profile that never moves.
    """
    if len(speed) < 2 or not np.any(speed):
        return math.nan
    nfft = int(2 ** (math.ceil(math.log2(len(speed))) + padlevel))
    # The real FFT gives the same magnitudes as the reference code's full FFT for
    # 0 <= f <= fs/2, which holds the whole 0..fc band the measure uses.
    mag = np.abs(scipy_fft.rfft(speed, nfft))
    f = np.arange(len(mag)) * (rate_hz / nfft)
    mag = mag / np.max(mag)
    keep = f <= fc_hz
    f_sel, m_sel = f[keep], mag[keep]
    above = np.flatnonzero(m_sel >= amp_th)
    f_sel = f_sel[above[0] : above[-1] + 1]
    m_sel = m_sel[above[0] : above[-1] + 1]
    if len(f_sel) < 2:
        return 0.0
    df = np.diff(f_sel) / (f_sel[-1] - f_sel[0])
    return float(-np.sum(np.sqrt(df**2 + np.diff(m_sel) ** 2)))


def ldlj(speed: FloatArray, rate_hz: float) -> float:
    """Log dimensionless jerk of a speed profile (Hogan & Sternad 2009).

    Uses the ``T^3 / v_peak^2`` normalisation, as the published reference code.
    Negative; closer to 0 is smoother. NaN for a profile that never moves.
    """
    if len(speed) < 3 or not np.any(speed):
        return math.nan
    dt = 1.0 / rate_hz
    duration = len(speed) * dt
    jerk = np.diff(speed, 2) / dt**2
    dj = duration**3 / np.max(np.abs(speed)) ** 2 * np.sum(jerk**2) * dt
    if dj <= 0.0:
        return 0.0
    return float(-math.log(dj))


def _detrend_linear(seg: FloatArray) -> FloatArray:
    """Least-squares line removed along the last axis; the same result as
    ``scipy.signal.detrend(type="linear")``, vectorised over all Welch segments at once."""
    n = seg.shape[-1]
    tc = np.arange(n) - (n - 1) / 2.0
    slope = (seg @ tc) / (tc @ tc)
    return np.asarray(seg - seg.mean(axis=-1, keepdims=True) - slope[..., None] * tc)


def position_spectrum(pos_mm: FloatArray, rate_hz: float) -> tuple[FloatArray, FloatArray]:
    """Power spectral density of uniformly sampled positions, summed over the axes: Welch's
    method, Hann windows of 4 s (or the whole run, if shorter), linear detrend.

    Parameters
    ----------
    pos_mm : (n, 3) float array
        Tip positions, mm, uniformly sampled.
    rate_hz : float
        Sampling rate, Hz.

    Returns
    -------
    (f, psd) : (k,) float arrays
        Frequencies, Hz; PSD, mm^2/Hz.
    """
    nper = min(len(pos_mm), int(4 * rate_hz))
    f, psd = signal.welch(pos_mm, fs=rate_hz, nperseg=nper, axis=0, detrend=_detrend_linear)
    return np.asarray(f, dtype=np.float64), np.asarray(psd.sum(axis=1), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Tremor:
    """Tremor estimate: RMS amplitude (mm) in the band and its peak frequency (Hz)."""

    rms_mm: float
    peak_hz: float


def tremor(
    pos_mm: FloatArray,
    rate_hz: float,
    band_hz: tuple[float, float] = TREMOR_BAND_HZ,
    noise_floor_mm: float = 0.0,
) -> Tremor:
    """Tremor of a uniformly sampled trajectory: 4-12 Hz band RMS and peak frequency.

    The RMS is the square root of the Welch power spectral density of the three axes,
    summed and integrated over the band.

    Parameters
    ----------
    pos_mm : (n, 3) float array
        Raw tip positions, mm, uniformly sampled.
    rate_hz : float
        Sampling rate, Hz; the band's upper edge is clipped below Nyquist; NaN values below
        :data:`MIN_TREMOR_RATE_HZ` (for the default band).
    noise_floor_mm : float
        RMS of the tracker's own jitter in the same band (from a still-hand calibration);
        subtracted in quadrature so that camera noise is not reported as tremor.

    Returns
    -------
    Tremor
        NaN values when the trajectory is shorter than 1 s; a NaN ``peak_hz`` when the band
        holds no real peak (see :func:`_band_peak_hz`).
    """
    if len(pos_mm) < max(16, int(rate_hz)) or rate_hz < 2 * 0.95 * band_hz[1]:
        return Tremor(math.nan, math.nan)
    lo, hi = band_hz
    hi = min(hi, rate_hz / 2)
    # The spectrum integrated over the band: a flat, rectangular band, so a tremor near the
    # band's edges is not attenuated the way a band-pass filter would attenuate it, and
    # slow voluntary motion hardly leaks in.
    f, total = position_spectrum(pos_mm, rate_hz)
    band = (f >= lo) & (f <= hi)
    if not np.any(band):
        return Tremor(math.nan, math.nan)
    rms = math.sqrt(float(total[band].sum() * (f[1] - f[0])))
    excess = math.sqrt(max(rms * rms - noise_floor_mm * noise_floor_mm, 0.0))
    return Tremor(excess, _band_peak_hz(f, total, band) if excess > 0.0 else math.nan)


PEAK_PROMINENCE = 3.0
PEAK_SMOOTH_HZ = 1.0


def _band_peak_hz(f: FloatArray, psd: FloatArray, band: NDArray[np.bool_]) -> float:
    """Frequency of a real spectral peak in the band, or NaN when there is none.

    The spectrum is first averaged over ``PEAK_SMOOTH_HZ`` (the ripple of a falling
    spectrum, such as the window leakage of slow voluntary motion, averages out; a tremor
    peak does not). A real peak is a local maximum of that smoothed spectrum inside the band
    (so the falling tail of slow motion, whose maximum sits on the band's lower edge, is not
    one) standing at least ``PEAK_PROMINENCE`` times above the band's median (so flat
    noise, whose maximum is anywhere, is not one either). Its frequency is that of the
    highest raw bin within half the smoothing width.
    """
    df = float(f[1] - f[0])
    k = max(1, int(round(PEAK_SMOOTH_HZ / df)) | 1)  # odd width in bins
    smooth = np.convolve(psd, np.ones(k) / k, mode="same")
    idx = np.flatnonzero(band)
    i = int(idx[np.argmax(smooth[idx])])
    if i == 0 or i == len(psd) - 1 or not (smooth[i] > smooth[i - 1] and smooth[i] > smooth[i + 1]):
        return math.nan
    if smooth[i] < PEAK_PROMINENCE * float(np.median(smooth[idx])):
        return math.nan
    near = np.flatnonzero(np.abs(f - f[i]) <= PEAK_SMOOTH_HZ / 2 + 1e-9)
    return float(f[near[np.argmax(psd[near])]])


@dataclass(frozen=True, slots=True)
class MotionMetrics:
    """Task-independent metrics of one trajectory (see :mod:`sim.metrics.catalog`)."""

    total_time_s: float
    idle_time_s: float
    untracked_time_s: float
    path_length_mm: float
    movements: int
    sparc: float
    ldlj: float
    tremor_rms_mm: float
    tremor_peak_hz: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self.__dataclass_fields__}


def _weighted(values: list[tuple[float, float]]) -> float:
    good = [(v, w) for v, w in values if not math.isnan(v)]
    if not good:
        return math.nan
    return sum(v * w for v, w in good) / sum(w for _, w in good)


def motion_metrics(
    t_s: FloatArray,
    pos_mm: FloatArray,
    tracked: NDArray[np.bool_] | None = None,
    noise_floor_mm: float = 0.0,
    rate_hz: float | None = None,
) -> MotionMetrics:
    """All task-independent metrics of a trajectory.

    Parameters
    ----------
    t_s : (n,) float array
        Sample times, s, increasing.
    pos_mm : (n, 3) float array
        Raw tip positions, mm.
    tracked : (n,) bool array, optional
        False where the tracker lost the hand; those samples are excluded, and the time
        next to them is ``untracked_time_s`` (a gap between two tracked samples is a slow
        frame rate, not a lost hand, and is not counted there).
    noise_floor_mm : float
        Tracker noise floor in the tremor band, mm RMS.
    rate_hz : float, optional
        Rate to resample segments to; defaults to the median rate of ``t_s``.
    """
    t_s = np.asarray(t_s, dtype=np.float64)
    pos_mm = np.asarray(pos_mm, dtype=np.float64).reshape(-1, 3)
    n = len(t_s)
    if tracked is None:
        tracked = np.ones(n, dtype=bool)
    tracked = np.asarray(tracked, dtype=bool)
    total = float(t_s[-1] - t_s[0]) if n > 1 else 0.0
    rate = rate_hz or nominal_rate_hz(t_s) or 60.0
    segs = segments(t_s, tracked)
    covered = sum(float(t_s[s.stop - 1] - t_s[s.start]) for s in segs)
    path = idle = 0.0
    moves = 0
    sparcs: list[tuple[float, float]] = []
    ldljs: list[tuple[float, float]] = []
    tremor_sq: list[tuple[float, float]] = []
    peaks: list[tuple[float, float]] = []
    for s in segs:
        t, p = t_s[s], pos_mm[s]
        dur = float(t[-1] - t[0])
        path += path_length_mm(p)
        u = resample(t, p, rate)
        v = speed_mm_s(u, rate)
        vs = smooth_speed_mm_s(u, rate)
        moves += movement_count(vs, rate)
        idle += idle_time_s(vs, rate)
        sparcs.append((sparc(v, rate), dur))
        ldljs.append((ldlj(v, rate), dur))
        tr = tremor(u, rate, noise_floor_mm=noise_floor_mm)
        tremor_sq.append((tr.rms_mm**2, dur))
        peaks.append((tr.peak_hz, dur))
    tremor_ms = _weighted(tremor_sq)
    # Frames far apart with the hand found both times are a slow camera or computer, not the
    # tracker losing the hand: their time is left out of ``untracked_time_s`` (the smoothness
    # and tremor say "not measured" for a session tracked too slowly, see sim.pipeline).
    slow = 0.0
    if n > 1:
        dt = np.diff(t_s)
        far = tracked[:-1] & tracked[1:] & (dt > MAX_GAP_S)
        slow = float(dt[far].sum())
    return MotionMetrics(
        total_time_s=total,
        idle_time_s=idle,
        untracked_time_s=max(total - covered - slow, 0.0),
        path_length_mm=path,
        movements=moves,
        sparc=_weighted(sparcs),
        ldlj=_weighted(ldljs),
        tremor_rms_mm=math.sqrt(tremor_ms) if not math.isnan(tremor_ms) else math.nan,
        tremor_peak_hz=_weighted(peaks),
    )
