"""Offscreen rendering checks of what a trainee would see (images with tolerances).

One GL context for the module (created hidden, offscreen under the SDL/EGL variables that
tools/test.sh sets), closed at the end so other modules can make their own.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from sim.core import geometry as g  # noqa: E402
from sim.core.records import Cue, Event, Sample, Severity  # noqa: E402
from sim.pipeline import Pipeline  # noqa: E402
from sim.procedures.suturing.spec import parts as suturing_parts  # noqa: E402
from sim.render.hud import banner_rect, side_view_rect  # noqa: E402
from sim.render.scene import DrawOptions, Frame, default_camera, frame_from_pipeline  # noqa: E402

SIZE = (640, 360)
NO_HUD = DrawOptions(hud=False)


def pixel(img: np.ndarray, p: tuple[float, float]) -> np.ndarray:
    """Mean colour of a 3x3 patch at pixel p (x, y), as floats."""
    x, y = int(round(p[0])), int(round(p[1]))
    return img[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).astype(float).mean(axis=0)


def is_skin(c: np.ndarray) -> bool:
    r, gr, b = c
    return r > 130 and r > gr > b and r - b > 40


def frame_with(scenario, sample: Sample | None = None, **kw) -> Frame:  # noqa: ANN001
    p = Pipeline(scenario)
    if sample is not None:
        p.feed(sample)
    f = frame_from_pipeline(p)
    return replace(f, **kw) if kw else f


def surface_y(scenario, z: float) -> float:  # noqa: ANN001
    r = scenario.geometry.arm_radius_mm
    return math.sqrt(r * r - z * z) - r


def test_skin_and_vein_are_where_the_projection_puts_them(renderer, veni) -> None:  # noqa: ANN001
    img = renderer.render_image(frame_with(veni), NO_HUD)
    cam = default_camera(veni)
    geo = veni.geometry
    for x in (-40.0, -10.0, 20.0):
        skin = pixel(img, cam.project((x, surface_y(veni, 14.0), 14.0), SIZE))
        vein = pixel(
            img, cam.project((x, surface_y(veni, geo.vein_lateral_mm), geo.vein_lateral_mm), SIZE)
        )
        assert is_skin(skin), (x, skin)
        # the vein shows through: bluer and darker than the skin beside it
        assert vein[2] / vein[0] > skin[2] / skin[0] + 0.12, (x, vein, skin)
    above = pixel(img, cam.project((0.0, 60.0, -60.0), SIZE))
    assert not is_skin(above)


def test_tourniquet_appears_when_applied(renderer, veni) -> None:  # noqa: ANN001
    from sim.procedures.venipuncture.task import VenipunctureState

    cam = default_camera(veni)
    geo = veni.geometry
    # the band lies on the arm's skin there (the arm widens towards the elbow)
    from sim.render.meshes import arm_section

    cy, ry, _ = arm_section(geo.arm_radius_mm, geo.arm_length_mm, 1.0, geo.tourniquet_x_mm)
    at = cam.project((geo.tourniquet_x_mm, cy + ry + 1.0, 0.0), SIZE)
    off = renderer.render_image(frame_with(veni, state=VenipunctureState()), NO_HUD)
    on = renderer.render_image(
        frame_with(veni, state=VenipunctureState(tourniquet_on=True)), NO_HUD
    )
    assert is_skin(pixel(off, at))
    c = pixel(on, at)
    assert c[2] > c[0] + 40, c  # blue rubber band


def _needle_sample(angle: float, tip: tuple[float, float, float], roll: float = 0.0) -> Sample:
    axis, normal = g.pose_from_angles(0.0, angle, roll)
    return Sample(1.0, tip, axis, normal)


def test_needle_is_drawn_at_its_projected_tip(renderer, veni) -> None:  # noqa: ANN001
    cam = default_camera(veni)
    s = _needle_sample(25.0, (5.0, 6.0, 0.0))
    empty = renderer.render_image(frame_with(veni), NO_HUD).astype(int)
    img = renderer.render_image(frame_with(veni, s), NO_HUD).astype(int)
    changed = np.abs(img - empty).sum(axis=2) > 30
    for back in (1.5, 8.0, 16.0):  # along the shaft, from the tip
        p = g.sub(s.tip_mm, g.scale(s.axis, back))
        x, y = (int(round(v)) for v in cam.project(p, SIZE))
        assert changed[y - 3 : y + 4, x - 3 : x + 4].any(), back
    # and nothing changes far from the instrument
    x, y = (int(round(v)) for v in cam.project((60.0, surface_y(veni, 10.0), 10.0), SIZE))
    assert not changed[y - 3 : y + 4, x - 3 : x + 4].any()


def test_flashback_fills_the_hub_with_blood(renderer, veni) -> None:  # noqa: ANN001
    from sim.procedures.venipuncture.task import VenipunctureState

    cam = default_camera(veni)
    s = _needle_sample(25.0, (5.0, 6.0, 0.0))
    hub = g.sub(s.tip_mm, g.scale(s.axis, veni.geometry.needle_length_mm + 8.0))
    hub = g.add(hub, g.scale(s.normal, -1.5))
    at = cam.project(hub, SIZE)
    dry = pixel(renderer.render_image(frame_with(veni, s, state=VenipunctureState()), NO_HUD), at)
    wet = pixel(
        renderer.render_image(frame_with(veni, s, state=VenipunctureState(flashback=True)), NO_HUD),
        at,
    )
    assert wet[0] > 2 * wet[1] and wet[0] > 2 * wet[2], wet  # blood red
    assert not (dry[0] > 2 * dry[1]), dry


def test_haematoma_shows_after_the_back_wall_is_pierced(renderer, veni) -> None:  # noqa: ANN001
    cam = default_camera(veni)
    y = surface_y(veni, 0.0)
    puncture = Event(
        1.0,
        "skin_puncture",
        "",
        values=(("x_mm", -5.0), ("y_mm", y), ("z_mm", 0.0), ("angle_deg", 40.0)),
    )
    back = Event(2.0, "back_wall", "", True)
    at = cam.project((-1.0, y + 1.0, 4.0), SIZE)
    before = pixel(renderer.render_image(frame_with(veni, events=(puncture,)), NO_HUD), at)
    after = pixel(renderer.render_image(frame_with(veni, events=(puncture, back)), NO_HUD), at)
    assert is_skin(before)
    assert after.sum() < before.sum() * 0.7 and after[2] > after[1], after  # dark bruise


def _banner_colour(img: np.ndarray) -> np.ndarray:
    x, y, w, h = banner_rect(SIZE)
    return img[int(y + 3) : int(y + h - 3), int(x + 3) : int(x + 30)].reshape(-1, 3).mean(axis=0)


def test_banner_shows_the_active_cue_in_its_colour(renderer, veni) -> None:  # noqa: ANN001
    s = _needle_sample(40.0, (-20.0, 6.0, 0.0))
    base = frame_with(veni, s)
    warn = Cue(1.0, "too_steep", "angle 40°: lower to 15-30°", Severity.WARNING, 70)
    danger = Cue(1.0, "back_wall", "through the back wall", Severity.DANGER, 100)
    none = _banner_colour(renderer.render_image(replace(base, banner=None)))
    amber = _banner_colour(renderer.render_image(replace(base, banner=warn)))
    red = _banner_colour(renderer.render_image(replace(base, banner=danger)))
    exam = _banner_colour(renderer.render_image(replace(base, banner=warn), DrawOptions(exam=True)))
    assert amber[0] > 200 and 120 < amber[1] < 190 and amber[2] < 80, amber
    assert red[0] > 180 and red[1] < 70 and red[2] < 70, red
    for c in (none, exam):
        assert not (c[0] > 200 and c[2] < 80), c


def test_real_pipeline_cue_reaches_the_banner(renderer, veni) -> None:  # noqa: ANN001
    # a steep approach to near the skin: the core's cue rules raise "too steep" (once the
    # trainee has moved: the needle came 10 mm along its axis)
    near = _needle_sample(45.0, (-10.0, 8.0, 0.0))
    p = Pipeline(veni)
    p.feed(replace(near, t_s=0.5, tip_mm=g.sub(near.tip_mm, g.scale(near.axis, 10.0))))
    p.feed(near)
    f = frame_from_pipeline(p)
    assert f.banner is not None and f.banner.rule == "too_steep"
    assert f.banner.message == "angle 45°: lower to 15-30°"
    amber = _banner_colour(renderer.render_image(f))
    assert amber[0] > 200 and amber[2] < 80, amber


def _side_needle_angle(img: np.ndarray) -> tuple[float, int]:
    """Angle (deg, tip down positive) of the cyan needle in the side view, and its pixel count."""
    x, y, w, h = (int(v) for v in side_view_rect(SIZE))
    panel = img[y : y + h, x : x + w].astype(int)
    cyan = (panel[:, :, 0] < 120) & (panel[:, :, 1] > 180) & (panel[:, :, 2] > 200)
    ys, xs = np.nonzero(cyan)
    pts = np.stack([xs, ys], axis=1).astype(float)
    pts -= pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts, full_matrices=False)
    dx, dy = vt[0]
    if dx < 0:
        dx, dy = -dx, -dy
    return math.degrees(math.atan2(dy, dx)), len(xs)


@pytest.mark.parametrize("angle", [12.0, 24.0, 38.0])
def test_side_view_needle_angle_matches_the_sample(renderer, veni, angle: float) -> None:  # noqa: ANN001
    s = _needle_sample(angle, (3.0, -2.0, 0.0))  # tip in the skin, above the vein
    f = frame_with(veni, s)
    assert f.view is not None
    seen, n = _side_needle_angle(renderer.render_image(f))
    assert n > 50
    assert abs(seen - f.view.angle_deg) < 2.0, (seen, f.view.angle_deg)


def test_side_view_shows_vein_and_tip_depth(renderer, veni) -> None:  # noqa: ANN001
    """With the tip in the lumen the white tip marker sits inside the vein's band."""
    geo = veni.geometry
    s = _needle_sample(20.0, (0.0, -geo.vein_depth_mm, geo.vein_lateral_mm))
    img = renderer.render_image(frame_with(veni, s)).astype(int)
    x, y, w, h = (int(v) for v in side_view_rect(SIZE))
    panel = img[y : y + h, x : x + w]
    vein = (panel[:, :, 2] > panel[:, :, 0] + 30) & (panel[:, :, 0] < 110) & (panel[:, :, 1] < 100)
    white = (panel > 235).all(axis=2)
    ty, tx = (v.mean() for v in np.nonzero(white))
    rows = np.nonzero(vein[:, int(tx) + 12])[0]
    assert len(rows) > 3
    assert rows.min() - 2 <= ty <= rows.max() + 2


