"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.core.scenario import Scenario, find_scenario

REPO = Path(__file__).resolve().parents[1]
HANDS = REPO.parent / "shared" / "data" / "hands"


@pytest.fixture(scope="session")
def veni() -> Scenario:
    return find_scenario("venipuncture")


@pytest.fixture(scope="session")
def sut() -> Scenario:
    return find_scenario("suturing")


@pytest.fixture(scope="module")
def renderer(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An offscreen OpenGL 3.3 renderer of the test module's ``SIZE`` (default 640x360);
    the module is skipped on a machine without OpenGL 3.3."""
    pygame = pytest.importorskip("pygame")
    from sim.errors import UserError
    from sim.render.offscreen import offscreen_context
    from sim.render.renderer import Renderer

    size = getattr(request.module, "SIZE", (640, 360))
    try:
        offscreen_context(size)
    except UserError as exc:  # pragma: no cover - machines without OpenGL 3.3
        pytest.skip(str(exc))
    yield Renderer(size)
    pygame.display.quit()
