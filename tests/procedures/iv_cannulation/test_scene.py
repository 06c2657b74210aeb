"""IV cannulation's scene as a trainee sees it, drawn offscreen with real OpenGL (EGL/Mesa)
from an expert's scripted session: blood in the flash chamber, the catheter sliding off the
needle, the catheter staying in the vein once the needle is out, the dressing, the side view
with the catheter and the needle apart, and the HUD's step line."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from sim.core import geometry as g  # noqa: E402
from sim.core.records import Sample  # noqa: E402
from sim.core.scenario import Scenario  # noqa: E402
from sim.pipeline import Pipeline  # noqa: E402
from sim.procedures.iv_cannulation.scene import (  # noqa: E402
    CATHETER_SIDE,
    HUB_MM,
    SCENE,
    catheter_path,
    catheter_pose,
)
from sim.procedures.iv_cannulation.spec import parts  # noqa: E402
from sim.procedures.iv_cannulation.task import IvCannulationTask, IvState  # noqa: E402
from sim.render.hud import draw_hud, side_view_rect  # noqa: E402
from sim.render.overlay import Batch2D, GlyphAtlas  # noqa: E402
from sim.render.plugin import NEEDLE_SIDE  # noqa: E402
from sim.render.scene import DrawOptions, Frame, frame_from_pipeline  # noqa: E402
from sim.sources.scripted import ScriptedSource  # noqa: E402

SIZE = (640, 360)
NO_HUD = DrawOptions(hud=False)
MOMENTS = ("flashback", "threading_started", "threaded", "needle_withdrawn", "flushed", "secured")


def _frames(sc: Scenario, skill: str = "expert", seed: int = 0) -> dict[str, Frame]:
    """The frames of a scripted session right after each event of MOMENTS, and "before"
    (the first sample) and "mid_thread" (the catheter slid three steps)."""
    p = Pipeline(sc)
    out: dict[str, Frame] = {}
    for item in ScriptedSource(sc, skill, seed=seed):
        step = p.feed(item)
        if "before" not in out and p.samples:
            out["before"] = frame_from_pipeline(p)
        st = p.state
        if isinstance(st, IvState) and st.advance_steps == 3 and "mid_thread" not in out:
            out["mid_thread"] = frame_from_pipeline(p)
        for e in step.events:
            if e.kind in MOMENTS and e.kind not in out:
                out[e.kind] = frame_from_pipeline(p)
    return out


@pytest.fixture(scope="module")
def frames(iv: Scenario) -> dict[str, Frame]:
    f = _frames(iv)
    missing = [k for k in (*MOMENTS, "before", "mid_thread") if k not in f]
    assert not missing, missing
    return f


def _pink(img: np.ndarray) -> np.ndarray:
    """The catheter's pink hub: red well over green, blue over green."""
    r, gr, b = (img[..., i].astype(int) for i in range(3))
    return (r > 150) & (r - gr > 50) & (b - gr > 15)


def _blood(img: np.ndarray) -> np.ndarray:
    r, gr, b = (img[..., i].astype(int) for i in range(3))
    return (r > 90) & (gr < 45) & (b < 45)


def _around(mask: np.ndarray, p: tuple[float, float], half: int) -> int:
    x, y = int(round(p[0])), int(round(p[1]))
    return int(mask[max(y - half, 0) : y + half + 1, max(x - half, 0) : x + half + 1].sum())


def _hub(frame: Frame) -> tuple[float, float, float]:
    """The middle of the catheter's hub in the scene, mm."""
    geo, _ = parts(frame.scenario)
    st = frame.state if isinstance(frame.state, IvState) else None
    pose = catheter_pose(IvCannulationTask(frame.scenario), st, frame.sample)
    assert pose is not None
    back = catheter_path(pose, geo)[-1]
    return g.sub(back, g.scale(pose.axis, HUB_MM / 2))


def test_the_flash_chamber_fills_with_blood_at_flashback(
    renderer: Any, frames: dict[str, Frame]
) -> None:
    before = renderer.render_image(frames["before"], NO_HUD)
    after = renderer.render_image(frames["flashback"], NO_HUD)
    assert _blood(before).sum() < 5
    assert _blood(after).sum() > 40


def test_the_catheter_slides_off_the_needle_and_stays_once_it_is_out(
    renderer: Any, frames: dict[str, Frame]
) -> None:
    """The catheter's hub is where the catheter is: moved forward along the needle while
    threading, and still there (in the picture) once the needle has been pulled away."""
    cam = SCENE.camera(frames["before"].scenario)
    start = frames["threading_started"]
    threaded = frames["threaded"]
    hub0, hub1 = _hub(start), _hub(threaded)
    geo, _ = parts(start.scenario)
    assert start.view is not None and threaded.view is not None
    slid = threaded.view.catheter_advance_mm
    assert slid >= 10.0
    assert abs(g.norm(g.sub(hub1, hub0)) - slid) < 1.0  # the hub moved as far as the catheter
    img = renderer.render_image(threaded, NO_HUD)
    assert _around(_pink(img), cam.project(hub1, SIZE), 6) > 10
    # the needle out and far away: the catheter's hub is still drawn where it was
    out = frames["needle_withdrawn"]
    assert out.sample is not None
    away = Sample(out.t_s, (-150.0, 60.0, 80.0), out.sample.axis, out.sample.normal)
    far = replace(out, sample=away)
    img = renderer.render_image(far, NO_HUD)
    hub_out = _hub(far)
    assert g.norm(g.sub(hub_out, hub1)) < 0.5
    assert _around(_pink(img), cam.project(hub_out, SIZE), 6) > 10
    # ... and without a state it is not (a loaded cannula goes with its needle)
    bare = renderer.render_image(replace(far, state=None), NO_HUD)
    assert _around(_pink(bare), cam.project(hub_out, SIZE), 6) == 0


