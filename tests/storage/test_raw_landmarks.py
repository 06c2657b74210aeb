"""Raw hand landmarks (63 numbers per webcam sample: biometric data) are written and stored
only when a station keeps them; the metrics do not need them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from sim.core.records import Sample
from sim.errors import UserError
from sim.lab.config import load_config
from sim.lab.ingest import session_from_recording
from sim.pipeline import Pipeline
from sim.scenarios import find_scenario
from sim.sources.scripted import ScriptedSource
from sim.storage.recording import strip_raw
from sim.storage.session import rescore, run_session

RAW = tuple(round(i / 63, 4) for i in range(63))


def _webcam_session(path: Path, keep_raw: bool) -> Path:
    sc = find_scenario("venipuncture")
    items = [
        dataclasses.replace(i, raw=RAW) if isinstance(i, Sample) else i
        for i in ScriptedSource(sc, "intermediate", 2)
    ]
    run_session(Pipeline(sc, input_kind="webcam"), items, path, trainee="t-7", keep_raw=keep_raw)
    return path


def _raw_lines(data: bytes) -> int:
    return sum(1 for ln in data.splitlines()[1:] if ln and "raw" in json.loads(ln))


def test_recordings_keep_raw_landmarks_only_when_asked(tmp_path: Path) -> None:
    off = _webcam_session(tmp_path / "off.jsonl", keep_raw=False)
    on = _webcam_session(tmp_path / "on.jsonl", keep_raw=True)
    assert _raw_lines(off.read_bytes()) == 0
    assert _raw_lines(on.read_bytes()) > 100


def test_the_store_strips_them_and_rescoring_does_not_need_them(tmp_path: Path) -> None:
    on = _webcam_session(tmp_path / "on.jsonl", keep_raw=True)
    stripped = session_from_recording(on)  # a station's default: keep_raw_landmarks false
    kept = session_from_recording(on, keep_raw=True)
    assert stripped.id == kept.id  # the same session
    import gzip

    data = gzip.decompress(stripped.row["recording_gz"])
    assert _raw_lines(data) == 0 and b'"raw_removed":true' in data
    again = tmp_path / "stripped.jsonl"
    again.write_bytes(data)
    a, b = rescore(on), rescore(again)
    assert a.result.as_dict() == b.result.as_dict()  # every metric, score and verdict
    assert a.matches and b.matches  # the recorded result still holds without them
    # the stripped file, imported again, is known as the same session
    assert session_from_recording(again).id == stripped.id
    assert strip_raw(data) == data


def test_the_station_config_says_whether(tmp_path: Path) -> None:
    cfg = tmp_path / "station.toml"
    cfg.write_text('[station]\nid = "a"\n')
    assert load_config(cfg).keep_raw_landmarks is False
    cfg.write_text('[station]\nid = "a"\nkeep_raw_landmarks = true\nretention_days = 365\n')
    c = load_config(cfg)
    assert c.keep_raw_landmarks is True and c.retention_days == 365
    for bad, key in (
        ('keep_raw_landmarks = "yes"', "keep_raw_landmarks"),
        ("retention_days = 0", "retention_days"),
        ("retention_days = 1.5", "retention_days"),
    ):
        cfg.write_text(f'[station]\nid = "a"\n{bad}\n')
        with pytest.raises(UserError, match=f"station.{key}"):
            load_config(cfg)
