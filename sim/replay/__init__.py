"""Replay: the pure timeline model (:mod:`sim.replay.timeline`); the window and the video
export build on it."""
