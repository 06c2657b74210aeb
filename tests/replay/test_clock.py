"""Replay: the playback clock (play, pause, speed limits, seek, frame steps)."""

from __future__ import annotations

import pytest

from sim.replay.clock import ReplayClock


def test_clock() -> None:
    class _TL:
        start_s, end_s = 0.0, 10.0

        def step_time(self, t: float, frames: int) -> float:
            return t + frames / 60

    clock = ReplayClock(_TL())  # type: ignore[arg-type]
    assert clock.advance(1.0) == 0.0  # paused
    clock.toggle()
    clock.set_speed(100)
    assert clock.speed == 4.0 and clock.advance(1.0) == 4.0
    clock.set_speed(0.01)
    assert clock.speed == 0.25 and clock.advance(2.0) == 4.5
    assert clock.faster() == 0.5 and clock.slower() == 0.25
    clock.set_speed(4)
    clock.advance(10)
    assert clock.t_s == 10.0 and not clock.playing
    clock.toggle()  # play again from the start
    assert clock.t_s == 0.0 and clock.playing
    assert clock.step(6) == pytest.approx(0.1) and not clock.playing
    assert clock.seek(-3) == 0.0
