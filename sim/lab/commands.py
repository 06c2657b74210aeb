"""Lab subcommands: ``sessions list/export/import/sync``.

Registered in :data:`sim.cli.COMMAND_MODULES`. Every command that touches the session store
takes ``--db URL`` (else ``$PROCSIM_DB_URL``, else the station config's ``database``, else
this machine's SQLite store) and ``--config FILE``: :func:`add_db_args` adds them, also to
the commands of other features that read the store (``report``, ``station``). A URL is only
ever printed masked.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import UserError
from sim.words import plural

if TYPE_CHECKING:
    from sim.lab.store import SessionRow


def add_db_args(p: argparse.ArgumentParser) -> None:
    """Add ``--db URL`` and ``--config FILE`` to a command that touches the session store."""
    p.add_argument(
        "--db",
        metavar="URL",
        help="session database (sqlite:///FILE or postgresql://USER@HOST/DB); default: "
        "$PROCSIM_DB_URL, the station config, or this machine's own store",
    )
    p.add_argument("--config", metavar="FILE", help="station config file (TOML; see docs/store.md)")


def _lab(args: argparse.Namespace) -> Any:
    from sim.lab.config import load_config, local_url, resolve_db_url
    from sim.lab.sync import Lab

    cfg = load_config(getattr(args, "config", None))
    return Lab(local_url(), resolve_db_url(getattr(args, "db", None), cfg)), cfg


def reading_store(args: argparse.Namespace) -> Any:
    """The store to read from (``args.db``, ``args.config``). The caller closes it.

    A database named for this command (``--db URL`` or ``$PROCSIM_DB_URL``) that cannot be
    reached is an error (:class:`UserError`: one line, exit status 2), so that a lab script
    can tell; only the station config's lab database falls back to this machine's own
    copy, with a warning.
    """
    import os

    from sim.lab.config import DB_ENV
    from sim.lab.database import StoreUnavailable

    lab, _cfg = _lab(args)
    if lab.remote_url is None:
        return lab.local
    try:
        store = lab.open_remote()
    except StoreUnavailable as exc:
        if getattr(args, "db", None) or os.environ.get(DB_ENV):
            lab.close()
            named = "--db" if getattr(args, "db", None) else f"${DB_ENV}"
            raise UserError(f"{named}: cannot reach the session database ({exc})") from None
        print(
            f"procsim: warning: lab database unreachable ({exc}); "
            "showing this station's own sessions",
            file=sys.stderr,
        )
        return lab.local
    lab.close()
    return store


# --- sessions ---------------------------------------------------------------------------------
def _find_sessions(args: argparse.Namespace) -> tuple[list[SessionRow], str]:
    """The stored sessions ``--trainee`` and ``--scenario`` select, and where they came from."""
    store = reading_store(args)
    try:
        return store.find(trainee=args.trainee, scenario=args.scenario), store.display_url
    finally:
        store.close()


def _cmd_list(args: argparse.Namespace) -> int:
    from sim.metrics.scoring import verdict_word

    rows, where = _find_sessions(args)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2, allow_nan=False))
        return 0
    if not rows:
        print(f"no sessions in {where}")
        return 0
    print(
        f"{'started (UTC)':16s}  {'trainee':14s} {'scenario':14s} {'station':10s} "
        f"{'input':9s} {'score':>5s}  {'result':10s}  {'status':10s}  id"
    )
    for r in rows:
        flag = verdict_word(r.passed, r.complete, r.empty)
        print(
            f"{r.started_utc:%Y-%m-%d %H:%M}  {r.trainee_id[:14]:14s} {r.scenario[:14]:14s} "
            f"{(r.station_id or '-')[:10]:10s} {r.input_kind[:9]:9s} {r.score:5.1f}  "
            f"{flag:10s}  {r.status or 'complete':10s}  {r.id}"
        )
    if any(not r.counts for r in rows):
        print(
            "incomplete: the procedure was not carried out to its end; empty: no samples. "
            "Neither counts for the learning curve or sign-off."
        )
    return 0


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: object) -> object:
    """A CSV cell; text that a spreadsheet would run as a formula is prefixed with '."""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def _cmd_export(args: argparse.Namespace) -> int:
    from sim.procedures.registry import metric_info as info
    from sim.procedures.registry import metric_order

    rows, _ = _find_sessions(args)
    names = sorted({m.name for r in rows for m in r.metrics}, key=metric_order)
    fixed = [
        "id",
        "trainee_id",
        "display_name",
        "station_id",
        "scenario",
        "scenario_hash",
        "input_kind",
        "started_utc",
        "ended_utc",
        "duration_s",
        "score",
        "passed",
        "complete",
        "empty",
        "critical_errors",
        "notes",
    ]
    out = Path(args.csv)
    try:
        f = open(out, "w", newline="", encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror})") from None
    with f:
        w = csv.writer(f)
        # metric columns headed in the catalogue's words with units ("Path length (mm)");
        # machines join on the session id and map headings to names (docs/store.md)
        w.writerow(fixed + [info(n).heading for n in names])
        for r in rows:
            d = r.as_dict()
            d["critical_errors"] = ";".join(r.critical_errors)
            vals = {m.name: m.value for m in r.metrics}
            w.writerow(
                [_cell(d[k]) if d[k] is not None else "" for k in fixed]
                + ["" if vals.get(n) is None else vals[n] for n in names]
            )
    print(f"{out}: {plural(len(rows), 'session')}, {plural(len(names), 'metric')}")
    return 0


