"""The virtual patient: what a patient shows at one moment, and the names of its reactions.

The patient model (discomfort 0-10 driven by what the needle does, and reactions as
``patient_*`` events) is shared by every procedure that enters a vein; its state lives in
the task state, so it is pure and deterministic like the task (time from the samples).

This module holds the contract the adapters read: :class:`PatientView` (what the scene, the
HUD and the voice show and say) and the event and action kinds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# --- event kinds (every patient event's kind starts with "patient_") -------------------
SAID = "patient_said"
"""The patient speaks: the event's message is the line, word for word."""
DISCOMFORT = "patient_discomfort"
"""Discomfort changed by a step (values: ``discomfort`` 0-10 and one ``+cause`` value per
cause that raised it)."""
FLINCH = "patient_flinch"
"""The patient flinched (the arm moves a few mm for a moment)."""
BRUISE = "patient_bruise"
"""Blood started leaking into the tissue: a bruise grows at the site."""
BRUISE_STOPPED = "patient_bruise_stopped"
"""Pressure stopped the bruise growing (values: ``diameter_mm``)."""
VEIN_ROLLED = "patient_vein_rolled"
"""The vein rolled away from a tip that arrived without the skin anchored."""
VEIN_COLLAPSED = "patient_vein_collapsed"
"""A fragile vein collapsed under a fast draw."""
VEIN_BLOWN = "patient_vein_blown"
"""A fragile vein blew on a steep entry."""
ARTERY = "patient_artery"
"""The artery was punctured (bright red, pulsing blood; critical)."""
NERVE = "patient_nerve"
"""The needle touched a nerve (the patient cries out; critical)."""

# --- actions the patient model hears (checklist steps with a bodily effect) --------------
ANCHOR = "anchor"
"""The trainee anchors the skin (holds it taut below the site) for this attempt."""
PRESSURE = "pressure"
"""The trainee puts gauze on the site and presses."""


@dataclass(frozen=True, slots=True)
class PatientView:
    """What the patient shows at one moment (drawn by the scene and HUD, spoken by the app).

    Attributes
    ----------
    discomfort : float
        Discomfort now, 0 (none) to 10 (worst).
    line : str
        The latest line the patient said ("" before the first).
    line_t_s : float
        When ``line`` was said, s (-inf before the first).
    flinch_mm : float
        How far the arm is displaced by a flinch now, mm (0 at rest).
    bruise_mm : float
        Diameter of the bruise at the site, mm (0: none).
    bruise_x_mm, bruise_z_mm : float
        Where the bruise is centred on the skin (scene x along the arm, z across it), mm.
    bleeding : bool
        Blood is leaking into the tissue now (the bruise is growing).
    arterial : bool
        The artery has been punctured (bright red, pulsing blood).
    anchored : bool
        The skin is held taut below the site.
    pressure : bool
        Gauze is pressed on the site.
    vein_shift_mm : float
        How far the vein has rolled sideways (scene z) from where it lies at rest, mm.
    collapsed : bool
        The vein has collapsed (no blood can be drawn in this attempt).
    """

    discomfort: float = 0.0
    line: str = ""
    line_t_s: float = -math.inf
    flinch_mm: float = 0.0
    bruise_mm: float = 0.0
    bruise_x_mm: float = 0.0
    bruise_z_mm: float = 0.0
    bleeding: bool = False
    arterial: bool = False
    anchored: bool = False
    pressure: bool = False
    vein_shift_mm: float = 0.0
    collapsed: bool = False
