"""The renderer's public hook for an extra instrument (the replay's expert ghost)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from sim.core import geometry as g  # noqa: E402
from sim.core.records import Sample  # noqa: E402
from sim.core.scenario import Scenario  # noqa: E402
from sim.pipeline import Pipeline  # noqa: E402
from sim.render.scene import DrawOptions, default_camera, frame_from_pipeline  # noqa: E402

SIZE = (640, 360)
NO_HUD = DrawOptions(hud=False)


@pytest.mark.parametrize("scenario", ["veni", "sut"])
def test_draw_instrument_adds_an_opaque_or_a_translucent_instrument(
    renderer: Any, scenario: str, request: pytest.FixtureRequest
) -> None:
    from sim.render import gl as glu

    sc: Scenario = request.getfixturevalue(scenario)
    axis, normal = g.pose_from_angles(0.0, 25.0 if scenario == "veni" else 80.0, 0.0)
    s = Sample(1.0, (5.0, 6.0, 0.0), axis, normal)
    cam = default_camera(sc)
    p = Pipeline(sc)
    empty_frame = frame_from_pipeline(p)
    p.feed(s)
    with_needle = frame_from_pipeline(p)
    r = renderer

    def scene(alpha: float | None) -> np.ndarray:
        glu.bind_default_framebuffer(SIZE)
        r.draw(empty_frame, NO_HUD, cam)
        if alpha is not None:
            r.draw_instrument(sc, s, cam, alpha)
        out: np.ndarray = r.capture().astype(float)
        return out

    own = r.render_image(with_needle, NO_HUD, cam).astype(float)
    empty, opaque, ghost = scene(None), scene(1.0), scene(0.38)
    drawn = np.abs(own - empty).sum(axis=2) > 60
    assert drawn.sum() > 200
    # opaque: the scene's own instrument; translucent: the scene shows through it (front
    # and back faces each blend, so it is not one plain mix of the two)
    assert np.abs(opaque - own)[drawn].mean() < 1.0
    full = np.abs(own - empty).sum(axis=2)[drawn]
    to_own = np.abs(ghost - own).sum(axis=2)[drawn]
    to_empty = np.abs(ghost - empty).sum(axis=2)[drawn]
    assert np.median(to_own / full) > 0.2 and np.median(to_empty / full) > 0.2
    untouched = np.abs(own - empty).sum(axis=2) == 0
    assert np.abs(ghost - empty)[untouched].max() == 0
