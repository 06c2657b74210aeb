"""What each kind of input can measure (pure).

Each input kind has capabilities (:data:`INPUT_CAPABILITIES`): every input measures the
instrument's **position**; only a tracked **hand** (webcam, video, a scripted hand model, any
future tracker) measures the hand's own tremor and smoothness. The mouse pointer is eased
(filtered) on its way to the instrument, so its tremor and smoothness describe the filter,
not the trainee: those metrics are "not measured with the mouse" and carry no weight there.
An input kind not listed is assumed to be a hand tracker.

The metric catalogue (:mod:`sim.metrics.catalog`) says what each metric needs; the
curriculum (:mod:`sim.core.curriculum`) never prescribes a drill for a metric the trainee's
input cannot measure.
"""

from __future__ import annotations

POSITION = "position"
HAND = "hand"

#: What each input kind can measure. Unknown kinds (future trackers) get :data:`HAND_INPUT`.
HAND_INPUT = frozenset({POSITION, HAND})
INPUT_CAPABILITIES: dict[str, frozenset[str]] = {
    "mouse": frozenset({POSITION}),
    "webcam": HAND_INPUT,
    "video": HAND_INPUT,
    "scripted": HAND_INPUT,
}


def can_measure(needs: str, input_kind: str) -> bool:
    """Whether an input of ``input_kind`` can measure a metric that needs ``needs``."""
    return needs in INPUT_CAPABILITIES.get(input_kind, HAND_INPUT)
