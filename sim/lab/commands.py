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
from collections.abc import Iterator
from contextlib import contextmanager
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
    lab = Lab(
        local_url(),
        resolve_db_url(getattr(args, "db", None), cfg),
        retention_days=cfg.retention_days,
        keep_raw=cfg.keep_raw_landmarks,
    )
    return lab, cfg


def stored_recording(args: argparse.Namespace, session: str) -> tuple[SessionRow, bytes]:
    """(row, recording bytes) of the stored session ``session`` (a whole id or a unique
    prefix) in the store ``args`` names (``--db``, ``--config``); :class:`UserError` (one
    line, exit status 2) for an unknown id or an erased recording."""
    store = reading_store(args)
    try:
        sid = store.resolve(session)
        row = store.get(sid)
        assert row is not None
        return row, store.recording_bytes(sid)
    finally:
        store.close()


def session_file(args: argparse.Namespace, session: str) -> Any:
    """A private temporary folder holding the stored recording of ``session`` as
    ``<id>.jsonl``, for the commands that read a file (``replay``, ``report``,
    ``export-video --session ID``): use as a context manager giving (the file's path, the
    stored row). The folder (mode 0700) and the file go when the block ends."""
    import contextlib
    import tempfile

    from sim.paths import open_private

    row, data = stored_recording(args, session)

    @contextlib.contextmanager
    def opened() -> Any:
        with tempfile.TemporaryDirectory(prefix="procsim-session-") as d:  # mode 0700
            path = Path(d) / f"{row.id}.jsonl"
            with open_private(path, "wb") as f:
                f.write(data)
            yield path, row

    return opened()


def reading_store(args: argparse.Namespace) -> Any:
    """The store to read from (``args.db``, ``args.config``). The caller closes it.

    A database named for this command (``--db URL`` or ``$PROCSIM_DB_URL``) that cannot be
    reached is an error (:class:`UserError`: one line, exit status 2), so that a lab script
    can tell; only the station config's lab database falls back to this machine's own
    copy, with a warning.
    """
    import os

    from sim.lab.config import DB_ENV
    from sim.lab.database import StoreUnavailable, unusable

    lab, _cfg = _lab(args)
    if lab.remote_url is None:
        return lab.local
    try:
        store = lab.open_remote()
    except StoreUnavailable as exc:
        if getattr(args, "db", None) or os.environ.get(DB_ENV):
            lab.close()
            named = "--db" if getattr(args, "db", None) else f"${DB_ENV}"
            raise UserError(f"{named}: {unusable(exc)} ({exc})") from None
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
    from sim.tracking.quality import poor_words

    rows, where = _find_sessions(args)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2, allow_nan=False))
        return 0
    if not rows:
        print(f"no sessions in {where}")
        return 0
    # each column as wide as its longest entry: a cut name can be two scenarios
    # ("venipuncture-c": child or cephalic)
    tw = max(7, *(len(r.trainee_id) for r in rows))
    sw = max(8, *(len(r.scenario) for r in rows))
    stw = max(7, *(len(r.station_id or "-") for r in rows))
    print(
        f"{'started (UTC)':16s}  {'trainee':{tw}s} {'scenario':{sw}s} {'station':{stw}s} "
        f"{'input':9s} {'score':>5s}  {'result':10s}  {'status':10s}  id"
    )
    for r in rows:
        flag = verdict_word(r.passed, r.complete, r.empty)
        mark = f"  ! {r.integrity}" if r.integrity else ""
        mark += f"  ! {poor_words(r.poor_conditions)}" if r.poor_conditions else ""
        print(
            f"{r.started_utc:%Y-%m-%d %H:%M}  {r.trainee_id:{tw}s} {r.scenario:{sw}s} "
            f"{r.station_id or '-':{stw}s} {r.input_kind[:9]:9s} {r.score:5.1f}  "
            f"{flag:10s}  {r.status or 'complete':10s}  {r.id}{mark}"
        )
    if any(not r.counts for r in rows):
        print(
            "incomplete: the procedure was not carried out to its end; empty: no samples. "
            "Neither counts for the learning curve or sign-off."
        )
    if any(r.score_differs for r in rows):
        print(_DIFFERS)
    if any(r.poor_conditions for r in rows):
        print(_POOR)
    return 0


_POOR = (
    "! tracked in poor conditions: the calibration found the camera's view of the hand poor "
    "(the trainee was told how to fix it, and went on): the figures that rest on the "
    "tracking are less trustworthy than usual."
)
_DIFFERS = (
    "! the recording's own result differs from today's re-score (another version's rules, "
    "or an edited file); the score shown is today's."
)


@contextmanager
def _admin_needed(store: Any) -> Iterator[None]:
    """A lab server refusing an erasure (``permission denied``: an instructor's or a
    station's login) says, in one line, that erasing needs an admin login."""
    from sim.lab.database import StoreError

    try:
        yield
    except StoreError as exc:
        if store.dialect != "postgresql" or "permission denied" not in str(exc):
            raise
        raise StoreError(
            f"sessions erase: {store.display_url}: erasing needs an admin login (a login role "
            "granted procsim_admin, docs/lab-setup.md); this login was refused "
            f"(permission denied)"
        ) from None


