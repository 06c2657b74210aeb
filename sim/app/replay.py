"""The replay window: ``procsim replay RECORDING [--ghost REFERENCE]``.

The 3-D scene driven by the recording, with the trainee's coaching HUD (banner, gauges,
live side view) as it was, and the replay panel above it: play/pause, speed 0.25x-4x, a
timeline to scrub with markers for events, errors and cues, and the speed and tremor plots
under the same playhead. The camera is free (drag to orbit, wheel to zoom). With a ghost,
an expert's instrument is drawn translucent, aligned at the start of each phase.

:meth:`ReplayWindow.frame` runs one iteration (events, clock, draw, flip), so tests drive
the real window with injected pygame events and a stepped clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pygame

from sim.app.window import window_for_display
from sim.render import gl as glu
from sim.render.scene import DrawOptions
from sim.replay.clock import ReplayClock
from sim.replay.panel import PanelLayout
from sim.replay.timeline import Timeline
from sim.replay.view import ReplayView, full_size, scene_for_window

HELP = (
    ("Space", "play / pause"),
    ("Left / Right", "one frame back / forward (Shift: 5 s)"),
    ("Up / Down, ] / [", "faster / slower (0.25x to 4x)"),
    ("Home / End", "start / end"),
    ("click or drag the timeline", "seek"),
    ("drag the scene, wheel", "orbit and zoom the camera (C: reset)"),
    ("G", "ghost instrument on / off"),
    ("U", "HUD on / off"),
    ("F1 / H", "this help"),
    ("Esc / Q", "close"),
)


class ReplayWindow:
    """A window replaying one recording.

    Parameters
    ----------
    timeline : Timeline
        The recording.
    ghost : Timeline, optional
        Reference recording drawn as a translucent instrument.
    size : (width, height), optional
        Size of the scene; the panel is added above it. By default the whole window fits
        the display (:func:`sim.app.window.window_for_display`).
    clock : callable
        Monotonic seconds (tests pass a stepped clock).
    realtime : bool
        Pace frames at 60 per second at most.
    hidden : bool
        Hidden window (tests).
    """

    def __init__(
        self,
        timeline: Timeline,
        ghost: Timeline | None = None,
        size: tuple[int, int] | None = None,
        *,
        start_s: float | None = None,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        realtime: bool = True,
        hidden: bool = False,
    ) -> None:
        if size is None:
            size = scene_for_window(window_for_display())
        self.window_size, _ = full_size(size)
        glu.open_window(self.window_size, f"procsim replay: {timeline.path}", hidden=hidden)
        self.view = ReplayView(timeline, size, ghost)
        self.tl = timeline
        self.clock = ReplayClock(timeline)
        self.clock.set_speed(speed)
        if start_s is not None:
            self.clock.seek(start_s)
        self.now = clock
        self.realtime = realtime
        self._last = clock()
        self._pacer = pygame.time.Clock()
        self.running = True
        self.help = False
        self.hud = True
        self.ghost_on = ghost is not None
        self._scrub = False
        self._orbit = False

    @property
    def layout(self) -> PanelLayout:
        w, _ = self.window_size
        return PanelLayout.of(w, self.view.panel_h)

    def _seek_x(self, x: float) -> None:
        self.clock.seek(self.layout.t_of(x, self.tl.start_s, self.tl.end_s))

    def handle(self, event: Any) -> None:
        et = event.type
        if et == pygame.QUIT:
            self.running = False
        elif et == pygame.KEYDOWN:
            self._key(event.key, bool(event.mod & pygame.KMOD_SHIFT))
        elif et == pygame.MOUSEBUTTONDOWN and event.button in (1, 2, 3):
            x, y = event.pos
            if event.button == 1 and y < self.view.panel_h and self.layout.in_timeline(y):
                self._scrub = True
                self._seek_x(x)
            elif y >= self.view.panel_h:
                self._orbit = True
        elif et == pygame.MOUSEBUTTONUP:
            self._scrub = self._orbit = False
        elif et == pygame.MOUSEMOTION:
            if self._scrub:
                self._seek_x(event.pos[0])
            elif self._orbit:
                self.view.camera.orbit(-event.rel[0] * 0.3, event.rel[1] * 0.3)
        elif et == pygame.MOUSEWHEEL:
            self.view.camera.zoom(0.9**event.y)

    def _key(self, k: int, shift: bool) -> None:
        c = self.clock
        if k in (pygame.K_ESCAPE, pygame.K_q):
            self.running = False
        elif k == pygame.K_SPACE:
            c.toggle()
        elif k == pygame.K_RIGHT:
            if shift:
                c.seek(c.t_s + 5.0)
            else:
                c.step(1)
        elif k == pygame.K_LEFT:
            if shift:
                c.seek(c.t_s - 5.0)
            else:
                c.step(-1)
        elif k in (pygame.K_UP, pygame.K_RIGHTBRACKET, pygame.K_PLUS, pygame.K_KP_PLUS):
            c.faster()
        elif k in (pygame.K_DOWN, pygame.K_LEFTBRACKET, pygame.K_MINUS, pygame.K_KP_MINUS):
            c.slower()
        elif k == pygame.K_HOME:
            c.seek(self.tl.start_s)
        elif k == pygame.K_END:
            c.seek(self.tl.end_s)
        elif k == pygame.K_g:
            self.ghost_on = not self.ghost_on and self.view.ghost is not None
        elif k == pygame.K_u:
            self.hud = not self.hud
        elif k == pygame.K_c:
            self.view.reset_camera()
        elif k in (pygame.K_F1, pygame.K_h):
            self.help = not self.help

    def frame(self) -> None:
        """One iteration: events, advance the playhead by the time that went by, draw."""
        for event in pygame.event.get():
            self.handle(event)
            if not self.running:
                return
        now = self.now()
        self.clock.advance(max(now - self._last, 0.0))
        self._last = now
        options = DrawOptions(
            hud=self.hud,
            help=self.help,
            help_lines=HELP,
            title=f"REPLAY  {self.view.scenario.title}",
        )
        glu.bind_default_framebuffer(self.window_size)
        self.view.draw(
            self.clock.t_s,
            speed=self.clock.speed,
            playing=self.clock.playing,
            options=options,
            show_ghost=self.ghost_on,
            exact=False,
        )
        pygame.display.flip()
        # between frames, push the first pass of the pipeline on so that far seeks get fast
        self.view.derived.warm(0.004)
        if self.realtime:
            self._pacer.tick(60)

    def capture(self) -> Any:
        """The window's picture, (height, width, 3) uint8 RGB."""
        return glu.read_pixels(self.window_size)

    def run(self) -> int:
        try:
            while self.running:
                self.frame()
        except KeyboardInterrupt:
            pass
        return 0
