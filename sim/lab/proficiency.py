"""Proficiency sign-off: ``consecutive_passes`` passes in a row, then ``further_passes``
more passes (not necessarily in a row), as in the FLS proficiency-based curriculum. The
numbers come from the scenario (``[proficiency]``); the default is 2 then 10."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.words import plural


@dataclass(frozen=True, slots=True)
class Proficiency:
    """Where a trainee stands against the sign-off rule of one scenario.

    Attributes
    ----------
    consecutive_needed, further_needed : int
        The rule.
    streak_at : int or None
        1-based session number on which the consecutive passes were completed.
    current_run : int
        Passes in a row at the end (counts towards the streak until it is reached).
    further_passes : int
        Passes after the streak (capped at ``further_needed``).
    signed_off_at : int or None
        1-based session number on which the trainee was signed off.
    """

    consecutive_needed: int
    further_needed: int
    streak_at: int | None
    current_run: int
    further_passes: int
    signed_off_at: int | None

    @property
    def signed_off(self) -> bool:
        return self.signed_off_at is not None

    def line(self) -> str:
        """One line for people."""
        if self.signed_off_at is not None:
            return f"signed off (session {self.signed_off_at})"
        passes = plural(self.consecutive_needed, "consecutive pass", "consecutive passes")
        if self.streak_at is None:
            return f"working towards {passes} (current run {self.current_run})"
        further = plural(self.further_needed, "further pass", "further passes")
        return f"{passes} reached (session {self.streak_at}); {self.further_passes} of {further}"


def proficiency(passed: Sequence[bool], consecutive: int = 2, further: int = 10) -> Proficiency:
    """Apply the sign-off rule to a trainee's sessions of one scenario, oldest first."""
    run = 0
    streak_at: int | None = None
    signed: int | None = None
    more = 0
    for i, ok in enumerate(passed, start=1):
        run = run + 1 if ok else 0
        if signed is not None:
            continue
        if streak_at is None:
            if run >= consecutive:
                streak_at = i
                if further <= 0:
                    signed = i
        elif ok:
            more += 1
            if more >= further:
                signed = i
    return Proficiency(consecutive, further, streak_at, run, min(more, further), signed)
