"""Sources of items (samples and actions): scripted, recording playback, mouse, webcam, video.

Offline sources are iterables of :data:`sim.core.records.Item`. Live sources follow
:class:`LiveSource`: ``poll()`` returns what arrived since the last call and never blocks,
so the render loop never waits for a tracker.
"""

from __future__ import annotations

from typing import Protocol

from sim.core.records import Item


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
