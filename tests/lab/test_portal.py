"""The instructor portal as people use it: a real headless Chromium (Selenium, Debian's
chromedriver) against the portal served by uvicorn on a loopback port, over SQLite and over
a real PostgreSQL server; and the ``lab add-user`` / ``lab audit`` commands."""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from sim.lab.ingest import session_from_recording
from sim.lab.store import Store
from sim.lab.users import add_user, audit_rows, cohort

from .pgserver import PgServer, free_port

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
READY_TIMEOUT_S = 60.0
"""How long the tests wait for the server to listen (generous: a loaded CI machine)."""

PASSWORDS = {"ann": "instructor-pw-1", "bob": "trainee-pw-22", "cat": "another-pw-333"}


def _browser_available() -> str | None:
    if not Path(CHROMEDRIVER).exists() or not Path(CHROMIUM).exists():
        return (
            "Debian's chromium and chromium-driver are not installed (apt install chromium-driver)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e .[dev])"
    return None


@dataclass
class Served:
    """A portal being served: its base URL, its store and the ids of its sessions."""

    base: str
    store: Store
    ids: dict[str, str]
    server: Any


def _fill(store: Store, recordings: dict[str, Path]) -> dict[str, str]:
    ids = {}
    for key in ("exp1", "exp2", "nov1", "sut1"):
        s = session_from_recording(recordings[key])
        store.add(s)
        ids[key] = s.id
    add_user(store, "ann", "instructor", PASSWORDS["ann"])
    add_user(store, "bob", "trainee", PASSWORDS["bob"], trainee_id="t-002")
    add_user(store, "cat", "instructor", PASSWORDS["cat"])
    return ids


@contextlib.contextmanager
def _serve(
    store: Store, ids: dict[str, str], videos: Path | None, behind_proxy: bool = False
) -> Iterator[Served]:
    """Serve the portal over ``store`` on a free loopback port (rendering videos into
    ``videos`` if given; as ``--https-proxy`` does if ``behind_proxy``) until the block ends,
    configured as ``procsim portal`` does."""
    import uvicorn

    from sim.portal.app import Portal, create_app
    from sim.portal.commands import server_config

    portal = Portal(
        store,
        secure_cookie=False,
        video_dir=videos or Path("unused"),
        video_fps=5,
        video_speed=4,
        render_videos=videos is not None,
    )
    port = free_port()
    config = server_config(
        create_app(portal), host="127.0.0.1", port=port, behind_proxy=behind_proxy
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the portal did not start within {READY_TIMEOUT_S:.0f} s")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", store, ids, server)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest,
    recordings: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """The portal over a filled store: SQLite, then a real PostgreSQL server."""
    why = _browser_available()
    if why:
        pytest.skip(why)
    d = tmp_path_factory.mktemp("portal")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PROCSIM_DATA_DIR", str(d / "data"))
        if request.param == "sqlite":
            url = f"sqlite:///{d / 'lab.sqlite'}"
        else:
            server: PgServer = request.getfixturevalue("pg_server")
            from sqlalchemy import create_engine, text

            eng = create_engine(
                server.url.replace("postgresql://", "postgresql+psycopg://"),
                isolation_level="AUTOCOMMIT",
            )
            with eng.connect() as c:
                c.execute(text("DROP DATABASE IF EXISTS portal"))
                c.execute(text("CREATE DATABASE portal"))
            eng.dispose()
            url = server.url.rsplit("/", 1)[0] + "/portal"
        store = Store(url)
        try:
            with _serve(store, _fill(store, recordings), None) as s:
                yield s
        finally:
            store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module (a fresh profile: no cookies between tests is
    done by deleting them)."""
    why = _browser_available()
    if why:
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(120)
    try:
        yield drv
    finally:
        drv.quit()


def submit(drv: Any, css: str) -> None:
    """Click the button ``css`` and wait until the next page has replaced this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    button = drv.find_element(By.CSS_SELECTOR, css)
    button.click()

    def replaced(d: Any) -> bool:
        # chromedriver may say the old node "does not belong to the document" instead of
        # calling it stale while the next page loads: either way it is gone
        try:
            return bool(ec.staleness_of(button)(d))
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise

    WebDriverWait(drv, 120).until(replaced)


def login(drv: Any, base: str, name: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    drv.delete_all_cookies()
    drv.get(base + "/login")
    drv.find_element(By.NAME, "username").send_keys(name)
    drv.find_element(By.NAME, "password").send_keys(password)
    submit(drv, "#login")


def text_of(drv: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(drv.find_element(By.TAG_NAME, "body").text)


def actions(store: Store, **where: str) -> list[tuple[str | None, str, str | None]]:
    return [
        (r.username, r.action, r.session_id)
        for r in audit_rows(store)
        if all(getattr(r, k) == v for k, v in where.items())
    ]


def test_instructor_sees_the_cohort_a_trainee_and_a_session(served: Served, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    drv = browser
    login(drv, served.base, "ann", PASSWORDS["ann"])
    assert drv.current_url == served.base + "/"
    cookie = drv.get_cookie("procsim_portal")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    rows = drv.find_elements(By.CSS_SELECTOR, "#cohort tbody tr")
    cells = {r.find_element(By.TAG_NAME, "td").text: r.text for r in rows}
    assert set(cells) == {"t-001", "t-002"}
    # t-001: 3 sessions, all complete passes; t-002: one incomplete session with a critical error
    assert "3 3 100%" in cells["t-001"]
    assert "1 0 -" in cells["t-002"] and "1 critical" in cells["t-002"]
    assert "1 incomplete" in cells["t-002"]

    drv.get(drv.find_element(By.LINK_TEXT, "t-001").get_attribute("href"))
    assert drv.current_url.endswith("/trainees/t-001")
    page = text_of(drv)
    assert "Progress of t-001" in page and "Not signed off by an instructor yet" in page
    assert drv.find_elements(By.CSS_SELECTOR, "img[alt^='learning curve']")
    assert len(drv.find_elements(By.CSS_SELECTOR, "#sessions tbody tr")) == 3

    # sign off on venipuncture with a note that tries to be HTML
    from selenium.webdriver.support.ui import Select

    rule = drv.find_element(By.ID, "rule-state").text
    assert "venipuncture not met: 2 consecutive passes reached (session 2); 0 of 10" in rule
    choice = Select(drv.find_element(By.ID, "scenario"))
    assert choice.first_selected_option.get_attribute("value") == ""  # nothing preselected
    choice.select_by_value("venipuncture")
    drv.find_element(By.ID, "note").send_keys("<b>solid</b> work")
    drv.find_element(By.ID, "confirm").click()  # the rule is not met: said so on purpose
    submit(drv, "#signoff-form button")
    signed = drv.find_element(By.ID, "signoffs").text
    assert "venipuncture ann" in signed and "<b>solid</b> work" in signed  # shown, not run

    sid = served.ids["exp1"]
    drv.get(f"{served.base}/sessions/{sid}")
    page = text_of(drv)
    assert "venipuncture: session report" in page and "Timeline: events and cues" in page
    assert "Replay video off on this portal" in page  # (rendered in its own test)
    drv.find_element(By.ID, "notes").send_keys("<script>alert(1)</script> angle too steep")
    submit(drv, "#notes-form button")
    assert "Saved." in text_of(drv)
    stored = served.store.get(sid)
    assert stored is not None and stored.notes == "<script>alert(1)</script> angle too steep"
    assert "<script>alert(1)</script>" not in drv.page_source  # escaped on the page

    mine = actions(served.store, username="ann")
    assert ("ann", "login", None) in mine and ("ann", "view_cohort", None) in mine
    t001 = actions(served.store, trainee_id="t-001")
    assert ("ann", "view_trainee", None) in t001
    assert ("ann", "sign_off_rule_not_met", None) in t001
    assert ("ann", "view_session", sid) in t001 and ("ann", "set_notes", sid) in t001


def test_a_trainee_sees_only_their_own_pages(served: Served, browser: Any) -> None:
    drv = browser
    login(drv, served.base, "bob", PASSWORDS["bob"])
    assert drv.current_url.endswith("/trainees/t-002")  # no cohort for a trainee
    assert "Progress of t-002" in text_of(drv)
    assert "Sign off on scenario" not in text_of(drv)
    drv.get(served.base + "/trainees/t-001")
    assert "may not see that trainee" in text_of(drv)
    drv.get(f"{served.base}/sessions/{served.ids['exp1']}")
    assert "may not see that trainee" in text_of(drv)
    assert "score" not in text_of(drv).lower()
    drv.get(f"{served.base}/sessions/{served.ids['nov1']}")
    assert "session report" in text_of(drv) and "Save notes" not in text_of(drv)
    denied = [a for a in actions(served.store, username="bob") if a[1] == "denied"]
    assert denied == [("bob", "denied", None), ("bob", "denied", served.ids["exp1"])]
    # the 403 is the server's answer, not only the page's words
    status = _status(served, "/trainees/t-001", _cookie(drv))
    assert status == 403


def _cookie(drv: Any) -> str:
    c = drv.get_cookie("procsim_portal")
    return f"procsim_portal={c['value']}"


def _status(served: Served, path: str, cookie: str, data: dict[str, str] | None = None) -> int:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(served.base + path, data=body, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _only_on(served: Served, dialect: str) -> None:
    """Skip a check that does not depend on the database on the other one (the suite stays
    fast): CSRF and the login limit are the web layer's, run over PostgreSQL; the video is
    rendered once, over SQLite."""
    if served.store.dialect != dialect:
        pytest.skip(f"the web layer's check, run once (over {dialect})")


def test_a_post_without_the_csrf_token_is_refused(served: Served, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _only_on(served, "postgresql")
    drv = browser
    login(drv, served.base, "ann", PASSWORDS["ann"])
    sid = served.ids["exp2"]
    drv.get(f"{served.base}/sessions/{sid}")
    # the browser's own form, its token taken out
    drv.execute_script("document.querySelector('#notes-form input[name=csrf_token]').remove()")
    drv.find_element(By.ID, "notes").send_keys("forged")
    submit(drv, "#notes-form button")
    assert "CSRF token missing or wrong" in text_of(drv)
    # a cross-site request carrying the session cookie but a wrong token
    cookie = _cookie(drv)
    assert (
        _status(served, f"/sessions/{sid}/notes", cookie, {"notes": "x", "csrf_token": "no"}) == 403
    )
    assert _status(served, f"/sessions/{sid}/notes", cookie, {"notes": "x"}) == 403
    row = served.store.get(sid)
    assert row is not None and row.notes is None
    assert "set_notes" not in [a for _, a, s in actions(served.store) if s == sid]


def test_failed_logins_are_rate_limited(served: Served, browser: Any) -> None:
    _only_on(served, "postgresql")
    drv = browser
    for _ in range(5):
        login(drv, served.base, "cat", "wrong password!")
        assert "Wrong user name or password" in text_of(drv)
    login(drv, served.base, "cat", PASSWORDS["cat"])  # the right one, too late
    assert "Too many failed logins" in text_of(drv)
    assert drv.current_url.endswith("/login")
    login(drv, served.base, "ann", PASSWORDS["ann"])  # another user from the same client
    assert drv.current_url == served.base + "/"
    cat = [a for _, a, _s in actions(served.store, username="cat")]
    assert cat == ["login_failed"] * 5 + ["login_blocked"]


def test_the_replay_video_is_rendered_and_served(
    served: Served, browser: Any, tmp_path: Path
) -> None:
    _only_on(served, "sqlite")
    drv = browser
    login(drv, served.base, "ann", PASSWORDS["ann"])
    sid = served.ids["sut1"]
    drv.get(f"{served.base}/sessions/{sid}")
    assert "Replay video off on this portal" in text_of(drv)
    # the same store served by a portal that renders videos
    with _serve(served.store, served.ids, tmp_path / "videos") as rendering:
        _wait_for_video(rendering, drv, sid)


def _wait_for_video(served: Served, drv: Any, sid: str) -> None:
    from selenium.webdriver.common.by import By

    login(drv, served.base, "ann", PASSWORDS["ann"])
    drv.get(f"{served.base}/sessions/{sid}")
    deadline = time.monotonic() + 300
    while not drv.find_elements(By.TAG_NAME, "video"):
        assert drv.find_elements(By.ID, "rendering"), text_of(drv)
        assert time.monotonic() < deadline, "the replay video was not rendered in 300 s"
        time.sleep(2)
        drv.refresh()
    src = drv.find_element(By.TAG_NAME, "video").get_attribute("src")
    req = urllib.request.Request(src, headers={"Cookie": _cookie(drv)})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.headers["content-type"] == "video/mp4"
        assert r.read(12)[4:8] == b"ftyp"  # an MP4 file
    assert ("ann", "view_video", sid) in actions(served.store, trainee_id="t-001")


def test_the_dashboard_counts_in_the_database(tmp_path: Path, recordings: dict[str, Path]) -> None:
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        for key in ("exp1", "exp2", "nov1", "sut1"):
            store.add(session_from_recording(recordings[key]))
        rows = {r.trainee_id: r for r in cohort(store)}
    a, b = rows["t-001"], rows["t-002"]
    assert (a.sessions, a.counted, a.passed, a.pass_rate) == (3, 3, 3, 1.0)
    veni = dict(a.proficiency)["venipuncture"]
    assert veni.streak_at == 2 and not veni.signed_off  # 2 in a row, then 10 more needed
    assert (b.sessions, b.counted, b.pass_rate, b.critical, b.incomplete) == (1, 0, None, 1, 1)


def test_erasing_a_trainee_erases_the_sign_offs(
    tmp_path: Path, recordings: dict[str, Path]
) -> None:
    from sim.lab.users import sign_off, sign_offs_of

    with Store(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        for key in ("exp1", "nov1"):
            store.add(session_from_recording(recordings[key]))
        sign_off(store, "t-001", "venipuncture", "ann", "fine")
        sign_off(store, "t-002", "venipuncture", "ann", None)
        store.erase_trainee("t-001")
        assert [s["trainee_id"] for s in sign_offs_of(store)] == ["t-002"]
        assert [r.trainee_id for r in cohort(store)] == ["t-002"]


def test_lab_add_user_and_audit_commands(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import io

    url = f"sqlite:///{tmp_path / 'lab.sqlite'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert (
        main(["lab", "add-user", "dee", "--role", "instructor", "--password-stdin"] + ["--db", url])
        == 0
    )
    assert "user dee (instructor) created" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["lab", "add-user", "eve", "--role", "admin", "--password-stdin", "--db", url]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    args = ["lab", "add-user", "eve", "--role", "trainee", "--password-stdin", "--db", url]
    assert main(args) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("--role trainee needs --trainee ID (the trainee the account sees)")
    )
    assert main(["lab", "add-user", "eve", "--role", "admin", "--db", url]) == 2
    assert "--password-stdin" in capsys.readouterr().err
    with Store(url) as store:
        from sim.lab.users import audit, authenticate

        user = authenticate(store, "dee", "a-long-password")
        assert user is not None and user.role == "instructor"
        assert authenticate(store, "dee", "a-long-passwore") is None
        stored = store.engine.connect().exec_driver_sql("SELECT password_hash FROM users").scalar()
        assert str(stored).startswith("$argon2id$") and "a-long-password" not in str(stored)
        audit(store, "view_trainee", user="dee", client="10.0.0.5", trainee_id="t-9")
        audit(store, "view_cohort", user="dee", client="10.0.0.5")
    assert main(["lab", "audit", "--db", url, "--trainee", "t-9", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["username"] == "dee" and entry["action"] == "view_trainee"
    assert entry["client"] == "10.0.0.5" and entry["trainee_id"] == "t-9"
    assert main(["lab", "audit", "--db", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "view_cohort" in lines[2] and "t-9" in lines[1]


def test_the_portal_refuses_plain_http_beyond_loopback(data_dir: Path, capsys: Any) -> None:
    assert main(["portal", "--host", "0.0.0.0", "--db", "sqlite:///x.sqlite"]) == 2
    assert "needs TLS" in capsys.readouterr().err


def test_the_rate_limiter_forgets_after_its_window() -> None:
    from sim.portal.app import RateLimiter

    now = [0.0]
    lim = RateLimiter(2, 300.0, clock=lambda: now[0])
    lim.fail("x")
    lim.fail("x")
    assert lim.blocked("x") and not lim.blocked("y")
    now[0] = 301.0
    assert not lim.blocked("x")
