"""Offscreen rendering: a hidden GL 3.3 context, and a frame drawn into a numpy image.

The render layer reads frames; it loads no recording and runs no pipeline. ``procsim
render`` gets a recording's pipeline at a moment from
:func:`sim.storage.session.pipeline_at` (the real pipeline, so the HUD shows exactly what
the trainee saw then), makes its frame and draws it here with :func:`render_frame`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from sim.errors import UserError
from sim.render.scene import DrawOptions, Frame, OrbitCamera


def use_offscreen_if_headless() -> None:
    """Choose SDL's offscreen driver and EGL when there is no display (Linux, no X/Wayland).

    Must run before pygame's display starts and before OpenGL is first imported (PyOpenGL
    reads ``PYOPENGL_PLATFORM`` at import time); this module imports neither.
    """
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def require_display(command: str) -> None:
    """Before an interactive window opens: fail with one line on a machine without a display.

    On Linux with neither X (``DISPLAY``) nor Wayland (``WAYLAND_DISPLAY``) there is nowhere
    to show a window: the line says a desktop is needed, or ``xvfb-run`` (a virtual screen)
    to try a kiosk without one. An SDL video driver chosen by the caller (``offscreen`` for
    the tests; then OpenGL must go through EGL, which this sets up) is let through. Must run
    before pygame or OpenGL start; callers check their files and arguments first, so that a
    missing file is reported as such.

    Parameters
    ----------
    command : str
        The command as the user typed it, e.g. ``"procsim practice"`` (named in the line).
    """
    if not sys.platform.startswith("linux"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    driver = os.environ.get("SDL_VIDEODRIVER", "")
    if not driver:
        raise UserError(
            f"no display: {command} opens a window and needs a desktop session (neither "
            "DISPLAY nor WAYLAND_DISPLAY is set); to try it on a machine without a screen, "
            f"run it on a virtual one: xvfb-run -s '-screen 0 1366x768x24' {command}"
        )
    if driver == "offscreen":
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def offscreen_context(size: tuple[int, int] = (64, 64)) -> None:
    """Create a hidden window with an OpenGL 3.3 core context (made current).

    Without a display on Linux it chooses SDL's offscreen driver with EGL first (see
    :func:`use_offscreen_if_headless`). Raises :class:`UserError` when no context can be had.
    """
    use_offscreen_if_headless()
    from sim.render.gl import open_window

    open_window(size, "procsim render", hidden=True)


def render_frame(
    frame: Frame,
    size: tuple[int, int] = (1280, 720),
    options: DrawOptions | None = None,
    camera: OrbitCamera | None = None,
) -> np.ndarray:
    """Draw one frame offscreen (creating the context if needed).

    Returns
    -------
    ndarray, shape (height, width, 3), uint8
        RGB image, top row first.
    """
    use_offscreen_if_headless()
    import pygame

    if not pygame.display.get_init() or pygame.display.get_surface() is None:
        offscreen_context()
    from sim.render.renderer import Renderer

    renderer = Renderer(size)
    return renderer.render_image(frame, options, camera)


def save_png(image: np.ndarray, path: str | Path) -> None:
    """Write an (h, w, 3) uint8 RGB image as PNG."""
    import pygame

    surf = pygame.image.frombuffer(np.ascontiguousarray(image).tobytes(), image.shape[1::-1], "RGB")
    from sim.paths import private_file

    try:
        private_file(path)  # mode 0600 before pygame writes into it
        pygame.image.save(surf, str(path))
    except OSError as exc:
        raise UserError(f"{path}: cannot write the image ({exc.strerror})") from None
    except pygame.error as exc:
        raise UserError(f"{path}: cannot write the image ({exc})") from None
