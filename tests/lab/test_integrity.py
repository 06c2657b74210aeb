"""Integrity and robust sync against a real PostgreSQL server: an outbox entry that keeps
failing is set aside without holding back the others, a session the server holds under
another trainee is reported, erasure reaches every station through tombstones, a crash's
recordings are stored, retention erases old recordings, and no password shows in a URL."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, create_engine, insert, text

from sim.cli import main
from sim.lab.database import StoreError, mask_url, parse_url
from sim.lab.ingest import session_from_recording
from sim.lab.schema import SCHEMA_VERSION, session_cols, upgrade
from sim.lab.store import MAX_ATTEMPTS, Store
from sim.lab.sync import Lab

from .pgserver import PgServer


def _station(root: Path, name: str, pg_url: str, **kw: object) -> Lab:
    folder = root / name
    (folder / "recordings").mkdir(parents=True, exist_ok=True)
    return Lab(
        f"sqlite:///{folder / 'sessions.sqlite'}",
        pg_url,
        recordings=folder / "recordings",
        **kw,  # type: ignore[arg-type]
    )


def _put(lab: Lab, rec: Path, **kw: object) -> str:
    """A session recorded at this station: its file in the station's folder, stored."""
    dst = lab.recordings / rec.name
    shutil.copyfile(rec, dst)
    s = session_from_recording(dst, **kw)  # type: ignore[arg-type]
    lab.record(s, sync=False)
    return s.id


