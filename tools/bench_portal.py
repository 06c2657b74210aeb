"""Load check of the instructor portal's cohort dashboard (not a timed test).

Fills a store with a cohort (default 500 trainees, 20,000 sessions, rows written directly,
with a tiny stand-in recording each), serves it with ``procsim portal`` in a child process,
logs in 20 instructors and has them load ``/`` at once, again and again; prints the
throughput and the latency percentiles.

    python tools/bench_portal.py                  # a throw-away PostgreSQL server (initdb)
    python tools/bench_portal.py --sqlite         # a temporary SQLite file
    python tools/bench_portal.py --db URL         # an existing, EMPTY database
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fill(url: str, trainees: int, sessions: int, seed: int = 1) -> None:
    """Write the cohort's session rows straight into the store (one transaction)."""
    import datetime as dt

    from sqlalchemy import insert

    from sim.lab.schema import sessions as table
    from sim.lab.store import Store

    rng = random.Random(seed)
    rec = gzip.compress(b'{"format": "procsim-recording"}\n')
    sha = hashlib.sha256(rec).hexdigest()
    t0 = dt.datetime(2026, 1, 5, 8, 0)
    rows = []
    for k in range(sessions):
        t = k % trainees
        n = k // trainees
        skill = 0.4 + 0.6 * (t / trainees)
        score = min(100.0, max(0.0, rng.gauss(45 + 45 * skill + n, 12)))
        complete = rng.random() > 0.08
        crit = '["back_wall"]' if rng.random() < 0.05 else "[]"
        started = t0 + dt.timedelta(days=n, minutes=t)
        rows.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "trainee_id": f"t-{t:04d}",
                "display_name": None,
                "station_id": f"station-{t % 8}",
                "scenario": "venipuncture" if k % 3 else "suturing",
                "scenario_hash": "0" * 64,
                "input_kind": "mouse",
                "started_utc": started,
                "ended_utc": started + dt.timedelta(minutes=3),
                "duration_s": 180.0,
                "score": score,
                "passed": complete and crit == "[]" and score >= 70,
                "complete": complete,
                "empty": False,
                "critical_errors": crit,
                "result_json": "{}",
                "recording_gz": rec,
                "recording_sha256": sha,
                "stored_utc": started,
                "notes": None,
                "recorded_score": score,
                "score_differs": rng.random() < 0.01,
            }
        )
    with Store(url) as store, store.engine.begin() as conn:
        for i in range(0, len(rows), 2000):
            conn.execute(insert(table), rows[i : i + 2000])


def _login(port: int, name: str, password: str) -> str:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("GET", "/login")
    r = c.getresponse()
    page = r.read().decode()
    cookie = r.getheader("set-cookie", "").split(";")[0]
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, "no CSRF token on the login page"
    body = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": m[1]})
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    c.request("POST", "/login", body=body, headers=headers)
    r = c.getresponse()
    r.read()
    assert r.status == 303, f"login of {name}: HTTP {r.status}"
    return r.getheader("set-cookie", "").split(";")[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="an existing, empty database to fill")
    ap.add_argument("--sqlite", action="store_true", help="a temporary SQLite file")
    ap.add_argument("--trainees", type=int, default=500)
    ap.add_argument("--sessions", type=int, default=20_000)
    ap.add_argument("--clients", type=int, default=20, help="concurrent instructors")
    ap.add_argument("--requests", type=int, default=10, help="dashboard loads per instructor")
    args = ap.parse_args()

    from sim.lab.store import Store
    from sim.lab.users import add_user

    tmp = Path(tempfile.mkdtemp(prefix="procsim-bench-portal-"))
    server = None
    if args.db:
        url = args.db
    elif args.sqlite:
        url = f"sqlite:///{tmp / 'lab.sqlite'}"
    else:
        from tests.lab.pgserver import NoServer, throwaway_server

        try:
            server = throwaway_server(tmp)
        except NoServer as exc:
            print(f"{exc}: use --sqlite or --db URL")
            return 2
        server.start()
        url = server.url
    try:
        t = time.perf_counter()
        fill(url, args.trainees, args.sessions)
        with Store(url) as store:
            for i in range(args.clients):
                add_user(store, f"instructor{i}", "instructor", "bench-password-1")
        print(
            f"filled {args.sessions} sessions of {args.trainees} trainees in "
            f"{time.perf_counter() - t:.1f} s ({url.split('://')[0]})"
        )
        return _run(url, args, tmp)
    finally:
        if server is not None:
            server.stop("immediate")


def _run(url: str, args: argparse.Namespace, tmp: Path) -> int:
    from tests.lab.pgserver import free_port

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PROCSIM_DATA_DIR=str(tmp / "data"))
    cmd = [sys.executable, "-m", "sim", "portal", "--db", url, "--port", str(port), "--no-video"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                cookies = [
                    _login(port, f"instructor{i}", "bench-password-1") for i in range(args.clients)
                ]
                break
            except (ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        lat: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        size = [0]

        def client(cookie: str) -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            for _ in range(args.requests):
                t = time.perf_counter()
                c.request("GET", "/", headers={"Cookie": cookie})
                r = c.getresponse()
                body = r.read()
                dt_ = time.perf_counter() - t
                with lock:
                    lat.append(dt_)
                    size[0] = len(body)
                    if r.status != 200:
                        errors.append(f"HTTP {r.status}")

        threads = [threading.Thread(target=client, args=(c,)) for c in cookies]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lat.sort()
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
    out = {
        "requests": len(lat),
        "errors": len(errors),
        "clients": args.clients,
        "throughput_per_s": round(len(lat) / wall, 2),
        "median_ms": round(1000 * statistics.median(lat), 1),
        "p95_ms": round(1000 * p95, 1),
        "max_ms": round(1000 * lat[-1], 1),
        "page_kb": round(size[0] / 1024, 1),
    }
    print(json.dumps(out))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
