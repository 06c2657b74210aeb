"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

from pathlib import Path

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
