"""``tools/setup.sh``: the Python it accepts, and what it says on a machine it cannot set up.

Each test runs a copy of the script with ``--dry-run`` (nothing is installed) and a fake
``python3`` that reports the version a test needs, on a PATH that holds nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("bash", "dirname", "id", "dpkg-query", "apt-get", "awk", "env")

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("bash") is None,
    reason="the set-up script is for Debian/Ubuntu",
)


def fake_python(bin_dir: Path, version: str, *, ensurepip: bool = True) -> None:
    """A ``python3`` that says it is ``version`` and otherwise runs this Python (so that
    it can answer the script's other questions)."""
    no_ensurepip = "" if ensurepip else "*ensurepip*) exit 1 ;; "
    (bin_dir / "python3").write_text(
        "#!/bin/sh\n"
        f'case "$*" in {no_ensurepip}*version_info*) echo {version}; exit 0 ;; esac\n'
        f'exec {sys.executable} "$@"\n'
    )
    (bin_dir / "python3").chmod(0o755)


def setup_dry_run(
    tmp_path: Path, version: str, *, ensurepip: bool = True
) -> subprocess.CompletedProcess[str]:
    """``bash tools/setup.sh --dry-run`` in a fresh copy of the project (no .venv) whose
    only Python is a fake of ``version``."""
    project = tmp_path / "procsim"
    (project / "tools").mkdir(parents=True)
    for name in ("setup.sh", "setup-lib.sh", "venv_check.py"):
        shutil.copy(ROOT / "tools" / name, project / "tools" / name)
    shutil.copy(ROOT / "pyproject.toml", project)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        if exe := shutil.which(tool):
            (bin_dir / tool).symlink_to(exe)
    fake_python(bin_dir, version, ensurepip=ensurepip)
    env = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    env["PATH"] = str(bin_dir)
    return subprocess.run(
        ["bash", str(project / "tools" / "setup.sh"), "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_python_3_13_gets_one_clear_line_naming_the_supported_versions(tmp_path: Path) -> None:
    r = setup_dry_run(tmp_path, "3.13")
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for words in ("3.10, 3.11 or 3.12", "Python 3.13", "PYTHON=", "bash tools/setup.sh"):
        assert words in lines[0], lines[0]
    assert "would install" not in r.stdout  # stops before installing anything


def test_a_supported_python_is_used(tmp_path: Path) -> None:
    r = setup_dry_run(tmp_path, "3.11")
    assert r.returncode == 0, r.stderr
    assert "Python 3.11" in r.stdout
    assert "would make .venv" in r.stdout


def test_a_python_without_venv_support_gets_the_venv_package(tmp_path: Path) -> None:
    """Minimal Debian has no ensurepip without python3.X-venv: the set-up installs it."""
    if shutil.which("apt-get") is None:
        pytest.skip("no apt-get")
    check = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status}", "python3.10-venv"],
        capture_output=True,
        text=True,
    )
    if check.stdout == "installed":
        pytest.skip("python3.10-venv is installed here")
    r = setup_dry_run(tmp_path, "3.10", ensurepip=False)
    assert r.returncode == 0, r.stderr
    assert re.search(r"would install with apt-get: .*python3\.10-venv", r.stdout), r.stdout


def test_the_supported_pythons_are_the_projects() -> None:
    """setup.sh's list and pyproject.toml's requires-python say the same."""
    text = (ROOT / "tools" / "setup.sh").read_text()
    listed = re.search(r"^SUPPORTED=\((.*)\)", text, re.M)
    assert listed is not None
    versions = listed.group(1).split()
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    lo = re.search(r">=\s*3\.(\d+)", spec)
    hi = re.search(r"<\s*3\.(\d+)", spec)
    assert lo and hi, spec
    assert versions == [f"3.{m}" for m in range(int(lo.group(1)), int(hi.group(1)))]
