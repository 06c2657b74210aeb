"""Reading trajectories from other trackers: CSV with columns t_s, x_mm, y_mm, z_mm."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sim.errors import UserError
from sim.metrics.motion import FloatArray

COLUMNS = ("t_s", "x_mm", "y_mm", "z_mm")


def read_trajectory_csv(path: str | Path) -> tuple[FloatArray, FloatArray]:
    """Times (n,) in s and positions (n, 3) in mm from a CSV file with a header row.

    Extra columns are ignored. Raises :class:`UserError` naming the file, line and column.
    """
    p = Path(path)
    try:
        f = open(p, newline="", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise UserError(f"{p}: cannot read ({exc.strerror})") from None
    with f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(
                f"{p}: missing column(s) {', '.join(missing)} (expected a header with "
                f"{', '.join(COLUMNS)})"
            )
        rows = []
        for no, row in enumerate(reader, start=2):
            try:
                rows.append([float(row[c]) for c in COLUMNS])
            except (TypeError, ValueError):
                bad = next(c for c in COLUMNS if not _is_float(row.get(c)))
                raise UserError(
                    f"{p}: line {no}: column {bad}: expected a number, got {row.get(bad)!r}"
                ) from None
    if len(rows) < 2:
        raise UserError(f"{p}: expected at least 2 samples, got {len(rows)}")
    data = np.array(rows, dtype=np.float64)
    t = data[:, 0]
    if np.any(np.diff(t) <= 0):
        i = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 3
        raise UserError(f"{p}: line {i}: column t_s: expected times that increase")
    return t, data[:, 1:4]


def _is_float(v: object) -> bool:
    try:
        float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True
