"""The practice screen's help (F1 / H): the procedure's own controls
(:attr:`sim.procedures.base.Procedure.help`), the keys of the scenario's checklist steps,
then the app's, which every procedure shares. The first-session hint is the procedure's
too."""

from __future__ import annotations

from typing import Any

from sim.core.checklist import RELEASE, ChecklistSpec
from sim.procedures.base import Procedure

COMMON_HELP = (
    ("Enter", "finish and see the score"),
    ("middle-drag, Shift+drag, arrows", "orbit the camera"),
    ("Ctrl+wheel, + / -", "zoom (C: reset the view)"),
    ("Esc", "stop (the recording is kept, marked incomplete)"),
    ("F1 / H", "show or hide this help"),
)
"""``(keys, what they do)`` of the practice screen's own keys."""


CHECKLIST_KEYS = {
    "1": "identity",
    "2": "hygiene",
    "3": "site",
    "4": "clean",
    "5": "fist",
    "6": "anchor",
    "7": "pressure",
    "8": "sharps",
}
"""The key (its ``pygame.key.name``) of each checklist step, numbered in the steps' usual
order: digits, which no procedure and none of the app's keys use. Releasing the tourniquet
is the procedure's own T (:data:`STEP_KEYS`)."""

STEP_KEYS = {step: key for key, step in CHECKLIST_KEYS.items()} | {RELEASE: "T"}
"""The key shown beside each checklist step."""


SHORT = {
    "identity": "identity",
    "hygiene": "hand hygiene and gloves",
    "site": "choose the site",
    "clean": "clean it",
    "fist": "fist",
    "anchor": "anchor the skin",
    "pressure": "gauze and pressure",
    "sharps": "sharps",
}
"""A checklist step in the fewest words, for the help overlay (:data:`STEPS` has them
whole)."""


def checklist_help(checklist: ChecklistSpec | None) -> tuple[tuple[str, str], ...]:
    """The help lines of a scenario's checklist steps, four keys a line (none without a
    checklist): ``("1 / 2 / 3 / 4", "checklist: identity, hand hygiene and gloves, ...")``."""
    if checklist is None:
        return ()
    steps = [s for s in checklist.steps if s != RELEASE]
    out = []
    for i in range(0, len(steps), 4):
        part = steps[i : i + 4]
        keys = " / ".join(STEP_KEYS[s] for s in part)
        out.append((keys, "checklist: " + ", ".join(SHORT[s] for s in part)))
    if out:
        out[-1] = (out[-1][0], out[-1][1] + " (or click its button)")
    return tuple(out)


def help_lines(
    procedure: Procedure[Any, Any], checklist: ChecklistSpec | None = None
) -> tuple[tuple[str, str], ...]:
    """The help overlay's lines for a session of ``procedure``: its controls, the
    checklist's steps, then the app's."""
    return procedure.help.controls + checklist_help(checklist) + COMMON_HELP
