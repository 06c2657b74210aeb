"""Calibration: the tracker's noise floor in the tremor band, and the workspace mapping.

The guided step (:class:`CalibrationSession`) asks the trainee to hold the needle still,
bevel up, where they want the task site, for about 5 s. From that hold it derives:

- the noise floor: RMS of the tip in the 4-12 Hz tremor band
  (:func:`sim.metrics.motion.tremor`) while the hand is as still as it gets. A webcam
  tracker jitters by millimetres, far above real surgical tremor (tens of micrometres), so
  the tremor metric reports only what exceeds this floor;
- the workspace: the hand's position becomes the scene's working point, its size the
  zero of depth, and the image scale at that distance (from a typical palm size) sets the
  scene millimetres per image width;
- a roll offset so that the calibration pose reads as bevel up;
- how well the camera sees the hand: the light on it and its sharpness
  (:mod:`sim.tracking.hand_image`, measured by the screen on the hold's frames and handed in
  with :meth:`CalibrationSession.observe`), judged with the noise floor against
  :class:`sim.tracking.quality.ConditionLimits` into the poor conditions the trainee is told
  of before the session (:attr:`CalibrationResult.poor`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from sim.core.records import Sample
from sim.metrics.motion import MAX_GAP_S, nominal_rate_hz, resample, tremor
from sim.metrics.noise import InputNoise, measure_noise
from sim.tracking.hand import FloatArray, hand_size, to_iso
from sim.tracking.pose import DEFAULT_CENTRE_MM, DEFAULT_HFOV_DEG, Workspace, hand_pose
from sim.tracking.quality import (
    DEFAULT_LIMITS,
    ConditionLimits,
    HandImage,
    PoorCondition,
    judge,
    median_image,
)
from sim.tracking.tracker import landmarks_from_raw

#: Mean palm segment length of an adult hand, mm (MediaPipe's metric hand model gives
#: 81-87 mm on our test footage).
PALM_MM = 85.0
#: Scene mm per mm of real hand motion after calibration: below 1 so that the needle moves
#: finely and the whole task fits in a comfortable range of arm motion.
DEFAULT_MOTION_GAIN = 0.5


def noise_floor_mm(t_s: FloatArray, tip_mm: FloatArray, rate_hz: float | None = None) -> float:
    """Tracker noise floor: tremor-band (4-12 Hz) RMS of a still-hand stretch, mm.

    Parameters
    ----------
    t_s : (n,) float array
        Sample times, s, increasing (a single stretch without tracking gaps).
    tip_mm : (n, 3) float array
        Raw tip positions, mm.
    rate_hz : float, optional
        Rate to resample to before filtering; default, and what the tremor metric uses: the
        stretch's own median rate, so that floor and metric are measured alike.

    Returns
    -------
    float
        RMS, mm; NaN when the stretch is shorter than 1 s.
    """
    t = np.asarray(t_s, dtype=np.float64)
    p = np.asarray(tip_mm, dtype=np.float64).reshape(-1, 3)
    if len(t) < 2:
        return math.nan
    rate = rate_hz or nominal_rate_hz(t)
    return tremor(resample(t, p, rate), rate).rms_mm


def workspace_from_hold(
    landmarks: FloatArray,
    aspect: float,
    base: Workspace,
    centre_mm: tuple[float, float, float] = DEFAULT_CENTRE_MM,
    gain: float = DEFAULT_MOTION_GAIN,
    hfov_deg: float = DEFAULT_HFOV_DEG,
) -> Workspace:
    """Workspace that puts a held hand at ``centre_mm`` with real motion scaled by ``gain``.

    Parameters
    ----------
    landmarks : (n, 21, 3) float array
        Image landmarks of the still hand over the hold.
    aspect : float
        Image height / width.
    base : Workspace
        Mapping to refine (its mirroring is kept).
    centre_mm : tuple of 3 float
        Scene point where the held hand's pinch point should be, mm.
    gain : float
        Scene mm per real mm (real size from :data:`PALM_MM`).
    hfov_deg : float
        The camera's horizontal field of view, degrees (for depth from hand size).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    isos = [to_iso(x, aspect) for x in lm]
    size = float(np.median([hand_size(p) for p in isos]))
    mm_per_width = gain * PALM_MM / max(size, 1e-6)
    ws = replace(
        base,
        origin_xy=(0.5, 0.5),
        centre_mm=(0.0, 0.0, 0.0),
        mm_per_width=mm_per_width,
        ref_size=size,
        depth_mm_per_unit=mm_per_width * 0.5 / math.tan(math.radians(hfov_deg / 2)),
    )
    # Where the pinch point lands with the centre at 0: shift so that it lands on centre_mm.
    tips = np.array([hand_pose(x, aspect, ws).tip_mm for x in lm])  # type: ignore[union-attr]
    tip = np.median(tips, axis=0)
    dx, dy = tip[0] / mm_per_width, -tip[1] / mm_per_width
    origin = (0.5 + dx, 0.5 + dy / aspect)
    # The pinch point's own depth relative to the palm is kept out of the working point.
    centre = (centre_mm[0], centre_mm[1], centre_mm[2] - float(tip[2]))
    return replace(ws, origin_xy=(float(origin[0]), float(origin[1])), centre_mm=centre)


