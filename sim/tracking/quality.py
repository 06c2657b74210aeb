"""Whether the camera sees the hand well enough to track it: the judgement, in words.

Pure (numpy, no image library): the figures come from
:func:`sim.tracking.hand_image.measure_hand_image` (the light on the hand and its
sharpness, over the calibration hold) and from the hold's noise floor
(:func:`sim.tracking.calibration.noise_floor_mm`); :func:`judge` compares them with
:class:`ConditionLimits`, the one place the thresholds live, and returns the
:class:`PoorCondition` found, each with the fix a trainee can make before the session.

Hand trackers lose accuracy in dim and backlit rooms and on blurred frames (issue 14's
audit, ``procsim audit-tracking``, measures by how much); a score from such a session is
less trustworthy, so the calibration screen says so, the recording keeps it
(``calibration.conditions``, docs/recording-format.md) and the report shows "tracked in
poor conditions" with which ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from sim.metrics.motion import MIN_TREMOR_RATE_HZ


@dataclass(frozen=True, slots=True)
class HandImage:
    """How the camera saw the hand (one frame, or the median over the hold).

    Attributes
    ----------
    luma_mean : float
        Mean luminance in the hand's region, 0-255 (BT.601 grey).
    luma_sd : float
        Standard deviation of luminance there, 0-255 (its spread: the hand's contrast).
    scene_luma_mean : float
        Mean luminance of the whole frame, 0-255.
    blur : float
        Blur index of the hand's region resized to the tracker's own input size, 0 (sharp)
        to 1 (flat) (:func:`sim.tracking.hand_image.blur_index`): alike for a near and a
        far hand, a bright and a dim one.
    hand_px : float
        Longer side of the hand's region, px.
    """

    luma_mean: float
    luma_sd: float
    scene_luma_mean: float
    blur: float
    hand_px: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HandImage | None:
        """From a recording header's ``calibration.conditions`` (None when a figure is
        missing or not a finite number)."""
        try:
            vals = [float(d[k]) for k in cls.__dataclass_fields__]
        except (KeyError, TypeError, ValueError):
            return None
        return cls(*vals) if all(math.isfinite(v) for v in vals) else None


@dataclass(frozen=True, slots=True)
class ConditionLimits:
    """Where tracking stops being trustworthy (the one place these thresholds live;
    docs/tracking.md "Calibration: the conditions" lists them with their sources).

    The figures of the shared real videos (``../shared/data/hands``), as recorded and under
    the audit's conditions (:mod:`sim.tracking.conditions`), are in docs/tracking.md; each
    limit lies between the recorded videos and the degraded ones.

    Attributes
    ----------
    min_luma : float
        Darkest mean luminance on the hand, 0-255 ("dim").
    min_luma_vs_scene : float
        Smallest ratio of the hand's mean luminance to the frame's ("backlit": a bright
        background and a dark hand; the camera's auto-exposure then darkens the hand
        further).
    min_luma_sd : float
        Smallest spread of luminance on the hand, 0-255 ("low_contrast").
    max_blur : float
        Largest blur index (:attr:`HandImage.blur`) ("blur").
    max_noise_floor_mm : float
        Largest tremor-band noise floor of the still hold, mm RMS ("unsteady").
    min_rate_hz : float
        Fewest frames tracked per second over the hold ("slow": a busy or slow computer, or
        a camera giving few frames).
    """

    # measured (tools/hand_conditions.py, docs/tracking.md): the hands as recorded 85-193,
    # under the audit's "dim" 46-102; 70 flags the darker video's dimmed hand (46-57) and
    # no recorded one (the brighter video dimmed, 102, is still well lit)
    min_luma: float = 70.0
    # our choice: the audit's "backlit" is a global tone curve that keeps the hand's ratio to
    # the frame (1.2-4.6, recorded 1.0-3.5); a hand under 60 % of the frame's mean is one in
    # front of a window
    min_luma_vs_scene: float = 0.6
    # measured: recorded hands 22-52; "low_contrast" 9-21, "dim" 12-27: 14 flags the pale
    # hand against a white wall once contrast or light is cut, no recorded hand
    min_luma_sd: float = 14.0
    # measured on held stretches (what a calibration hold is): recorded 0.50-0.55, "blur"
    # 0.72-0.80 (a hand moving fast as recorded reaches 0.65: its own motion blur)
    max_blur: float = 0.65
    # the tremor metric's novice value in every shipped scenario (1.0 mm): a floor that high
    # leaves the metric unable to tell a novice's tremor from the camera's (still real hand:
    # 0.3 mm)
    max_noise_floor_mm: float = 1.0
    # the lowest rate the tremor metric is measured at (sim.metrics.motion.MIN_TREMOR_RATE_HZ,
    # 22.8 Hz: the 4-12 Hz band's top at 95 % of the Nyquist limit); below it tremor and the
    # noise floor are "not measured", and smoothness with them
    min_rate_hz: float = MIN_TREMOR_RATE_HZ


DEFAULT_LIMITS = ConditionLimits()


def median_image(images: Sequence[HandImage]) -> HandImage | None:
    """The median of each figure over a hold's frames (None for no frames)."""
    if not images:
        return None
    names = [f.name for f in fields(HandImage)]
    a = np.array([[getattr(m, k) for k in names] for m in images], dtype=np.float64)
    return HandImage(*(float(v) for v in np.median(a, axis=0)))


