"""``procsim portal`` (the instructor portal) and the ``lab`` commands of its accounts and
audit log: ``lab add-user`` and ``lab audit``.

Registered in :data:`sim.cli.COMMAND_MODULES`. :func:`add_lab_commands` adds the two ``lab``
subcommands to a given ``lab`` subparsers object, so that another module's ``lab`` group can
take them. See ``docs/portal.md``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from pathlib import Path
from typing import Any

from sim.errors import UserError
from sim.lab.commands import add_db_args
from sim.lab.roles import add_lab_init

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (only this machine can connect)."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _open_store(args: argparse.Namespace) -> Any:
    """The one store the command names (``--db``, ``$PROCSIM_DB_URL``, the config's
    ``database``, else this machine's own); a database that cannot be reached is one line,
    exit status 2. Unlike the station's commands, no local copy is opened beside it."""
    from sim.lab.config import load_config, resolve_db_url
    from sim.lab.database import StoreUnavailable, unusable
    from sim.lab.store import Store

    url = resolve_db_url(args.db, load_config(args.config))
    try:
        return Store(url)
    except StoreUnavailable as exc:
        raise UserError(f"{unusable(exc)} ({exc})") from None


def _cmd_add_user(args: argparse.Namespace) -> int:
    from sim.lab.users import add_user

    if not args.password_stdin:
        raise UserError(
            "lab add-user: give the password on standard input with --password-stdin "
            "(never on the command line, where the process list shows it)"
        )
    password = sys.stdin.readline().rstrip("\r\n")
    store = _open_store(args)
    try:
        created = add_user(store, args.name, args.role, password, args.trainee)
    finally:
        store.close()
    what = "created" if created else "updated (new role and password)"
    tail = f" of trainee {args.trainee}" if args.trainee else ""
    print(f"user {args.name} ({args.role}{tail}) {what} in {store.display_url}")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from sim.lab.users import audit_rows

    store = _open_store(args)
    try:
        rows = audit_rows(store, args.trainee)
    finally:
        store.close()
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=1))
        return 0
    if not rows:
        print("no audit log entries" + (f" for trainee {args.trainee}" if args.trainee else ""))
        return 0
    print(f"{'when (UTC)':19s}  {'user':16s} {'client':15s} {'action':13s} trainee / session")
    for r in rows:
        target = " ".join(x for x in (r.trainee_id or "", (r.session_id or "")[:8]) if x)
        detail = f"  ({r.detail})" if r.detail else ""
        print(
            f"{r.at_utc:%Y-%m-%d %H:%M:%S}  {(r.username or '-')[:16]:16s} "
            f"{(r.client or '-')[:15]:15s} {r.action:13s} {target or '-'}{detail!s:.80}"
        )
    return 0


