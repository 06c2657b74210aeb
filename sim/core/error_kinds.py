"""Error event kinds each task model emits, apart from the task models themselves.

Scenario files name error kinds (``[scoring] critical_errors``) and are validated against
these lists; the task models emit them. Kept apart so that the scenario reader needs no
task model (a scenario is read before any task is made).
"""

from __future__ import annotations

# The error event kinds each task model emits (each can be provoked on demand by a scripted
# trainee: ``procsim simulate --error KIND``).
VENIPUNCTURE_ERRORS = (
    "back_wall",
    "missed_vein",
    "angle_out_of_range",
    "bevel_down",
    "no_tourniquet",
    "tourniquet_too_long",
    "tourniquet_reapplied_early",
    "tourniquet_on_at_withdrawal",
    "probing",
    "attempt_limit",
    "incomplete",
)
SUTURING_ERRORS = (
    "bite_out_of_range",
    "not_perpendicular",
    "asymmetric_bites",
    "tissue_drag",
    "through_pad",
    "missed_wound",
    "stitch_too_close",
    "stitch_crossing",
    "incomplete",
)
# Kinds older task models emitted: still accepted in scenario files (and the scenarios
# embedded in old recordings), never emitted now. A venipuncture now ends at the attempt
# limit, so another attempt after it cannot happen.
LEGACY_ERRORS = ("attempts_exceeded",)


def error_kinds_for_task(task: str) -> tuple[str, ...]:
    """Event kinds that are procedural errors the model of ``task`` emits."""
    kinds = {"venipuncture": VENIPUNCTURE_ERRORS, "suturing": SUTURING_ERRORS}.get(task)
    if kinds is None:
        raise ValueError(f"unknown task '{task}' (expected venipuncture or suturing)")
    return kinds


def known_error_kinds(task: str) -> tuple[str, ...]:
    """Error kinds a scenario of ``task`` may name: those emitted now and legacy ones."""
    legacy = LEGACY_ERRORS if task == "venipuncture" else ()
    return error_kinds_for_task(task) + legacy
