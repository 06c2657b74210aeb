"""What every procedure's precision metrics share (each procedure computes its own in
``sim/procedures/<name>/metrics.py``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def mean_or_nan(values: Sequence[float]) -> float:
    """The mean of ``values``; NaN ("not done") when there are none."""
    return float(np.mean(values)) if len(values) else math.nan
