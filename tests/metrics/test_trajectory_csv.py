"""Bad numbers in a trajectory CSV never reach a metric: `procsim motion` refuses them with
one line naming the file and the line; mutation fuzzing of a valid CSV."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings

from sim.metrics.trajectory_csv import MAX_LINE_CHARS, read_trajectory_csv
from tests.mutations import FUZZ, assert_one_clean_line, finite_json, mutated, run_cli


def _valid_csv(seconds: float = 3.0, rate_hz: float = 60.0) -> bytes:
    """A reach with a 0.3 mm RMS 8 Hz tremor, plain decimals, and an extra column."""
    t = np.arange(0.0, seconds, 1.0 / rate_hz)
    x = 40.0 * (1 - np.cos(np.pi * t / seconds)) + 0.3 * np.sqrt(2) * np.sin(2 * np.pi * 8 * t)
    rows = [f"{a:.4f},{b:.4f},{2.0 + 0.1 * a:.4f},-1.5,q" for a, b in zip(t, x)]
    return ("t_s,x_mm,y_mm,z_mm,note\n" + "\n".join(rows) + "\n").encode()


VALID = _valid_csv()


def _motion(tmp_path: Path, data: bytes) -> tuple[int, str, str, Path]:
    p = tmp_path / "traj.csv"
    p.write_bytes(data)
    return (*run_cli(["motion", "--json", str(p)]), p)


def _replace_line(line_no: int, text: str) -> bytes:
    lines = VALID.decode().split("\n")
    lines[line_no - 1] = text
    return "\n".join(lines).encode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_replace_line(3, "0.0167,nan,2.0,-1.5,q"), "line 3: column x_mm: expected a finite"),
        (_replace_line(3, "0.0167,1.0,inf,-1.5,q"), "line 3: column y_mm: expected a finite"),
        (_replace_line(3, "0.0167,1.0,2.0,1e308,q"), "line 3: column z_mm: expected a finite"),
        (_replace_line(3, "nan,1.0,2.0,-1.5,q"), "line 3: column t_s: expected a finite"),
        (_replace_line(3, "0.0167,,2.0,-1.5,q"), "line 3: column x_mm: expected a number, got ''"),
        (
            _replace_line(3, "0.0167,1.0,2.0,-1.5"),
            "line 3: expected 5 fields (as the header), got 4",
        ),
        (_replace_line(3, "0.0,1.0,2.0,-1.5,q"), "line 3: column t_s: expected a time after the"),
        (
            _replace_line(4, "0.0167,1.0,2.0,-1.5,q"),
            "line 4: column t_s: expected a time after the",
        ),
        (
            _replace_line(3, "0.0167,1.0,2.0,-1.5," + "q" * 5000),
            f"line 3: 5020 characters long (expected at most {MAX_LINE_CHARS})",
        ),
        (VALID.replace(b"0.0167,", b"0.0167\xff,", 1), "line 3: not UTF-8 text"),
        (VALID.replace(b"-1.5,q\n", b"-1\x005,q\n", 1), "line 2: column z_mm: expected a number"),
        (b"t_s,x_mm,y_mm\n0,1,2\n", "missing column(s) z_mm"),
    ],
)
def test_bad_csv_gets_one_line_naming_file_and_line(tmp_path, data, expected):
    rc, out, err, p = _motion(tmp_path, data)
    assert rc == 2 and out == ""
    assert_one_clean_line(err, p)
    assert expected in err, err


def test_valid_csv_gives_finite_metrics_and_the_tremor(tmp_path):
    rc, out, err, _ = _motion(tmp_path, VALID)
    assert rc == 0, err
    data = finite_json(out)
    assert data["tremor_rms_mm"]["value"] == pytest.approx(0.3, rel=0.2)
    assert data["path_length_mm"]["value"] > 80.0
    assert data["tremor_rms_mm"]["label"] == "Tremor" and data["tremor_rms_mm"]["unit"] == "mm"


def test_noise_floor_must_be_a_finite_number(tmp_path):
    p = tmp_path / "traj.csv"
    p.write_bytes(VALID)
    rc, _, err = run_cli(["motion", str(p), "--noise-floor", "nan"])
    assert (
        rc == 2
        and err == "procsim: error: --noise-floor: expected a number of mm from 0 to 100, got nan\n"
    )


CSV_EXAMPLES = 150
_DIR = Path(tempfile.mkdtemp(prefix="procsim-fuzz-csv-"))


@settings(FUZZ, max_examples=CSV_EXAMPLES)
@given(mutated(VALID))
def test_fuzz_motion_gives_one_line_or_finite_metrics(data: bytes):
    p = _DIR / "fuzz.csv"
    p.write_bytes(data)
    rc, out, err = run_cli(["motion", "--json", str(p)])
    event("refused" if rc == 2 else "read")
    if rc == 2:
        assert_one_clean_line(err, p)
        return
    assert rc == 0 and err == "", err
    metrics = finite_json(out)
    # What the metrics saw: finite numbers, strictly increasing times (so SPARC, LDLJ and
    # the tremor never meet NaN).
    t, pos = read_trajectory_csv(p)
    assert np.all(np.isfinite(t)) and np.all(np.isfinite(pos)) and np.all(np.diff(t) > 0)
    assert metrics["total_time_s"]["value"] == pytest.approx(t[-1] - t[0])
    assert all(m["value"] is None or math.isfinite(m["value"]) for m in metrics.values())
