"""A real headless browser (Chromium from Debian's packages) to open the reports in."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sim.pipeline import Pipeline
from sim.scenarios import find_scenario
from sim.sources.scripted import ScriptedSource
from sim.storage.session import run_session

# Written into the page by the test (never by the report itself): after load, the
# natural width of every image, so that --dump-dom shows whether each one decoded.
PROBE = (
    "<script>window.addEventListener('load', function () {"
    "document.body.setAttribute('data-img-widths', Array.prototype.map.call("
    "document.images, function (i) { return i.complete ? i.naturalWidth : -1; }).join(','));"
    "});</script>"
)


@dataclass
class Rendered:
    """What the browser made of a page: the DOM after load, and a screenshot (RGB array)."""

    dom: str
    image: np.ndarray

    def image_widths(self) -> list[int]:
        import re

        m = re.search(r'data-img-widths="([^"]*)"', self.dom)
        assert m, "the probe script did not run"
        return [int(x) for x in m.group(1).split(",") if x]


class Browser:
    def __init__(self, exe: str) -> None:
        self.exe = exe

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory(prefix="procsim-chromium-") as prof:
            return subprocess.run(
                [
                    self.exe,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--hide-scrollbars",
                    f"--user-data-dir={prof}",
                    *args,
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )

    def render(self, page: Path, tmp: Path, height_px: int = 1600) -> Rendered:
        """Open ``page`` (a copy with the probe script added) and return DOM + a screenshot
        of its top ``height_px`` pixels (1000 wide)."""
        probe = tmp / f"probe-{page.name}"
        text = page.read_text("utf-8")
        assert "</body>" in text
        probe.write_text(text.replace("</body>", PROBE + "</body>"), "utf-8")
        url = probe.resolve().as_uri()
        dom = self._run("--virtual-time-budget=5000", "--dump-dom", url).stdout
        shot = tmp / f"{page.stem}.png"
        self._run(f"--window-size=1000,{height_px}", f"--screenshot={shot}", url)
        import matplotlib.image

        return Rendered(dom, np.asarray(matplotlib.image.imread(str(shot)))[..., :3])


@pytest.fixture(scope="session")
def browser() -> Browser:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return Browser(exe)
    pytest.skip("no headless Chromium (apt install chromium; tools/test.sh does)")


@pytest.fixture(scope="session")
def novice_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scripted novice venipuncture (fails, with a critical error and many cues)."""
    path = tmp_path_factory.mktemp("rec") / "novice.jsonl"
    sc = find_scenario("venipuncture")
    run_session(
        Pipeline(sc),
        ScriptedSource(sc, "novice", 3),
        path,
        trainee="t-<i>042</i>",
        station="lab-1",
        meta={"display_name": '<img src=x onerror="document.body.dataset.pwned=1">Bob'},
    )
    return path
