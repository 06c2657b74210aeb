"""The portal as a lab runs it (docs/lab-setup.md, docs/portal.md): on a real PostgreSQL
server set up by ``procsim lab init``, logged in as a login that is not a superuser and has
only ``procsim_instructor``; driven over plain HTTP (what is checked is the server's answer,
not what a browser draws)."""

from __future__ import annotations

import contextlib
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from sim.cli import main
from sim.lab.database import parse_url
from sim.lab.ingest import session_from_recording
from sim.lab.store import Store
from sim.lab.users import add_user, audit_rows, sign_offs_of

from .conftest import PgServer
from .test_portal import PASSWORDS, _serve

INSTR_LOGIN = "instr_portal"
INSTR_PW = "Instr-login-pw"


@dataclass
class Lab:
    """A lab database set up as the docs say: the admin URL, the instructor login's URL, the
    sessions' ids."""

    admin_url: str
    instr_url: str
    ids: dict[str, str]


@pytest.fixture()
def lab(pg_server: PgServer, recordings: dict[str, Path], data_dir: Path) -> Iterator[Lab]:
    """A fresh database ``portal_roles``: ``lab init`` as the superuser, sessions and portal
    accounts written by it, and a login role granted only ``procsim_instructor``."""
    su = create_engine(parse_url(pg_server.url), isolation_level="AUTOCOMMIT")
    with su.connect() as c:
        c.execute(text("DROP DATABASE IF EXISTS portal_roles"))
        c.execute(text("CREATE DATABASE portal_roles"))
        if not c.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": INSTR_LOGIN}
        ).first():
            c.execute(text(f"CREATE ROLE {INSTR_LOGIN} LOGIN PASSWORD '{INSTR_PW}'"))
    su.dispose()
    admin = pg_server.url.rsplit("/", 1)[0] + "/portal_roles"
    assert main(["lab", "init", "--db", admin]) == 0
    su = create_engine(parse_url(admin), isolation_level="AUTOCOMMIT")
    with su.connect() as c:
        c.execute(text(f"GRANT procsim_instructor TO {INSTR_LOGIN}"))
        assert (
            c.execute(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = :n"), {"n": INSTR_LOGIN}
            ).scalar()
            is False
        )
    su.dispose()
    ids = {}
    with Store(admin) as store:
        for key in ("exp1", "exp2", "nov1"):
            s = session_from_recording(recordings[key])
            store.add(s)
            ids[key] = s.id
        add_user(store, "ann", "instructor", PASSWORDS["ann"])
    instr = f"postgresql://{INSTR_LOGIN}:{INSTR_PW}@127.0.0.1:{pg_server.port}/portal_roles"
    yield Lab(admin, instr, ids)