def roll_offset_deg(axes: FloatArray, normals: FloatArray) -> float:
    """Roll offset that makes the mean pose of a hold read as bevel up, degrees.

    Parameters
    ----------
    axes, normals : (n, 3) float arrays
        Needle axes and normals over the hold (with no roll offset).

    Returns
    -------
    float
        Right-handed turn about the axis from the mean normal to scene up (projected
        perpendicular to the axis); 0 when the needle points straight up or down.
    """
    a = np.mean(axes, axis=0)
    a /= max(float(np.linalg.norm(a)), 1e-12)
    n = np.mean(normals, axis=0)
    n = n - np.dot(n, a) * a
    up = np.array([0.0, 1.0, 0.0]) - a[1] * a
    if np.linalg.norm(up) < 0.2 or np.linalg.norm(n) < 1e-9:
        return 0.0
    return math.degrees(math.atan2(float(np.dot(np.cross(n, up), a)), float(np.dot(n, up))))


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """Outcome of a still-hand hold.

    Attributes
    ----------
    noise_floor_mm : float
        Tracker noise floor in the tremor band, mm RMS (pass to ``Pipeline``).
    noise : InputNoise
        How far one reading may be off on each scene axis and needle angle (see
        :func:`sim.metrics.noise.measure_noise`).
    workspace : Workspace
        Calibrated camera-to-scene mapping (pass to ``CameraSource.apply_calibration``).
    roll_offset_deg : float
        Roll offset, degrees.
    duration_s : float
        Length of the hold used, s.
    samples : int
        Frames in it.
    image : HandImage or None
        How the camera saw the hand over the hold (the median of its frames); None when no
        frame was measured.
    poor : tuple of PoorCondition
        The conditions under which tracking would be unreliable (empty when none), from
        :func:`sim.tracking.quality.judge`.
    """

    noise_floor_mm: float
    noise: InputNoise
    workspace: Workspace
    roll_offset_deg: float
    duration_s: float
    samples: int
    image: HandImage | None = None
    poor: tuple[PoorCondition, ...] = field(default=())

    @property
    def rate_hz(self) -> float:
        """Frames tracked per second over the hold."""
        return (self.samples - 1) / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def tremor_floor_mm(self) -> float:
        """The floor to subtract from tremor: ``noise_floor_mm``, or 0 when the hold's
        frame rate was too low for the 4-12 Hz band (the tremor metric is then not measured
        at that rate either)."""
        return self.noise_floor_mm if math.isfinite(self.noise_floor_mm) else 0.0

    def as_header(self) -> dict[str, object]:
        """The ``calibration`` block of a recording header."""
        return {
            "noise_floor_mm": self.noise_floor_mm,
            **self.noise.as_header(),
            "workspace": self.workspace.as_dict(),
            "roll_offset_deg": self.roll_offset_deg,
            "hold_s": self.duration_s,
            "hold_samples": self.samples,
            "conditions": {
                **(self.image.as_dict() if self.image is not None else {}),
                "poor": [p.name for p in self.poor],
            },
        }