def server_config(
    app: Any,
    *,
    host: str,
    port: int,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    behind_proxy: bool = False,
) -> Any:
    """The ``uvicorn.Config`` serving the portal's application.

    ``X-Forwarded-For`` (and ``-Proto``) is believed only ``behind_proxy`` (``--https-proxy``:
    a reverse proxy on this machine, which sets it), and then only from loopback, where that
    proxy connects from. Without a proxy the client address is the connection's own: a
    header any local program can write would otherwise choose the address in the audit log
    and dodge the per-client login limit."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        log_level="warning",
        server_header=False,
        proxy_headers=behind_proxy,
        forwarded_allow_ips="127.0.0.1,::1" if behind_proxy else None,
    )


def _cmd_portal(args: argparse.Namespace) -> int:
    import os

    from sim.paths import data_dir
    from sim.portal.app import Portal, create_app

    tls = bool(args.tls_cert or args.tls_key)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UserError("portal: give both --tls-cert and --tls-key, or neither")
    if not tls and not is_loopback(args.host):
        raise UserError(
            f"--host {args.host}: serving beyond this machine needs TLS (--tls-cert, "
            "--tls-key), or keep 127.0.0.1 behind a TLS reverse proxy"
        )
    if not 1 <= args.video_fps <= 120:
        raise UserError(f"--video-fps {args.video_fps:g}: expected 1 to 120")
    if not 0.25 <= args.video_speed <= 4:
        raise UserError(f"--video-speed {args.video_speed:g}: expected 0.25 to 4")
    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: expected 1 to 65535")
    for flag, f in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if f and not Path(f).is_file():
            raise UserError(f"{flag} {f}: no such file")
    store = _open_store(args)
    # plain http is served on loopback only; there the cookie cannot be Secure (a browser
    # would not send it back over http), everywhere else it is
    secure = tls or args.https_proxy
    portal = Portal(
        store,
        secure_cookie=secure,
        video_dir=Path(args.video_dir) if args.video_dir else data_dir() / "portal-videos",
        video_fps=args.video_fps,
        video_speed=args.video_speed,
        render_videos=not args.no_video,
        secret=os.environ.get("PROCSIM_PORTAL_SECRET") or None,
    )
    import uvicorn

    scheme = "https" if tls else "http"
    print(f"procsim portal on {scheme}://{args.host}:{args.port}/ ({store.display_url})")
    if not secure:
        print("  plain http on this machine only: the session cookie is not marked Secure")
    config = server_config(
        create_app(portal),
        host=args.host,
        port=args.port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        behind_proxy=args.https_proxy,
    )
    try:
        uvicorn.Server(config).run()
    finally:
        store.close()
    return 0


def add_lab_commands(lab_sub: Any) -> None:
    """Add ``add-user`` and ``audit`` to the ``lab`` group's subparsers."""
    p = lab_sub.add_parser(
        "add-user",
        help="create a portal account (or give one a new role and password)",
        description="Create an account of the instructor portal, or set a new role and "
        "password for an existing one. Roles: admin and instructor see every trainee and "
        "write notes and sign-offs; a trainee account sees only its own trainee's pages "
        "(--trainee ID). The password is read from standard input (one line, at least 10 "
        "characters) and stored as an argon2id hash.",
    )
    p.add_argument("name", metavar="NAME", help="login name")
    p.add_argument(
        "--role",
        required=True,
        choices=("admin", "instructor", "trainee"),
        help="admin or instructor: every trainee, notes and sign-off; trainee: one trainee",
    )
    p.add_argument("--trainee", metavar="ID", help="the trainee a trainee account belongs to")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (required)",
    )
    add_db_args(p)
    p.set_defaults(func=_cmd_add_user)
    a = lab_sub.add_parser(
        "audit",
        help="the portal's audit log: who saw or changed which trainee's data",
        description="Print the audit log, oldest first: every login, every view of the "
        "cohort, a trainee or a session, every note and sign-off, every refused access, "
        "with the user, the client address and the time (UTC).",
    )
    a.add_argument("--trainee", metavar="ID", help="only the entries about this trainee")
    a.add_argument("--json", action="store_true", help="a JSON list instead of a table")
    add_db_args(a)
    a.set_defaults(func=_cmd_audit)


def register(sub: Any) -> None:
    """Add ``portal`` and the ``lab`` group (``init``, ``add-user``, ``audit``) to
    ``procsim``."""
    p = sub.add_parser(
        "portal",
        help="the instructor portal: a web application over the session store",
        description="Serve the instructor portal: the cohort dashboard, each trainee's "
        "learning curves and sign-off, each session's report, replay video and notes. Log "
        "in with an account made by `procsim lab add-user`. Every view and change of a "
        "trainee's data goes to the audit log (`procsim lab audit`). Plain http only on a "
        "loopback address; any other --host needs --tls-cert and --tls-key. See "
        "docs/portal.md.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--tls-cert", metavar="FILE", help="TLS certificate (PEM) to serve https")
    p.add_argument("--tls-key", metavar="FILE", help="its private key (PEM)")
    p.add_argument(
        "--https-proxy",
        action="store_true",
        help="a TLS reverse proxy on this machine serves the portal over https: mark the "
        "session cookie Secure (without TLS on loopback it is not), and take the client "
        "address from the proxy's X-Forwarded-For (ignored without this flag)",
    )
    p.add_argument("--video-dir", metavar="DIR", help="where replay videos are cached")
    p.add_argument(
        "--video-fps",
        type=float,
        default=15.0,
        metavar="FPS",
        help="replay video frame rate (default 15)",
    )
    p.add_argument(
        "--video-speed",
        type=float,
        default=1.0,
        metavar="X",
        help="replay video speed, 0.25-4 (default 1)",
    )
    p.add_argument("--no-video", action="store_true", help="do not render replay videos")
    add_db_args(p)
    p.set_defaults(func=_cmd_portal)
    lab = sub.add_parser(
        "lab",
        help="lab administration: init (roles and schema), portal accounts, the audit log",
        description="Lab administration on the database given with --db URL. init: create "
        "the schema (or upgrade it) and the group roles procsim_station, procsim_instructor "
        "and procsim_admin, with their grants; safe to run again (docs/lab-setup.md). "
        "add-user: a portal account. audit: the audit log (docs/portal.md).",
    )
    lab_sub = lab.add_subparsers(dest="lab_action", metavar="ACTION")
    add_lab_init(lab_sub)
    add_lab_commands(lab_sub)
    lab.set_defaults(func=lambda a: (lab.print_help(), 0)[1])
