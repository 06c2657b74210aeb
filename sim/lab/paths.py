"""Where procsim keeps per-user data (the local session store).

Uses ``sim.app.paths.data_dir`` when the app layer provides it, so there is one rule;
otherwise the same rule here: ``$PROCSIM_DATA_DIR``, else ``$XDG_DATA_HOME/procsim``, else
``~/.local/share/procsim``.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The per-user data folder (not created)."""
    try:
        from sim.app.paths import data_dir as app_data_dir  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        return Path(app_data_dir())
    env = os.environ.get("PROCSIM_DATA_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "procsim"
