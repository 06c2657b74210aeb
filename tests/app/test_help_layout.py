"""The controls overlay (F1 / H) as a trainee reads it: every line inside its box."""

from __future__ import annotations

import pytest

from sim.app.help import help_lines
from sim.app.replay import HELP
from sim.procedures.registry import get
from sim.render.hud import draw_help, help_layout
from sim.render.overlay import GlyphAtlas
from sim.scenarios import load_scenario, scenario_paths
from tests.app.test_results_layout import BoxBatch


@pytest.fixture(scope="module")
def atlas() -> GlyphAtlas:
    return GlyphAtlas()


def _all_help() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    out = [("replay", HELP)]
    for p in scenario_paths():
        sc = load_scenario(p)
        out.append((sc.id, help_lines(get(sc.task), sc.checklist)))
    return out


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768), (1920, 1080)])
def test_every_help_line_fits_inside_the_box(atlas, size):
    for name, lines in _all_help():
        b = BoxBatch(atlas)
        (px, py, pw, ph), _, _ = help_layout(b, lines, size)
        draw_help(b, lines, size)
        for text, left, top, right, bottom in b.boxes:
            inside = px <= left and right <= px + pw and py <= top and bottom <= py + ph
            assert inside, f"{name} at {size}: '{text}' leaves the box"
        # nothing lost to the wrapping: every description's words are all there, in order
        drawn = " ".join(t for t, *_ in b.boxes)
        for keys, what in lines:
            assert f"{keys} {what}" in drawn, (name, what)
