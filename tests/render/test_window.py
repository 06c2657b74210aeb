"""Opening a window when one is already open gives a context of the new size."""

from __future__ import annotations

import pytest

pygame = pytest.importorskip("pygame")


def test_a_second_window_renders_at_its_own_size() -> None:
    from sim.errors import UserError
    from sim.render import gl as glu
    from sim.render.offscreen import offscreen_context

    try:
        offscreen_context((64, 64))  # what `procsim render` / `export-video` leave behind
    except UserError as exc:  # pragma: no cover - machines without OpenGL 3.3
        pytest.skip(str(exc))
    try:
        glu.open_window((320, 180), hidden=True)
        glu.bind_default_framebuffer((320, 180))
        glu.GL.glClearColor(0.2, 0.6, 0.9, 1.0)
        glu.GL.glClear(glu.GL.GL_COLOR_BUFFER_BIT)
        img = glu.read_pixels((320, 180))
        assert img.shape == (180, 320, 3)
        # every corner has the clear colour, not just the old 64x64 corner
        for y, x in ((0, 0), (0, 319), (179, 0), (179, 319)):
            assert tuple(img[y, x]) == pytest.approx((51, 153, 229), abs=1)
    finally:
        pygame.display.quit()
