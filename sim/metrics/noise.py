"""How precisely an input measures each quantity: the tracker's noise per scene axis and
per needle angle, and what a metric or cue measured through it can claim.

One webcam sees the image plane well and depth poorly. procsim maps the image plane onto
the scene's side view (x along the arm or wound, y up out of the skin) and the camera's
depth onto z, across the arm: so the noise differs per axis, and a metric that reads z (the
puncture's offset from the vein, a bite's width across the wound) may measure the tracker
rather than the trainee.

Quantities (:data:`QUANTITIES`): ``x``, ``y``, ``z`` (mm) and the needle's ``angle`` (its
pitch to the skin plane) and ``roll`` about its own axis (degrees). The noise of each is
the *jitter* of a still hand: the standard deviation of the reading about its own 0.3 s
running median (:func:`jitter`). That is how far one reading may be off where the hand
really is, which is what a metric read at one moment (a puncture point, an angle at
puncture) inherits; the tremor-band floor (:func:`sim.tracking.calibration.noise_floor_mm`)
is a different figure, the part of that noise that looks like tremor.

A metric or cue names the quantities it reads (``MetricInfo.axes``, ``Rule.axes``); its
uncertainty is the root sum of squares of their noise (:meth:`InputNoise.of`). An axis set by
an assist rather than by the hand (``guided``; see :mod:`sim.tracking.assist`) measures
nothing about the trainee.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

QUANTITIES = ("x", "y", "z", "angle", "roll")
"""The quantities an input measures: the tip on each scene axis (mm), the needle's pitch to
the skin plane and its roll (degrees)."""

UNITS = {"x": "mm", "y": "mm", "z": "mm", "angle": "°", "roll": "°"}

WORDS = {
    "x": "along the arm",
    "y": "up and down",
    "z": "across the arm (depth)",
    "angle": "needle angle",
    "roll": "bevel roll",
}
"""Each quantity in a trainee's words."""


def where(quantities: Iterable[str]) -> str:
    """The quantities in a trainee's words, each once: "across the arm (depth)", "needle
    angle and bevel roll"."""
    return " and ".join(dict.fromkeys(WORDS[q] for q in quantities))


JITTER_WINDOW_S = 0.3
"""Width of the running median a reading's jitter is taken about, s (what the hand does in
0.3 s is the hand's; faster wobble around it is the tracker's: DOMAIN.md's measure)."""

NOISE_MARGIN_SD = 3.0
"""How many standard deviations of noise a cue's threshold rises by (our choice: a reading
that far off from noise alone happens about 3 times in 1000)."""


