"""Image conditions for the tracking audit: the same camera frame as a station with a worse
camera, worse light or the other hand would have given it.

Each condition is a pure, deterministic function of a BGR uint8 frame (``(h, w, 3)``, as
OpenCV reads it) and the frame's index in its video, returning a new frame of the same shape
and dtype. ``procsim audit-tracking`` runs the real tracker on every condition of every frame
and compares the figures against ``original``.

Conditions (:data:`CONDITIONS`, in report order):

``original``
    The frame as recorded.
``mirrored``
    Flipped left to right: the same motion made by the other hand (a left-handed trainee
    seen by the same camera).
``dim``
    A quarter of the light: every pixel's *linear* light (the sRGB-like encoding undone with
    a power law of :attr:`ConditionParams.gamma`) times :attr:`ConditionParams.dim_exposure`,
    then encoded again. In encoded pixel values that is a factor of ``0.25 ** (1 / 2.2)``
    (about 0.53), what a camera whose auto-exposure has run out of range records.
``backlit``
    A bright window behind the hand, the camera exposing for it: a global tone curve
    ``out = min(1, gain * in ** power)`` on encoded values in [0, 1] that darkens the mid
    tones where skin usually sits and blows out the highlights. It is a global curve (no
    spatial model of where the light is): every pixel below ``gain ** (-1 / (power - 1))``
    (0.71 with the defaults) gets darker, every pixel above it brighter, and everything above
    ``gain ** (-1 / power)`` (0.79) clips to white.
``low_contrast``
    Haze or a washed-out camera: each channel pulled toward the frame's mean grey by
    :attr:`ConditionParams.contrast` (the luminance spread becomes that fraction of the
    original's, the mean stays).
``blur``
    Motion blur: the frame averaged along a straight line of
    :attr:`ConditionParams.blur_length_px` pixels at :attr:`ConditionParams.blur_angle_deg`
    (0 = horizontal), what a hand moving during a long exposure in poor light leaves.
``low_resolution``
    A 320x180 camera: the frame scaled (area averaging) to
    :attr:`ConditionParams.low_resolution_px` pixels high, keeping its aspect (320x180 for a
    16:9 video), and back up to its own size (bilinear), so the tracker sees no detail finer
    than the small camera could record.
``noise``
    Sensor noise: Gaussian, :attr:`ConditionParams.noise_sd` grey levels, independent per
    pixel and channel, seeded by (:attr:`ConditionParams.noise_seed`, frame index) so that a
    run is repeatable.
``warm`` / ``cool``
    White balance off towards tungsten light (red up, blue down by
    :attr:`ConditionParams.white_balance`) or towards daylight shade (blue up, red down).

Every number lives in :class:`ConditionParams` with where it comes from; the issue that
asked for the audit (issue 14) fixed two of them (a quarter of the exposure, 320x180), the
rest are our choice and say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
"""A BGR uint8 frame, (h, w, 3)."""


@dataclass(frozen=True, slots=True)
class ConditionParams:
    """The tunable numbers of the image conditions, each with its source.

    Attributes
    ----------
    dim_exposure : float
        Fraction of the light in ``dim`` (linear light). Issue 14: "exposure reduced to a
        quarter".
    gamma : float
        Power law between linear light and pixel values (sRGB is close to 2.2 overall).
        The sRGB standard's approximate exponent; our choice to use the plain power law.
    backlit_gain : float
        Gain of the ``backlit`` curve: sets where highlights clip (``gain ** (-1/power)`` of
        full scale). Our choice (a background window blown to white, 0.79 and up).
    backlit_power : float
        Exponent of the ``backlit`` curve: how hard the mid tones darken (mid grey 0.5 goes
        to 0.25 with the defaults). Our choice.
    contrast : float
        Fraction of the luminance spread ``low_contrast`` keeps. Our choice.
    blur_length_px : int
        Length of the motion-blur streak, pixels of the frame as recorded. Our choice: at
        about 1 px per mm (a 640-px frame over 60 cm of workspace) a hand moving 0.5 m/s
        during a 1/30 s exposure smears about 15 mm.
    blur_angle_deg : float
        Direction of the streak, degrees counter-clockwise from horizontal. Our choice
        (hands in the training tasks move mostly along the arm, across the image).
    low_resolution_px : int
        Frame height of ``low_resolution``, pixels. Issue 14: "low resolution (320x180)".
    noise_sd : float
        Standard deviation of ``noise``, grey levels (0-255). Our choice: a cheap webcam's
        noise in a dim room is a few to ten grey levels.
    noise_seed : int
        Base seed of ``noise`` (with the frame index). Our choice.
    white_balance : float
        Relative gain change of the red and blue channels in ``warm`` and ``cool``. Our
        choice (a 20 % cast is an obviously orange or blue picture, as under a desk lamp or
        a north window with the camera's white balance fixed).
    """

    dim_exposure: float = 0.25
    gamma: float = 2.2
    backlit_gain: float = 2.0
    backlit_power: float = 3.0
    contrast: float = 0.4
    blur_length_px: int = 15
    blur_angle_deg: float = 0.0
    low_resolution_px: int = 180
    noise_sd: float = 8.0
    noise_seed: int = 14
    white_balance: float = 0.2


PARAMS = ConditionParams()
"""The defaults the audit uses."""


def _lut(fn: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]) -> Frame:
    """A 256-entry lookup table from a curve on [0, 1] (rounded, clipped)."""
    x = np.arange(256, dtype=np.float64) / 255.0
    return np.clip(np.round(fn(x) * 255.0), 0, 255).astype(np.uint8)


def original(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """The frame as recorded (a copy)."""
    return frame.copy()


def mirrored(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """The frame flipped left to right: the other hand."""
    return np.ascontiguousarray(frame[:, ::-1])


def dim(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """``p.dim_exposure`` of the light, in linear light through ``p.gamma``."""
    g = p.gamma
    lut = _lut(lambda x: (p.dim_exposure * x**g) ** (1.0 / g))
    return lut[frame]


def backlit(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """The backlit tone curve ``min(1, gain * x ** power)`` (mid tones darker, highlights
    blown)."""
    lut = _lut(lambda x: np.minimum(1.0, p.backlit_gain * x**p.backlit_power))
    return lut[frame]


def luminance(frame: Frame) -> npt.NDArray[np.float64]:
    """Rec. 601 luma of a BGR frame, grey levels (what ``cv2.COLOR_BGR2GRAY`` computes),
    as floats."""
    f = frame.astype(np.float64)
    return 0.114 * f[..., 0] + 0.587 * f[..., 1] + 0.299 * f[..., 2]


def low_contrast(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """Every pixel pulled toward the frame's mean luma by ``p.contrast``."""
    mean = float(luminance(frame).mean())
    out = mean + p.contrast * (frame.astype(np.float64) - mean)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def motion_kernel(length_px: int, angle_deg: float) -> npt.NDArray[np.float32]:
    """A normalised line kernel ``length_px`` long through its centre at ``angle_deg``."""
    n = max(1, int(length_px))
    size = n if n % 2 else n + 1
    k = np.zeros((size, size), np.float32)
    c = (size - 1) / 2.0
    a = np.radians(angle_deg)
    # sample the line densely and splat onto the nearest pixels
    for s in np.linspace(-(n - 1) / 2.0, (n - 1) / 2.0, 4 * n):
        x = int(round(c + s * np.cos(a)))
        y = int(round(c - s * np.sin(a)))
        k[y, x] = 1.0
    return k / k.sum()


def blur(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """Motion blur along ``p.blur_angle_deg`` over ``p.blur_length_px`` pixels."""
    import cv2

    k = motion_kernel(p.blur_length_px, p.blur_angle_deg)
    return np.asarray(cv2.filter2D(frame, -1, k, borderType=cv2.BORDER_REFLECT), dtype=np.uint8)


def low_resolution(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """Down to ``p.low_resolution_px`` high (aspect kept) and back up to the frame's size."""
    import cv2

    h, w = frame.shape[:2]
    small_h = min(h, p.low_resolution_px)
    small_w = max(1, round(w * small_h / h))
    small = cv2.resize(frame, (small_w, small_h), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


def noise(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """Gaussian sensor noise of ``p.noise_sd`` grey levels, seeded by the frame index."""
    rng = np.random.default_rng((p.noise_seed, index))
    out = frame.astype(np.float64) + rng.normal(0.0, p.noise_sd, frame.shape)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _balance(frame: Frame, red: float, blue: float) -> Frame:
    gains = np.array([blue, 1.0, red])  # BGR
    out = frame.astype(np.float64) * gains
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def warm(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """Red up and blue down by ``p.white_balance`` (tungsten cast)."""
    return _balance(frame, 1.0 + p.white_balance, 1.0 - p.white_balance)


def cool(frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """Blue up and red down by ``p.white_balance`` (shade or daylight cast)."""
    return _balance(frame, 1.0 - p.white_balance, 1.0 + p.white_balance)


Condition = Callable[[Frame, int, ConditionParams], Frame]

CONDITIONS: dict[str, Condition] = {
    "original": original,
    "mirrored": mirrored,
    "dim": dim,
    "backlit": backlit,
    "low_contrast": low_contrast,
    "blur": blur,
    "low_resolution": low_resolution,
    "noise": noise,
    "warm": warm,
    "cool": cool,
}
"""Every condition by name, in report order."""

DESCRIPTIONS: dict[str, str] = {
    "original": "the video as recorded",
    "mirrored": "the image flipped left to right (a right hand looks like a left one), "
    "tracked as the other hand",
    "dim": f"a quarter of the light (linear, gamma {PARAMS.gamma:g})",
    "backlit": "bright background, dark hand (mid tones darkened, highlights blown)",
    "low_contrast": f"contrast cut to {PARAMS.contrast:.0%} (haze, washed-out camera)",
    "blur": f"motion blur over {PARAMS.blur_length_px} px",
    "low_resolution": f"a camera {PARAMS.low_resolution_px} pixels high (320x180 at 16:9)",
    "noise": f"sensor noise, {PARAMS.noise_sd:g} grey levels SD",
    "warm": f"white balance {PARAMS.white_balance:.0%} warm (tungsten)",
    "cool": f"white balance {PARAMS.white_balance:.0%} cool (shade)",
}
"""Each condition in a lab manager's words."""


def apply(name: str, frame: Frame, index: int = 0, p: ConditionParams = PARAMS) -> Frame:
    """Apply the condition called ``name`` (a key of :data:`CONDITIONS`) to ``frame``.

    Raises
    ------
    KeyError
        For an unknown name.
    """
    return CONDITIONS[name](frame, index, p)
