"""Every registered procedure's scene plug-in, drawn offscreen with real OpenGL (EGL/Mesa)
from an expert's scripted session with the instrument in the tissue: what a trainee would
see of the body, the instrument, the side view and the HUD's readouts.

A procedure added under ``sim/procedures/`` is covered here without a line changed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from sim.pipeline import Pipeline  # noqa: E402
from sim.procedures import registry  # noqa: E402
from sim.render.hud import draw_hud, side_view_rect  # noqa: E402
from sim.render.overlay import Batch2D, GlyphAtlas  # noqa: E402
from sim.render.plugin import SideSection  # noqa: E402
from sim.render.scene import DrawOptions, Frame, frame_from_pipeline, scene_of  # noqa: E402
from sim.sources.scripted import ScriptedSource  # noqa: E402
from tests.conftest import scenario_of  # noqa: E402

SIZE = (640, 360)
NO_HUD = DrawOptions(hud=False)
IN_TISSUE_S = 0.3
"""How long the instrument has been in the tissue at the frame drawn, s."""


def mid_procedure(task: str) -> Frame:
    """The frame of an expert's session IN_TISSUE_S after the instrument first went in."""
    sc = scenario_of(task)
    p = Pipeline(sc)
    since: float | None = None
    for item in ScriptedSource(sc, "expert", seed=0):
        p.feed(item)
        v = p.view
        if v is None or not v.inserted:
            since = None
            continue
        since = item.t_s if since is None else since
        if item.t_s - since >= IN_TISSUE_S and p.samples:
            return frame_from_pipeline(p)
    raise AssertionError(f"{task}: the expert's instrument never stayed in the tissue")


@pytest.fixture(scope="module", params=registry.ids())
def mid(request: pytest.FixtureRequest) -> Frame:
    return mid_procedure(request.param)


def is_skin(c: np.ndarray) -> np.ndarray:
    """Skin-coloured pixels (warm, lit): red over green over blue."""
    r, gr, b = (c[..., i].astype(int) for i in range(3))
    return (r > 130) & (r > gr) & (gr > b) & (r - b > 40)


def window(img: np.ndarray, p: tuple[float, float], half: int) -> np.ndarray:
    x, y = int(round(p[0])), int(round(p[1]))
    return img[max(y - half, 0) : y + half + 1, max(x - half, 0) : x + half + 1]


def test_body_and_instrument_show_where_they_project(renderer: Any, mid: Frame) -> None:
    assert mid.sample is not None
    cam = scene_of(mid.scenario).camera(mid.scenario)
    bare = renderer.render_image(replace(mid, sample=None), NO_HUD)
    full = renderer.render_image(mid, NO_HUD)
    at = cam.project(mid.sample.tip_mm, SIZE)
    assert 0 <= at[0] < SIZE[0] and 0 <= at[1] < SIZE[1], at  # the default camera sees it
    # the tissue round the tip is on screen, skin-coloured
    assert is_skin(window(bare, at, 20)).mean() > 0.5
    # the instrument: pixels it changes, beside the tip where it comes out of the tissue
    changed = np.abs(full.astype(int) - bare.astype(int)).sum(axis=2) > 30
    assert window(changed, at, 30).sum() > 20
    assert changed.sum() > 300
    # ... and what it covers is no longer all skin
    assert is_skin(full).sum() < is_skin(bare).sum()


def test_side_view_shows_every_part_of_the_instrument(renderer: Any, mid: Frame) -> None:
    sec = scene_of(mid.scenario).section(mid)
    assert isinstance(sec, SideSection)
    assert sec.over_tissue and sec.depth_mm > 0  # in the tissue, as the frame is
    assert sec.instrument
    img = renderer.render_image(mid).astype(int)
    x, y, w, h = (int(v) for v in side_view_rect(SIZE))
    panel = img[y : y + h, x : x + w]
    for part in sec.instrument:
        rgb = np.array(part.rgba[:3]) * 255
        seen = (np.abs(panel - rgb) < 30).all(axis=2).sum()
        assert seen > 30, (part.rgba, seen)
    # the side view is not drawn in exam mode
    exam = renderer.render_image(mid, DrawOptions(exam=True)).astype(int)[y : y + h, x : x + w]
    for part in sec.instrument:
        rgb = np.array(part.rgba[:3]) * 255
        assert (np.abs(exam - rgb) < 30).all(axis=2).sum() < 5


class _Words(Batch2D):
    """A batch that keeps the words drawn."""

    def __init__(self, atlas: GlyphAtlas) -> None:
        super().__init__(atlas)
        self.words: list[str] = []

    def text(self, text: str, *args: Any, **kwargs: Any) -> float:
        self.words.append(text)
        return super().text(text, *args, **kwargs)


def test_hud_readouts_have_the_procedures_lines(renderer: Any, mid: Frame) -> None:
    plugin = scene_of(mid.scenario)
    lines = plugin.readouts(mid)
    assert lines.progress, "a procedure shows where it stands"
    batch = _Words(renderer.atlas)
    draw_hud(batch, mid, DrawOptions(), SIZE)
    for line in (lines.aim, *lines.progress):
        if line is not None:
            assert line.text in batch.words, (line.text, batch.words)
    lo, hi = plugin.angle_band(mid)
    assert 0.0 <= lo < hi <= 90.0
    assert mid.view is not None
    angle = next(w for w in batch.words if w.startswith("angle "))
    assert angle.split()[1].rstrip("°") == f"{mid.view.angle_deg:.0f}"


def test_the_tip_in_the_side_view_is_as_deep_as_its_title_says(mid: Frame) -> None:
    """The side view puts the inserted tip under the skin line it draws, as deep as the
    depth in its title."""
    sec = scene_of(mid.scenario).section(mid)
    assert sec is not None
    u, v = sec.tip
    surface = float(np.interp(u, sec.skin[:, 0], sec.skin[:, 1]))
    assert v < surface
    assert abs((surface - v) - sec.depth_mm) < 1.0, (surface - v, sec.depth_mm)
