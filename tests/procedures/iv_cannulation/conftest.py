"""The shipped IV cannulation scenario, read by the real loader."""

from __future__ import annotations

import pytest

from sim.core.scenario import Scenario
from sim.scenarios import find_scenario


@pytest.fixture(scope="session")
def iv() -> Scenario:
    return find_scenario("iv-cannulation")