def test_a_dressing_covers_the_site_once_secured(renderer: Any, frames: dict[str, Frame]) -> None:
    cam = SCENE.camera(frames["before"].scenario)
    flushed = renderer.render_image(frames["flushed"], NO_HUD).astype(int)
    secured = renderer.render_image(frames["secured"], NO_HUD).astype(int)
    hub = _hub(frames["secured"])
    site = cam.project((hub[0] + 10.0, 0.0, hub[2]), SIZE)
    changed = np.abs(secured - flushed).sum(axis=2) > 30
    assert _around(changed, site, 15) > 200
    white = (secured.min(axis=2) > 200) & (np.abs(secured - flushed).sum(axis=2) > 30)
    assert white.sum() > 200


def _seen(panel: np.ndarray, rgba: tuple[float, ...]) -> int:
    rgb = np.array(rgba[:3]) * 255
    return int((np.abs(panel - rgb) < 30).all(axis=2).sum())


def test_side_view_draws_the_catheter_ahead_of_the_needle_while_threading(
    renderer: Any, frames: dict[str, Frame]
) -> None:
    """Threading: the catheter (pink) and the needle (cyan) are separate lines, both seen,
    the catheter's tip ahead of the needle's."""
    f = frames["threaded"]
    sec = SCENE.section(f)
    assert sec is not None
    colours = [line.rgba for line in sec.instrument]
    assert CATHETER_SIDE in colours and NEEDLE_SIDE in colours
    cath = next(line for line in sec.instrument if line.rgba == CATHETER_SIDE)
    needle = next(line for line in sec.instrument if line.rgba == NEEDLE_SIDE)
    assert cath.points[0, 0] > needle.points[0, 0] + 5.0  # tip first, u along the needle
    img = renderer.render_image(f).astype(int)
    x, y, w, h = (int(v) for v in side_view_rect(SIZE))
    panel = img[y : y + h, x : x + w]
    assert _seen(panel, CATHETER_SIDE) > 30
    assert _seen(panel, NEEDLE_SIDE) > 30


def test_side_view_keeps_the_catheter_in_the_vein_once_the_needle_is_out(
    frames: dict[str, Frame],
) -> None:
    geo, _ = parts(frames["before"].scenario)
    sec = SCENE.section(frames["needle_withdrawn"])
    assert sec is not None
    assert [line.rgba for line in sec.instrument] == [CATHETER_SIDE, CATHETER_SIDE]
    assert sec.note is not None and "needle withdrawn" in sec.note[0]
    # its tip in the lumen, as deep as the title says
    r = geo.vein_diameter_mm / 2
    assert abs(sec.depth_mm - geo.vein_depth_mm) < r
    assert abs(sec.tip[1] + geo.vein_depth_mm) < r


class _Words(Batch2D):
    def __init__(self, atlas: GlyphAtlas) -> None:
        super().__init__(atlas)
        self.words: list[str] = []

    def text(self, text: str, *args: Any, **kwargs: Any) -> float:
        self.words.append(text)
        return super().text(text, *args, **kwargs)


def test_the_step_line_says_where_the_cannula_stands(
    renderer: Any, frames: dict[str, Frame]
) -> None:
    def step(key: str) -> str:
        return SCENE.readouts(frames[key]).progress[0].text

    assert step("before") == "cannula loaded"
    v = frames["mid_thread"].view
    assert v is not None
    mid = step("mid_thread")
    assert mid == f"threaded {v.catheter_advance_mm:.0f}/{v.thread_target_mm:.0f} mm"
    assert step("needle_withdrawn") == "needle out: flush (L)"
    assert step("secured") == "cannula secured"
    # after flashback the line under the angle is the angle to thread at
    aim = SCENE.readouts(frames["flashback"]).aim
    assert aim is not None and aim.text == "thread at 15° or less"
    batch = _Words(renderer.atlas)
    draw_hud(batch, frames["mid_thread"], DrawOptions(), SIZE)
    assert mid in batch.words


def test_every_hud_line_fits_its_panel(iv: Scenario, renderer: Any) -> None:
    """Every aim and step line of several sessions fits the gauges' column at 1280x720:
    none runs over the panel's edge."""
    atlas = renderer.atlas
    texts: set[str] = set()
    for skill, seed in (("expert", 0), ("novice", 1), ("novice", 4)):
        p = Pipeline(iv)
        for item in ScriptedSource(iv, skill, seed=seed):
            p.feed(item)
            if p.samples:
                lines = SCENE.readouts(frame_from_pipeline(p))
                texts.update(x.text for x in (lines.aim, *lines.progress) if x is not None)
    assert len(texts) >= 8
    column_px = 350 - 190 - 4  # the gauge panel's width less the dial's (sim.render.hud)
    too_long = [t for t in texts if atlas.text_width(t, 14) > column_px]
    assert not too_long, too_long
