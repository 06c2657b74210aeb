"""Drive the real practice app with injected pygame events and a stepped clock."""

from __future__ import annotations

import time
from collections.abc import Callable

import pygame

from sim.scenarios import find_scenario

RATE = 60.0


class SteppedClock:
    """A monotonic clock that advances only when told (one frame = 1/60 s)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Driver:
    """Posts events to the app and runs its frames with a stepped clock."""

    def __init__(
        self,
        scenario: str | None,
        size: tuple[int, int] = (960, 540),
        exam: bool = False,
        input_spec: str = "mouse",
        clock: Callable[[], float] | None = None,
        hand: str = "right",
    ) -> None:
        from sim.app.app import App
        from sim.app.settings import Settings

        self.clock = clock or SteppedClock()  # real time (time.monotonic) for a camera
        settings = (
            Settings(find_scenario(scenario), input_spec, "e2e-test", exam, hand)
            if scenario
            else None
        )
        self.app = App(
            size,
            settings,
            trainee="e2e-test",
            input_spec=input_spec,
            hand=hand,
            clock=self.clock,
            realtime=False,
            sound=True,
            hidden=True,
        )
        self.size = size
        self._pointer: tuple[int, int] | None = None

    @property
    def screen(self):  # noqa: ANN201
        return self.app.screen

    def frames(self, n: int) -> None:
        for _ in range(n):
            if isinstance(self.clock, SteppedClock):
                self.clock.t += 1.0 / RATE
            else:  # a real clock: let the camera's threads run
                time.sleep(1.0 / RATE)
            self.app.frame()

    def seconds(self, s: float) -> None:
        self.frames(int(round(s * RATE)))

    def key(self, key: int, hold_s: float | None = None) -> None:
        pygame.event.post(
            pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0)
        )
        if hold_s is None:
            pygame.event.post(
                pygame.event.Event(pygame.KEYUP, key=key, mod=0, unicode="", scancode=0)
            )
            self.frames(1)
            return
        self.seconds(hold_s)
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0, unicode="", scancode=0))
        self.frames(1)

    def move_to(self, pos: tuple[float, float]) -> None:
        """Move the pointer to ``pos`` (a real motion: SDL's ``rel`` from the last position,
        never (0, 0), which is the pointer's resting report when the window opens)."""
        to = (int(round(pos[0])), int(round(pos[1])))
        last = self._pointer
        rel = (to[0] - last[0], to[1] - last[1]) if last is not None else (1, 1)
        self._pointer = to
        pygame.event.post(
            pygame.event.Event(
                pygame.MOUSEMOTION, pos=to, rel=rel if rel != (0, 0) else (1, 0), buttons=(0, 0, 0)
            )
        )
        self.frames(1)

    def text(self, s: str) -> None:
        pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text=s))
        self.frames(1)

    def point_at(self, p: tuple[float, float, float]) -> None:
        """Move the cursor onto the pixel where scene point ``p`` (mm) is drawn."""
        cam = self.screen.camera
        self.move_to(cam.project(p, self.app.renderer.size))
