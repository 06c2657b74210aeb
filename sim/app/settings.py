"""What a practice session is started with: :class:`Settings`, passed between the screens."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.scenario import Scenario


@dataclass(frozen=True)
class Settings:
    """What a practice session is started with."""

    scenario: Scenario
    input_spec: str = "mouse"
    trainee: str = "anonymous"
    exam: bool = False
    hand: str = "right"
    """The trainee's dominant hand (the one a tracked input follows): right or left."""
