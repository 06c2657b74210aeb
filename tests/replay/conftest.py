"""The replay tests' recordings, made once for the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.replay.helpers import record


@pytest.fixture(scope="package", params=[("venipuncture", "novice"), ("suturing", "intermediate")])
def recorded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A novice venipuncture and an intermediate suturing session, recorded."""
    scenario, skill = request.param
    return record(tmp_path_factory.mktemp("replay"), scenario, skill, 4)