def _erase_expired(args: argparse.Namespace) -> int:
    import datetime as dt

    from sim.lab.schema import utc_now

    lab, cfg = _lab(args)
    if cfg.retention_days is None:
        lab.close()
        where = cfg.path or "the station config"
        raise UserError(f"{where}: key 'station.retention_days': not set (no retention period)")
    with lab:
        target = lab.open_remote() if lab.remote_url is not None else lab.local
        try:
            cutoff = utc_now() - dt.timedelta(days=cfg.retention_days)
            with _admin_needed(target):
                n = len(target.erase_recordings_before(cutoff))
            where = target.display_url
        finally:
            if target is not lab.local:
                target.close()
        lab.apply_retention()
    print(
        f"retention {cfg.retention_days} days: the recordings of {plural(n, 'session')} "
        f"erased in {where} (scores, metrics and notes kept)"
    )
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from sim.metrics.scoring import verdict_word
    from sim.procedures.registry import metric_info, metric_order
    from sim.tracking.quality import poor_words

    store = reading_store(args)
    try:
        row = store.get(store.resolve(args.id))
        set_aside = {e.session_id: e for e in store.set_aside_entries()}
    finally:
        store.close()
    assert row is not None
    if args.json:
        print(json.dumps(row.as_dict(), indent=2, allow_nan=False))
        return 0
    word = verdict_word(row.passed, row.complete, row.empty)
    lines = [
        f"session   {row.id}",
        f"trainee   {row.trainee_id}" + (f" ({row.display_name})" if row.display_name else ""),
        f"station   {row.station_id or '-'}",
        f"scenario  {row.scenario} (sha256 {row.scenario_hash[:12]})",
        f"input     {row.input_kind}",
        f"started   {row.started_utc:%Y-%m-%d %H:%M:%S} UTC, {row.duration_s:.0f} s",
        f"score     {row.score:.1f} {word}" + (f" ({row.status})" if row.status else ""),
    ]
    if row.score_differs:
        claimed = "a result" if row.recorded_score is None else f"{row.recorded_score:.1f}"
        lines.append(
            f"          ! the recording claimed {claimed}; today's re-score gives "
            f"{row.score:.1f}, which is the one stored"
        )
    if row.poor_conditions:
        lines.append(f"tracking  ! {poor_words(row.poor_conditions)}")
    if row.critical_errors:
        lines.append(f"critical  {', '.join(row.critical_errors)}")
    if row.notes:
        lines.append(f"notes     {row.notes}")
    if row.recording_erased_utc is not None:
        lines.append(f"recording erased on {row.recording_erased_utc:%Y-%m-%d} (retention period)")
    if row.id in set_aside:
        lines.append(f"sync      set aside: {set_aside[row.id].error}")
    lines.append("metrics")
    for m in sorted(row.metrics, key=lambda m: metric_order(m.name)):
        value = "-" if m.value is None else f"{m.value:.4g}"
        pts = "" if m.points is None else f"  {m.points:.0f} points"
        lines.append(f"  {metric_info(m.name).heading:40s} {value:>10s}{pts}")
    print("\n".join(lines))
    return 0


def _cmd_get(args: argparse.Namespace) -> int:
    from sim.paths import open_private

    row, data = stored_recording(args, args.id)
    sid = row.id
    out = Path(args.output)
    try:
        with open_private(out, "wb" if args.force else "xb") as f:
            f.write(data)
    except FileExistsError:
        raise UserError(f"{out}: already exists (use --force to overwrite)") from None
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror})") from None
    print(f"{out}: recording of session {sid} ({plural(len(data), 'byte')})")
    return 0