def test_suturing_targets_show_unless_exam(renderer, sut) -> None:  # noqa: ANN001
    cam = default_camera(sut)
    bite = suturing_parts(sut)[1].bite_target_mm
    x = sut.geometry.planned_stitch_x_mm[0]
    at = cam.project((x, 0.0, -bite), SIZE)
    shown = pixel(renderer.render_image(frame_with(sut), NO_HUD), at)
    hidden = pixel(renderer.render_image(frame_with(sut), DrawOptions(hud=False, exam=True)), at)
    assert shown[1] > shown[0] + 40, shown  # green mark
    assert is_skin(hidden), hidden


def test_placed_stitch_stays_visible(renderer, sut) -> None:  # noqa: ANN001
    cam = default_camera(sut)
    ev = (
        Event(1.0, "needle_entry", "", values=(("x_mm", 0.0), ("z_mm", -4.0))),
        Event(2.0, "needle_exit", "", values=(("x_mm", 0.0), ("z_mm", 4.0))),
        Event(2.0, "stitch_completed", "", values=(("x_mm", 0.0),)),
    )
    at = cam.project((0.0, 1.2, 0.0), SIZE)  # the loop's top over the wound
    img = renderer.render_image(frame_with(sut, events=ev), NO_HUD)
    c = pixel(img, at)
    assert c[2] > c[1] + 30 and c[0] > c[1], c  # violet thread


