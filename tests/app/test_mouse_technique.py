"""The mouse controls let a trainee make each scored error and also do it right: the real
MouseSource is driven with synthesized pygame events (offscreen) and its samples go
through the pipeline, as in the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pygame = pytest.importorskip("pygame")

from sim.app.mouse import MouseSource  # noqa: E402
from sim.pipeline import Pipeline  # noqa: E402
from sim.procedures.suturing.spec import parts as suturing_parts  # noqa: E402
from sim.procedures.venipuncture.spec import parts as venipuncture_parts  # noqa: E402
from sim.render.scene import default_camera  # noqa: E402
from sim.scenarios import find_scenario  # noqa: E402

SIZE = (1280, 720)


class Rig:
    """A MouseSource on a stepped clock whose samples feed a pipeline."""

    def __init__(self, sid: str) -> None:
        self.sc = find_scenario(sid)
        self.cam = default_camera(self.sc)
        self.t = 0.0
        self.mouse = MouseSource(self.sc, lambda: self.cam, lambda: SIZE, clock=lambda: self.t)
        self.mouse.start(0.0)
        self.pipe = Pipeline(self.sc)

    def frames(self, seconds: float) -> None:
        for _ in range(int(round(seconds * 60))):
            self.t += 1 / 60
            self.pipe.feed_all(self.mouse.poll())

    def send(self, etype: int, **kw: object) -> None:
        assert self.mouse.handle_event(pygame.event.Event(etype, **kw))
        self.frames(1 / 60)

    def point(self, p: tuple[float, float, float]) -> None:
        x, y = self.cam.project(p, SIZE)
        pos = (round(x), round(y))
        last = getattr(self, "_pos", (pos[0] - 1, pos[1]))
        rel = (pos[0] - last[0], pos[1] - last[1])
        self._pos = pos
        self.send(pygame.MOUSEMOTION, pos=pos, rel=rel, buttons=(0, 0, 0))

    def hold_key(self, key: int, seconds: float) -> None:
        self.send(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0)
        self.frames(seconds)
        self.send(pygame.KEYUP, key=key, mod=0, unicode="", scancode=0)

    def wheel(self, clicks: int) -> None:
        for _ in range(abs(clicks)):
            self.send(pygame.MOUSEWHEEL, x=0, y=1 if clicks > 0 else -1, flipped=False)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.pipe.events]


@pytest.fixture()
def display() -> Iterator[None]:
    pygame.display.init()
    yield
    pygame.display.quit()


def _lower_to_skin(rig: Rig, x: float, bite: float) -> None:
    rig.point((x, 0.0, -bite))
    rig.frames(0.3)
    rig.hold_key(pygame.K_f, 9.8 / 4.0)  # lower the hand until the tip touches the skin
    rig.frames(0.3)


def test_suturing_rotating_the_wrist_places_a_good_stitch(display: None) -> None:
    rig = Rig("suturing")
    _, tol = suturing_parts(rig.sc)
    _lower_to_skin(rig, 0.0, tol.bite_target_mm)
    for _ in range(40):  # turn with the wheel, a click at a time
        rig.wheel(1)
        rig.frames(0.05)
    rig.frames(0.5)
    done = [e for e in rig.pipe.events if e.kind == "stitch_completed"]
    assert len(done) == 1, rig.kinds()
    assert not [e for e in rig.pipe.events if e.error], rig.kinds()
    assert done[0].value("arc_deviation_mm") < 0.5
    assert done[0].value("entry_angle_deg") > 80


def test_suturing_pushing_the_needle_instead_of_rotating_drags_tissue(display: None) -> None:
    rig = Rig("suturing")
    _, tol = suturing_parts(rig.sc)
    _lower_to_skin(rig, 0.0, tol.bite_target_mm)
    rig.wheel(8)  # a little rotation to start
    rig.frames(0.3)
    rig.hold_key(pygame.K_f, 1.0)  # then push down with the hand...
    rig.point((0.0, 0.0, tol.bite_target_mm - 2))  # ...and slide it across the wound
    rig.frames(0.5)
    for _ in range(40):
        rig.wheel(1)
        rig.frames(0.05)
    rig.hold_key(pygame.K_r, 2.5)
    rig.frames(0.5)
    assert "tissue_drag" in rig.kinds()
    assert rig.pipe.result().metric("arc_deviation_mm").value > tol.arc_deviation_max_mm
    assert any(c.rule == "follow_curve" for c in rig.pipe.cues)


def test_suturing_the_entry_angle_is_the_trainees(display: None) -> None:
    rig = Rig("suturing")
    _, tol = suturing_parts(rig.sc)
    rig.point((0.0, 0.0, -tol.bite_target_mm))
    rig.frames(0.3)
    rig.hold_key(pygame.K_q, 1.4)  # pitch the needle (about 35 deg) before entering
    _lower_to_skin(rig, 0.0, tol.bite_target_mm)
    for _ in range(40):
        rig.wheel(1)
        rig.frames(0.05)
    entry = next(e for e in rig.pipe.events if e.kind == "needle_entry")
    assert entry.value("angle_deg") < 90 - tol.perpendicular_tol_deg
    assert "not_perpendicular" in rig.kinds()


def _surface_y(sc, z: float) -> float:
    r = sc.geometry.arm_radius_mm
    return float((r * r - z * z) ** 0.5 - r)


def test_venipuncture_sliding_the_mouse_with_the_needle_in_probes(display: None) -> None:
    rig = Rig("venipuncture")
    geo, tol = venipuncture_parts(rig.sc)
    aim = (-14.0, _surface_y(rig.sc, geo.vein_lateral_mm), geo.vein_lateral_mm)
    rig.point(aim)
    rig.frames(0.3)
    rig.hold_key(pygame.K_w, 14.5 / 6.0)  # into the skin, not yet the vein
    assert "skin_puncture" in rig.kinds() and "probing" not in rig.kinds()
    side = (aim[0], _surface_y(rig.sc, 4.0), aim[2] + 4.0)
    rig.point(side)  # the hand slides across
    rig.frames(0.5)
    assert "probing" in rig.kinds()
    assert any(c.rule == "probing" and c.active for c in rig.pipe.cues)
    assert "withdraw" in rig.pipe.cues_engine.banner().message


def test_venipuncture_keeping_the_mouse_still_does_not_probe(display: None) -> None:
    rig = Rig("venipuncture")
    geo, _ = venipuncture_parts(rig.sc)
    rig.point((-14.0, _surface_y(rig.sc, geo.vein_lateral_mm), geo.vein_lateral_mm))
    rig.frames(0.3)
    rig.hold_key(pygame.K_w, (10.0 + 11.7) / 6.0)
    rig.frames(3.5)
    assert "blood_drawn" in rig.kinds() and "probing" not in rig.kinds()


def test_suturing_a_hand_too_low_for_the_tip_to_come_out_is_told_what_to_do(
    display: None,
) -> None:
    """Lowered 4 mm too deep, the wrist's whole turn leaves the tip in the tissue: the
    trainee is told to raise the hand, and raising it finishes the stitch."""
    rig = Rig("suturing")
    _, tol = suturing_parts(rig.sc)
    rig.point((0.0, 0.0, -tol.bite_target_mm))
    rig.frames(0.3)
    rig.hold_key(pygame.K_f, (9.8 + 4.0) / 4.0)  # 4 mm lower than the skin
    assert rig.mouse.advice() is None  # not stuck yet: the wrist can still turn
    for _ in range(80):
        rig.wheel(1)
        rig.frames(0.05)
    rig.frames(0.5)
    assert not [e for e in rig.pipe.events if e.kind == "stitch_completed"], rig.kinds()
    assert "raise the hand (R)" in (rig.mouse.advice() or "")
    rig.hold_key(pygame.K_r, 3.0)
    rig.frames(0.5)
    assert [e for e in rig.pipe.events if e.kind == "stitch_completed"], rig.kinds()
    assert rig.mouse.advice() is None