def _cmd_erase(args: argparse.Namespace) -> int:
    if bool(args.trainee) == bool(args.expired):
        raise UserError("sessions erase: give either --trainee ID or --expired")
    if args.expired:
        return _erase_expired(args)
    lab, _cfg = _lab(args)
    with lab:
        target = lab.open_remote() if lab.remote_url is not None else lab.local
        try:
            with _admin_needed(target):
                ids = target.erase_trainee(args.trainee, tombstone=lab.remote_url is not None)
            where = target.display_url
        finally:
            if target is not lab.local:
                target.close()
        files = 0
        if lab.remote_url is not None:
            # this machine applies the erasure at once, as every station at its next sync
            rep = lab.sync()
            print(f"sync to {lab.remote_display}: {rep.line()}")
        else:
            files = lab.delete_recording_files(set(ids), args.trainee)
    tail = (
        "; stations delete their copies at their next sync"
        if lab.remote_url is not None
        else f", {plural(files, 'recording file')} deleted here"
    )
    print(f"erased trainee {args.trainee!r}: {plural(len(ids), 'session')} in {where}{tail}")
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
        "exam",
        "critical_errors",
        "poor_conditions",
        "notes",
    ]
    out = Path(args.csv)
    try:
        from sim.paths import open_private

        f = open_private(out, "w", newline="", encoding="utf-8-sig")
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
            d["poor_conditions"] = ";".join(r.poor_conditions)
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

    lab, cfg = _lab(args)
    with lab:
        new = replaced = refused = 0
        for f in args.recordings:
            s = session_from_recording(
                f,
                trainee=args.trainee,
                display_name=args.name,
                station=args.station,
                notes=args.note,
                # a recording that names no station (the practice app's) was made here
                default_station=cfg.station_id if cfg.path else None,
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
        if args.retry:
            n = lab.local.retry_set_aside()
            print(f"{plural(n, 'set-aside session')} queued again")
        rep = lab.sync()
        print(f"sync to {lab.remote_display}: {rep.line()}")
        for line in rep.disagreements:
            print(f"  disagreement: {line}")
        aside = lab.local.set_aside_entries()
        if aside:
            print(
                f"set aside ({len(aside)}; they no longer hold back the others; "
                "`procsim sessions sync --retry` tries them again):"
            )
            for e in aside:
                print(f"  {e.session_id}  after {plural(e.attempts, 'attempt')}: {e.error}")
    return 1 if rep.error else 0


def _cmd_sessions(args: argparse.Namespace) -> int:
    handler = {
        "list": _cmd_list,
        "export": _cmd_export,
        "import": _cmd_import,
        "sync": _cmd_sync,
        "show": _cmd_show,
        "get": _cmd_get,
        "erase": _cmd_erase,
    }[args.action]
    return handler(args)


def register(sub: Any) -> None:
    """Add ``sessions`` to ``procsim``'s subparsers."""
    p = sub.add_parser(
        "sessions",
        help="the session store: list, show, get, export, import, sync, erase",
        description="Stored sessions. list: print them (--json for JSON); show: one "
        "session by id; get: its recording back out of the store; export: write a CSV for "
        "the cohort; import: store recordings made elsewhere (re-scored: a recording's own "
        "result is never trusted); sync: push this station's sessions to the lab database "
        "now; erase: delete a trainee's data.",
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
    q.add_argument(
        "--station",
        metavar="ID",
        help="station id (default: the recording's; for one that names none, the "
        "station config's id)",
    )
    q.add_argument("--note", metavar="TEXT", help="instructor note stored with the sessions")
    q.add_argument(
        "--replace",
        action="store_true",
        help="store a recording in place of a stored session with the same id (a re-score "
        "made by `procsim rescore`), here and on the lab database; without it such a "
        "recording is refused",
    )
    add_db_args(q)
    q = sp.add_parser(
        "sync",
        help="push this station's sessions to the lab database now",
        description="Apply the lab's erasures here, then push the queued sessions. A "
        "session the server keeps refusing is set aside with its error after "
        "a few attempts, and one the server holds under another trainee or station is set "
        "aside as a disagreement; neither holds back the others. The set-aside sessions "
        "are listed.",
        epilog="exit status: 0 synced (some may be set aside); 1 the lab database could not "
        "be reached; 2 bad input.",
    )
    q.add_argument("--retry", action="store_true", help="queue the set-aside sessions again first")
    add_db_args(q)
    q = sp.add_parser(
        "show",
        help="one stored session by id",
        description="Print a stored session: trainee, station, scenario, score, metrics, "
        "notes, and whether its recording's own result differed from today's re-score.",
        epilog="exit status: 0 shown; 2 no such session (one line).",
    )
    q.add_argument("id", metavar="ID", help="session id (or its first 8+ characters)")
    q.add_argument("--json", action="store_true", help="print JSON")
    add_db_args(q)
    q = sp.add_parser(
        "get",
        help="write a stored session's recording to a file",
        description="Write the recording of a stored session, as the store keeps it (the "
        "recording's bytes, without raw hand landmarks unless the station kept them), to a "
        "file (mode 0600) that replay, report and rescore read.",
        epilog="exit status: 0 written; 2 no such session, its recording was erased, or the "
        "file exists.",
    )
    q.add_argument("id", metavar="ID", help="session id (or its first 8+ characters)")
    q.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    q.add_argument("--force", action="store_true", help="overwrite an existing file")
    add_db_args(q)
    q = sp.add_parser(
        "erase",
        help="erase a trainee's sessions, metrics, notes and recordings (or old recordings)",
        description="Delete every session of a trainee (metrics, notes, recordings) from "
        "the store this command points at. On the lab database it also leaves a tombstone: "
        "each station deletes its own copies and recording files at its next sync. Without "
        "a lab database, this machine's store and recording files. --expired instead "
        "erases the recordings older than the config's retention_days (scores stay).",
    )
    q.add_argument("--trainee", metavar="ID", help="the trainee to erase")
    q.add_argument(
        "--expired",
        action="store_true",
        help="erase recordings older than the config's retention_days, keeping the scores",
    )
    add_db_args(q)
    p.set_defaults(func=_cmd_sessions)