def test_draw_image_puts_a_camera_frame_on_screen(renderer, veni) -> None:  # noqa: ANN001
    """The picture-in-picture path: an RGB frame drawn over the scene at its pixel spot."""
    from sim.render import gl as glu

    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    image[:, :40] = (250, 20, 20)
    fbo = glu.Framebuffer(SIZE)
    fbo.bind()
    renderer.draw(frame_with(veni), NO_HUD)
    renderer.draw_image(image, 500, 20)
    got = glu.read_pixels(SIZE)
    # the next frame: the same camera view is drawn again (no new upload), then a new one
    renderer.draw(frame_with(veni), NO_HUD)
    renderer.draw_image(image, 500, 20)
    again = glu.read_pixels(SIZE)
    newer = image[::-1].copy()
    renderer.draw(frame_with(veni), NO_HUD)
    renderer.draw_image(newer, 500, 20)
    after = glu.read_pixels(SIZE)
    glu.bind_default_framebuffer(SIZE)
    fbo.delete()
    assert np.abs(got[20:80, 500:580].astype(int) - image.astype(int)).max() <= 1
    assert np.abs(again[20:80, 500:580].astype(int) - image.astype(int)).max() <= 1
    assert np.abs(after[20:80, 500:580].astype(int) - newer.astype(int)).max() <= 1


def test_a_long_cue_wraps_to_two_lines_instead_of_being_cut(renderer, veni) -> None:  # noqa: ANN001
    """The longest cue words (83 characters) are shown whole: the banner grows to two
    lines rather than ending in "..."."""
    s = _needle_sample(40.0, (-20.0, 6.0, 0.0))
    base = frame_with(veni, s)
    words = "off the vein by 0.04 mm: withdraw to just under the skin, then re-aim away from you"
    short = Cue(1.0, "too_steep", "angle 40°: lower to 15-30°", Severity.WARNING, 70)
    long = Cue(1.0, "off_vein", words, Severity.WARNING, 65)
    x, y, w, h = banner_rect(SIZE)
    below = (int(x + 10), int(y + h + 8))  # under the one-line banner

    def amber_at(img: np.ndarray) -> bool:
        c = img[below[1], below[0]]
        return bool(c[0] > 200 and 120 < c[1] < 190 and c[2] < 80)

    assert not amber_at(renderer.render_image(replace(base, banner=short)))
    assert amber_at(renderer.render_image(replace(base, banner=long)))
