"""Live feedback: cue rules with priorities and hysteresis over the live view."""