def _outcome(row: Any) -> str:
    """``score 63.2 PASS`` (+ ``incomplete``/``empty``) of a stored or new session."""
    from sim.metrics.scoring import verdict_word

    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    word = verdict_word(bool(get("passed")), bool(get("complete")), bool(get("empty")))
    return f"score {get('score'):.1f} {word}"


def _cmd_import(args: argparse.Namespace) -> int:
    from sim.lab.ingest import session_from_recording

    lab, _cfg = _lab(args)
    with lab:
        new = replaced = refused = 0
        for f in args.recordings:
            s = session_from_recording(
                f,
                trainee=args.trainee,
                display_name=args.name,
                station=args.station,
                notes=args.note,
            )
            row = s.row
            have = lab.local.recording_sha256(s.id)
            what = f"{s.id} ({row['trainee_id']}, {row['scenario']}, {_outcome(row)})"
            if have is not None and have != row["recording_sha256"] and not args.replace:
                old = lab.local.get(s.id)
                print(
                    f"{f}: not stored: session {s.id} is already stored with another "
                    f"recording ({_outcome(old)}); this file would give {_outcome(row)}. "
                    "Use --replace to store it in its place."
                )
                refused += 1
                continue
            if args.replace and have is not None:
                old = lab.local.get(s.id)
                lab.record(s, sync=False, replace=True)
                print(f"{f}: replaced {s.id}: {_outcome(old)} -> {_outcome(row)}")
                replaced += 1
                continue
            added, _ = lab.record(s, sync=False, replace=args.replace)
            print(f"{f}: {'stored' if added else 'already stored'} {what}")
            new += added
        if lab.remote_url is not None:
            rep = lab.sync()
            print(f"sync to {lab.remote_display}: {rep.line()}")
        more = f" ({replaced} replaced, {refused} refused)" if replaced or refused else ""
        print(f"{new} new of {len(args.recordings)} in {lab.local.display_url}{more}")
    return 1 if refused else 0


def _cmd_sync(args: argparse.Namespace) -> int:
    lab, _cfg = _lab(args)
    with lab:
        if lab.remote_url is None:
            print(f"no lab database configured: sessions stay in {lab.local.display_url}")
            return 0
        rep = lab.sync()
        print(f"sync to {lab.remote_display}: {rep.line()}")
    return 1 if rep.error else 0


def _cmd_sessions(args: argparse.Namespace) -> int:
    handler = {
        "list": _cmd_list,
        "export": _cmd_export,
        "import": _cmd_import,
        "sync": _cmd_sync,
    }[args.action]
    return handler(args)


def register(sub: Any) -> None:
    """Add ``sessions`` to ``procsim``'s subparsers."""
    p = sub.add_parser(
        "sessions",
        help="the session store: list, export, import, sync",
        description="Stored sessions. list: print them (--json for JSON); export: write a "
        "CSV for the cohort; import: store recordings made elsewhere; sync: push this "
        "station's sessions to the lab database now.",
    )
    sp = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = sp.add_parser("list", help="list stored sessions")
    q.add_argument("--trainee", metavar="ID", help="only this trainee")
    q.add_argument("--scenario", metavar="S", help="only this scenario")
    q.add_argument("--json", action="store_true", help="print JSON")
    add_db_args(q)
    q = sp.add_parser("export", help="write the sessions as CSV")
    q.add_argument("--csv", required=True, metavar="FILE", help="CSV file to write")
    q.add_argument("--trainee", metavar="ID", help="only this trainee")
    q.add_argument("--scenario", metavar="S", help="only this scenario")
    add_db_args(q)
    q = sp.add_parser(
        "import",
        help="store recordings made elsewhere",
        description="Store recording files. A file whose session is already stored with "
        "the same bytes is skipped; one whose session id is stored with another recording "
        "(a re-scored copy) is refused unless --replace is given.",
        epilog="exit status: 0 every file stored or already stored; 1 at least one refused "
        "(session id stored with another recording); 2 a file cannot be read.",
    )
    q.add_argument("recordings", nargs="+", metavar="RECORDING", help="recording files")
    q.add_argument("--trainee", metavar="ID", help="trainee id (default: the recording's)")
    q.add_argument("--name", metavar="NAME", help="trainee's display name (optional)")
    q.add_argument("--station", metavar="ID", help="station id (default: the recording's)")
    q.add_argument("--note", metavar="TEXT", help="instructor note stored with the sessions")
    q.add_argument(
        "--replace",
        action="store_true",
        help="store a recording in place of a stored session with the same id (a re-score "
        "made by `procsim rescore`), here and on the lab database; without it such a "
        "recording is refused",
    )
    add_db_args(q)
    q = sp.add_parser("sync", help="push this station's sessions to the lab database now")
    add_db_args(q)
    p.set_defaults(func=_cmd_sessions)
