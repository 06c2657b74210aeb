"""The metric catalogue's entries: name, label, unit, rounding and what can measure each.

The shared motion metrics are here (:data:`MOTION`); each procedure lists its own beside
its task (``sim/procedures/<name>/metrics.py``). :mod:`sim.procedures.registry` looks any
metric up (:func:`~sim.procedures.registry.metric_info`) and words its value the one way
every view shows it (:func:`~sim.procedures.registry.format_value`): the results screen,
the HUD, reports, CSV exports and the command line all take labels, units and rounding from
there, so the same number reads the same everywhere.

What an input can measure is :mod:`sim.core.inputs` (:data:`POSITION`, :data:`HAND`,
:func:`can_measure`), imported here for the catalogue's users.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.inputs import HAND, POSITION
from sim.core.inputs import can_measure as can_measure  # re-exported for the catalogue's users

#: Input kinds that read the instrument exactly: the mouse pointer, and a scripted trainee
#: (whose tremor is its own, not a tracker's). Every other kind is a tracker with noise
#: (:mod:`sim.metrics.noise`).
EXACT_INPUTS = frozenset({"mouse", "scripted"})

#: How each input kind is named in "not measured with the ..." (default: the kind itself).
INPUT_WORDS = {"mouse": "the mouse", "scripted": "the scripted trainee"}


def input_words(input_kind: str) -> str:
    """How ``input_kind`` is named in a sentence: ``"the mouse"``, ``"the webcam"``."""
    return INPUT_WORDS.get(input_kind, f"the {input_kind}")


def tremor_measured(input_kind: str, noise_floor_mm: float) -> bool:
    """Whether a session from ``input_kind`` with this tracker noise floor (mm RMS, from
    calibration) measures the hand's tremor: an input that can measure the hand, and for a
    tracker (not :data:`EXACT_INPUTS`) only with a measured floor above 0. Without one (the
    calibration skipped, or too few frames tracked in it) the tracker's own jitter would be
    reported as tremor, which it never is (DOMAIN.md)."""
    if not can_measure(HAND, input_kind):
        return False
    return input_kind in EXACT_INPUTS or noise_floor_mm > 0.0


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """One metric as the trainee sees it.

    Attributes
    ----------
    name : str
        Identifier (recordings, scenario anchors, JSON).
    label : str
        What a trainee reads ("Insertion angle error").
    unit : str
        Unit as shown after the value ("mm", "s", "°", "Hz"; "" for counts and scores).
    description : str
        One line on what it measures and how.
    decimals : int
        Digits after the point when shown.
    needs : str
        The input capability required to measure it (:data:`POSITION` or :data:`HAND`).
    axes : tuple of str
        The quantities its value is read from at a moment (:data:`sim.metrics.noise.QUANTITIES`:
        ``x``, ``y``, ``z`` in mm, ``angle``, ``roll`` in degrees, all in the metric's unit):
        its uncertainty in a session is their noise (:meth:`InputNoise.of`), and a metric
        more uncertain than its anchor's ``max_uncertainty``, or read from an axis an assist
        sets, is not scored. Empty for counts, times and whole-trajectory metrics.
    whole_session : bool
        Judged over the whole procedure (time, path, smoothness, attempts, redirections,
        tourniquet time...): only meaningful when the procedure was carried out to its end,
        so an incomplete session earns no points for it (stopping early, and so doing less,
        must not score better).
    """

    name: str
    label: str
    unit: str
    description: str
    decimals: int = 1
    needs: str = POSITION
    whole_session: bool = False
    axes: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        """Label with its unit, for table and CSV headings: "Path length (mm)"."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


MOTION = (
    MetricInfo(
        "total_time_s",
        "Total time",
        "s",
        "from the first move or action to completion",
        0,
        whole_session=True,
    ),
    MetricInfo(
        "idle_time_s",
        "Idle time",
        "s",
        "time with the tip slower than 5 mm/s for over 0.5 s",
        0,
        whole_session=True,
    ),
    # the words are stored in every result: changing them changes every re-score
    MetricInfo("untracked_time_s", "Hand not tracked", "s", "time the tracker lost the hand", 0),
    MetricInfo(
        "path_length_mm",
        "Path length",
        "mm",
        "distance travelled by the tip (economy of motion)",
        0,
        whole_session=True,
    ),
    MetricInfo(
        "movements",
        "Movements",
        "",
        "speed above 50 mm/s held for 0.2 s or more",
        0,
        whole_session=True,
    ),
    MetricInfo(
        "sparc",
        "Smoothness (SPARC)",
        "",
        "spectral arc length of the speed profile (closer to 0: smoother)",
        2,
        HAND,
        True,
    ),
    MetricInfo(
        "ldlj",
        "Smoothness (LDLJ)",
        "",
        "log dimensionless jerk (closer to 0: smoother)",
        2,
        HAND,
        True,
    ),
    MetricInfo(
        "tremor_rms_mm",
        "Tremor",
        "mm",
        "RMS tip motion in the 4-12 Hz band above the tracker's noise floor",
        2,
        HAND,
    ),
    MetricInfo(
        "tremor_peak_hz",
        "Tremor peak",
        "Hz",
        "frequency of a real peak in the 4-12 Hz band "
        "(none when the band holds no peak above its floor)",
        1,
        HAND,
    ),
)


# A straight needle put into a vein (venipuncture, IV cannulation): each puncture's angle,
# bevel and aim, and the attempts, probing, redirections and tourniquet time of a session,
# computed by sim.metrics.precision.vein_entry from the task's events.
VEIN_PUNCTURE = (
    MetricInfo(
        "insertion_angle_deg",
        "Insertion angle",
        "°",
        "angle to the skin at puncture, mean",
        0,
        axes=("angle",),
    ),
    MetricInfo(
        "angle_error_deg",
        "Insertion angle error",
        "°",
        "how far the insertion angle was outside the target range, mean",
        0,
        axes=("angle",),
    ),
    MetricInfo(
        "bevel_roll_error_deg",
        "Bevel roll",
        "°",
        "bevel roll away from bevel-up at puncture, mean",
        0,
        axes=("roll",),
    ),
    MetricInfo(
        "puncture_offset_mm",
        "Puncture off the centreline",
        "mm",
        "puncture point off the vein centreline (across the arm), mean",
        1,
        axes=("z",),
    ),
)
PATIENT = (
    MetricInfo(
        "patient_discomfort",
        "Patient discomfort",
        "/10",
        "the patient's peak discomfort, 0 (none) to 10 (worst), from what the needle did",
        1,
        whole_session=True,
    ),
)
"""The virtual patient's metric (:mod:`sim.core.patient`), computed by
:func:`sim.metrics.precision.discomfort_peak`."""
VEIN_SESSION = (
    MetricInfo("attempts", "Attempts", "", "skin punctures", 0, whole_session=True),
    MetricInfo(
        "probes",
        "Probing",
        "",
        "times the needle was slid sideways in the tissue looking for the vein",
        0,
        whole_session=True,
    ),
    MetricInfo(
        "redirections",
        "Redirections",
        "",
        "needle redirections while inserted",
        0,
        whole_session=True,
    ),
    MetricInfo(
        "tourniquet_time_s",
        "Tourniquet time",
        "s",
        "longest time the tourniquet stayed on",
        0,
        whole_session=True,
    ),
)
