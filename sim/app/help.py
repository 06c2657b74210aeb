"""The practice screen's help (F1 / H) and the first-session hint of the mouse controls."""

from __future__ import annotations

COMMON_HELP = (
    ("T", "tourniquet on / off"),
    ("Enter", "finish and see the score"),
    ("middle-drag, Shift+drag, arrows", "orbit the camera"),
    ("Ctrl+wheel, + / -", "zoom (C: reset the view)"),
    ("Esc", "stop (the recording is kept, marked incomplete)"),
    ("F1 / H", "show or hide this help"),
)
HELP_VENIPUNCTURE = (
    ("move the mouse", "aim the needle at a point on the skin"),
    ("wheel, left-drag, W / S", "advance / withdraw along the needle"),
    ("right-drag up-down, Q / E", "insertion angle (shallower / steeper)"),
    ("right-drag sideways, A / D", "roll the bevel (orange fin = bevel side)"),
    ("mouse moved with the needle in", "slides it sideways in the tissue: probing"),
    *COMMON_HELP,
)
HELP_SUTURING = (
    ("move the mouse", "hand: place the needle over the entry point"),
    ("left-drag up-down, R / F", "hand: raise / lower the needle"),
    ("wheel, W / S", "wrist: rotate the needle about its curve"),
    ("right-drag up-down, Q / E", "pitch the needle about its tip (entry angle)"),
    ("in the tissue", "rotate, do not push: hand moves drag tissue"),
    ("turn past the exit", "the needle is pulled through and reloaded"),
    *COMMON_HELP[1:],
)
HINT_VENIPUNCTURE = (
    "First time? Point at the vein, T tourniquet, wheel or W to advance; keep the mouse "
    "still in the skin. F1: all controls"
)
HINT_SUTURING = (
    "First time? Point at the entry, F lowers the needle to the skin, then the wheel "
    "rotates it through. F1: all controls"
)
