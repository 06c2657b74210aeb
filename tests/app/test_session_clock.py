"""The session's clock and judgement colours as a trainee sees them in the real app."""

from __future__ import annotations

import math

import pygame
import pytest

from sim.app.practice import PracticeScreen
from sim.app.results import ResultsScreen, draw_results
from sim.render.hud import BAD, GOOD, WARN, draw_hud
from sim.render.overlay import Batch2D, GlyphAtlas
from sim.render.scene import frame_from_pipeline
from tests.app.driver import Driver


class SpyBatch(Batch2D):
    """A batch that remembers every text drawn, with its colour."""

    def __init__(self) -> None:
        super().__init__(GlyphAtlas())
        self.texts: list[tuple[str, tuple[float, ...]]] = []

    def text(self, text, x, y, size, rgba, anchor="left"):  # noqa: ANN001, ANN201
        self.texts.append((text, tuple(rgba)))
        return super().text(text, x, y, size, rgba, anchor)


@pytest.fixture
def driver(quit_display):
    d = Driver("venipuncture")
    d.frames(2)
    yield d
    d.app.quit()


def _hud_text(d: Driver, start: str) -> str:
    b = SpyBatch()
    frame = frame_from_pipeline(d.screen.pipeline, t_s=d.screen.now())
    draw_hud(b, frame, d.screen.options(), d.app.renderer.size)
    return next(t for t, _ in b.texts if t.startswith(start))


def test_the_clock_waits_for_the_first_move_and_pauses_while_help_is_open(driver):
    d = driver
    practice = d.screen
    assert isinstance(practice, PracticeScreen)
    d.seconds(2.0)  # the trainee reads the screen: no clock yet
    assert _hud_text(d, "0:") == "0:00.0"
    d.move_to((300, 300))
    d.move_to((420, 330))  # moves the needle: the clock starts
    d.seconds(1.0)
    before = practice.pipeline.clock_s(practice.now())
    assert before == pytest.approx(1.0, abs=0.1)
    n = len(practice.pipeline.samples)
    d.key(pygame.K_F1)
    assert practice.help
    d.move_to((600, 400))  # moving while reading the help does nothing
    d.seconds(5.0)
    assert practice.pipeline.clock_s(practice.now()) == pytest.approx(before, abs=0.05)
    assert len(practice.pipeline.samples) <= n + 1
    d.key(pygame.K_F1)
    d.seconds(1.0)
    assert practice.pipeline.clock_s(practice.now()) == pytest.approx(before + 1.0, abs=0.1)
    t = [s.t_s for s in practice.pipeline.samples]
    assert max(b - a for a, b in zip(t, t[1:])) < 0.5  # no 5 s hole in the recording
    d.key(pygame.K_ESCAPE)
    d.frames(2)
    assert isinstance(d.screen, ResultsScreen)
    r = d.screen.result
    assert not r.complete and not r.passed
    assert r.metric("total_time_s").value == pytest.approx(before + 1.0, abs=0.2)


def test_exam_mode_shows_values_without_judgement_colours(quit_display):
    d = Driver("venipuncture", exam=True)
    try:
        d.frames(2)
        d.move_to((300, 300))
        d.move_to((420, 330))
        d.frames(2)
        b = SpyBatch()
        frame = frame_from_pipeline(d.screen.pipeline, t_s=d.screen.now())
        draw_hud(b, frame, d.screen.options(), d.app.renderer.size)
        angle = [c for t, c in b.texts if t.startswith("angle ")]
        assert angle and all(c != GOOD for c in angle)
        d.key(pygame.K_ESCAPE)
        d.frames(2)
        res = d.screen
        assert isinstance(res, ResultsScreen)
        b = SpyBatch()
        draw_results(b, res.result, res.path, d.app.renderer.size, exam=True)
        points = {f"{m.points:.0f}" for m in res.result.metrics if m.points is not None}
        judged = [c for t, c in b.texts if t in points and c in (GOOD, WARN, BAD)]
        assert not judged
        texts = [t for t, _ in b.texts]
        assert "incomplete: not scored for sign-off" in texts
        assert not any(t in texts for t in ("sparc", "ldlj", "angle_error_deg", "tremor_peak_hz"))
        assert "Smoothness (SPARC)" in texts and "not measured with the mouse" in texts
    finally:
        d.app.quit()


def test_results_advice_states_the_actual_angle_and_the_target(veni):
    from sim.core import geometry as g
    from sim.core.records import Action, ActionKind, Sample
    from sim.pipeline import Pipeline

    # a steep 58 deg stick straight down onto the vein, then stopped
    axis, normal = g.pose_from_angles(0.0, 58.0, 0.0)
    p = Pipeline(veni, input_kind="mouse")
    p.feed(Action(0.0, ActionKind.TOURNIQUET_ON))
    for i in range(60):
        d = 10.0 - i * 0.3
        tip = (-d * axis[0], -d * axis[1], -d * axis[2])
        p.feed(Sample(0.1 + i / 60, tip, axis, normal))
    r = p.result()
    assert r.metric("insertion_angle_deg").shown == "58°"
    assert "Insertion angle: 58° (target 15-30°)" in r.advice
    assert not math.isnan(r.metric("angle_error_deg").value)