class Client:
    """A browser without a browser: cookies kept, redirects followed, forms posted with the
    page's CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.csrf = ""

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode({"csrf_token": self.csrf, **fields}).encode()
        return self._open(urllib.request.Request(self.base + path, data=data))

    def _open(self, req: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(req, timeout=120) as r:
                status, body = int(r.status), r.read().decode()
        except urllib.error.HTTPError as exc:
            status, body = int(exc.code), exc.read().decode()
        m = re.search(r'name="csrf_token" value="([^"]+)"', body)
        if m:
            self.csrf = m.group(1)
        return status, body

    def login(self, name: str, password: str) -> tuple[int, str]:
        self.get("/login")
        return self.post("/login", {"username": name, "password": password})


@contextlib.contextmanager
def portal_as(url: str, ids: dict[str, str], videos: Path | None = None) -> Iterator[Any]:
    """The portal served over the store at ``url`` (the login in the URL), and a client."""
    with Store(url) as store, _serve(store, ids, videos) as served:
        yield served, Client(served.base)


def test_the_portal_works_as_a_login_with_only_the_instructor_role(lab: Lab) -> None:
    with portal_as(lab.instr_url, lab.ids) as (served, web):
        status, page = web.login("ann", PASSWORDS["ann"])
        assert status == 200 and "t-001" in page and "t-002" in page  # the dashboard
        status, page = web.get("/trainees/t-001")
        assert status == 200 and 'Progress of <span class="trainee">t-001' in page
        sid = lab.ids["exp1"]
        status, page = web.post(f"/sessions/{sid}/notes", {"notes": "angle too steep"})
        assert status == 200 and "Saved." in page
        fields = {"scenario": "venipuncture", "note": "solid", "confirm": "1"}
        status, page = web.post("/trainees/t-001/signoff", fields)
        assert status == 200 and "Saved." in page, page
        # a second sign-off replaces the first (no DELETE needed)
        status, page = web.post("/trainees/t-001/signoff", {**fields, "note": "again"})
        assert status == 200 and "Saved." in page, page
    with Store(lab.admin_url) as store:
        row = store.get(sid)
        assert row is not None and row.notes == "angle too steep"
        (signed,) = sign_offs_of(store, "t-001")
        assert (signed["signed_by"], signed["note"]) == ("ann", "again")
        acts = [r.action for r in audit_rows(store) if r.username == "ann"]
    assert acts[:3] == ["login", "view_cohort", "view_trainee"]
    assert "set_notes" in acts and acts.count("sign_off_rule_not_met") == 2


def test_erasing_a_trainee_blanks_the_free_text_of_its_audit_rows(
    data_dir: Path, tmp_path: Path, recordings: dict[str, Path]
) -> None:
    from sim.lab.users import audit, sign_off

    url = f"sqlite:///{tmp_path / 'lab.sqlite'}"
    with Store(url) as store:
        a = session_from_recording(recordings["exp1"])
        b = session_from_recording(recordings["nov1"])
        store.add(a)
        store.add(b)
        for sess in (a, b):
            audit(
                store,
                "set_notes",
                user="ann",
                client="10.0.0.5",
                trainee_id=sess.row["trainee_id"],
                session_id=sess.id,
                detail=f"private words about {sess.row['trainee_id']}",
            )
            audit(
                store,
                "sign_off",
                user="ann",
                trainee_id=sess.row["trainee_id"],
                detail="venipuncture: shaky hands",
            )
            sign_off(store, sess.row["trainee_id"], "venipuncture", "ann", "shaky hands")
    assert main(["sessions", "erase", "--trainee", "t-001", "--db", url]) == 0
    with Store(url) as store:
        rows = audit_rows(store)
    erased = [(r.username, r.client, r.action, r.detail) for r in rows if r.trainee_id == "t-001"]
    assert erased == [("ann", "10.0.0.5", "set_notes", None), ("ann", None, "sign_off", None)]
    kept = [r.detail for r in rows if r.trainee_id == "t-002"]
    assert kept == ["private words about t-002", "venipuncture: shaky hands"]


def test_the_portal_drops_the_videos_of_erased_sessions(
    data_dir: Path, tmp_path: Path, recordings: dict[str, Path]
) -> None:
    url = f"sqlite:///{tmp_path / 'lab.sqlite'}"
    videos = tmp_path / "videos"
    videos.mkdir()
    ids = {}
    with Store(url) as store:
        for key in ("exp1", "nov1"):
            s = session_from_recording(recordings[key])
            store.add(s)
            ids[key] = s.id
        add_user(store, "ann", "instructor", PASSWORDS["ann"])
        sha = {sid: store.recording_sha256(sid) or "" for sid in ids.values()}

    def cached(key: str) -> Path:  # a video as the portal names it, already rendered
        f = videos / f"{ids[key]}-{sha[ids[key]][:16]}.mp4"
        f.write_bytes(b"\0\0\0\x18ftypmp42")
        return f

    old = videos / f"{ids['exp1']}-{'0' * 16}.mp4"  # of a recording since replaced
    old.write_bytes(b"old")
    exp1, nov1 = cached("exp1"), cached("nov1")
    with portal_as(url, ids, videos) as (_served, web):
        assert not old.exists() and exp1.exists() and nov1.exists()  # pruned at start
        assert main(["sessions", "erase", "--trainee", "t-002", "--db", url]) == 0
        status, _page = web.login("ann", PASSWORDS["ann"])  # the dashboard
        assert status == 200
        assert not nov1.exists() and exp1.exists()
        status, _page = web.get(f"/sessions/{ids['exp1']}")
        assert status == 200 and exp1.exists()
        assert sorted(p.name for p in videos.iterdir()) == [exp1.name]


def test_the_503_page_tells_the_browser_nothing_and_the_log_everything(
    lab: Lab, pg_server: PgServer, capfd: pytest.CaptureFixture[str]
) -> None:
    with portal_as(lab.instr_url, lab.ids) as (_served, web):
        su = create_engine(parse_url(lab.admin_url), isolation_level="AUTOCOMMIT")
        with su.connect() as c:  # the login loses its rights while the portal runs
            c.execute(text(f"REVOKE procsim_instructor FROM {INSTR_LOGIN}"))
        su.dispose()
        status, page = web.login("ann", PASSWORDS["ann"])
    assert status == 503 and "cannot be used now" in page
    for secret in (INSTR_LOGIN, str(pg_server.port), "127.0.0.1", "permission denied"):
        assert secret not in page
    log = capfd.readouterr().err
    assert f"POST /login from 127.0.0.1: postgresql://{INSTR_LOGIN}:***@" in log
    assert "permission denied for table users" in log and INSTR_PW not in log


@pytest.mark.parametrize("behind_proxy", [False, True])
def test_x_forwarded_for_is_believed_only_behind_a_proxy(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behind_proxy: bool
) -> None:
    monkeypatch.setattr("sim.portal.app.MAX_FAILS_PER_CLIENT", 3)
    url = f"sqlite:///{tmp_path / 'lab.sqlite'}"
    with Store(url) as store:
        with _serve(store, {}, None, behind_proxy=behind_proxy) as served:
            web = Client(served.base)
            for i in range(4):  # a local program claiming another address at each try
                web.opener.addheaders = [("X-Forwarded-For", f"203.0.113.{i}")]
                web.login(f"nobody{i}", "wrong password!")
        rows = audit_rows(store)
    clients = [r.client for r in rows]
    actions = [r.action for r in rows]
    if behind_proxy:  # the proxy's word for the client: four clients, none blocked
        assert clients == [f"203.0.113.{i}" for i in range(4)]
        assert actions == ["login_failed"] * 4
    else:  # the connection's own address: the header changes nothing, the limit holds
        assert clients == ["127.0.0.1"] * 4
        assert actions == ["login_failed"] * 3 + ["login_blocked"]


def test_sign_off_needs_a_scenario_and_a_word_when_the_rule_is_not_met(
    data_dir: Path, tmp_path: Path, recordings: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.lab.users import audit_rows

    url = f"sqlite:///{tmp_path / 'lab.sqlite'}"
    with Store(url) as store:
        for key in ("exp1", "exp2", "sut1"):  # t-001: 2 venipuncture passes, 1 suturing pass
            store.add(session_from_recording(recordings[key]))
        add_user(store, "ann", "instructor", PASSWORDS["ann"])
        with _serve(store, {}, None) as served:
            web = Client(served.base)
            web.login("ann", PASSWORDS["ann"])
            status, page = web.get("/trainees/t-001")
            assert '<option value="" selected>(choose)</option>' in page
            assert "2 consecutive passes reached (session 2); 0 of 10 further passes" in page
            status, page = web.post("/trainees/t-001/signoff", {"scenario": "", "note": "x"})
            assert status == 400 and "Choose the scenario" in page
            fields = {"scenario": "venipuncture", "note": "ok"}
            status, page = web.post("/trainees/t-001/signoff", fields)
            assert status == 400 and "rule of venipuncture is not met" in page
            assert sign_offs_of(store, "t-001") == []
            status, page = web.post("/trainees/t-001/signoff", {**fields, "confirm": "1"})
            assert status == 200 and "Saved." in page
            # a scenario whose rule is met (here 1 pass in a row, no further ones) needs no tick
            monkeypatch.setattr("sim.lab.users._rule", lambda _sc: (1, 0))
            status, page = web.post("/trainees/t-001/signoff", {"scenario": "suturing"})
            assert status == 200 and "Saved." in page
        acts = [(r.action, r.detail) for r in audit_rows(store) if r.action.startswith("sign")]
    assert [s["scenario"] for s in sign_offs_of(store, "t-001")] == ["suturing", "venipuncture"]
    assert acts[0][0] == "sign_off_rule_not_met" and "0 of 10 further passes" in str(acts[0][1])
    assert acts[1] == ("sign_off", "suturing:")


def test_a_trainee_before_their_first_session_is_told_so_not_lost(lab: Lab) -> None:
    with Store(lab.admin_url) as store:
        add_user(store, "newbie", "trainee", "newbie-password-1", trainee_id="t-900")
    with portal_as(lab.instr_url, lab.ids) as (served, web):
        status, page = web.login("newbie", "newbie-password-1")
        assert status == 200 and "No sessions yet" in page
        assert "No sessions of yours in the store yet" in page
        assert "Back to the start page" not in page  # it would lead back here
        instr = Client(served.base)
        instr.login("ann", PASSWORDS["ann"])
        status, page = instr.get("/trainees/t-900")
        assert status == 404 and "No sessions of this trainee" in page
