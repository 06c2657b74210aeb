"""What the app's screens draw alike: the accent colour and clickable rectangles."""

from __future__ import annotations

from collections.abc import Callable

from sim.render.overlay import RGBA

ACCENT: RGBA = (0.45, 0.72, 1.0, 1.0)


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
