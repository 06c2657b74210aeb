"""Load check of station sync (not a timed test): 8 stations push 50 sessions each at once.

Starts a throw-away PostgreSQL server from the machine's own binaries on loopback, runs
``procsim lab init`` on it and creates one login role per station granted
``procsim_station`` (docs/lab-setup.md). Each station gets its own folder: a SQLite store
and a recordings folder holding its sessions, real recordings made by the scripted pipeline
(a few made once, then copied with a new session id, trainee and start time in the header,
as the app writes them) and stored there as the station app stores them (queued for the
lab server). Then every station runs its real sync (``Lab.sync``, as ``procsim sessions
sync`` does) at once, one process each, and the tool prints what was pushed, the wall
time, sessions per second, the per-session push latency (p50, p95, max) and each station's
sync time, the errors, and checks that the server holds exactly every session once.

Two more rounds follow: a second sync (nothing left to push), and a sync after every
session was queued again (as if each outbox entry had survived a drop at the moment of its
commit): all are found already there, none is pushed twice.

    python tools/bench_sync.py [--stations 8] [--sessions 50]

Exit status: 0 all checks held; 1 any error, set-aside entry, disagreement or a wrong
count on the server; 2 no PostgreSQL server binaries on this machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STATION_PASSWORD = "St4tion-pw"
TEMPLATES = (  # (scenario, skill, seed): passes, fails and both procedures
    ("venipuncture", "expert", 1),
    ("venipuncture", "intermediate", 2),
    ("venipuncture", "novice", 3),
    ("suturing", "expert", 1),
    ("suturing", "novice", 2),
    ("iv-cannulation", "intermediate", 1),
)


@dataclass(frozen=True, slots=True)
class Station:
    """One station of the check: its id, folder and lab server URL (its own login)."""

    station_id: str
    folder: Path
    remote_url: str

    @property
    def local_url(self) -> str:
        return f"sqlite:///{self.folder / 'sessions.sqlite'}"

    @property
    def recordings(self) -> Path:
        return self.folder / "recordings"


def make_templates(folder: Path) -> list[tuple[bytes, Any]]:
    """The template recordings (bytes) with the result the pipeline computed for each."""
    from sim.storage.session import rescore
    from tests.lab.conftest import make_recording

    out = []
    for scenario, skill, seed in TEMPLATES:
        path = make_recording(folder, scenario, skill, seed, "template")
        out.append((path.read_bytes(), rescore(path).result))
    return out


def copy_recording(data: bytes, session_id: str, trainee: str, station: str, k: int) -> bytes:
    """``data`` with a new header: the session id the app gives each session
    (``meta.session_id``), the trainee, the station and a start time ``k`` minutes on."""
    head, rest = data.split(b"\n", 1)
    header = json.loads(head)
    meta = dict(header.get("meta") or {})
    meta["session_id"] = session_id
    header.update(meta=meta, trainee=trainee, station=station)
    header["created_utc"] = f"2026-03-{1 + k // 600:02d}T{8 + k // 60 % 10:02d}:{k % 60:02d}:00Z"
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + rest


def fill_station(
    st: Station, index: int, n: int, templates: list[tuple[bytes, Any]], trainees: int
) -> list[str]:
    """Write ``n`` recordings in the station's folder and store them as the station app
    does (``session_from_recording`` with the result its pipeline computed, then
    ``Lab.record`` without syncing: queued for the lab server). Returns their ids."""
    from sim.lab.ingest import session_from_recording
    from sim.lab.sync import Lab

    st.recordings.mkdir(parents=True, exist_ok=True)
    ids = []
    with Lab(st.local_url, st.remote_url, recordings=st.recordings) as lab:
        for k in range(n):
            data, result = templates[(index + k) % len(templates)]
            sid = str(uuid.uuid4())
            trainee = f"t-{(index * n + k) % trainees:03d}"
            path = st.recordings / f"{sid}.jsonl"
            path.write_bytes(copy_recording(data, sid, trainee, st.station_id, k))
            session = session_from_recording(path, station=st.station_id, today=result)
            assert session.id == sid, (session.id, sid)
            lab.record(session, sync=False)
            ids.append(sid)
    return ids


def _child(st: Station, start: Any, requeue: bool, out: Any) -> None:
    out.put(sync_station(st, start, requeue))


def sync_station(st: Station, start: Any, requeue: bool) -> dict[str, Any]:
    """Run one station's sync (in its own process) once every station is ready; what it
    did, how long it took and how long each session's push took."""
    from sim.lab.sync import Lab

    lat: list[float] = []

    class TimedLab(Lab):
        def _push(self, remote: Any, sid: str, tally: Any) -> None:
            t = time.perf_counter()
            super()._push(remote, sid, tally)
            lat.append(time.perf_counter() - t)

    # what a running station has imported already (a fresh process pays for these imports
    # at its first connection; the stations' processes start at the same time here)
    import psycopg  # noqa: F401
    import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401

    import sim.lab.roles  # noqa: F401

    try:
        with TimedLab(st.local_url, st.remote_url, recordings=st.recordings) as lab:
            if requeue:
                for sid in lab.local.ids():
                    lab.local.queue(sid)
            start.wait()
            t = time.perf_counter()
            rep = lab.sync()
            wall = time.perf_counter() - t
            why = {e.session_id: e.error for e in lab.local.set_aside_entries()}
    except Exception as exc:  # reported, and counted as an error
        return {"station": st.station_id, "exception": f"{type(exc).__name__}: {exc}"}
    return {
        "station": st.station_id,
        "pushed": rep.pushed,
        "already": rep.already,
        "pending": rep.pending,
        "error": rep.error,
        "conflicts": rep.conflicts,
        "set_aside": [f"{sid} ({why.get(sid, '?')})" for sid in rep.set_aside],
        "disagreements": list(rep.disagreements),
        "sync_s": wall,
        "latencies_s": lat,
    }


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def run_round(
    stations: list[Station], requeue: bool, admin_url: str, expect_ids: set[str], label: str
) -> tuple[dict[str, Any], list[str]]:
    """All stations sync at once, one process each; the round's figures and its errors."""
    from sim.lab.store import Store

    ctx = mp.get_context("fork")
    start = ctx.Barrier(len(stations) + 1)
    out = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(st, start, requeue, out)) for st in stations]
    for p in procs:
        p.start()
    start.wait()  # every station has its stores open and is ready: go
    t0 = time.perf_counter()
    results = [out.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    errors: list[str] = []
    for r in results:
        if "exception" in r:
            errors.append(f"{r['station']}: {r['exception']}")
            continue
        if r["error"]:
            errors.append(f"{r['station']}: {r['error']}")
        if r["pending"]:
            errors.append(f"{r['station']}: {r['pending']} still waiting")
        if r["conflicts"]:
            errors.append(f"{r['station']}: {r['conflicts']} conflicts")
        errors += [f"{r['station']}: set aside {s}" for s in r["set_aside"]]
        errors += [f"{r['station']}: {d}" for d in r["disagreements"]]
    ok = [r for r in results if "exception" not in r]
    lat = [x for r in ok for x in r["latencies_s"]]
    per_station = [r["sync_s"] for r in ok]
    pushed = sum(r["pushed"] for r in ok)
    with Store(admin_url) as store:
        held = store.ids()
    if held != expect_ids:
        errors.append(
            f"the server holds {len(held)} sessions, expected exactly {len(expect_ids)} "
            f"({len(expect_ids - held)} missing, {len(held - expect_ids)} unexpected)"
        )
    figures = {
        "round": label,
        "stations": len(stations),
        "pushed": pushed,
        "already_there": sum(r["already"] for r in ok),
        "errors": len(errors),
        "wall_s": round(wall, 2),
        "sessions_per_s": round(pushed / wall, 1) if pushed else 0.0,
        "push_ms_p50": round(1000 * _pct(lat, 0.5), 1) if lat else None,
        "push_ms_p95": round(1000 * _pct(lat, 0.95), 1) if lat else None,
        "push_ms_max": round(1000 * max(lat), 1) if lat else None,
        "station_sync_s_median": round(statistics.median(per_station), 2) if ok else None,
        "station_sync_s_max": round(max(per_station), 2) if ok else None,
        "server_sessions": len(held),
    }
    return figures, errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", type=int, default=8)
    ap.add_argument("--sessions", type=int, default=50, help="sessions per station")
    ap.add_argument("--trainees", type=int, default=120, help="trainees the sessions belong to")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()

    from sim.cli import main as procsim
    from tests.lab.pgserver import NoServer, throwaway_server

    t_all = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="procsim-bench-sync-"))
    pg = Path(tempfile.mkdtemp(prefix="procsim-bench-pg-"))  # the server's (postgres-owned)
    try:
        server = throwaway_server(pg)
    except NoServer as exc:
        print(f"bench_sync: {exc}")
        return 2
    server.start(max_connections=50 + 4 * args.stations)
    try:
        if procsim(["lab", "init", "--db", server.url]) != 0:
            print("bench_sync: procsim lab init failed")
            return 1
        stations = [
            Station(
                f"station-{i + 1:02d}",
                tmp / f"station-{i + 1:02d}",
                server.add_login(f"station_{i + 1:02d}", "procsim_station", STATION_PASSWORD),
            )
            for i in range(args.stations)
        ]
        t = time.perf_counter()
        templates = make_templates(tmp / "templates")
        t_tpl = time.perf_counter() - t
        t = time.perf_counter()
        ids: set[str] = set()
        # the stations' folders are filled in parallel (parsing each recording, as the app
        # does when it stores a session, is what takes the time)
        with mp.get_context("fork").Pool(min(len(stations), os.cpu_count() or 1)) as pool:
            jobs = [
                pool.apply_async(fill_station, (st, i, args.sessions, templates, args.trainees))
                for i, st in enumerate(stations)
            ]
            for job in jobs:
                ids.update(job.get(timeout=1800))
        size_kb = sum(len(d) for d, _ in templates) / len(templates) / 1024
        print(
            f"prepared {len(ids)} sessions on {len(stations)} stations in "
            f"{time.perf_counter() - t:.1f} s ({len(templates)} scripted recordings made in "
            f"{t_tpl:.1f} s, {size_kb:.0f} KiB each on average, then copied)"
        )
        failed = False
        for label, requeue in (("first", False), ("second", False), ("requeued", True)):
            figures, errors = run_round(stations, requeue, server.url, ids, label)
            print(json.dumps(figures))
            for e in errors:
                print(f"  error: {e}")
            want_pushed = len(ids) if label == "first" else 0
            if figures["pushed"] != want_pushed:
                print(f"  error: {figures['pushed']} pushed, expected {want_pushed}")
                failed = True
            if label == "requeued" and figures["already_there"] != len(ids):
                print(f"  error: {figures['already_there']} already there, expected {len(ids)}")
                failed = True
            failed = failed or bool(errors)
        print(
            ("FAILED" if failed else "ok: every check held")
            + f" ({time.perf_counter() - t_all:.0f} s in all)"
        )
        return 1 if failed else 0
    finally:
        server.stop("immediate")
        shutil.rmtree(pg, ignore_errors=True)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
