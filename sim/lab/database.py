"""Database URLs, the secrets they hold, and the store's errors.

A URL may carry a password (in its authority or as ``?password=``): it is parsed and
normalised here (:func:`parse_url`), printed only masked (:func:`mask_url`), and any secret is
masked out of a driver's error message before it is shown (:func:`describe_error`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sim.errors import UserError


class StoreError(UserError):
    """The database cannot be opened or used (message with the URL masked)."""


class StoreUnavailable(StoreError):
    """The database server cannot be reached right now."""


class StoreLoginFailed(StoreUnavailable):
    """The server refused the login (no password found, or a wrong one). Kept with the
    unreachable cases (a station keeps its sessions and tries again), but said as itself."""


def unusable(exc: StoreUnavailable) -> str:
    """What went wrong, in words for a command's one line: the login failed, or the
    database cannot be reached."""
    if isinstance(exc, StoreLoginFailed):
        return "the session database refused the login"
    return "cannot reach the session database"


LOGIN_FAILED = ("password authentication failed", "no password supplied", "authentication failed")
"""libpq's words for a refused login (psycopg passes them on)."""


def parse_url(url: str) -> URL:
    """Parse and normalise a database URL (``postgresql://`` uses psycopg 3).

    Raises
    ------
    UserError
        For anything but a SQLite or PostgreSQL URL; the message never repeats the URL, which
        may hold a password.
    """
    try:
        u = make_url(_encode_userinfo(url))
    except (ArgumentError, ValueError):
        raise UserError(
            "database URL not understood (expected e.g. sqlite:///path/sessions.sqlite or "
            "postgresql://user@host:5432/dbname)"
        ) from None
    backend = u.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend not in ("sqlite", "postgresql"):
        raise UserError(f"unsupported database '{backend}' (use sqlite or postgresql)")
    if backend == "postgresql" and u.get_driver_name() in ("", "psycopg2", "postgresql"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def _encode_userinfo(url: str) -> str:
    """``url`` with any ``@`` inside its user name or password percent-encoded.

    A password such as ``p@ss`` written unencoded (``postgresql://lab:p@ss@host/db``) would
    otherwise be split at its first ``@``: the password read as ``p`` and the rest taken for
    the host, and printed unmasked. The user information ends at the *last* ``@`` of the
    authority (before the query); SQLite URLs, whose path may hold an ``@``, are left as
    they are.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower().startswith("sqlite"):
        return url
    head, q, query = rest.partition("?")
    if head.count("@") < 2:
        return url
    userinfo, _, hostpath = head.rpartition("@")
    user, colon, password = userinfo.partition(":")
    fixed = user.replace("@", "%40") + colon + password.replace("@", "%40")
    return f"{scheme}://{fixed}@{hostpath}{q}{query}"


def _secret_keys(u: URL) -> list[str]:
    return [k for k in u.query if "pass" in k.lower() or "secret" in k.lower()]


def mask_url(url: str | URL) -> str:
    """The URL with any password (also ``?password=``) replaced by ``***``; safe to print."""
    try:
        u = url if isinstance(url, URL) else make_url(_encode_userinfo(url))
    except (ArgumentError, ValueError):
        return "<database URL not understood>"
    keys = _secret_keys(u)
    if keys:
        u = u.update_query_dict({k: "***" for k in keys})
    return u.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def url_secrets(u: URL) -> list[str]:
    """The secrets in a URL (its password, any ``?password=``-like value), to mask."""
    out = [u.password] if u.password else []
    for k in _secret_keys(u):
        v = u.query[k]
        out.extend([v] if isinstance(v, str) else list(v))
    return [str(s) for s in out if s]


def describe_error(exc: BaseException, secrets: Sequence[str] = ()) -> str:
    """One line for a database error: the driver's first line, any secret masked."""
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    msg = lines[0] if lines else type(orig).__name__
    for s in secrets:
        msg = msg.replace(s, "***")
    return msg
