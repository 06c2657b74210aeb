"""Counts in words for people: "1 session", "2 sessions", "1 stitch", "3 stitches".

The one place a count meets its noun, so that no message says "1 sessions". Pure (no
imports), usable from every layer.
"""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and the noun in the number it needs.

    Parameters
    ----------
    count : int
        How many.
    noun : str
        The singular ("session", "consecutive pass").
    nouns : str, optional
        The plural when it is not ``noun + "s"`` ("stitches", "consecutive passes").

    Returns
    -------
    str
        ``"1 session"``, ``"0 sessions"``, ``"2 sessions"``.

    Examples
    --------
    >>> plural(1, "trainee"), plural(3, "stitch", "stitches")
    ('1 trainee', '3 stitches')
    """
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"
