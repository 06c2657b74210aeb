"""The patient on screen (offscreen OpenGL, images with tolerances): the arm tapers to the
wrist, the vein fades with the case's visibility, a bruise grows, the collection tube and
the flash chamber fill with blood, the skin is paler where it was cleaned, and the speech
bubble shows the patient's words for a while and then goes."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from sim.core import geometry as g  # noqa: E402
from sim.core.patient import PatientView  # noqa: E402
from sim.core.records import Event, Sample  # noqa: E402
from sim.core.scenario import Scenario  # noqa: E402
from sim.pipeline import Pipeline  # noqa: E402
from sim.procedures.venipuncture.task import VenipunctureState  # noqa: E402
from sim.render.hud import banner_rect, bubble_rect, patient_rect, side_view_rect  # noqa: E402
from sim.render.scene import (  # noqa: E402
    DrawOptions,
    Frame,
    OrbitCamera,
    default_camera,
    frame_from_pipeline,
)
from sim.scenarios import find_scenario  # noqa: E402

SIZE = (640, 360)
NO_HUD = DrawOptions(hud=False)
AWAY = Sample(1.0, (40.0, 60.0, 80.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0))
"""A needle far above the arm, out of the way."""


def is_skin(c: np.ndarray) -> np.ndarray:
    r, gr, b = (c[..., i].astype(int) for i in range(3))
    return (r > 130) & (r > gr) & (gr > b) & (r - b > 40)


def blood(img: np.ndarray) -> np.ndarray:
    r, gr, b = (img[..., i].astype(int) for i in range(3))
    return (r > 90) & (gr < 45) & (b < 45)


def bruise(img: np.ndarray) -> np.ndarray:
    r, gr, b = (img[..., i].astype(int) for i in range(3))
    return (r < 170) & (gr * 10 < r * 6) & (b * 10 > gr * 13) & (r > 40)


def frame(scenario: Scenario, sample: Sample = AWAY, patient: PatientView | None = None,
          **kw: Any) -> Frame:  # fmt: skip
    p = Pipeline(scenario)
    p.feed(sample)
    f = frame_from_pipeline(p)
    if patient is not None:
        assert f.view is not None
        f = replace(f, view=replace(f.view, patient=patient))
    return replace(f, **kw) if kw else f


def surface(scenario: Scenario, x: float, z: float) -> tuple[float, float, float]:
    r = scenario.geometry.arm_radius_mm
    return (x, math.sqrt(r * r - z * z) - r + 0.3, z)


def around(mask: np.ndarray, p: tuple[float, float], half: int) -> int:
    x, y = int(round(p[0])), int(round(p[1]))
    return int(mask[max(y - half, 0) : y + half + 1, max(x - half, 0) : x + half + 1].sum())


def skin_across(img: np.ndarray, cam: OrbitCamera, x: float, y: float, half_mm: float) -> float:
    """How many mm of a line across the arm at ``x`` (from z = -half to +half) the image
    shows as skin."""
    zs = np.linspace(-half_mm, half_mm, 241)
    hits = 0
    for z in zs:
        px, py = cam.project((x, y, float(z)), SIZE)
        r, gr, b = img[int(round(py)), int(round(px))].astype(int)
        hits += r > 60 and r > gr + 15 and gr > b  # skin, lit or in shade (the table is green)
    return hits * (2 * half_mm / (len(zs) - 1))


def test_the_forearm_tapers_to_a_wrist_and_a_hand(renderer: Any, veni: Scenario) -> None:
    geo = veni.geometry
    cam = OrbitCamera(target=(60.0, -30.0, 0.0), yaw_deg=0.0, pitch_deg=89.0, distance_mm=520)
    # (the vein hidden: its tint on the skin is not skin-coloured)
    plain = replace(
        veni,
        geometry=replace(geo, vein_visibility=0.0),
        content_hash=veni.content_hash + "-no-vein",
    )
    img = renderer.render_image(frame(plain), NO_HUD, cam)
    r = geo.arm_radius_mm
    wrist_x = 0.8 * geo.arm_length_mm / 2  # the hand lies away from the tourniquet (+x here)
    at_site = skin_across(img, cam, 0.0, -r, 70.0)
    at_wrist = skin_across(img, cam, wrist_x - 4.0, -r, 70.0)
    palm = skin_across(img, cam, wrist_x + 40.0, -r, 70.0)
    assert at_site == pytest.approx(2 * r, abs=8.0), at_site  # the task's arm at the site
    assert at_wrist < 0.85 * at_site, (at_wrist, at_site)  # narrower at the wrist
    assert palm > at_wrist, (palm, at_wrist)  # and a hand beyond it, wider than the wrist


def test_the_vein_fades_with_the_cases_visibility(renderer: Any, veni: Scenario) -> None:
    faint = replace(
        veni,
        geometry=replace(veni.geometry, vein_visibility=0.2),
        content_hash=veni.content_hash + "-faint",
    )
    cam = default_camera(veni)
    lat = veni.geometry.vein_lateral_mm

    def blueness(sc: Scenario) -> float:
        img = renderer.render_image(frame(sc), NO_HUD).astype(float)
        vals = []
        for x in (-15.0, 0.0, 15.0):
            px, py = cam.project(surface(sc, x, lat), SIZE)
            c = img[int(py) - 1 : int(py) + 2, int(px) - 1 : int(px) + 2].reshape(-1, 3).mean(0)
            vals.append(c[2] / c[0])
        return float(np.mean(vals))

    clear, hidden = blueness(veni), blueness(faint)
    assert clear > hidden + 0.1, (clear, hidden)


def test_a_bruise_grows_with_its_diameter(renderer: Any, veni: Scenario) -> None:
    cam = default_camera(veni)
    lat = veni.geometry.vein_lateral_mm
    at = cam.project(surface(veni, 5.0, lat), SIZE)

    def bruised(mm: float) -> int:
        p = PatientView(bruise_mm=mm, bruise_x_mm=5.0, bruise_z_mm=lat, bleeding=True)
        return around(bruise(renderer.render_image(frame(veni, patient=p), NO_HUD)), at, 40)

    none, small, big = bruised(0.0), bruised(6.0), bruised(20.0)
    assert none < 5, none
    assert small > 15, small
    assert big > 3 * small, (small, big)


def test_arterial_blood_is_bright_red_and_pulses(renderer: Any, veni: Scenario) -> None:
    cam = default_camera(veni)
    at = cam.project(surface(veni, 0.0, 0.0), SIZE)
    p = PatientView(arterial=True, bruise_mm=4.0)

    def red(t: float) -> int:
        img = renderer.render_image(frame(veni, patient=p, moment_s=t), NO_HUD)
        r, gr, b = (img[..., i].astype(int) for i in range(3))
        return around((r > 170) & (gr < 60) & (b < 60), at, 30)

    # a beat at 1.2 Hz: largest a quarter period after t = 0, smallest three quarters after
    beat = 1 / 1.2
    high = red(0.25 * beat)
    low = red(0.75 * beat)
    assert low > 10, low
    assert high > low * 1.3, (high, low)


def _syringe_sample() -> Sample:
    axis, normal = g.pose_from_angles(0.0, 25.0, 0.0)
    return Sample(3.0, (2.0, -4.0, 0.0), axis, normal)


def test_the_collection_tube_fills_while_blood_is_drawn(renderer: Any, veni: Scenario) -> None:
    s = _syringe_sample()

    def red(st: VenipunctureState) -> int:
        return int(blood(renderer.render_image(frame(veni, s, state=st), NO_HUD)).sum())

    hold = float(find_scenario("venipuncture").tolerances.draw_hold_s)
    empty = red(VenipunctureState(flashback=True))
    some = red(VenipunctureState(flashback=True, lumen_since_s=s.t_s - 0.2 * hold))
    full = red(VenipunctureState(flashback=True, drawn=True))
    assert some > empty + 30, (empty, some)
    assert full > some + 100, (empty, some, full)


def test_the_flash_chamber_fills_after_flashback() -> None:
    from sim.procedures.iv_cannulation.scene import flash_fill

    events = (Event(2.0, "flashback", "flashback"),)
    assert flash_fill((), 5.0) == 0.0
    assert 0.2 < flash_fill(events, 2.0) < flash_fill(events, 2.5) < flash_fill(events, 4.0)
    assert flash_fill(events, 4.0) == 1.0


def test_the_cleaned_skin_is_paler(renderer: Any, veni: Scenario) -> None:
    cam = default_camera(veni)
    at = cam.project(surface(veni, -20.0, 12.0), SIZE)
    clean = Event(0.5, "step_clean", "site cleaned", values=(("x_mm", -20.0), ("z_mm", 12.0),
                                                              ("radius_mm", 15.0)))  # fmt: skip
    before = renderer.render_image(frame(veni), NO_HUD).astype(float)
    after = renderer.render_image(frame(veni, events=(clean,)), NO_HUD).astype(float)
    x, y = int(at[0]), int(at[1])
    b, a = (
        before[y - 2 : y + 3, x - 2 : x + 3].mean((0, 1)),
        after[y - 2 : y + 3, x - 2 : x + 3].mean((0, 1)),
    )
    assert a.sum() > b.sum() + 15, (b, a)


def test_the_speech_bubble_shows_the_line_then_goes(renderer: Any, veni: Scenario) -> None:
    x, y, w, _ = bubble_rect(SIZE)
    s = SIZE[1] / 720

    def bubble(said_ago_s: float) -> tuple[int, int]:
        f = frame(veni)
        p = PatientView(discomfort=3.0, line="Ouch, that stings!", line_t_s=f.now_s - said_ago_s)
        f = replace(f, view=replace(f.view, patient=p))
        img = renderer.render_image(f, DrawOptions()).astype(int)
        box = img[int(y + 2 * s) : int(y + 36 * s), int(x) : int(x + w)]
        pale = (box > 225).all(axis=-1).sum()
        dark = (box < 60).all(axis=-1).sum()  # the words, dark on the pale bubble
        return int(pale), int(dark)

    pale, words = bubble(1.0)
    assert pale > 0.3 * w * 30 * s, pale
    assert words > 20, words
    gone, _ = bubble(7.0)
    assert gone < 0.05 * pale, gone


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080), (1280, 720)])
def test_the_patient_panel_covers_no_other_panel(size: tuple[int, int]) -> None:
    w, h = size
    s = h / 720
    panel = patient_rect(size)
    bubble = bubble_rect(size)  # with four lines of words
    bx, by, bw, bh = banner_rect(size)
    bh = 80 * s  # a banner of two lines
    sx, sy, sw, sh = side_view_rect(size)
    gauges = (16 * s, h - 196 * s, 350 * s, 180 * s)

    def apart(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
        return (
            a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
        )

    # the checklist's column under the panel: 9 steps (practice screen's layout)
    checklist = (16 * s, panel[1] + panel[3], 214 * s, 8 * s + 20 * s + 9 * 30 * s)
    assert apart(panel, bubble) and apart(bubble, checklist)
    for mine in (panel, bubble, checklist):
        for other in ((bx, by, bw, bh), (sx, sy - 30 * s, sw, sh), gauges):
            assert apart(mine, other), (mine, other)
    assert bubble[0] + bubble[2] <= w


def _patch(img: np.ndarray, p: tuple[float, float], half: int = 2) -> np.ndarray:
    x, y = int(round(p[0])), int(round(p[1]))
    return (
        img[y - half : y + half + 1, x - half : x + half + 1].reshape(-1, 3).astype(float).mean(0)
    )


def test_the_skin_tents_under_a_tip_about_to_go_in(renderer: Any, veni: Scenario) -> None:
    cam = default_camera(veni)
    axis, normal = g.pose_from_angles(0.0, 30.0, 0.0)
    z = 12.0

    def near(height_mm: float) -> np.ndarray:
        top = surface(veni, 0.0, z)
        tip = (0.0, top[1] - 0.3 + height_mm, z)
        img = renderer.render_image(frame(veni, Sample(1.0, tip, axis, normal)), NO_HUD)
        # beside the tip, ahead of it (the needle comes from behind): the dimple's far side
        return _patch(img, cam.project(surface(veni, 2.5, z), SIZE))

    pressing, far = near(0.4), near(6.0)
    assert np.abs(pressing - far).sum() > 12, (pressing, far)


def test_a_rolled_vein_shows_where_it_rolled_to(renderer: Any, veni: Scenario) -> None:
    cam = default_camera(veni)
    lat = veni.geometry.vein_lateral_mm
    shift = 8.0

    def blue(p: PatientView | None, z: float) -> float:
        img = renderer.render_image(frame(veni, patient=p), NO_HUD)
        c = _patch(img, cam.project(surface(veni, -10.0, z), SIZE))
        return float(c[2] / c[0])

    rolled = PatientView(vein_shift_mm=shift)
    assert blue(rolled, lat + shift) > blue(None, lat + shift) + 0.1
    assert blue(rolled, lat) < blue(None, lat) - 0.1


def test_a_flinch_moves_the_arm(renderer: Any, veni: Scenario) -> None:
    cam = OrbitCamera(target=(0.0, -30.0, 0.0), yaw_deg=0.0, pitch_deg=89.0, distance_mm=400)
    r = veni.geometry.arm_radius_mm
    edge = cam.project((-20.0, -r, -r - 3.0), SIZE)  # just beside the arm, seen from above

    def at_edge(p: PatientView) -> np.ndarray:
        return _patch(renderer.render_image(frame(veni, patient=p), NO_HUD, cam), edge)

    still, moved = at_edge(PatientView()), at_edge(PatientView(flinch_mm=-6.0))

    def arm_there(c: np.ndarray) -> bool:  # skin, lit or in shade (the table is green)
        return bool(c[0] > c[1] + 15 and c[1] > c[2])

    assert not arm_there(still) and arm_there(moved), (still, moved)


def test_the_checklist_shows_the_steps_taken_by_the_moment_drawn(
    renderer: Any, veni: Scenario
) -> None:
    """Practice, replay and video draw the checklist alike, from the frame's events (those so
    far): a step is ticked from the moment it was taken, and lit for a moment then."""
    from sim.core.records import Event
    from sim.render.hud import checklist_rects

    taken = Event(5.0, "step_identity", "identity checked")
    rects = dict(checklist_rects(veni, SIZE))
    x, y, w, h = rects["identity"]
    s = SIZE[1] / 720

    def box(moment_s: float) -> np.ndarray:
        so_far = tuple(e for e in (taken,) if e.t_s <= moment_s)  # a frame's events so far
        f = frame(veni, events=so_far, moment_s=moment_s)
        img = renderer.render_image(f, DrawOptions()).astype(int)
        return img[int(y + 10 * s) : int(y + 16 * s), int(x + 10 * s) : int(x + 16 * s)]

    def green(c: np.ndarray) -> bool:
        m = c.reshape(-1, 3).mean(0)
        return bool(m[1] > 150 and m[1] > m[0] + 60 and m[1] > m[2] + 60)

    assert not green(box(4.0))  # before it was taken
    assert green(box(5.5)) and green(box(30.0))  # taken: ticked from then on

    def lit(moment_s: float) -> bool:  # the button's background, left of its words
        f = frame(veni, events=(taken,), moment_s=moment_s)
        img = renderer.render_image(f, DrawOptions()).astype(int)
        c = img[int(y + 2 * s) : int(y + 5 * s), int(x + 2 * s) : int(x + 5 * s)]
        m = c.reshape(-1, 3).mean(0)
        return bool(m[2] > 120 and m[2] > m[0] + 50)

    assert lit(5.5) and not lit(30.0)
