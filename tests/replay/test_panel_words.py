"""The replay panel's words: catalogue labels and rounding, and no tremor trace for an input
that cannot measure tremor (the mouse's eased pointer)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygame")

from sim.core.scenario import Scenario  # noqa: E402
from sim.pipeline import Pipeline  # noqa: E402
from sim.procedures.registry import format_value  # noqa: E402
from sim.render.hud import DrawOptions  # noqa: E402
from sim.render.overlay import Batch2D, GlyphAtlas  # noqa: E402
from sim.replay.panel import TREMOR_RGBA, PanelModel, draw_panel  # noqa: E402
from sim.replay.timeline import Timeline  # noqa: E402
from sim.sources.scripted import ScriptedSource  # noqa: E402
from sim.storage.session import run_session  # noqa: E402


class Seen(Batch2D):
    """A batch that also keeps the text and the colours of the lines drawn."""

    def __init__(self) -> None:
        super().__init__(GlyphAtlas())
        self.texts: list[str] = []
        self.line_colours: list[Any] = []

    def text(self, text: str, *args: Any, **kw: Any) -> float:
        self.texts.append(text)
        return super().text(text, *args, **kw)

    def polyline(self, points: Any, width: float, rgba: Any) -> None:
        self.line_colours.append(tuple(rgba))
        super().polyline(points, width, rgba)


def _panel(path: Path) -> tuple[PanelModel, Seen]:
    model = PanelModel(Timeline(path))
    seen = Seen()
    draw_panel(seen, model, (1280, 160), model.tl.end_s / 2, speed=1.0, playing=False)
    return model, seen


def test_mouse_replay_says_tremor_is_not_measured(mouse_sessions: dict[str, Path]) -> None:
    _model, seen = _panel(mouse_sessions["complete"])
    assert "Tremor: not measured with the mouse" in seen.texts
    assert tuple(TREMOR_RGBA) not in seen.line_colours  # no trace of the eased pointer
    assert any(re.fullmatch(r"Speed \(max \d+ mm/s\)", t) for t in seen.texts)


def test_hand_replay_shows_tremor_rounded_as_everywhere(tmp_path: Path, veni: Scenario) -> None:
    path = tmp_path / "hand.jsonl"
    run_session(Pipeline(veni), ScriptedSource(veni, "novice", 1), path, trainee="t")
    model, seen = _panel(path)
    top = format_value("tremor_rms_mm", float(model.tremor.max()))
    assert f"Tremor (max {top})" in seen.texts and re.fullmatch(r"\d\.\d\d mm", top)
    assert tuple(TREMOR_RGBA) in seen.line_colours


def test_mouse_replay_hud_words_tremor_as_the_live_hud(
    mouse_sessions: dict[str, Path], quit_display: None
) -> None:
    # the newcomer's replay said "tremor: not measured (no calibration o..." for a mouse
    # session where the live HUD said "with the mouse"
    from sim.app.replay import ReplayWindow
    from sim.render.hud import draw_hud

    tl = Timeline(mouse_sessions["complete"])
    win = ReplayWindow(tl, None, (640, 360), realtime=False, hidden=True)
    frame = win.view.frame_at(tl.end_s / 2)
    seen = Seen()
    draw_hud(seen, frame, DrawOptions(), (1280, 720))
    assert "tremor: not measured" in seen.texts and "with the mouse" in seen.texts
    assert not any("calibration" in t for t in seen.texts)
