"""The tourniquet's bookkeeping every procedure that uses one shares (venipuncture, IV
cannulation): how long it has been on, the event when it comes off, and the warning when it
stays on too long. Pure: functions of a task state that carries the fields of
:class:`Tourniquet`.
"""

from __future__ import annotations

from typing import Protocol

from sim.core.records import Event


class Tourniquet(Protocol):
    """The tourniquet fields of a task state."""

    @property
    def tourniquet_on(self) -> bool: ...
    @property
    def tourniquet_since_s(self) -> float: ...
    @property
    def tourniquet_warned(self) -> bool: ...


def tourniquet_s(st: Tourniquet, t_s: float) -> float:
    """How long the tourniquet has been on at ``t_s``, s (0 when it is off)."""
    return max(t_s - st.tourniquet_since_s, 0.0) if st.tourniquet_on else 0.0


AT_FINISH = "at_finish"
"""The value (1) of a ``tourniquet_off`` event that the session's end made, not the trainee:
the tourniquet does not stay on a patient after the session, but the trainee did not
release it (the checklist's step is not taken)."""


def released(st: Tourniquet, t_s: float, at_finish: bool = False) -> Event:
    """The ``tourniquet_off`` event of taking an applied tourniquet off at ``t_s``: by the
    trainee, or (``at_finish``) by the session's end."""
    dur = t_s - st.tourniquet_since_s
    if at_finish:
        return Event(
            t_s,
            "tourniquet_off",
            f"tourniquet still on at the end, after {dur:.0f} s: taken off",
            values=(("duration_s", dur), (AT_FINISH, 1.0)),
        )
    return Event(
        t_s,
        "tourniquet_off",
        f"tourniquet released after {dur:.0f} s",
        values=(("duration_s", dur),),
    )


def overdue(st: Tourniquet, t_s: float, max_s: float) -> Event | None:
    """The ``tourniquet_too_long`` error when the tourniquet has been on longer than
    ``max_s`` at ``t_s`` and has not been warned about yet (the caller then sets
    ``tourniquet_warned``); else None."""
    if not st.tourniquet_on or st.tourniquet_warned or t_s - st.tourniquet_since_s <= max_s:
        return None
    return Event(
        t_s,
        "tourniquet_too_long",
        f"tourniquet on for over {max_s:.0f} s",
        True,
        (("limit_s", max_s),),
    )
