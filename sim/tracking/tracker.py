"""One frame's hand detections -> one :class:`~sim.core.records.Sample`.

This is the part of the tracking path shared by the live camera, the video file source and
``procsim track``; it is pure (the detector that produced the detections is not called
here), so it is tested with synthetic hands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from sim.core.assist import DepthAssist
from sim.core.records import Sample, Vec3
from sim.tracking.hand import N_LANDMARKS, FloatArray, HandObservation
from sim.tracking.pose import GripHysteresis, HandPose, Workspace, hand_pose
from sim.tracking.selection import HandSelector

RAW_DECIMALS = 6
"""Raw landmarks are rounded to this many decimals (1e-6 image width) before the pose is
derived from them, so that a pose re-derived from a recording's raw values is identical."""


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Settings of the hand tracking path.

    Attributes
    ----------
    dominant : {"right", "left"}
        The hand that drives the instrument.
    model_complexity : {0, 1}
        MediaPipe Hands landmark model: 0 is faster, 1 more accurate.
    mirror : bool
        Flip frames horizontally before tracking (selfie view; see
        :attr:`sim.tracking.pose.Workspace.mirrored`).
    max_hands : int
        Hands the detector looks for (2, so that a second hand cannot steal the first's
        detection; the selector picks one).
    min_detection_confidence, min_tracking_confidence : float
        MediaPipe thresholds.
    grip_engage, grip_release : float
        Grip ratio thresholds (closed below engage, open above release).
    grip_debounce : int
        Frames a grip change must persist.
    """

    dominant: str = "right"
    model_complexity: int = 1
    mirror: bool = True
    max_hands: int = 2
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    grip_engage: float = 0.25
    grip_release: float = 0.35
    grip_debounce: int = 3

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Detector(Protocol):
    """Finds hands in an RGB frame (the MediaPipe wrapper, or a fake in tests)."""

    def detect(self, rgb: np.ndarray) -> list[HandObservation]:
        """Every hand in ``rgb`` ((h, w, 3) uint8, RGB)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What the tracker made of one frame.

    Attributes
    ----------
    sample : Sample
        The instrument Sample (``tracked`` False, last pose, no raw, when no hand drives).
    hands : tuple of HandObservation
        Every detection in the frame (including phantoms).
    selected : HandObservation or None
        The driving hand (its landmarks rounded as stored in ``sample.raw``).
    pose : HandPose or None
        The pose derived from it.
    """

    sample: Sample
    hands: tuple[HandObservation, ...] = ()
    selected: HandObservation | None = None
    pose: HandPose | None = field(default=None)


def raw_landmarks(landmarks: FloatArray) -> tuple[float, ...]:
    """The 63 numbers stored in :attr:`Sample.raw` (x, y, z interleaved, rounded)."""
    flat = np.round(np.asarray(landmarks, dtype=np.float64).reshape(-1), RAW_DECIMALS)
    return tuple(flat.tolist())


def landmarks_from_raw(raw: Sequence[float]) -> FloatArray:
    """Inverse of :func:`raw_landmarks`: a (21, 3) array."""
    arr = np.asarray(raw, dtype=np.float64)
    if arr.shape != (N_LANDMARKS * 3,):
        raise ValueError(f"expected {N_LANDMARKS * 3} raw landmark values, got {arr.size}")
    return arr.reshape(N_LANDMARKS, 3)


class HandTracker:
    """Selects the driving hand, maps it to a pose and emits Samples.

    Parameters
    ----------
    config : TrackerConfig
        Settings (dominant hand, grip thresholds...).
    image_size : (int, int)
        Frame width and height, pixels (for the aspect ratio).
    workspace : Workspace, optional
        Camera-to-scene mapping; default: uncalibrated, mirrored as ``config.mirror``.
    roll_offset_deg : float
        Calibrated roll offset (see :func:`sim.tracking.pose.hand_pose`).
    assist : DepthAssist, optional
        How z (across the arm, the camera's depth) is set (default: from the camera).
    """

    def __init__(
        self,
        config: TrackerConfig,
        image_size: tuple[int, int],
        workspace: Workspace | None = None,
        roll_offset_deg: float = 0.0,
        assist: DepthAssist | None = None,
    ) -> None:
        self.assist = assist or DepthAssist()
        self.config = config
        self.image_size = image_size
        self.aspect = image_size[1] / image_size[0]
        self.workspace = workspace or Workspace(mirrored=config.mirror)
        self.roll_offset_deg = roll_offset_deg
        self.selector = HandSelector(config.dominant)
        self.grip = GripHysteresis(config.grip_engage, config.grip_release, config.grip_debounce)
        self._last = Sample(0.0, self.workspace.centre_mm, grip=0.0, tracked=False)

    def calibrate(self, workspace: Workspace, roll_offset_deg: float) -> None:
        """Use a new workspace mapping and roll offset from now on."""
        self.workspace = workspace
        self.roll_offset_deg = roll_offset_deg

    def pose(self, landmarks: FloatArray) -> HandPose | None:
        """The pose of one hand's landmarks with the current settings (no state changes),
        before the depth assist."""
        return hand_pose(
            landmarks, self.aspect, self.workspace, self.config.dominant, self.roll_offset_deg
        )

    def needle(self, pose: HandPose) -> tuple[Vec3, Vec3, Vec3]:
        """A pose's tip, axis and normal as the scene gets them (after the depth assist)."""
        return self.assist.apply(pose.tip_mm, pose.axis, pose.normal)

    def update(self, t_s: float, hands: Sequence[HandObservation]) -> FrameResult:
        """One frame's detections -> a Sample at ``t_s`` seconds."""
        chosen = self.selector.select(t_s, hands, self.aspect)
        pose = None
        if chosen is not None:
            raw = raw_landmarks(chosen.landmarks)
            chosen = HandObservation(landmarks_from_raw(raw), chosen.handedness, chosen.score)
            pose = self.pose(chosen.landmarks)
        last = self._last
        if pose is None:
            sample = Sample(t_s, last.tip_mm, last.axis, last.normal, last.grip, False, None)
            return FrameResult(sample, tuple(hands), None, None)
        grip = 1.0 if self.grip.update(pose.grip_ratio) else 0.0
        sample = Sample(t_s, *self.needle(pose), grip, True, raw)
        self._last = sample
        return FrameResult(sample, tuple(hands), chosen, pose)
