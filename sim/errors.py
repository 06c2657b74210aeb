"""The one error type commands turn into a clear one-line message and exit status 2."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Bad input from a user (file, field, device): printed as one line, exit status 2."""


def read_bytes(path: Path, kind: str, error: type[Exception]) -> bytes:
    """The whole of an input file, or ``error`` with one line naming it.

    Parameters
    ----------
    path : Path
        The file.
    kind : str
        What the file should be, for the message ("recording": "PATH: no such recording").
    error : type
        The exception to raise (its callers' own error type).
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such {kind}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
