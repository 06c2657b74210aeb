"""Lab subcommands: ``sessions list/export/import/sync`` and ``report``.

Registered in :data:`sim.cli.COMMAND_MODULES`. Every command that touches the session store
takes ``--db URL`` (else ``$PROCSIM_DB_URL``, else the station config's ``database``, else
this machine's SQLite store) and ``--config FILE``. A URL is only ever printed masked.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import UserError

if TYPE_CHECKING:
    from sim.lab.store import SessionRow


def _add_db_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="URL",
        help="session database (sqlite:///FILE or postgresql://USER@HOST/DB); default: "
        "$PROCSIM_DB_URL, the station config, or this machine's own store",
    )
    p.add_argument("--config", metavar="FILE", help="station config file (TOML; see docs/store.md)")


def _lab(args: argparse.Namespace) -> Any:
    from sim.lab.config import load_config, local_url, resolve_db_url
    from sim.lab.store import Lab

    cfg = load_config(getattr(args, "config", None))
    return Lab(local_url(), resolve_db_url(getattr(args, "db", None), cfg)), cfg


def _reading_store(args: argparse.Namespace) -> Any:
    """The store to read from: the chosen database, or this machine's copy (with a warning)
    when the lab server cannot be reached."""
    from sim.lab.store import StoreUnavailable

    lab, _cfg = _lab(args)
    if lab.remote_url is None:
        return lab.local
    try:
        store = lab.open_remote()
    except StoreUnavailable as exc:
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
    store = _reading_store(args)
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
    from sim.metrics.catalog import info, metric_order

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
    print(f"{out}: {len(rows)} sessions, {len(names)} metrics")
    return 0


def _outcome(row: Any) -> str:
    """``score 63.2 PASS`` (+ ``incomplete``/``empty``) of a stored or new session."""
    from sim.metrics.scoring import verdict_word

    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    word = verdict_word(bool(get("passed")), bool(get("complete")), bool(get("empty")))
    return f"score {get('score'):.1f} {word}"


def _cmd_import(args: argparse.Namespace) -> int:
    from sim.lab.store import session_from_recording

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


# --- report -----------------------------------------------------------------------------------
def _write(out: str, text: str) -> None:
    p = Path(out)
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{p}: cannot write ({exc.strerror})") from None


def _cmd_report(args: argparse.Namespace) -> int:
    if bool(args.recording) == bool(args.trainee):
        raise UserError("report: give either a RECORDING or --trainee ID")
    if args.recording:
        from sim.report.session import session_report

        _write(args.output, session_report(args.recording))
        print(f"{args.output}: report of {args.recording}")
        return 0
    from sim.report.trainee import trainee_report

    store = _reading_store(args)
    try:
        text = trainee_report(store, args.trainee)
    finally:
        store.close()
    _write(args.output, text)
    print(f"{args.output}: progress report of {args.trainee}")
    return 0


# --- replay, video, station ------------------------------------------------------------------
def _size(text: str) -> tuple[int, int]:
    from sim.app.commands import parse_size

    return parse_size(text)


def _cmd_replay(args: argparse.Namespace) -> int:
    from sim.render.offscreen import require_display
    from sim.replay.timeline import Timeline

    require_display("procsim replay")  # before pygame or OpenGL start
    size = _size(args.size)
    tl = Timeline(args.recording)  # reads and checks the files before any window opens
    ghost = Timeline(args.ghost) if args.ghost else None
    if ghost is not None and ghost.header.get("scenario") != tl.header.get("scenario"):
        raise UserError(
            f"{args.ghost}: a recording of {ghost.header.get('scenario')!r}, not "
            f"{tl.header.get('scenario')!r}: cannot be the ghost"
        )
    tl.scenario()
    from sim.app.replay import ReplayWindow

    win = ReplayWindow(tl, ghost, size, start_s=args.at, speed=args.speed)
    return win.run()


def _cmd_export_video(args: argparse.Namespace) -> int:
    from sim.replay.video import export_video

    n = export_video(
        args.recording,
        args.output,
        fps=args.fps,
        size=_size(args.size),
        speed=args.speed,
        ghost=args.ghost,
        exam=args.exam,
        progress=not args.quiet,
    )
    print(f"{args.output}: {n} frames at {args.fps:g} fps")
    return 0


def _has_display() -> bool:
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and (
        os.environ.get("SDL_VIDEODRIVER", "") not in ("offscreen", "dummy")
    )


def _cmd_station(args: argparse.Namespace) -> int:
    from sim.lab.config import load_config, local_url, resolve_db_url
    from sim.lab.store import Lab
    from sim.render.offscreen import require_display

    require_display("procsim station")  # before pygame or OpenGL start
    cfg = load_config(args.config)
    size = _size(args.size) if args.size else (1280, 720)
    for sid in (cfg.assigned_scenario, *cfg.scenarios):
        if sid:
            from sim.core.scenario import find_scenario

            find_scenario(sid)  # an unknown scenario in the config: one line, exit 2
    lab = Lab(local_url(), resolve_db_url(args.db, cfg))
    target = lab.remote_display or lab.local.display_url
    print(f"station {cfg.station_id}: sessions go to {target}")
    fullscreen = args.size is None and _has_display()
    if fullscreen:
        import pygame

        pygame.display.init()
        size = tuple(pygame.display.get_desktop_sizes()[0])  # type: ignore[assignment]
    from sim.app.station import StationApp

    app = StationApp(cfg, lab, size, sound=not args.no_sound)
    if fullscreen:
        import contextlib

        import pygame

        with contextlib.suppress(pygame.error):  # else: a window of the desktop's size
            pygame.display.toggle_fullscreen()
    try:
        status = app.run()
    finally:
        lab.close()
    print(f"station {cfg.station_id}: {len(app.stored)} sessions stored")
    return status


def register(sub: Any) -> None:
    """Add the lab subcommands to ``procsim``'s subparsers."""
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
    _add_db_args(q)
    q = sp.add_parser("export", help="write the sessions as CSV")
    q.add_argument("--csv", required=True, metavar="FILE", help="CSV file to write")
    q.add_argument("--trainee", metavar="ID", help="only this trainee")
    q.add_argument("--scenario", metavar="S", help="only this scenario")
    _add_db_args(q)
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
    _add_db_args(q)
    q = sp.add_parser("sync", help="push this station's sessions to the lab database now")
    _add_db_args(q)
    p.set_defaults(func=_cmd_sessions)

    p = sub.add_parser(
        "report",
        help="HTML report of a session, or of a trainee's progress",
        description="One self-contained HTML file: a session's score, metrics, plots, "
        "timeline and advice (RECORDING), or a trainee's learning curves, proficiency "
        "sign-off and standing in the cohort (--trainee ID, from the session store).",
    )
    p.add_argument("recording", nargs="?", metavar="RECORDING", help="recording file")
    p.add_argument("--trainee", metavar="ID", help="progress report of this trainee")
    p.add_argument("-o", "--output", required=True, metavar="FILE.html", help="file to write")
    _add_db_args(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "replay",
        help="replay a recording in the 3-D scene (timeline, speed, ghost)",
        description="Open the 3-D scene driven by a recording, with the coaching HUD as "
        "the trainee saw it: play/pause (Space), speed 0.25x-4x (Up/Down), frame steps "
        "(Left/Right), a timeline to scrub with event and cue markers, speed and tremor "
        "plots, free camera (drag, wheel). F1 in the window lists the keys.",
    )
    p.add_argument("recording", help="recording file (.jsonl)")
    p.add_argument("--ghost", metavar="REFERENCE", help="expert recording drawn translucent")
    p.add_argument("--at", type=float, metavar="SECONDS", help="start at this time")
    p.add_argument("--speed", type=float, default=1.0, help="playback speed (0.25 to 4)")
    p.add_argument("--size", default="1280x720", help="scene size WxH (default 1280x720)")
    p.set_defaults(func=_cmd_replay)

    p = sub.add_parser(
        "export-video",
        help="render a replay offscreen into an MP4",
        description="Render the replay (scene, coaching HUD, timeline panel, optional "
        "ghost) offscreen, frame by frame, into an MP4 (MPEG-4, mp4v), with a progress "
        "bar on stderr. No display needed.",
    )
    p.add_argument("recording", help="recording file (.jsonl)")
    p.add_argument("-o", "--output", required=True, metavar="FILE.mp4", help="video to write")
    p.add_argument("--ghost", metavar="REFERENCE", help="expert recording drawn translucent")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    p.add_argument("--speed", type=float, default=1.0, help="playback speed (0.25 to 4)")
    p.add_argument("--size", default="1280x720", help="scene size WxH (default 1280x720)")
    p.add_argument("--exam", action="store_true", help="draw as in exam mode")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_export_video)

    p = sub.add_parser(
        "station",
        help="run as a shared skills-lab station",
        description="The practice app as a skills-lab station: a trainee enters their id, "
        "practises the assigned or an allowed scenario, sees the results, and the station "
        "clears for the next trainee. Sessions are stored locally and synced to the lab "
        "database. The config file (TOML, see docs/store.md) names the station, the "
        "database, allowed scenarios and inputs, and exam mode.",
    )
    p.add_argument(
        "--size",
        help="window size WxH (default: full screen on a display, else 1280x720)",
    )
    p.add_argument("--no-sound", action="store_true", help="no sounds for critical events")
    _add_db_args(p)
    p.set_defaults(func=_cmd_station)
