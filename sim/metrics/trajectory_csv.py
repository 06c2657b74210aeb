"""Reading trajectories from other trackers: CSV with columns t_s, x_mm, y_mm, z_mm.

Every number is checked before any metric sees it (finite, within range, times increasing),
so the metrics never meet NaN or infinity; a bad file gets one line naming the file, the
line and what was expected.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from sim.errors import UserError, read_bytes
from sim.metrics.motion import FloatArray

COLUMNS = ("t_s", "x_mm", "y_mm", "z_mm")
MAX_LINE_CHARS = 4_096
"""Longest line read (our choice: a line of the four columns is under 100 characters; extra
columns are allowed, but not without bound)."""
MAX_TIME_S = 1e10
"""Largest magnitude of a time (our choice: allows Unix times in seconds)."""
MIN_STEP_S = 1e-6
"""Smallest step between successive times (our choice: no tracker samples at 1 MHz)."""
MAX_POSITION_MM = 1e6
"""Largest magnitude of a coordinate (our choice: 1 km, far beyond any tracker)."""


def read_trajectory_csv(path: str | Path) -> tuple[FloatArray, FloatArray]:
    """Times (n,) in s and positions (n, 3) in mm from a CSV file with a header row.

    Extra columns are ignored, but every row must have as many fields as the header.

    Raises
    ------
    UserError
        One line naming the file, the line and (where it applies) the column: the file is
        not UTF-8, a line is longer than :data:`MAX_LINE_CHARS`, a row has the wrong number
        of fields, a value is not a finite number within range, or the times do not
        increase by at least :data:`MIN_STEP_S`.
    """
    p = Path(path)
    data = read_bytes(p, "trajectory CSV", UserError)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"{p}: line {line}: not UTF-8 text (expected a CSV file)") from None
    for no, line_text in enumerate(text.splitlines(), start=1):
        if len(line_text) > MAX_LINE_CHARS:
            raise UserError(
                f"{p}: line {no}: {len(line_text)} characters long (expected at most "
                f"{MAX_LINE_CHARS})"
            )
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader, [])
        index = {name.strip(): i for i, name in enumerate(header)}
        missing = [c for c in COLUMNS if c not in index]
        if missing:
            raise UserError(
                f"{p}: missing column(s) {', '.join(missing)} (expected a header with "
                f"{', '.join(COLUMNS)})"
            )
        cols = [index[c] for c in COLUMNS]
        rows: list[list[float]] = []
        lines: list[int] = []
        for row in reader:
            no = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise UserError(
                    f"{p}: line {no}: expected {len(header)} fields (as the header), got {len(row)}"
                )
            rows.append([_number(p, no, c, row[i]) for c, i in zip(COLUMNS, cols)])
            lines.append(no)
    except csv.Error as exc:
        raise UserError(f"{p}: line {reader.line_num}: not valid CSV ({exc})") from None
    if len(rows) < 2:
        raise UserError(f"{p}: expected at least 2 samples, got {len(rows)}")
    values = np.array(rows, dtype=np.float64)
    t = values[:, 0]
    bad = np.flatnonzero(~(np.diff(t) >= MIN_STEP_S))
    if len(bad):
        i = int(bad[0]) + 1
        raise UserError(
            f"{p}: line {lines[i]}: column t_s: expected a time after the previous one "
            f"({t[i - 1]:g} s) by at least {MIN_STEP_S:g} s, got {t[i]:g}"
        )
    return t, values[:, 1:4]


def _number(p: Path, no: int, column: str, text: str) -> float:
    """The value of one field: a finite number within its column's range."""
    limit = MAX_TIME_S if column == "t_s" else MAX_POSITION_MM
    shown = text if len(text) <= 40 else text[:37] + "..."
    try:
        v = float(text)
    except ValueError:
        raise UserError(
            f"{p}: line {no}: column {column}: expected a number, got {shown!r}"
        ) from None
    if not (math.isfinite(v) and abs(v) <= limit):
        raise UserError(
            f"{p}: line {no}: column {column}: expected a finite number between "
            f"{-limit:g} and {limit:g}, got {shown!r}"
        )
    return v
