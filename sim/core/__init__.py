"""The pure, deterministic core: records, scenarios, geometry and task state machines.

Nothing under ``sim.core`` imports pygame, OpenGL, cv2 or mediapipe.
"""
