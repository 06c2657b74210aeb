"""The replay's playback clock: play, pause, speed, seek and frame steps."""

from __future__ import annotations

from sim.replay.timeline import Timeline

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Playback speeds the viewer steps through."""
MIN_SPEED, MAX_SPEED = SPEEDS[0], SPEEDS[-1]


class ReplayClock:
    """Playback time: play, pause, speed 0.25x-4x, seek, frame steps. Pure: the caller
    passes the wall-clock time that went by."""

    def __init__(self, timeline: Timeline) -> None:
        self.tl = timeline
        self.t_s = timeline.start_s
        self.speed = 1.0
        self.playing = False

    def advance(self, wall_dt_s: float) -> float:
        """Move on by ``wall_dt_s`` of wall-clock time (if playing); stops at the end."""
        if self.playing:
            self.t_s = min(self.t_s + wall_dt_s * self.speed, self.tl.end_s)
            if self.t_s >= self.tl.end_s:
                self.playing = False
        return self.t_s

    def toggle(self) -> None:
        if not self.playing and self.t_s >= self.tl.end_s:
            self.t_s = self.tl.start_s
        self.playing = not self.playing

    def set_speed(self, speed: float) -> float:
        self.speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        return self.speed

    def faster(self) -> float:
        up = [s for s in SPEEDS if s > self.speed]
        return self.set_speed(up[0] if up else MAX_SPEED)

    def slower(self) -> float:
        down = [s for s in SPEEDS if s < self.speed]
        return self.set_speed(down[-1] if down else MIN_SPEED)

    def seek(self, t_s: float) -> float:
        self.t_s = min(max(float(t_s), self.tl.start_s), self.tl.end_s)
        return self.t_s

    def step(self, frames: int) -> float:
        """Pause and move ``frames`` samples forward (negative: back)."""
        self.playing = False
        self.t_s = self.tl.step_time(self.t_s, frames)
        return self.t_s
