"""The session store on SQLite and on a real PostgreSQL server; offline-first sync."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, create_engine, insert, update

from sim.lab.database import StoreError, StoreUnavailable, mask_url, parse_url
from sim.lab.ingest import NewSession, session_from_recording
from sim.lab.schema import SCHEMA_VERSION, schema_table, schema_version, session_cols, upgrade
from sim.lab.store import Store
from sim.lab.sync import Lab
from sim.storage.recording import load_recording, session_id_for

from .pgserver import PG_PASSWORD, PgServer


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'sessions.sqlite'}"
    return str(request.getfixturevalue("pg_url"))


def test_session_round_trip(db_url: str, recordings: dict[str, Path]) -> None:
    rec = load_recording(recordings["nov1"])
    assert rec.result is not None
    with Store(db_url) as s:
        assert s.add(session_from_recording(recordings["nov1"], display_name="Ann"))
        (row,) = s.find()
        assert row.trainee_id == "t-002" and row.display_name == "Ann"
        assert row.station_id == "s2" and row.scenario == "venipuncture"
        assert row.scenario_hash == rec.header["scenario_hash"]
        assert row.input_kind == rec.header["input"]
        assert row.score == pytest.approx(rec.result["score"])
        assert row.passed is rec.result["passed"]
        # the novice stopped before blood was drawn: stored, but not complete
        assert not row.complete and not row.empty and not row.counts
        assert row.critical_errors == tuple(e["kind"] for e in rec.result["critical_errors"])
        assert row.critical_errors  # the novice pierced the back wall
        assert row.duration_s == pytest.approx(rec.items[-1].t_s)
        assert (row.ended_utc - row.started_utc).total_seconds() == round(row.duration_s)
        want = {k: m["value"] for k, m in rec.result["metrics"].items()}
        assert {m.name: m.value for m in row.metrics} == pytest.approx(want, nan_ok=True)
        assert s.recording_bytes(row.id) == recordings["nov1"].read_bytes()
        assert s.result(row.id)["score"] == row.score


def test_same_session_is_stored_once(db_url: str, recordings: dict[str, Path]) -> None:
    with Store(db_url) as s:
        assert s.add(session_from_recording(recordings["exp1"]))
        assert not s.add(session_from_recording(recordings["exp1"], trainee="someone-else"))
        s.add(session_from_recording(recordings["sut1"]))
        assert s.count() == 2
        assert [r.scenario for r in s.find(trainee="t-001", scenario="suturing")] == ["suturing"]


def test_schema_is_upgraded_in_place(
    db_url: str, tmp_path: Path, recordings: dict[str, Path]
) -> None:
    old = session_from_recording(recordings["exp1"])
    aborted = session_from_recording(recordings["nov1"])  # stopped before blood was drawn
    (tmp_path / "db").mkdir(exist_ok=True)
    eng_ = create_engine(parse_url(db_url))  # a database as procsim schema 1 left it
    with eng_.begin() as conn:
        upgrade(conn, target=1)
        for s_ in (old, aborted):
            row = {k: v for k, v in s_.row.items() if k not in ("notes", "empty")}
            row["stored_utc"] = row["started_utc"]
            row["complete"] = True  # schema 1: "the recording was closed normally"
            conn.execute(insert(Table("sessions", MetaData(), *session_cols(1))), row)
    eng_.dispose()
    with Store(db_url) as s:
        assert s.upgraded_from == 1
        with s.engine.connect() as conn:
            assert schema_version(conn) == SCHEMA_VERSION
        assert sorted(r.id for r in s.find()) == sorted([old.id, aborted.id])
        # schema 3: complete re-derived from the stored recordings; neither is empty
        got = {r.id: (r.complete, r.empty) for r in s.find()}
        assert got == {old.id: (True, False), aborted.id: (False, False)}
        s.queue(old.id, replace=True)  # the outbox gained its column too
        assert s.replacing(old.id) and s.pending() == [old.id]
        assert s.set_notes(old.id, "re-check the angle")
        assert {r.id: r.notes for r in s.find()}[old.id] == "re-check the angle"
    with Store(db_url) as s:  # opening again is a no-op
        assert s.upgraded_from == SCHEMA_VERSION
        assert {r.id: r.notes for r in s.find()}[old.id] == "re-check the angle"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with Store(url) as s, s.engine.begin() as conn:
        conn.execute(update(schema_table).values(version=99))
    with pytest.raises(StoreError, match="schema version 99"):
        Store(url)


def test_interrupted_recording_is_stored_rescored(
    tmp_path: Path, recordings: dict[str, Path]
) -> None:
    lines = recordings["exp1"].read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[: len(lines) // 2]) + "\n" + lines[len(lines) // 2][:10])
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}") as s:
        s.add(session_from_recording(cut))
        (row,) = s.find()
    from sim.storage.session import rescore

    again = rescore(cut).result
    assert not row.complete
    assert (row.score, row.passed) == (again.score, again.passed)
    assert row.metrics and row.duration_s < load_recording(recordings["exp1"]).items[-1].t_s


def test_password_is_masked() -> None:
    url = "postgresql://lab:hunter2@db.example:5432/procsim?sslmode=require"
    assert "hunter2" not in mask_url(url) and "***" in mask_url(url)
    assert "hunter2" not in mask_url("postgresql://lab@db/x?password=hunter2")


def test_unreachable_server_error_hides_password(pg_server: PgServer) -> None:
    url = pg_server.url.replace(str(pg_server.port), "1")  # nothing listens on port 1
    with pytest.raises(StoreUnavailable) as exc:
        Store(url)
    assert PG_PASSWORD not in str(exc.value) and "***" in str(exc.value)
    wrong = pg_server.url.replace(PG_PASSWORD, "not-the-password")
    with pytest.raises(StoreError) as exc2:
        Store(wrong)
    assert "not-the-password" not in str(exc2.value)
    assert "login failed for role procsim_lab: wrong password" in str(exc2.value)


def test_outage_loses_and_duplicates_nothing(
    pg_server: PgServer, pg_url: str, tmp_path: Path, recordings: dict[str, Path]
) -> None:
    local = f"sqlite:///{tmp_path / 'station.sqlite'}"
    pg_server.stop()
    try:
        with Lab(local, pg_url) as lab:
            for key in ("exp1", "exp2", "nov1"):
                new, rep = lab.record(session_from_recording(recordings[key]))
                assert new and rep is not None and rep.error is not None
                assert PG_PASSWORD not in rep.error
            assert len(lab.local.pending()) == 3 and lab.local.count() == 3
    finally:
        pg_server.start()
    with Lab(local, pg_url) as lab:
        # the server comes back: the station pushes the 3 sessions, and a 4th made now
        _, rep = lab.record(session_from_recording(recordings["sut1"]))
        assert rep is not None and (rep.pushed, rep.pending, rep.error) == (4, 0, None)
        assert lab.sync().pushed == 0
    with Store(pg_url) as remote:
        ids = sorted(r.id for r in remote.find())
        assert len(ids) == 4 and len(set(ids)) == 4
        with Store(local) as loc:
            assert sorted(loc.ids()) == ids


def test_server_dropping_mid_sync(
    pg_server: PgServer,
    pg_url: str,
    tmp_path: Path,
    recordings: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = f"sqlite:///{tmp_path / 'station.sqlite'}"
    keys = ["exp1", "exp2", "nov1", "sut1"]
    with Lab(local, pg_url) as lab:
        for key in keys:
            lab.record(session_from_recording(recordings[key]), sync=False)
        real_add = Store.add
        calls = []

        def add_then_crash(self: Store, session: NewSession) -> bool:
            calls.append(session.id)
            if len(calls) == 3:  # the server goes away during the third push
                pg_server.stop("immediate")
            return real_add(self, session)

        monkeypatch.setattr(Store, "add", add_then_crash)
        try:
            rep = lab.sync()
        finally:
            monkeypatch.setattr(Store, "add", real_add)
            pg_server.start()
        assert rep.pushed == 2 and rep.pending == 2 and rep.error
        # and a push that committed but whose outbox entry survived (a crash right then)
        lab.local.queue(calls[0])
        rep = lab.sync()
        assert (rep.pushed, rep.already, rep.pending) == (2, 1, 0)
    with Store(pg_url) as remote:
        assert remote.count() == 4
        stored = {r.id: r for r in remote.find()}
        for key in keys:
            sid = session_from_recording(recordings[key]).id
            assert gzip.decompress(remote.export(sid).row["recording_gz"]) == (
                recordings[key].read_bytes()
            )
            assert json.loads(remote.export(sid).row["result_json"])["score"] == (stored[sid].score)


def test_session_id_prefers_the_app_s_header_id(recordings: dict[str, Path]) -> None:
    data = recordings["exp1"].read_bytes()
    derived = session_id_for({"meta": {}}, data)  # an old recording: from its bytes
    assert derived == session_id_for({}, data) == session_from_recording(recordings["exp1"]).id
    assert derived != session_id_for({}, recordings["exp2"].read_bytes())
    app_id = "0b7c61a4-5e43-4f7e-9d1c-2a6f0e1d9b3c"
    assert session_id_for({"meta": {"session_id": app_id}}, data) == app_id
    assert session_id_for({"session_id": app_id.upper()}, data) == app_id
    assert session_id_for({"meta": {"session_id": "not-a-uuid"}}, data) == derived


def test_rescored_recording_never_silently_replaces_the_server_s_copy(
    pg_url: str, tmp_path: Path, recordings: dict[str, Path]
) -> None:
    from sim.storage.session import write_rescored
    from tests.conftest import as_old_recording

    old = as_old_recording(recordings["exp2"], tmp_path / "old.jsonl", score=41.0, passed=False)
    new = tmp_path / "new.jsonl"
    write_rescored(old, new)
    first, second = session_from_recording(old), session_from_recording(new)
    assert first.id == second.id and first.row["recorded_score"] == 41.0
    assert first.row["score"] == second.row["score"]  # both re-scored on import
    with Lab(f"sqlite:///{tmp_path / 'a.sqlite'}", pg_url) as a:
        _, rep = a.record(first)
        assert rep is not None and rep.pushed == 1
    # another station imports the re-score: it is new there, but the server has the id
    with Lab(f"sqlite:///{tmp_path / 'b.sqlite'}", pg_url) as b:
        _, rep = b.record(second)
        assert rep is not None and (rep.pushed, rep.conflicts, rep.pending) == (0, 1, 1)
        assert "--replace" in rep.line()
        with Store(pg_url) as remote:
            assert [r.recorded_score for r in remote.find()] == [41.0]  # untouched
        _, rep = b.record(second, replace=True)  # the instructor says so
        assert rep is not None and (rep.pushed, rep.conflicts, rep.pending) == (1, 0, 0)
    with Store(pg_url) as remote:
        (row,) = remote.find()
        assert row.score == second.row["score"] and row.complete
        assert remote.recording_bytes(row.id) == new.read_bytes()
