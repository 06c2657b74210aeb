"""The portal's trainee page ranks a trainee only among sessions of the same scenario and the
same input kind (a mouse score weighs other metrics than a tracked hand's): served by uvicorn
and read over HTTP as a signed-in instructor (no browser needed)."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from sim.lab.ingest import session_from_recording
from sim.lab.store import Store
from sim.lab.users import add_user
from sim.pipeline import Pipeline
from sim.scenarios import find_scenario
from sim.sources.scripted import scripted_items
from sim.storage.session import run_session
from tests.conftest import visible_text

from .test_portal import PASSWORDS, _serve


def test_trainee_page_stands_a_mouse_trainee_apart_from_webcam_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCSIM_DATA_DIR", str(tmp_path / "data"))
    sc = find_scenario("venipuncture")
    recs = []
    for who, kind, seed in (("t-1", "mouse", 4), ("t-2", "webcam", 2), ("t-3", "webcam", 3)):
        recs.append(tmp_path / f"{who}.jsonl")
        items = scripted_items(sc, "expert", seed)
        run_session(Pipeline(sc, input_kind=kind, noise_floor_mm=0.2), items, recs[-1], trainee=who)
    with Store(f"sqlite:///{tmp_path / 'lab.sqlite'}") as store:
        for r in recs:
            store.add(session_from_recording(r))
        add_user(store, "ann", "instructor", PASSWORDS["ann"])
        with _serve(store, {}, None) as served:
            opener = urllib.request.build_opener(
                urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
            )
            form = opener.open(served.base + "/login", timeout=60).read().decode()
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token is not None
            data = {"csrf_token": token.group(1), "username": "ann", "password": PASSWORDS["ann"]}
            opener.open(served.base + "/login", urllib.parse.urlencode(data).encode(), timeout=60)
            mouse = visible_text(
                opener.open(served.base + "/trainees/t-1", timeout=60).read().decode()
            )
            webcam = visible_text(
                opener.open(served.base + "/trainees/t-2", timeout=60).read().decode()
            )
    # the mouse trainee has no one to stand against: the webcam trainees are not their cohort
    assert "Progress of t-1" in mouse
    assert (
        "the only trainee with a complete session of this scenario so far (with the mouse)" in mouse
    )
    assert "3 trainees" not in mouse and "% of them" not in mouse
    # the webcam trainees stand against each other only
    assert "Against the cohort (2 trainees, 0 signed off; sessions with the webcam only)" in webcam
