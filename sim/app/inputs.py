"""The one factory from an ``--input`` choice to a live source.

``make_source("mouse", scenario, ...)`` gives a :class:`~sim.app.mouse.MouseSource`. Other
input kinds (webcam, video) register a builder in :data:`BUILDERS` under their prefix; the
spec after a colon is passed on (``webcam:1``, ``video:clip.mp4``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sim.core.scenario import Scenario
from sim.errors import UserError
from sim.render.scene import OrbitCamera
from sim.sources import LiveSource

Builder = Callable[..., LiveSource]


def _mouse(
    spec: str,
    scenario: Scenario,
    *,
    camera: Callable[[], OrbitCamera],
    size: Callable[[], tuple[int, int]],
    clock: Callable[[], float] = time.monotonic,
    **_: Any,
) -> LiveSource:
    from sim.app.mouse import MouseSource

    return MouseSource(scenario, camera, size, clock)


def _camera(spec: str, scenario: Scenario, *, hand: str = "right", **_: Any) -> LiveSource:
    # Webcam or video hand tracking (sim.sources.camera), following the dominant hand. A
    # device that cannot be opened gives a source whose ``error`` says why, so the app
    # offers the mouse.
    from sim.scenarios import depth_assist
    from sim.sources.camera import open_live_source
    from sim.tracking.tracker import TrackerConfig

    assist = depth_assist(scenario, spec.split(":", 1)[0])
    return open_live_source(spec, TrackerConfig(dominant=check_hand(hand)), assist=assist)


BUILDERS: dict[str, Builder] = {"mouse": _mouse, "webcam": _camera, "video": _camera}
"""Input kind (the part of the spec before any ':') -> builder(spec, scenario, **context)."""


def input_kinds() -> list[str]:
    """The input kinds the start screen offers."""
    return list(BUILDERS)


def check_spec(spec: str) -> str:
    """The input kind of ``spec``; :class:`UserError` if unknown."""
    kind = spec.split(":", 1)[0]
    if kind not in BUILDERS:
        raise UserError(f"unknown input '{spec}' (expected one of: {', '.join(BUILDERS)})")
    return kind


HANDS = ("right", "left")
"""The dominant-hand choices (the hand a tracked input follows)."""


def check_hand(hand: str) -> str:
    """``hand`` if it is ``right`` or ``left``; :class:`UserError` otherwise."""
    if hand not in HANDS:
        raise UserError(f"unknown hand '{hand}' (expected right or left)")
    return hand


def make_source(spec: str, scenario: Scenario, **context: Any) -> LiveSource:
    """A live source for ``spec`` (``"mouse"``...).

    Parameters
    ----------
    spec : str
        Input choice, e.g. ``"mouse"``.
    scenario : Scenario
        The scenario being practised.
    **context
        What builders may need: ``camera`` (callable returning the current
        :class:`OrbitCamera`), ``size`` (callable returning the window size), ``clock``
        (monotonic seconds), ``hand`` (the dominant hand a tracked input follows:
        ``"right"``, the default, or ``"left"``).
    """
    return BUILDERS[check_spec(spec)](spec, scenario, **context)