POOR_WORDS = {
    "dim": "too dark on the hand",
    "backlit": "light behind the hand",
    "low_contrast": "little contrast on the hand",
    "blur": "blurred image",
    "unsteady": "unsteady tracking",
    "slow": "too few frames per second tracked",
}
"""Each poor condition in a few words (the report's "tracked in poor conditions: ...")."""


@dataclass(frozen=True, slots=True)
class PoorCondition:
    """One reason tracking would be unreliable, with its fix.

    Attributes
    ----------
    name : str
        A key of :data:`POOR_WORDS`.
    message : str
        What is wrong and what to do, for the trainee, one sentence.
    """

    name: str
    message: str

    @property
    def words(self) -> str:
        return POOR_WORDS[self.name]


def judge(
    image: HandImage | None,
    noise_floor_mm: float,
    limits: ConditionLimits = DEFAULT_LIMITS,
    rate_hz: float = math.nan,
) -> tuple[PoorCondition, ...]:
    """The conditions under which tracking would be unreliable, worst-first.

    Parameters
    ----------
    image : HandImage or None
        The hand as seen over the hold (None: not measured; only the floor is judged).
    noise_floor_mm : float
        The hold's noise floor, mm RMS (NaN: not measured).
    limits : ConditionLimits
        The thresholds.
    rate_hz : float
        Frames tracked per second over the hold (NaN: not measured; not judged).
    """
    out: list[PoorCondition] = []
    if image is not None:
        if image.luma_mean < limits.min_luma:
            out.append(
                PoorCondition(
                    "dim", "Too dark on your hand: add light in front of you, not behind."
                )
            )
        elif image.luma_mean < limits.min_luma_vs_scene * image.scene_luma_mean:
            out.append(
                PoorCondition(
                    "backlit",
                    "Your hand is darker than what is behind it: face the light, or add a "
                    "lamp in front of you and turn away from the window.",
                )
            )
        elif image.luma_sd < limits.min_luma_sd:
            out.append(
                PoorCondition(
                    "low_contrast",
                    "Your hand hardly stands out: light it from the front and hold it "
                    "against a plain background darker or lighter than your skin.",
                )
            )
        if image.blur > limits.max_blur:
            out.append(
                PoorCondition(
                    "blur",
                    "The image is blurred: wipe the camera lens, let it focus (hold still "
                    "at your working distance), and add light so it exposes faster.",
                )
            )
    if math.isfinite(rate_hz) and rate_hz < limits.min_rate_hz:
        out.append(
            PoorCondition(
                "slow",
                f"Only {rate_hz:.0f} frames/s tracked (needs {limits.min_rate_hz:.0f}), so "
                "tremor and smoothness will not be measured: close other programs, use a "
                "faster computer, or set the camera to a lower resolution.",
            )
        )
    if math.isfinite(noise_floor_mm) and noise_floor_mm > limits.max_noise_floor_mm:
        out.append(
            PoorCondition(
                "unsteady",
                f"Tracking is unsteady (noise floor {noise_floor_mm:.1f} mm): add light, rest "
                "your forearm on the table, and bring the camera closer or set it to 720p.",
            )
        )
    return tuple(out)


def poor_words(names: Sequence[str]) -> str:
    """The report's line: "Tracked in poor conditions: too dark on the hand, blurred image"
    (empty for none; unknown names, from a newer version, are shown as they are)."""
    if not names:
        return ""
    return "Tracked in poor conditions: " + ", ".join(
        POOR_WORDS.get(n, n.replace("_", " ")) for n in names
    )
