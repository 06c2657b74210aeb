"""procsim: a simulator for practising procedural skills with scored hand motion."""

from __future__ import annotations

__version__ = "0.2.1"
