"""Rendering: the 3-D scenes, the coaching HUD and the side view, with OpenGL 3.3.

- :mod:`sim.render.scene`: what a frame shows, cameras, instrument poses (pure data).
- :mod:`sim.render.plugin`: what a procedure's scene plug-in provides (meshes, side-view
  section, HUD lines, camera); each procedure's ``scene`` module defines one (pure).
- :mod:`sim.render.meshes`: generic procedural meshes as numpy arrays (pure).
- :mod:`sim.render.overlay`, :mod:`sim.render.hud`: 2-D HUD geometry (pure).
- :mod:`sim.render.gl`, :mod:`sim.render.renderer`: the OpenGL side.
- :mod:`sim.render.offscreen`: hidden contexts and pictures of recordings.

Only ``gl``, ``renderer`` and ``offscreen`` import OpenGL.
"""

import os as _os

_os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
