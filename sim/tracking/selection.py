"""Which detected hand drives the instrument.

Real footage brings phantom second hands (a hand found in the background, or a duplicate of
the real one) and handedness labels that flip from frame to frame. The selector follows the
hand it tracked last by position, and ignores the labels while it does; only when it has no
recent hand does it (re)acquire one, preferring the dominant hand, then the most confident.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.tracking.hand import HandObservation, hand_size, palm_centre, to_iso


class HandSelector:
    """Picks the driving hand among a frame's detections, by continuity.

    Parameters
    ----------
    dominant : {"right", "left"}
        The hand that drives the instrument (from the trainee's settings).
    gate : float
        A detection continues the tracked hand when its palm centre moved less than
        ``gate`` hand sizes since the last frame with the hand.
    reacquire_s : float
        After this long without a detection inside the gate, the selector forgets the
        tracked hand and acquires anew (so a hand that moved fast is picked up again).
    """

    def __init__(self, dominant: str = "right", gate: float = 1.5, reacquire_s: float = 0.3):
        if dominant not in ("right", "left"):
            raise ValueError(f"dominant hand must be 'right' or 'left', not {dominant!r}")
        self.dominant = dominant
        self.gate = gate
        self.reacquire_s = reacquire_s
        self._centre: np.ndarray | None = None
        self._size = 0.0
        self._last_t = -np.inf

    def reset(self) -> None:
        """Forget the tracked hand."""
        self._centre = None

    def select(
        self, t_s: float, hands: Sequence[HandObservation], aspect: float
    ) -> HandObservation | None:
        """The driving hand in this frame, or None (no hand, or only hands elsewhere).

        Parameters
        ----------
        t_s : float
            Frame time, s.
        hands : sequence of HandObservation
            Every hand the tracker found in the frame.
        aspect : float
            Image height / width.
        """
        if self._centre is not None and t_s - self._last_t > self.reacquire_s:
            self._centre = None
        if not hands:
            return None
        isos = [to_iso(h.landmarks, aspect) for h in hands]
        centres = [palm_centre(p)[:2] for p in isos]
        if self._centre is not None:
            d = [float(np.linalg.norm(c - self._centre)) for c in centres]
            k = int(np.argmin(d))
            if d[k] > self.gate * max(self._size, 1e-6):
                return None
        else:
            # Acquire: the dominant hand if one is labelled so, else any; most confident,
            # then largest (nearest the camera).
            def rank(i: int) -> tuple[bool, float, float]:
                h = hands[i]
                return (h.handedness == self.dominant, h.score, hand_size(isos[i]))

            k = max(range(len(hands)), key=rank)
        self._centre = centres[k]
        self._size = hand_size(isos[k])
        self._last_t = t_s
        return hands[k]
