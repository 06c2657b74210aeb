"""Where procsim keeps a user's data (recordings, the session store), for every layer."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import IO, Any

PRIVATE_DIR_MODE = 0o700
"""Mode of every folder procsim creates (recordings, stores): its user's only."""
PRIVATE_FILE_MODE = 0o600
"""Mode of every file procsim creates (recordings, stores, exports, reports, videos)."""


def data_dir() -> Path:
    """The per-user data folder (not created here).

    ``$PROCSIM_DATA_DIR`` if set, else ``$XDG_DATA_HOME/procsim``, else
    ``~/.local/share/procsim``.
    """
    explicit = os.environ.get("PROCSIM_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "procsim"


def recordings_dir() -> Path:
    """``data_dir() / "recordings"``."""
    return data_dir() / "recordings"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.")[:40] or "anonymous"


def new_recording_path(scenario_id: str, trainee: str, when: float | None = None) -> Path:
    """A fresh file name under :func:`recordings_dir` (the folder is created).

    ``<UTC date-time>_<scenario>_<trainee>.jsonl``, with ``-2``, ``-3``... if taken.
    """
    folder = private_dir(recordings_dir(), tighten=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(when if when is not None else time.time()))
    stem = f"{stamp}_{_slug(scenario_id)}_{_slug(trainee)}"
    path = folder / f"{stem}.jsonl"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}.jsonl"
        n += 1
    return path


def recordings_of(trainee: str) -> list[Path]:
    """The recordings under :func:`recordings_dir` named for ``trainee`` (by file name, as
    :func:`new_recording_path` names them; cheap: nothing is opened)."""
    folder = recordings_dir()
    if not folder.is_dir():
        return []
    pattern = re.compile(r"_" + re.escape(_slug(trainee)) + r"(-\d+)?\.jsonl$")
    return sorted(p for p in folder.glob("*.jsonl") if pattern.search(p.name))


def private_dir(path: str | Path, *, tighten: bool = False) -> Path:
    """Create the folder ``path`` and any missing parents, each with mode 0700 (recordings
    and stores hold trainees' data); existing folders are left as they are, except ``path``
    itself with ``tighten`` (a folder that is procsim's own, such as the recordings folder
    an older procsim made world-readable)."""
    p = Path(path).expanduser()
    missing = []
    q = p
    while not q.exists() and q != q.parent:
        missing.append(q)
        q = q.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(d, PRIVATE_DIR_MODE)  # whatever the umask
    if tighten and p.is_dir() and p.stat().st_uid == os.getuid():
        os.chmod(p, p.stat().st_mode & PRIVATE_DIR_MODE | 0o700)
    return p


def private_file(path: str | Path, *, exclusive: bool = False) -> Path:
    """Create (or empty) the file ``path`` with mode 0600 before a library writes into it
    (a video, an image, an SQLite store): the library keeps the mode. ``exclusive``: fail
    with FileExistsError if it exists."""
    p = Path(path).expanduser()
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(p, flags, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return p


def open_private(path: str | Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode, ...)`` for writing a new file with mode 0600 (``"w"``, ``"wb"``,
    ``"x"``, ``"xb"``; ``kwargs`` as :func:`open` takes them)."""
    p = Path(path).expanduser()
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if mode.startswith("x") else os.O_TRUNC)
    fd = os.open(p, flags, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        return open(fd, mode.replace("x", "w"), **kwargs)  # noqa: SIM115 - the caller closes
    except BaseException:
        os.close(fd)
        raise