def calibrate_hold(
    t_s: FloatArray,
    landmarks: FloatArray,
    aspect: float,
    base: Workspace,
    hand: str = "right",
    rate_hz: float | None = None,
    centre_mm: tuple[float, float, float] = DEFAULT_CENTRE_MM,
    gain: float = DEFAULT_MOTION_GAIN,
    images: Sequence[HandImage] = (),
    limits: ConditionLimits = DEFAULT_LIMITS,
) -> CalibrationResult:
    """Workspace, roll offset, noise floor and conditions from one still-hand hold.

    Parameters
    ----------
    t_s : (n,) float array
        Frame times, s.
    landmarks : (n, 21, 3) float array
        Image landmarks of the driving hand.
    aspect : float
        Image height / width.
    base : Workspace
        Mapping to refine.
    hand : {"right", "left"}
        The driving hand.
    rate_hz : float, optional
        Rate to measure the floor at; default the samples' own, see :func:`noise_floor_mm`.
    centre_mm, gain
        See :func:`workspace_from_hold`.
    images : sequence of HandImage
        The hand as measured in the hold's frames (their median is judged; none: only the
        noise floor is).
    limits : ConditionLimits
        The thresholds of the poor conditions.
    """
    t = np.asarray(t_s, dtype=np.float64)
    lm = np.asarray(landmarks, dtype=np.float64)
    ws = workspace_from_hold(lm, aspect, base, centre_mm, gain)
    poses = [hand_pose(x, aspect, ws, hand) for x in lm]
    good = [p for p in poses if p is not None]
    roll = roll_offset_deg(np.array([p.axis for p in good]), np.array([p.normal for p in good]))
    ok = np.array([p is not None for p in poses], dtype=bool)
    tips = np.array([p.tip_mm for p in good]).reshape(-1, 3)
    floor = noise_floor_mm(t[ok], tips, rate_hz)
    # jitter about a running median: the same with or without the constant roll offset
    noise = measure_noise(
        t[ok],
        tips,
        np.array([p.axis for p in good]).reshape(-1, 3),
        np.array([p.normal for p in good]).reshape(-1, 3),
    )
    image = median_image(images)
    rate = nominal_rate_hz(t) if len(t) > 1 else math.nan  # as the tremor metric judges it
    poor = judge(image, floor, limits, rate_hz=rate)
    return CalibrationResult(floor, noise, ws, roll, float(t[-1] - t[0]), len(t), image, poor)


class CalibrationStep(str, Enum):
    """Where the guided calibration is."""

    WAIT_HAND = "wait_hand"
    HOLD = "hold"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class CalibrationStatus:
    """What the calibration screen shows: the step, a 0-1 progress bar and one line."""

    step: CalibrationStep
    progress: float
    message: str


