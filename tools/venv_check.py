"""Whether this Python environment already holds procsim as ``pyproject.toml`` asks.

Run by ``tools/setup.sh`` and ``tools/test.sh`` with ``.venv/bin/python`` so that a second
set-up is a quick no-op without pip (and without the network): every requirement of the
project (and of the extras named on the command line) is installed at a version its
specifier allows, and ``import sim`` finds this checkout. Exit status 0 if so; otherwise
1 and one line saying what is missing.

Usage: ``python tools/venv_check.py [EXTRA...]``
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import sys
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def unmet(req: Requirement, extra: str = "") -> str | None:
    """Why ``req`` is not met here, or None when it is (its own extras' requirements too)."""
    if req.marker is not None and not req.marker.evaluate({"extra": extra}):
        return None
    try:
        dist = md.distribution(req.name)
    except md.PackageNotFoundError:
        return f"{req.name} is not installed"
    if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
        return f"{req.name} {dist.version} is installed, {req} is needed"
    for sub_extra in req.extras:
        for text in dist.requires or ():
            sub = Requirement(text)
            if sub.marker is not None and sub.marker.evaluate({"extra": sub_extra}):
                why = unmet(sub, sub_extra)
                if why:
                    return why
    return None


def main(extras: list[str]) -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    reqs = list(project["dependencies"])
    for e in extras:
        reqs += project.get("optional-dependencies", {}).get(e, [])
    for text in reqs:
        why = unmet(Requirement(text))
        if why:
            print(why)
            return 1
    spec = importlib.util.find_spec("sim")
    if spec is None or spec.origin is None:
        print("procsim is not installed")
        return 1
    if Path(spec.origin).resolve().parent != ROOT / "sim":
        print(f"procsim is installed from {Path(spec.origin).parent.parent}, not {ROOT}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
