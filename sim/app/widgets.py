"""What the app's screens draw alike: the accent colour (the HUD's), clickable rectangles and
a text field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.render.hud import ACCENT
from sim.render.overlay import RGBA

__all__ = ["ACCENT", "FIELD", "FIELD_IDLE", "Clickable", "text_field"]

FIELD: RGBA = (0.05, 0.06, 0.08, 1.0)
FIELD_IDLE: RGBA = (0.45, 0.50, 0.58, 1.0)


class Clickable:
    """Rectangles drawn this frame that react to a click."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[float, float, float, float], Callable[[], None]]] = []

    def add(self, rect: tuple[float, float, float, float], action: Callable[[], None]) -> None:
        self.items.append((rect, action))

    def click(self, pos: tuple[int, int]) -> bool:
        for (x, y, w, h), action in self.items:
            if x <= pos[0] <= x + w and y <= pos[1] <= y + h:
                action()
                return True
        return False


def text_field(
    batch: Any,
    rect: tuple[float, float, float, float],
    text: str,
    size: int,
    focused: bool,
    cursor_on: bool,
) -> None:
    """A one-line text field: dark box, accent frame when ``focused`` (with a blinking
    cursor when ``cursor_on``), grey otherwise. Text wider than the box shows its end, as a
    field scrolls to where one types, after a leading "…"."""
    x, y, w, h = rect
    batch.rect(*rect, FIELD)
    batch.frame(*rect, 2 if focused else 1, (ACCENT if focused else FIELD_IDLE))
    room = w - 20
    shown = text + ("_" if focused and cursor_on else "")
    if batch.text_width(shown + "_", size) > room:
        while shown and batch.text_width("…" + shown + "_", size) > room:
            shown = shown[1:]
        shown = "…" + shown
    lh = batch.atlas.line_height[batch.atlas.nearest_size(size * batch.scale)]
    batch.text(shown, x + 10, y + (h - lh) / 2, size, (1.0, 1.0, 1.0, 1.0))
