"""Immutable records that flow through the pipeline.

A :class:`Sample` is one measurement of the instrument; an :class:`Action` is a discrete
user action (tourniquet on/off, finish); an :class:`Event` is something the task model
detected; a :class:`Cue` is a piece of live feedback that started or ended.

Scene frame (all positions in millimetres): ``x`` along the forearm / along the wound,
``y`` up (out of the skin), ``z`` towards the viewer. Right-handed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import Enum

Vec3 = tuple[float, float, float]


class ActionKind(str, Enum):
    """Discrete actions every procedure may hear besides the instrument's motion.

    A procedure may declare actions of its own (``Procedure.actions``): an action's kind is
    a string, and these shared ones are members of this enum (a ``str``), so ``kind ==
    ActionKind.FINISH`` holds for an action read back from a recording too.
    """

    TOURNIQUET_ON = "tourniquet_on"
    TOURNIQUET_OFF = "tourniquet_off"
    FINISH = "finish"


class Severity(str, Enum):
    """How a cue is shown: info (green), warning (amber), danger (red)."""

    INFO = "info"
    WARNING = "warning"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Sample:
    """The instrument at one instant.

    Attributes
    ----------
    t_s : float
        Time in seconds since the start of the session.
    tip_mm : tuple of 3 float
        Needle tip position in the scene frame, mm.
    axis : tuple of 3 float
        Unit vector along the needle at its tip, pointing in the direction of travel
        (hub to tip). For a curved needle this is the tangent at the tip.
    normal : tuple of 3 float
        Unit vector perpendicular to ``axis`` that fixes the roll: for a straight needle the
        direction the bevel opening faces (bevel up means ``normal`` points out of the skin);
        for a curved needle the direction from the tip towards the centre of its arc.
    grip : float
        Grip closure, 0 (open) to 1 (closed).
    tracked : bool
        False when the tracker lost the hand; the pose is then the last known one and is not
        used by any metric.
    raw : tuple of float or None
        The raw measurement the pose came from, if any (e.g. 21 MediaPipe landmarks as
        63 numbers, x y z interleaved, in the tracker's own units).
    """

    t_s: float
    tip_mm: Vec3
    axis: Vec3 = (1.0, 0.0, 0.0)
    normal: Vec3 = (0.0, 1.0, 0.0)
    grip: float = 1.0
    tracked: bool = True
    raw: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """A discrete user action at time ``t_s`` (seconds).

    ``kind`` is an :class:`ActionKind` or a procedure's own action (a lowercase word such
    as ``"occlude"``, see :data:`ACTION_KIND`).
    """

    t_s: float
    kind: str


ACTION_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
"""What an action's kind looks like: a lowercase word of at most 40 characters."""


def action_kind(kind: str) -> str:
    """``kind`` as the shared :class:`ActionKind` member when it is one, else as it is.

    Raises
    ------
    ValueError
        When ``kind`` is not a lowercase word (:data:`ACTION_KIND`).
    """
    if not isinstance(kind, str) or not ACTION_KIND.fullmatch(kind):
        raise ValueError(f"expected an action kind (a lowercase word), got {kind!r:.40}")
    try:
        return ActionKind(kind)
    except ValueError:
        return kind


Item = Sample | Action
"""What a source yields and a task consumes."""


@dataclass(frozen=True, slots=True)
class Event:
    """Something the task model detected.

    Attributes
    ----------
    t_s : float
        Time of the sample that triggered it, s.
    kind : str
        Event identifier, e.g. ``"skin_puncture"``, ``"back_wall"``, ``"stitch_completed"``.
    message : str
        One line for people.
    error : bool
        True for a procedural error (critical or not; the scenario decides which are
        critical).
    values : tuple of (str, float) pairs
        Named measurements, units in the names (``angle_deg``, ``bite_mm``...).
    """

    t_s: float
    kind: str
    message: str
    error: bool = False
    values: tuple[tuple[str, float], ...] = field(default=())

    def value(self, name: str, default: float = math.nan) -> float:
        """The measurement called ``name``, or ``default``."""
        for key, val in self.values:
            if key == name:
                return val
        return default

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return {
            "t_s": self.t_s,
            "kind": self.kind,
            "message": self.message,
            "error": self.error,
            "values": dict(self.values),
        }

    @staticmethod
    def from_dict(data: dict[str, object]) -> Event:
        """Inverse of :meth:`as_dict`."""
        values = data.get("values") or {}
        assert isinstance(values, dict)
        return Event(
            t_s=float(data["t_s"]),  # type: ignore[arg-type]
            kind=str(data["kind"]),
            message=str(data["message"]),
            error=bool(data.get("error", False)),
            values=tuple((str(k), math.nan if v is None else float(v)) for k, v in values.items()),
        )


@dataclass(frozen=True, slots=True)
class Cue:
    """Live feedback that became visible (``active``), changed its text (``update``) or
    went away (not ``active``).

    Attributes
    ----------
    t_s : float
        Time of the item on which it started, changed its text or ended, s.
    rule : str
        Identifier of the rule, e.g. ``"too_steep"``.
    message : str
        What the trainee reads, e.g. ``"angle 38 deg: lower to 15-30"``.
    severity : Severity
        Colour of the banner.
    priority : int
        Higher wins the banner when several cues are active.
    active : bool
        True when the cue appears (or its text changes), False when it ends.
    update : bool
        True when an active cue's words changed (its live number moved): ``message`` is
        the text shown from ``t_s`` on. Never true when ``active`` is false.
    """

    t_s: float
    rule: str
    message: str
    severity: Severity
    priority: int
    active: bool = True
    update: bool = False

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return {
            "t_s": self.t_s,
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity.value,
            "priority": self.priority,
            "active": self.active,
            # only on text changes: recordings made before updates existed stay identical
            **({"update": True} if self.update else {}),
        }

    @staticmethod
    def from_dict(data: dict[str, object]) -> Cue:
        """Inverse of :meth:`as_dict`."""
        return Cue(
            t_s=float(data["t_s"]),  # type: ignore[arg-type]
            rule=str(data["rule"]),
            message=str(data["message"]),
            severity=Severity(str(data["severity"])),
            priority=int(data["priority"]),  # type: ignore[call-overload]
            active=bool(data["active"]),
            update=bool(data.get("update", False)),
        )