def jitter(
    t_s: npt.ArrayLike, values: npt.ArrayLike, window_s: float = JITTER_WINDOW_S
) -> tuple[float, ...]:
    """Standard deviation of each column about its centred running median.

    The median is :func:`running_median`'s (a tracker's samples are near-uniform).

    Parameters
    ----------
    t_s : (n,) float array
        Sample times, s, increasing.
    values : (n, k) float array
        Readings (NaN rows are left out).
    window_s : float
        Width of the running median, s.

    Returns
    -------
    tuple of k float
        Jitter of each column, in its unit; NaN with fewer than 3 valid readings.
    """
    t = np.asarray(t_s, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    ok = ~np.isnan(v).any(axis=1)
    t, v = t[ok], v[ok]
    if len(t) < 3:
        return tuple(math.nan for _ in range(v.shape[1]))
    dev = v - running_median(t, v, window_s)
    return tuple(float(x) for x in np.std(dev, axis=0))


def running_median(
    t_s: npt.ArrayLike, values: npt.ArrayLike, window_s: float = JITTER_WINDOW_S
) -> npt.NDArray[np.float64]:
    """Centred running median of each column over about ``window_s``.

    Parameters
    ----------
    t_s : (n,) float array
        Sample times, s, increasing (n >= 3).
    values : (n, k) float array
        Readings, no NaN.
    window_s : float
        Width of the window, s: the largest odd number of samples it spans at the readings'
        median rate (at least 3), mirrored at both ends.

    Returns
    -------
    (n, k) float array
        The medians, in the readings' unit.
    """
    t = np.asarray(t_s, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    dt = np.diff(t)
    dt = dt[dt > 0]
    rate = 1.0 / float(np.median(dt)) if len(dt) else 1.0
    half = max(1, int(window_s * rate / 2))
    half = max(1, min(half, (len(t) - 1) // 2))
    padded = np.pad(v, ((half, half), (0, 0)), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=0)
    return np.asarray(np.median(windows, axis=-1), dtype=np.float64)


def needle_angles_deg(axes: npt.ArrayLike, normals: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The needle's pitch to the skin plane and its roll from bevel-up, degrees.

    Parameters
    ----------
    axes, normals : (n, 3) float arrays
        Unit needle axes and normals in the scene frame (y up out of the skin).

    Returns
    -------
    (n, 2) float array
        Pitch (positive: tip pointing down into the skin) and roll (right-handed about the
        axis, 0 bevel up), degrees; roll is unwrapped so that a turn through ±180 does not
        read as a jump.
    """
    a = np.asarray(axes, dtype=np.float64).reshape(-1, 3)
    n = np.asarray(normals, dtype=np.float64).reshape(-1, 3)
    pitch = np.degrees(np.arcsin(np.clip(-a[:, 1], -1.0, 1.0)))
    up = np.array([0.0, 1.0, 0.0])
    ref = up - a[:, 1:2] * a  # up, perpendicular to the axis
    nrm = n - np.sum(n * a, axis=1, keepdims=True) * a
    s = np.sum(np.cross(ref, nrm) * a, axis=1)
    c = np.sum(ref * nrm, axis=1)
    roll = np.degrees(np.unwrap(np.arctan2(s, c)))
    return np.column_stack([pitch, roll])


def measure_noise(
    t_s: npt.ArrayLike, tip_mm: npt.ArrayLike, axes: npt.ArrayLike, normals: npt.ArrayLike
) -> InputNoise:
    """The noise of each quantity over a stretch of readings: the jitter of the tip on each
    scene axis and of the needle's pitch and roll (:func:`jitter`). Over a still-hand hold
    (calibration) that is the tracker's; over a moving hand, an upper bound on it.

    Parameters
    ----------
    t_s : (n,) float array
        Sample times, s, increasing.
    tip_mm : (n, 3) float array
        Tip positions, mm (x along the arm, y up, z across it: the camera's depth).
    axes, normals : (n, 3) float arrays
        Needle axes and normals.

    Returns
    -------
    InputNoise
        NaN figures with fewer than 3 readings.
    """
    x, y, z = jitter(t_s, tip_mm)
    pitch, roll = jitter(t_s, needle_angles_deg(axes, normals))
    return InputNoise(x, y, z, pitch, roll)


@dataclass(frozen=True, slots=True)
class InputNoise:
    """The noise of each quantity in one session (1 SD of a reading), and the axes an assist
    sets instead of the hand.

    Attributes
    ----------
    x_mm, y_mm, z_mm : float
        Tip jitter along the arm, up and across the arm (camera depth), mm.
    angle_deg, roll_deg : float
        Jitter of the needle's pitch and roll, degrees.
    guided : frozenset of str
        Quantities set by an assist (e.g. ``{"z"}`` when the aim across the arm snaps to the
        vein): the trainee's hand does not decide them.
    """

    x_mm: float = 0.0
    y_mm: float = 0.0
    z_mm: float = 0.0
    angle_deg: float = 0.0
    roll_deg: float = 0.0
    guided: frozenset[str] = field(default_factory=frozenset)

    def value(self, quantity: str) -> float:
        """The noise of one quantity (:data:`QUANTITIES`), in its unit."""
        return float(getattr(self, f"{quantity}_{'deg' if UNITS[quantity] == '°' else 'mm'}"))

    def of(self, quantities: Iterable[str]) -> float:
        """Uncertainty of a value that reads ``quantities`` (all in one unit): the root sum
        of squares of their noise; 0 for none."""
        return math.sqrt(sum(self.value(q) ** 2 for q in quantities))

    def guides(self, quantities: Iterable[str]) -> tuple[str, ...]:
        """The ones of ``quantities`` an assist sets."""
        return tuple(q for q in quantities if q in self.guided)

    @property
    def exact(self) -> bool:
        """No noise on any quantity (mouse, scripted trainee)."""
        return not any(self.value(q) for q in QUANTITIES)

    def words(self) -> str:
        """The noise in a trainee's words: "tracker noise: along the arm ±0.2 mm, ...;
        needle angle ±0.8°, bevel roll ±3°" (a guided axis says so)."""
        parts = []
        for q in QUANTITIES:
            if q in self.guided:
                parts.append(f"{WORDS[q]} guided")
            elif UNITS[q] == "mm":
                parts.append(f"{WORDS[q]} ±{self.value(q):.1f} mm")
            else:
                parts.append(f"{WORDS[q]} ±{self.value(q):.0f}°")
        return "tracker noise: " + ", ".join(parts)

    def as_header(self) -> dict[str, object]:
        """The per-quantity part of a recording's ``calibration`` block."""
        return {
            "noise_floor_axes_mm": [self.x_mm, self.y_mm, self.z_mm],
            "noise_floor_angle_deg": self.angle_deg,
            "noise_floor_roll_deg": self.roll_deg,
            "guided": sorted(self.guided),
        }

    @classmethod
    def from_header(cls, cal: Mapping[str, object]) -> InputNoise | None:
        """The noise a ``calibration`` block records; None when it records none (mouse,
        skipped calibration, recordings from before per-axis noise). Values are assumed
        checked (:func:`check_header`)."""
        axes = cal.get("noise_floor_axes_mm")
        if not isinstance(axes, Sequence) or len(axes) != 3:
            return None
        ang = cal.get("noise_floor_angle_deg")
        roll = cal.get("noise_floor_roll_deg")
        guided = cal.get("guided")
        return cls(
            float(axes[0]),  # type: ignore[arg-type]
            float(axes[1]),  # type: ignore[arg-type]
            float(axes[2]),  # type: ignore[arg-type]
            float(ang) if isinstance(ang, (int, float)) else 0.0,
            float(roll) if isinstance(roll, (int, float)) else 0.0,
            frozenset(str(g) for g in guided) if isinstance(guided, list) else frozenset(),
        )


EXACT = InputNoise()
"""An input that reads every quantity exactly (the mouse pointer, a scripted trainee)."""

MAX_NOISE_MM = 1000.0
MAX_NOISE_DEG = 360.0


def check_header(cal: Mapping[str, object]) -> str | None:
    """What is wrong with the per-quantity noise of a ``calibration`` block (one phrase
    naming the field), or None when it is absent or fine."""
    axes = cal.get("noise_floor_axes_mm")
    if axes is not None:
        if not isinstance(axes, list) or len(axes) != 3:
            return "'calibration.noise_floor_axes_mm': expected a list of 3 numbers"
        for v in axes:
            if not _number_in(v, MAX_NOISE_MM):
                return (
                    "'calibration.noise_floor_axes_mm': expected 3 numbers from 0 to "
                    f"{MAX_NOISE_MM:g} mm, got {v!r}"
                )
    for key in ("noise_floor_angle_deg", "noise_floor_roll_deg"):
        v = cal.get(key)
        if v is not None and not _number_in(v, MAX_NOISE_DEG):
            return f"'calibration.{key}': expected a number from 0 to {MAX_NOISE_DEG:g}, got {v!r}"
    guided = cal.get("guided")
    if guided is not None and (
        not isinstance(guided, list) or any(g not in QUANTITIES for g in guided)
    ):
        return f"'calibration.guided': expected a list of {', '.join(QUANTITIES)}"
    return None


def _number_in(v: object, hi: float) -> bool:
    return (
        isinstance(v, (int, float))
        and not isinstance(v, bool)
        and math.isfinite(v)
        and 0.0 <= v <= hi
    )
