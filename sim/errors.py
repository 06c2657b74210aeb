"""The one error type commands turn into a clear one-line message and exit status 2."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from a user (file, field, device): printed as one line, exit status 2."""