def test_a_password_with_an_unencoded_at_is_never_shown(pg_server: PgServer, pg_url: str) -> None:
    # reproduced first: mask_url showed "...:***@ss@host" (the tail of the password)
    for url in (
        "postgresql://lab:p@ss@host:5432/db",
        "postgresql://lab:a@b@c@host/db?sslmode=require",
        "postgresql://lab:pa:ss@host/db",
        "postgresql://lab@host/db?password=x@y",
    ):
        shown = mask_url(url)
        assert "ss@" not in shown and "b@c" not in shown and "x@y" not in shown
        assert "@host" in shown and "***" in shown
    assert parse_url("postgresql://lab:p@ss@host/db").host == "host"
    # a real server accepts such a password, and a wrong one is reported without it
    eng = create_engine(parse_url(pg_server.url), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        if not c.execute(text("SELECT 1 FROM pg_roles WHERE rolname = 'at_user'")).first():
            c.execute(text("CREATE ROLE at_user LOGIN PASSWORD 'p@ss@word'"))
    eng.dispose()
    # a lab set up by `lab init`, the login a station's (docs/lab-setup.md)
    assert main(["lab", "init", "--db", pg_url]) == 0
    with eng.connect() as c:
        c.execute(text("GRANT procsim_station TO at_user"))
    eng.dispose()
    base = f"127.0.0.1:{pg_server.port}/postgres"
    with Store(f"postgresql://at_user:p@ss@word@{base}") as s:
        assert s.display_url == f"postgresql://at_user:***@{base}"
    with pytest.raises(StoreError) as exc:
        Store(f"postgresql://at_user:wr@ng@pw@{base}")
    assert "ng@pw" not in str(exc.value) and "wr@ng" not in str(exc.value)


def test_a_failing_outbox_entry_is_set_aside_and_the_others_sync(
    pg_url: str, tmp_path: Path, recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with _station(tmp_path, "a", pg_url) as lab:
        # reproduced first: PostgreSQL refuses a NUL byte in text, and the outbox used to
        # stop at that first error, every sync, for ever
        bad = _put(lab, recordings["nov1"], trainee="t-\x00-nul")
        good = [_put(lab, recordings[k]) for k in ("exp1", "sut1")]
        assert lab.local.pending()[0] == bad
        for attempt in range(1, MAX_ATTEMPTS + 1):
            rep = lab.sync()
            assert rep.error is None
            if attempt == 1:
                assert rep.pushed == 2  # the others were not held back
            assert lab.local.attempts(bad) == attempt
        assert rep.set_aside == (bad,) and "1 set aside" in rep.line()
        assert lab.local.pending() == []
        with Store(pg_url) as remote:
            assert remote.ids() == set(good)
        local_url = lab.local_url
    assert main(["sessions", "sync", "--db", pg_url, "--config", _config(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "set aside (1;" in out and bad in out and "after 3 attempts" in out
    assert "NUL" in out  # the server's own words
    assert local_url.endswith("a/sessions.sqlite")


def _config(tmp_path: Path) -> str:
    """A station config whose data folder is station "a" (through PROCSIM_DATA_DIR)."""
    cfg = tmp_path / "station.toml"
    cfg.write_text('[station]\nid = "a"\n')
    return str(cfg)


@pytest.fixture(autouse=True)
def _station_a_is_this_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCSIM_DATA_DIR", str(tmp_path / "a"))
    monkeypatch.delenv("PROCSIM_DB_URL", raising=False)
    monkeypatch.delenv("PROCSIM_STATION_CONFIG", raising=False)


def test_a_station_and_the_server_disagreeing_is_reported(
    pg_url: str, tmp_path: Path, recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with _station(tmp_path, "b", pg_url) as b:
        sid = _put(b, recordings["exp1"])
        assert b.sync().pushed == 1
    with _station(tmp_path, "a", pg_url) as a:  # the same file, another trainee id
        assert _put(a, recordings["exp1"], trainee="t-999") == sid
    assert main(["sessions", "sync", "--db", pg_url]) == 0
    out = capsys.readouterr().out
    assert f"disagreement: session {sid}: trainee 't-999' here, 't-001' on the server" in out
    assert "set aside (1;" in out
    with Store(pg_url) as remote:
        assert [r.trainee_id for r in remote.find()] == ["t-001"]


def test_erasure_reaches_the_server_and_both_stations(
    pg_url: str, tmp_path: Path, recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with _station(tmp_path, "s1", pg_url) as s1, _station(tmp_path, "s2", pg_url) as s2:
        _put(s1, recordings["exp1"])
        _put(s1, recordings["nov1"])  # t-002
        _put(s2, recordings["exp2"])
        _put(s2, recordings["sut1"])
        assert s1.sync().pushed == 2 and s2.sync().pushed == 2
        s1.local.set_notes(s1.local.find(trainee="t-001")[0].id, "slow on the angle")
    # the data-protection officer erases t-001 on the server (from a third machine)
    assert main(["sessions", "erase", "--trainee", "t-001", "--db", pg_url]) == 0
    out = capsys.readouterr().out
    assert "erased trainee 't-001': 3 sessions" in out and "next sync" in out
    with Store(pg_url) as remote:
        assert [r.trainee_id for r in remote.find()] == ["t-002"]
        assert [t for t, _ in remote.tombstones()] == ["t-001"]
        with remote.engine.connect() as c:
            n = c.execute(
                text(
                    "SELECT count(*) FROM session_metrics m JOIN sessions s "
                    "ON s.id = m.session_id WHERE s.trainee_id = 't-001'"
                )
            ).scalar()
            assert n == 0
    for name, left in (("s1", ["t-002"]), ("s2", [])):
        with _station(tmp_path, name, pg_url) as st:
            rep = st.sync()
            assert rep.erased == (1 if name == "s1" else 2) and "erased here" in rep.line()
            assert [r.trainee_id for r in st.local.find()] == left
            files = sorted(p.name for p in st.recordings.glob("*.jsonl"))
            assert all("t-001" not in f for f in files)
            assert st.sync().erased == 0  # applied once
    assert (tmp_path / "s1" / "recordings" / recordings["nov1"].name).exists()


def test_a_crash_s_recordings_are_stored_as_incomplete_sessions(
    pg_url: str, tmp_path: Path, recordings: dict[str, Path]
) -> None:
    with _station(tmp_path, "s1", pg_url) as st:
        stored = _put(st, recordings["exp2"])
        lines = recordings["exp1"].read_bytes().split(b"\n")
        cut = st.recordings / "crashed.jsonl"  # no result, no end, a torn last line
        cut.write_bytes(b"\n".join(lines[: len(lines) // 2]) + b"\n" + lines[-3][:9])
        shutil.copyfile(recordings["sut1"], st.recordings / "finished-not-stored.jsonl")
        (st.recordings / "garbage.jsonl").write_text("not a recording\n")
        found = st.recover("s1")
        assert len(found) == 2 and stored not in found
        rows = {r.id: r for r in st.local.find(ids=found)}
        crashed = next(r for r in rows.values() if r.scenario == "venipuncture")
        assert not crashed.complete and crashed.status == "incomplete"
        assert next(r for r in rows.values() if r.scenario == "suturing").complete
        assert sorted(st.local.pending()) == sorted([stored, *found])  # queued for the lab
        assert st.recover("s1") == []  # stored once


def test_retention_erases_old_recordings_and_keeps_the_scores(
    tmp_path: Path, recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a" / "recordings").mkdir(parents=True)
    cfg = tmp_path / "station.toml"
    cfg.write_text('[station]\nid = "a"\nretention_days = 30\n')
    with Lab(
        f"sqlite:///{tmp_path / 'a' / 'sessions.sqlite'}",
        recordings=tmp_path / "a" / "recordings",
        retention_days=30,
    ) as lab:
        sid = _put(lab, recordings["exp1"])
        assert lab.apply_retention() == 0  # made today
        later = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(days=31)
        assert lab.apply_retention(now=later) == 1
        assert not list(lab.recordings.glob("*.jsonl"))
        (row,) = lab.local.find()
        assert row.score > 0 and row.metrics and row.recording_erased_utc is not None
    assert main(["sessions", "get", sid, "-o", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "recording was erased" in err
    assert main(["sessions", "show", sid]) == 0
    assert "recording erased on" in capsys.readouterr().out


def _older_store(url: str, version: int, recordings: list[Path]) -> None:
    """A store at schema ``version`` holding ``recordings`` as that version stored them."""
    eng = create_engine(parse_url(url))
    with eng.begin() as conn:
        upgrade(conn, target=version)
        cols = {c.name for c in session_cols(version)}
        for p in recordings:
            row = {k: v for k, v in session_from_recording(p).row.items() if k in cols}
            row["stored_utc"] = row["started_utc"]
            conn.execute(insert(Table("sessions", MetaData(), *session_cols(version))), row)
    eng.dispose()


def test_an_older_store_upgrades_to_schema_4(
    pg_url: str, tmp_path: Path, recordings: dict[str, Path]
) -> None:
    for url in (f"sqlite:///{tmp_path / 'old.sqlite'}", pg_url):
        _older_store(url, 3, [recordings["exp1"]])
        with Store(url) as s:
            assert s.upgraded_from == 3 and SCHEMA_VERSION >= 4
            (r,) = s.find()
            assert r.recorded_score == r.score and not r.score_differs
            assert r.recording_erased_utc is None and s.tombstones() == []
            s.queue(r.id)
            s.set_aside(r.id, "test")
            assert s.pending() == [] and [e.error for e in s.set_aside_entries()] == ["test"]
            assert s.retry_set_aside() == 1 and s.pending() == [r.id]
            assert s.erase_trainee("t-001", tombstone=True) == [r.id]
            assert [t for t, _ in s.tombstones()] == ["t-001"] and s.count() == 0


def test_erase_expired_applies_the_retention_period_to_the_lab_database(
    pg_url: str, tmp_path: Path, recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    old = tmp_path / "old.jsonl"  # a session made in 2020
    made = re.sub(
        r'"created_utc":"[^"]*"',
        '"created_utc":"2020-01-02T03:04:05Z"',
        recordings["exp1"].read_text(),
        count=1,
    )
    old.write_text(made)
    assert main(["sessions", "import", str(old), str(recordings["exp2"]), "--db", pg_url]) == 0
    cfg = tmp_path / "lab.toml"
    cfg.write_text('[station]\nid = "server"\n')
    assert main(["sessions", "erase", "--expired", "--db", pg_url, "--config", str(cfg)]) == 2
    assert "retention_days" in capsys.readouterr().err
    cfg.write_text('[station]\nid = "server"\nretention_days = 30\n')
    assert main(["sessions", "erase", "--expired", "--db", pg_url, "--config", str(cfg)]) == 0
    assert "recordings of 1 session erased" in capsys.readouterr().out
    with Store(pg_url) as remote:
        rows = {r.started_utc.year: r for r in remote.find()}
        assert rows[2020].recording_erased_utc is not None and rows[2020].score > 0
        assert rows[max(rows)].recording_erased_utc is None
        assert remote.recording_bytes(rows[max(rows)].id)


def test_the_app_s_own_score_is_today_s_and_an_edited_file_is_marked(
    tmp_path: Path, recordings: dict[str, Path]
) -> None:
    from sim.storage.session import rescore
    from tests.conftest import as_old_recording

    today = rescore(recordings["exp1"]).result
    own = session_from_recording(recordings["exp1"], today=today)  # what the app stores
    again = session_from_recording(recordings["exp1"])  # what an import stores
    for key in ("score", "passed", "complete", "empty", "result_json", "recorded_score"):
        assert own.row[key] == again.row[key], key
    assert not own.row["score_differs"] and not again.row["score_differs"]
    edited = as_old_recording(recordings["exp1"], tmp_path / "e.jsonl", score=99.5, passed=True)
    marked = session_from_recording(edited, today=today)
    assert marked.row["recorded_score"] == 99.5 and marked.row["score_differs"]
    assert marked.row["score"] == today.score


def test_a_schema_5_store_upgrades_and_keeps_each_sessions_poor_conditions(
    pg_url: str, tmp_path: Path
) -> None:
    """Schema 6 reads the poor tracking conditions back from each stored recording, so an
    instructor's list marks the sessions tracked in poor conditions before the upgrade too."""
    from sim.pipeline import Pipeline
    from sim.scenarios import find_scenario
    from sim.sources.scripted import ScriptedSource
    from sim.storage.session import run_session

    veni = find_scenario("venipuncture")
    poor = tmp_path / "poor.jsonl"
    cal = {"noise_floor_mm": 0.4, "conditions": {"poor": ["dim", "blur"]}}
    run_session(
        Pipeline(veni, 0.4, input_kind="webcam"),
        ScriptedSource(veni, "expert", 0),
        poor,
        calibration=cal,
    )
    for url in (f"sqlite:///{tmp_path / 'old5.sqlite'}", pg_url):
        _older_store(url, 5, [poor])
        with Store(url) as s:
            assert s.upgraded_from == 5
            (r,) = s.find()
            assert r.poor_conditions == ("dim", "blur")


def test_exam_mode_is_stored_and_a_schema_6_store_reads_it_back(tmp_path: Path) -> None:
    """Schema 7 keeps whether a session was played in exam mode (``meta.exam``): the
    curriculum's exam counts only then. A fresh import and an upgraded store both have it."""
    from sim.pipeline import Pipeline
    from sim.scenarios import find_scenario
    from sim.sources.scripted import ScriptedSource
    from sim.storage.session import run_session

    veni = find_scenario("venipuncture-obese")
    paths = {}
    for exam in (True, False):
        paths[exam] = tmp_path / f"exam-{exam}.jsonl"
        run_session(
            Pipeline(veni), ScriptedSource(veni, "expert", 0), paths[exam],
            trainee=f"t-{exam}", meta={"exam": exam},
        )  # fmt: skip
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    with Store(url) as s:
        for p in paths.values():
            s.add(session_from_recording(p))
        assert {r.trainee_id: r.exam for r in s.find()} == {"t-True": True, "t-False": False}
    url = f"sqlite:///{tmp_path / 'old6.sqlite'}"
    _older_store(url, 6, list(paths.values()))
    with Store(url) as s:
        assert s.upgraded_from == 6
        assert {r.trainee_id: r.exam for r in s.find()} == {"t-True": True, "t-False": False}
    # and the instructor's CSV says which sessions were exams
    import csv

    out = tmp_path / "cohort.csv"
    assert main(["sessions", "export", "--csv", str(out), "--db", url]) == 0
    with out.open(encoding="utf-8-sig", newline="") as f:
        got = {r["trainee_id"]: r["exam"] for r in csv.DictReader(f)}
    assert got == {"t-True": "True", "t-False": "False"}
