"""The practice app: pygame windows and screens around the simulation core.

- :mod:`sim.app.app`: the window, the screen protocol and loop, and the transitions between
  screens (:class:`~sim.app.app.App`; station mode subclasses it in :mod:`sim.app.station`).
- :mod:`sim.app.settings`: :class:`~sim.app.settings.Settings`, what a session is started with.
- The screens: :mod:`sim.app.start` (scenario, input, hand, trainee id, exam mode),
  :mod:`sim.app.calibrate` (the still-hand hold of a tracked input),
  :mod:`sim.app.practice` (the session), :mod:`sim.app.results` (the results page,
  ``draw_results``).
- :mod:`sim.app.help`: the practice screen's help and first-session hint texts.
- :mod:`sim.app.widgets`: what the screens draw alike (accent colour, clickable rectangles).
- :mod:`sim.app.station`: station mode, the practice app with a skills lab's rules.
- :mod:`sim.app.replay`: the replay window.
- :mod:`sim.app.mouse`: mouse and keyboard control of the needle (a live source).
- :mod:`sim.app.inputs`: the one place that turns an ``--input`` choice into a live source.
- :mod:`sim.app.sound`: short sounds for critical events (silent without a sound device).
- :mod:`sim.app.commands`: the ``station``, ``practice`` and ``render`` subcommands.

The app adds no scoring logic: it feeds items into :class:`sim.pipeline.Pipeline` through a
:class:`sim.storage.session.SessionRecorder` and draws what the pipeline says.
"""

import os as _os

_os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
