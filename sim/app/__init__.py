"""The practice app: pygame windows and screens around the simulation core.

- :mod:`sim.app.app`: the window, the screen loop and the screens (start, practice, results).
- :mod:`sim.app.mouse`: mouse and keyboard control of the needle (a live source).
- :mod:`sim.app.inputs`: the one place that turns an ``--input`` choice into a live source.
- :mod:`sim.app.sound`: short sounds for critical events (silent without a sound device).
- :mod:`sim.app.commands`: the ``station``, ``practice`` and ``render`` subcommands.

The app adds no scoring logic: it feeds items into :class:`sim.pipeline.Pipeline` through a
:class:`sim.storage.session.SessionRecorder` and draws what the pipeline says.
"""

import os as _os

_os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