class CalibrationSession:
    """The guided calibration step, fed with the tracker's Samples.

    The app shows :attr:`status` (message and progress bar) over the camera view and
    feeds every polled Sample to :meth:`update`; when :attr:`result` is set it applies it.
    The hold restarts when the hand is lost for longer than a tracking gap
    (:data:`sim.metrics.motion.MAX_GAP_S`) or moves more than ``max_motion_mm`` in the image
    plane (scene x and y; the camera's depth is too noisy to judge stillness by).

    Parameters
    ----------
    aspect : float
        Image height / width of the camera frames.
    base : Workspace
        The mapping in use (Samples' ``tip_mm`` are in it).
    hand : {"right", "left"}
        The driving hand.
    hold_s : float
        Length of the still hold, s.
    max_motion_mm : float
        How far the tip may wander from where the hold started, in the image plane (in
        ``base``'s mm).
    rate_hz : float, optional
        Rate to measure the floor at; default the samples' own.
    limits : ConditionLimits
        The thresholds of the poor conditions (:mod:`sim.tracking.quality`).
    """

    def __init__(
        self,
        aspect: float,
        base: Workspace,
        hand: str = "right",
        hold_s: float = 5.0,
        max_motion_mm: float = 15.0,
        rate_hz: float | None = None,
        limits: ConditionLimits = DEFAULT_LIMITS,
    ) -> None:
        self.aspect, self.base, self.hand = aspect, base, hand
        self.hold_s, self.max_motion_mm, self.rate_hz = hold_s, max_motion_mm, rate_hz
        self.limits = limits
        self.result: CalibrationResult | None = None
        self._t: list[float] = []
        self._lm: list[FloatArray] = []
        self._images: list[HandImage] = []
        self._start: tuple[float, float, float] | None = None
        self.status = CalibrationStatus(
            CalibrationStep.WAIT_HAND, 0.0, "Show your hand to the camera, holding the needle"
        )

    @property
    def holding(self) -> bool:
        """True while a still hold is under way (its frames are worth measuring)."""
        return self.result is None and bool(self._t)

    def observe(self, image: HandImage | None) -> None:
        """Add how the camera saw the hand in one frame of the hold (ignored outside a hold;
        the screen measures its frames with :func:`sim.tracking.hand_image.measure_hand_image`)."""
        if image is not None and self.holding:
            self._images.append(image)

    def _restart(self, message: str) -> CalibrationStatus:
        self._t, self._lm, self._start, self._images = [], [], None, []
        self.status = CalibrationStatus(CalibrationStep.WAIT_HAND, 0.0, message)
        return self.status

    def update(self, s: Sample) -> CalibrationStatus:
        """Feed one Sample; returns the new status."""
        if self.result is not None:
            return self.status
        if not s.tracked or s.raw is None:
            # a frame or two without the hand (a blink of the detector) is not a restart
            if self._t and s.t_s - self._t[-1] > MAX_GAP_S:
                return self._restart("Hand lost: show your hand to the camera again")
            return self.status
        if self._start is None:
            self._start = s.tip_mm
        # in the image plane only: depth jitters by millimetres on a still hand (the very
        # noise the hold measures), and would restart the hold again and again
        moved = math.dist(s.tip_mm[:2], self._start[:2])
        if moved > self.max_motion_mm:
            return self._restart(f"Moved {moved:.0f} mm: keep the hand still")
        self._t.append(s.t_s)
        self._lm.append(landmarks_from_raw(s.raw))
        held = self._t[-1] - self._t[0]
        if held < self.hold_s:
            left = math.ceil(self.hold_s - held)
            self.status = CalibrationStatus(
                CalibrationStep.HOLD,
                held / self.hold_s,
                f"Hold still, needle bevel up, where you want to work: {left} s",
            )
            return self.status
        self.result = calibrate_hold(
            np.array(self._t),
            np.array(self._lm),
            self.aspect,
            self.base,
            self.hand,
            self.rate_hz,
            images=self._images,
            limits=self.limits,
        )
        self.status = CalibrationStatus(
            CalibrationStep.DONE,
            1.0,
            f"Calibrated: {self.result.noise.words()}"
            + (
                ""
                if math.isfinite(self.result.noise_floor_mm)
                or any(p.name == "slow" for p in self.result.poor)  # it says so, with the fix
                else f" (tremor not measured: only {self.result.rate_hz:.0f} frames/s tracked)"
            )
            + "".join(" " + p.message for p in self.result.poor),
        )
        return self.status
