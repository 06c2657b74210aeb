"""The practice screen's help (F1 / H): the procedure's own controls
(:attr:`sim.procedures.base.Procedure.help`) followed by the app's, which every procedure
shares. The first-session hint is the procedure's too."""

from __future__ import annotations

from typing import Any

from sim.procedures.base import Procedure

COMMON_HELP = (
    ("Enter", "finish and see the score"),
    ("middle-drag, Shift+drag, arrows", "orbit the camera"),
    ("Ctrl+wheel, + / -", "zoom (C: reset the view)"),
    ("Esc", "stop (the recording is kept, marked incomplete)"),
    ("F1 / H", "show or hide this help"),
)
"""``(keys, what they do)`` of the practice screen's own keys."""


def help_lines(procedure: Procedure[Any, Any]) -> tuple[tuple[str, str], ...]:
    """The help overlay's lines for a session of ``procedure``: its controls, then the
    app's."""
    return procedure.help.controls + COMMON_HELP
