"""Mutation fuzzing of input files, shared by the reader fuzz tests (scenario, recording,
trajectory CSV), and the in-process CLI runner they use.

:func:`mutated` is a hypothesis strategy: a valid file's bytes with one to three
mutations applied, each drawn from :data:`OPERATIONS`.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from sim.cli import main

FUZZ = settings(
    derandomize=True,  # the same examples on every run: CI stays stable
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Settings of every reader fuzz test; each adds its own ``max_examples``."""

NUMBER = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
SUBSTITUTES = (
    b"nan",
    b"NaN",
    b"inf",
    b"-inf",
    b"Infinity",
    b"-Infinity",
    b"1e308",
    b"-1e308",
    b"1e400",
    b"-1",
    b"0",
    b"0.5",
    b"-123.25",
    b"1e-3",
    b"7e5",
    b"1" + b"0" * 30,
    b"9" * 400,
    b"",
    b"true",
    b'"1.5"',
)
"""What a number is replaced by: not finite, out of range, huge, empty, not a number, or an
ordinary number (which the readers must accept where it is in range)."""
ODD_BYTES = (b"\xff", b"\xc3", b"\xe2\x82", b"\x00", b"\r", b"\n", b'"', b"[", b"{", b",")


def _substitute_number(draw: Any, data: bytes) -> bytes:
    found = list(NUMBER.finditer(data))
    if not found:
        return data
    m = found[draw(st.integers(0, len(found) - 1))]
    return data[: m.start()] + draw(st.sampled_from(SUBSTITUTES)) + data[m.end() :]


def _replace_byte(draw: Any, data: bytes) -> bytes:
    i = draw(st.integers(0, max(len(data) - 1, 0)))
    return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]


def _insert_bytes(draw: Any, data: bytes) -> bytes:
    i = draw(st.integers(0, len(data)))
    return data[:i] + draw(st.sampled_from(ODD_BYTES)) + data[i:]


def _delete_span(draw: Any, data: bytes) -> bytes:
    i = draw(st.integers(0, len(data)))
    return data[:i] + data[i + draw(st.integers(1, 16)) :]


def _truncate(draw: Any, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _line_op(draw: Any, data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(("duplicate", "delete", "swap")))
    if op == "duplicate":
        lines.insert(i, lines[i])
    elif op == "delete":
        del lines[i]
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def _repeat_line(draw: Any, data: bytes) -> bytes:
    """A line made long by repeating it many times over (not past the readers' limits: those
    are checked by example tests, which would make every fuzz example slow)."""
    lines = data.split(b"\n")
    i = draw(st.integers(0, len(lines) - 1))
    lines[i] = lines[i] * draw(st.integers(2, 50))
    return b"\n".join(lines)


OPERATIONS: tuple[Callable[[Any, bytes], bytes], ...] = (
    _substitute_number,
    _substitute_number,  # twice as likely: the numbers are what this fuzz is about
    _replace_byte,
    _insert_bytes,
    _delete_span,
    _truncate,
    _line_op,
    _repeat_line,
)


@st.composite
def mutated(draw: Any, data: bytes) -> bytes:
    """``data`` with one to three random mutations."""
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(OPERATIONS))(draw, data)
    return data


def run_cli(argv: Sequence[str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``procsim ARGV`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse
            rc = int(exc.code or 0)
    return rc, out.getvalue(), err.getvalue()


def assert_one_clean_line(stderr: str, path: object) -> None:
    """The error output is one line, ``procsim: error: PATH...``: no traceback."""
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"procsim: error: {path}"), stderr
    assert "Traceback" not in stderr


def assert_finite(obj: object, where: str = "") -> None:
    """Every number in ``obj`` (parsed JSON, or any nesting of lists, tuples, dicts and
    numbers) is finite; None stands for "not measured"."""
    if isinstance(obj, float):
        assert math.isfinite(obj), f"{where}: {obj}"
    elif isinstance(obj, dict):
        for k, v in obj.items():
            assert_finite(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            assert_finite(v, f"{where}[{i}]")


def finite_json(text: str) -> Any:
    """``text`` parsed as strict JSON (no NaN or Infinity) with every number finite."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    data = json.loads(text, parse_constant=refuse)
    assert_finite(data)
    return data
