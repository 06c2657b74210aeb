"""The instructor portal: a Starlette application over the session store.

Pages (Jinja2 templates in ``sim/portal/templates``, autoescaped; no scripts): ``/`` the
cohort dashboard, ``/trainees/<id>`` a trainee's progress (the trainee report of
:mod:`sim.report.trainee`), ``/sessions/<id>`` one session (the session report of
:mod:`sim.report.session`, its replay video rendered on the server, notes). Sign-in with
``POST /login``; sessions are signed cookies (HTTP-only, SameSite=Strict, Secure unless the
portal serves plain http on loopback); every form carries the session's CSRF token, checked on
every POST; failed logins are rate-limited per user name and per client. Every view and change
of a trainee's data is written to the audit log (:func:`sim.lab.users.audit`). See
``docs/portal.md``.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from queue import Queue
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from sim.errors import UserError
from sim.lab.database import StoreError
from sim.lab.store import SessionRow, Store
from sim.lab.users import (
    User,
    audit,
    authenticate,
    cohort,
    cohort_version,
    get_user,
    sign_off,
    sign_offs_of,
)

SESSION_MAX_AGE_S = 8 * 3600
"""A login lasts a working day (our choice)."""
LOGIN_WINDOW_S = 300.0
"""Failed logins are counted over this many seconds (our choice)."""
MAX_FAILS_PER_USER = 5
"""Failed logins for one user name within the window before further tries are refused
(our choice, as OWASP's authentication guidance suggests: a few, then wait)."""
MAX_FAILS_PER_CLIENT = 20
"""Failed logins from one client address within the window (our choice: a lab's shared
desk may mistype for several people)."""
MAX_NOTES_CHARS = 4000
"""Longest instructor note accepted (our choice)."""

NOT_YOURS = "This account may not see that trainee's data."
SIGN_OFF_ANYWAY = "sign off although the rule is not met"
"""The sign-off form's checkbox, needed when the scenario's sign-off rule is not met."""
UNAVAILABLE = (
    "The session database cannot be used now. Please try again later; the portal's log says why."
)

LOG = logging.getLogger("uvicorn.error.procsim")
"""The portal's log: a child of uvicorn's error log, which goes to standard error."""

TEMPLATES = Path(__file__).with_name("templates")


class RateLimiter:
    """Failed attempts per key in a sliding window (in memory: a restart forgets them)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        now = self._clock()
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its failed attempts."""
        with self._lock:
            return len(self._recent(key)) >= self.limit

    def fail(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self._clock())

    def reset(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)


class VideoCache:
    """Replay videos of stored sessions, rendered on the server one at a time and kept.

    A video is ``<folder>/<session id>-<recording sha256[:16]>.mp4`` (a replaced recording
    gets a new one). :meth:`state` asks for it: it is queued for a background thread that
    writes the stored recording to a private temporary file and runs ``procsim export-video``
    on it in a child process (:func:`sim.replay.video.export_video`: the OpenGL context and
    the encoder stay out of the server's process), which writes the file under a temporary
    name and renames it when complete.
    """

    def __init__(self, store: Store, folder: Path, fps: float, speed: float) -> None:
        from sim.paths import private_dir

        self.store = store
        self.folder = private_dir(folder)
        self.fps = fps
        self.speed = speed
        self._queue: Queue[tuple[str, Path]] = Queue()
        self._busy: set[str] = set()
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pruned_at: tuple[Any, ...] | None = None
        self.prune()
        threading.Thread(target=self._work, name="procsim-video", daemon=True).start()

    def prune(self) -> list[Path]:
        """Delete the cached videos that no session's kept recording has any more: of a
        session erased (``sessions erase``, a tombstone), of a recording replaced or erased
        by the retention period. Run at start, and by :meth:`state` whenever the store's
        sessions changed (:meth:`Store.recordings_version`). Returns the files deleted."""
        version = self.store.recordings_version()
        keep = {f"{sid}-{sha[:16]}" for sid, sha in self.store.kept_recordings().items()}
        gone = []
        with self._lock:
            busy = set(self._busy)
            for f in sorted(self.folder.glob("*.mp4")):
                stem = f.name.removesuffix(".mp4").removesuffix(".part")
                if stem in keep or stem.rsplit("-", 1)[0] in busy:
                    continue
                f.unlink(missing_ok=True)
                gone.append(f)
            self._pruned_at = version
        return gone

    def refresh(self) -> None:
        """:meth:`prune` if the store's sessions changed since the last time."""
        if self.store.recordings_version() != self._pruned_at:
            self.prune()

    def path(self, session_id: str) -> Path | None:
        sha = self.store.recording_sha256(session_id)
        return None if sha is None else self.folder / f"{session_id}-{sha[:16]}.mp4"

    def state(self, session_id: str) -> tuple[str, Path | None]:
        """("ready", file), ("rendering", None) or ("failed: why", None); queues a render
        of a video that is neither there nor being rendered; first drops the videos of
        sessions erased since it last looked (:meth:`prune`)."""
        self.refresh()
        p = self.path(session_id)
        if p is None:
            return "failed: no such session", None
        if p.exists():
            return "ready", p
        with self._lock:
            if session_id in self._errors:
                return f"failed: {self._errors[session_id]}", None
            if session_id not in self._busy:
                self._busy.add(session_id)
                self._queue.put((session_id, p))
        return "rendering", None

    def _work(self) -> None:
        while True:
            sid, out = self._queue.get()
            try:
                self._render(sid, out)
            except (UserError, OSError, subprocess.SubprocessError) as exc:
                with self._lock:
                    self._errors[sid] = str(exc)
            finally:
                with self._lock:
                    self._busy.discard(sid)

    def _render(self, sid: str, out: Path) -> None:
        from sim.paths import open_private

        data = self.store.recording_bytes(sid)
        env = dict(os.environ)
        if not env.get("DISPLAY"):
            env.setdefault("SDL_VIDEODRIVER", "offscreen")
            env.setdefault("PYOPENGL_PLATFORM", "egl")
        env.setdefault("SDL_AUDIODRIVER", "dummy")
        with tempfile.TemporaryDirectory(prefix="procsim-video-") as d:
            rec = Path(d) / f"{sid}.jsonl"
            with open_private(rec, "wb") as f:
                f.write(data)
            cmd = [sys.executable, "-m", "sim", "export-video", str(rec), "-o", str(out)]
            cmd += ["--fps", f"{self.fps:g}", "--speed", f"{self.speed:g}"]
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if r.returncode != 0:
            lines = (r.stderr or r.stdout).strip().splitlines()
            raise UserError(lines[-1] if lines else f"export-video exited {r.returncode}")


class Portal:
    """The application's state: the store, the login limits, the video cache."""

    def __init__(
        self,
        store: Store,
        *,
        secure_cookie: bool,
        video_dir: Path,
        video_fps: float = 15.0,
        video_speed: float = 1.0,
        render_videos: bool = True,
        secret: str | None = None,
    ) -> None:
        self.store = store
        self.secure_cookie = secure_cookie
        self.secret = secret or secrets.token_urlsafe(48)
        self.per_user = RateLimiter(MAX_FAILS_PER_USER, LOGIN_WINDOW_S)
        self.per_client = RateLimiter(MAX_FAILS_PER_CLIENT, LOGIN_WINDOW_S)
        self.videos = (
            VideoCache(store, video_dir, video_fps, video_speed) if render_videos else None
        )
        import jinja2

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=True,  # every value reaching a page is escaped, unless marked safe
            undefined=jinja2.StrictUndefined,
        )
        self.templates = Jinja2Templates(env=env)
        self._cohort: tuple[tuple[Any, ...], int, int, str] | None = None
        self._cohort_lock = threading.Lock()

    def cohort_table(self) -> tuple[int, int, str]:
        """(trainees, sessions, the dashboard's table as HTML), rendered again only when
        the store's sessions or sign-offs changed (:func:`cohort_version`)."""
        version = cohort_version(self.store)
        with self._cohort_lock:  # one computes, the others wait for it and share it
            if self._cohort is None or self._cohort[0] != version:
                rows = cohort(self.store)
                html = self.templates.env.get_template("cohort_table.html").render(rows=rows)
                self._cohort = (version, len(rows), sum(r.sessions for r in rows), html)
            _v, n_trainees, n_sessions, table = self._cohort
        return n_trainees, n_sessions, table

    # -- helpers --
    def page(self, request: Request, name: str, status: int = 200, **ctx: Any) -> Response:
        ctx.setdefault("user", None)
        ctx["csrf"] = csrf_token(request)
        ctx["store_url"] = self.store.display_url
        return self.templates.TemplateResponse(request, name, ctx, status_code=status)

    def error(self, request: Request, status: int, message: str, user: User | None) -> Response:
        heading = {400: "Bad request", 403: "Not allowed", 404: "Not found"}.get(
            status, "Unavailable" if status == 503 else "Error"
        )
        return self.page(request, "error.html", status, message=message, user=user, heading=heading)

    async def deny(
        self, request: Request, user: User, trainee: str, message: str, sid: str | None = None
    ) -> Response:
        """403, written to the audit log."""
        await self.audit(request, "denied", user.name, trainee_id=trainee, session_id=sid)
        return self.error(request, 403, message, user)

    async def audit(self, request: Request, action: str, user: str | None, **kw: Any) -> None:
        await run_in_threadpool(audit, self.store, action, user=user, client=_client(request), **kw)

    async def current(self, request: Request) -> User | None:
        name = request.session.get("user")
        if not isinstance(name, str):
            return None
        return await run_in_threadpool(get_user, self.store, name)

    # -- routes --
    async def login_form(self, request: Request) -> Response:
        return self.page(request, "login.html", message=None)

    async def login(self, request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form.get("csrf_token")):
            return self.error(request, 403, "The form was stale: reload the page and retry.", None)
        name = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        client = _client(request)
        if self.per_user.blocked(name) or self.per_client.blocked(client):
            await self.audit(request, "login_blocked", name or None)
            return self.page(
                request,
                "login.html",
                429,
                message="Too many failed logins: wait a few minutes before trying again.",
            )
        user = await run_in_threadpool(authenticate, self.store, name, password)
        if user is None:
            self.per_user.fail(name)
            self.per_client.fail(client)
            await self.audit(request, "login_failed", name or None)
            return self.page(request, "login.html", 401, message="Wrong user name or password.")
        self.per_user.reset(name)
        request.session.clear()  # a new session (and CSRF token) at each login
        request.session["user"] = user.name
        request.session["csrf"] = secrets.token_urlsafe(32)
        await self.audit(request, "login", user.name)
        return RedirectResponse(_home(user), status_code=303)

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form.get("csrf_token")):
            return self.error(request, 403, "The form was stale: reload the page and retry.", None)
        name = request.session.get("user")
        request.session.clear()
        if isinstance(name, str):
            await self.audit(request, "logout", name)
        return RedirectResponse("/login", status_code=303)

    async def dashboard(self, request: Request) -> Response:
        user = await self.current(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        if not user.staff:
            return RedirectResponse(_home(user), status_code=303)
        n_trainees, n_sessions, table = await run_in_threadpool(self.cohort_table)
        if self.videos is not None:  # erased sessions' videos go when the store changed
            await run_in_threadpool(self.videos.refresh)
        await self.audit(request, "view_cohort", user.name, detail=f"{n_trainees} trainees")
        return self.page(
            request,
            "dashboard.html",
            user=user,
            n_trainees=n_trainees,
            n_sessions=n_sessions,
            table=table,
        )

    async def trainee(self, request: Request) -> Response:
        user = await self.current(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        tid = request.path_params["tid"]
        if not user.may_see(tid):
            return await self.deny(request, user, tid, NOT_YOURS)
        from sim.report.trainee import trainee_report

        def load() -> tuple[list[SessionRow], str | None, list[dict[str, Any]]]:
            rows = self.store.find(trainee=tid)
            if not rows:
                return rows, None, []
            return rows, report_body(trainee_report(self.store, tid)), sign_offs_of(self.store, tid)

        rows, body, signed = await run_in_threadpool(load)
        if not rows and not user.staff:  # a trainee's own page before their first session
            return self.page(
                request,
                "error.html",
                message="No sessions of yours in the store yet: they appear here once your "
                "station has stored and synced them.",
                heading="No sessions yet",
                user=user,
            )
        if not rows:
            return self.error(request, 404, "No sessions of this trainee in the store.", user)
        await self.audit(request, "view_trainee", user.name, trainee_id=tid)
        scenarios = sorted({r.scenario for r in rows})
        rules = await run_in_threadpool(rule_states, self.store, tid, scenarios)
        return self.page(
            request,
            "trainee.html",
            user=user,
            tid=tid,
            rows=list(reversed(rows)),
            report=body,
            signed=signed,
            rules=rules,
            saved=request.query_params.get("saved"),
        )

    async def seen_session(self, request: Request) -> tuple[User, SessionRow] | Response:
        """The logged-in user and the session in the path, or the answer that refuses them:
        the login page, 404, or 403 (written to the audit log)."""
        user = await self.current(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        sid = request.path_params["sid"]
        row = await run_in_threadpool(self.store.get, sid)
        if row is None:
            return self.error(request, 404, "No such session in the store.", user)
        if not user.may_see(row.trainee_id):
            return await self.deny(request, user, row.trainee_id, NOT_YOURS, sid)
        return user, row

    async def session(self, request: Request) -> Response:
        seen = await self.seen_session(request)
        if isinstance(seen, Response):
            return seen
        user, row = seen
        sid = request.path_params["sid"]

        def load() -> tuple[str | None, str | None]:
            from sim.report.session import session_report
            from sim.storage.recording import RecordingError, parse_recording

            try:
                data = self.store.recording_bytes(sid)
                rec = parse_recording(data, f"{sid}.jsonl")
            except (UserError, RecordingError) as exc:
                return None, str(exc)
            text = session_report(rec, display_name=row.display_name, notes=None)
            return report_body(text), None

        body, why = await run_in_threadpool(load)
        if self.videos is None:
            video = "off on this portal (started with --no-video)"
        elif body is None:
            video = "unavailable"
        else:
            video, _path = await run_in_threadpool(self.videos.state, sid)
        await self.audit(
            request, "view_session", user.name, trainee_id=row.trainee_id, session_id=sid
        )
        return self.page(
            request,
            "session.html",
            user=user,
            row=row,
            report=body,
            why=why,
            video=video,
            saved=request.query_params.get("saved"),
        )

    async def video(self, request: Request) -> Response:
        seen = await self.seen_session(request)
        if isinstance(seen, Response):
            return seen
        user, row = seen
        sid = request.path_params["sid"]
        if self.videos is None:
            return self.error(request, 404, "Replay videos are off on this portal.", user)
        state, path = await run_in_threadpool(self.videos.state, sid)
        if path is None:
            return self.error(request, 404, f"The replay video is not ready ({state}).", user)
        if request.headers.get("range", "bytes=0-").startswith("bytes=0-"):
            await self.audit(
                request, "view_video", user.name, trainee_id=row.trainee_id, session_id=sid
            )
        return FileResponse(path, media_type="video/mp4")

    async def notes(self, request: Request) -> Response:
        user = await self.current(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        form = await request.form()
        if not csrf_ok(request, form.get("csrf_token")):
            return self.error(request, 403, "CSRF token missing or wrong: reload the page.", user)
        sid = request.path_params["sid"]
        row = await run_in_threadpool(self.store.get, sid)
        if row is None:
            return self.error(request, 404, "No such session in the store.", user)
        if not user.staff:
            why = "Only instructors write notes."
            return await self.deny(request, user, row.trainee_id, why, sid)
        text = str(form.get("notes") or "").strip().replace("\r\n", "\n")[:MAX_NOTES_CHARS]
        await run_in_threadpool(self.store.set_notes, sid, text or None)
        await self.audit(
            request,
            "set_notes",
            user.name,
            trainee_id=row.trainee_id,
            session_id=sid,
            detail=text,
        )
        return RedirectResponse(f"/sessions/{sid}?saved=notes", status_code=303)

    async def signoff(self, request: Request) -> Response:
        user = await self.current(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        form = await request.form()
        if not csrf_ok(request, form.get("csrf_token")):
            return self.error(request, 403, "CSRF token missing or wrong: reload the page.", user)
        tid = request.path_params["tid"]
        if not user.staff:
            return await self.deny(request, user, tid, "Only instructors sign off.")
        scenario = str(form.get("scenario") or "")
        if not scenario:
            return self.error(request, 400, "Choose the scenario to sign off on.", user)
        rows = await run_in_threadpool(self.store.find, trainee=tid, scenario=scenario)
        if not rows:
            return self.error(request, 400, "That trainee has no session of that scenario.", user)
        ((_sc, state, met),) = await run_in_threadpool(rule_states, self.store, tid, [scenario])
        if not met and form.get("confirm") != "1":
            return self.error(
                request,
                400,
                f"The sign-off rule of {scenario} is not met ({state}): not signed off. To sign "
                f'off all the same, tick "{SIGN_OFF_ANYWAY}".',
                user,
            )
        note = str(form.get("note") or "").strip()[:MAX_NOTES_CHARS]
        await run_in_threadpool(sign_off, self.store, tid, scenario, user.name, note)
        # the audit log's action says whether the rule was met (it outlives the detail's
        # free text, which an erasure blanks)
        await self.audit(
            request,
            "sign_off" if met else "sign_off_rule_not_met",
            user.name,
            trainee_id=tid,
            detail=f"{scenario}: {note}".strip() if met else f"{scenario} ({state}): {note}",
        )
        return RedirectResponse(f"/trainees/{tid}?saved=signoff", status_code=303)


def rule_states(store: Store, tid: str, scenarios: list[str]) -> list[tuple[str, str, bool]]:
    """(scenario, the sign-off rule's state in words, whether it is met) of a trainee, per
    scenario (:func:`sim.lab.users.cohort`'s proficiency)."""
    rows = cohort(store, [tid])
    profs = dict(rows[0].proficiency) if rows else {}
    out = []
    for sc in scenarios:
        p = profs.get(sc)
        if p is None:
            out.append((sc, "no session that counts yet", False))
        else:
            out.append((sc, p.line(), p.signed_off))
    return out


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


def _home(user: User) -> str:
    from urllib.parse import quote

    return "/" if user.staff else f"/trainees/{quote(user.trainee_id or '', safe='')}"


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    tok = request.session.get("csrf")
    if not isinstance(tok, str):
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return tok


def csrf_ok(request: Request, sent: object) -> bool:
    """Whether a form's token is the session's (compared in constant time)."""
    tok = request.session.get("csrf")
    return isinstance(tok, str) and isinstance(sent, str) and hmac.compare_digest(tok, sent)


def report_body(document: str) -> str:
    """The inside of a report's ``<body>`` (its ``<footer>`` left out), to embed in a page;
    the report's own text is escaped by the report code."""
    start = document.find("<body>")
    end = document.rfind("<footer>")
    if start < 0 or end < start:
        return document
    return document[start + len("<body>") : end]


SECURITY_HEADERS = {
    # no scripts at all; images of the reports are data: URIs; the report's CSS is inline
    "content-security-policy": "default-src 'none'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; media-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


class HeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def send_with(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                for k, v in SECURITY_HEADERS.items():
                    if k.encode() not in have:
                        headers.append((k.encode(), v.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with)


def create_app(portal: Portal) -> Starlette:
    """The ASGI application serving ``portal``."""
    p = portal
    routes = [
        Route("/", p.dashboard),
        Route("/login", p.login_form, methods=["GET"]),
        Route("/login", p.login, methods=["POST"]),
        Route("/logout", p.logout, methods=["POST"]),
        Route("/trainees/{tid:str}", p.trainee),
        Route("/trainees/{tid:str}/signoff", p.signoff, methods=["POST"]),
        Route("/sessions/{sid:str}", p.session),
        Route("/sessions/{sid:str}/video.mp4", p.video),
        Route("/sessions/{sid:str}/notes", p.notes, methods=["POST"]),
    ]
    middleware = [
        Middleware(HeadersMiddleware),
        Middleware(
            SessionMiddleware,
            secret_key=p.secret,
            session_cookie="procsim_portal",
            max_age=SESSION_MAX_AGE_S,
            same_site="strict",
            https_only=p.secure_cookie,
        ),
    ]

    async def store_error(request: Request, exc: Exception) -> Response:
        # the database is down or refused: the details (URL masked, the database's error) go
        # to the portal's log, the browser (anyone, before a login too) gets one plain line
        LOG.error("%s %s from %s: %s", request.method, request.url.path, _client(request), exc)
        return p.error(request, 503, UNAVAILABLE, None)

    return Starlette(
        routes=routes, middleware=middleware, exception_handlers={StoreError: store_error}
    )
