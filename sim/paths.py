"""Where procsim keeps a user's data (recordings, the session store), for every layer."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path


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
    folder = recordings_dir()
    folder.mkdir(parents=True, exist_ok=True)
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
