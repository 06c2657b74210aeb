"""Sources of items (samples and actions): scripted, recording playback, mouse, webcam, video.

Offline sources are iterables of :data:`sim.core.records.Item`. Live sources follow
:class:`LiveSource`: ``poll()`` returns what arrived since the last call and never blocks,
so the render loop never waits for a tracker. What only some live sources can do is
declared as a Protocol of its own (:class:`HandlesEvents`, :class:`GivesAdvice`,
:class:`ShowsCamera`, :class:`Calibratable`), which the app tests with ``isinstance``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sim.core.records import Item, Sample

if TYPE_CHECKING:
    from sim.sources.camera import FrameView
    from sim.tracking.pose import Workspace
    from sim.tracking.tracker import HandTracker, TrackerConfig


class LiveSource(Protocol):
    """A source the app polls once per frame.

    Attributes
    ----------
    input_kind : str
        Stored in the recording header: ``"mouse"``, ``"webcam"``, ``"video"``...
    error : str or None
        Set (one line for the trainee) when the device failed, e.g. a camera that was
        unplugged or a video that ended; the app then offers to continue with the mouse.
    """

    input_kind: str
    error: str | None

    def start(self, t0_monotonic_s: float) -> None:
        """Begin producing items; sample times are seconds since ``t0_monotonic_s``
        (a ``time.monotonic()`` value)."""

    def poll(self) -> list[Item]:
        """Items produced since the last call, oldest first; never blocks."""

    def close(self) -> None:
        """Stop and release the device."""


@runtime_checkable
class HandlesEvents(Protocol):
    """A live source driven by the window's events (the mouse and keyboard)."""

    def handle_event(self, event: Any) -> bool:
        """Use a pygame event if it is one of the source's controls; True when consumed
        (the camera does not see it then)."""


@runtime_checkable
class GivesAdvice(Protocol):
    """A live source that can tell the trainee when its controls are the obstacle."""

    def advice(self) -> str | None:
        """One line of what to do (None when there is nothing to say)."""


@runtime_checkable
class ShowsCamera(Protocol):
    """A live source that sees the trainee through a camera."""

    def latest_frame(self) -> FrameView | None:
        """The newest tracked frame with its landmarks, for the picture-in-picture view
        (None before the first)."""

    def display_sample(self) -> Sample | None:
        """A smoothed pose to draw the instrument from (the pipeline keeps the raw
        samples); None to draw the pipeline's."""


@runtime_checkable
class Calibratable(LiveSource, ShowsCamera, Protocol):
    """A tracked live source whose camera-to-scene mapping is calibrated before the
    session (:class:`sim.app.calibrate.CalibrationScreen`).

    Attributes
    ----------
    tracker : HandTracker
        Its tracker (image aspect and the workspace mapping in use).
    config : TrackerConfig
        How it tracks (the dominant hand).
    """

    tracker: HandTracker
    config: TrackerConfig

    def apply_calibration(self, workspace: Workspace, roll_offset_deg: float = 0.0) -> None:
        """Use a calibrated workspace mapping and roll offset from the next frame on."""

    def calibration_header(self, noise_floor_mm: float = 0.0) -> dict[str, object]:
        """The recording header's ``calibration`` block (how poses were derived)."""
