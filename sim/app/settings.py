"""What a practice session is started with: :class:`Settings`, passed between the screens,
and the rule for trainee ids (:func:`trainee_id_problem`)."""

from __future__ import annotations

import string
from dataclasses import dataclass

from sim.core.scenario import Scenario
from sim.errors import UserError

ANONYMOUS = "anonymous"
"""The trainee id of a session started without one (not in station mode)."""

TRAINEE_ID_MAX = 32
"""Longest trainee id, characters (our choice: a student number or a pseudonym fits)."""

TRAINEE_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-_.")
"""What a trainee id is made of. Ids are pseudonymous keys, not names: they name recording
files, key the session store and the lab database, and are typed on shared keyboards with
whatever layout a station has. ASCII letters, digits, ``-``, ``_`` and ``.`` pass through all
of these unchanged, and one id cannot be typed two ways (an ``é`` is one code point or ``e``
plus a combining accent, which look alike and compare different). A trainee's real name,
with any letters, belongs in the store's display name, not in the id."""

_ALLOWED = 'letters A-Z, digits, "-", "_" and "." only'


def trainee_id_char_problem(ch: str) -> str | None:
    """Why the character ``ch`` cannot be in a trainee id (one line), or None. The character
    is named when the screen's font has it; accented and other non-ASCII letters are named
    as such."""
    if ch in TRAINEE_ID_CHARS:
        return None
    if ch == " ":
        return f"no spaces in a trainee id: {_ALLOWED}"
    if ch.isascii() and ch.isprintable():
        return f'"{ch}" cannot be used in a trainee id: {_ALLOWED}'
    return f"accented and other non-ASCII letters cannot be used in a trainee id: {_ALLOWED}"


def trainee_id_problem(text: str) -> str | None:
    """Why ``text`` is not a valid trainee id (one line for the screen), or None.

    Valid: 1 to :data:`TRAINEE_ID_MAX` characters of :data:`TRAINEE_ID_CHARS`, starting and
    ending with a letter or a digit (a leading ``-`` reads as an option on a command line, a
    leading ``.`` as a hidden file, and recording file names drop a trailing ``_`` or ``.``:
    ``ana_`` would share ``ana``'s recordings).
    """
    if not text:
        return "enter your trainee id"
    for ch in text:
        problem = trainee_id_char_problem(ch)
        if problem is not None:
            return problem
    if len(text) > TRAINEE_ID_MAX:
        return f"a trainee id has at most {TRAINEE_ID_MAX} characters"
    if not (text[0].isalnum() and text[-1].isalnum()):
        return "a trainee id starts and ends with a letter or a digit"
    return None


def check_trainee_id(text: str) -> str:
    """``text`` if it is a valid trainee id; :class:`UserError` (one line, worded for the
    command line's ``--trainee``) otherwise."""
    problem = trainee_id_problem(text)
    if problem is not None:
        raise UserError(f"--trainee {text!r}: {problem}")
    return text


@dataclass(frozen=True)
class Settings:
    """What a practice session is started with."""

    scenario: Scenario
    input_spec: str = "mouse"
    trainee: str = ANONYMOUS
    exam: bool = False
    hand: str = "right"
    """The trainee's dominant hand (the one a tracked input follows): right or left."""
    voice: bool = True
    """The patient's lines are spoken (``--no-voice``: muted; the words still show)."""
