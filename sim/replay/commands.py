"""The ``procsim replay`` and ``procsim export-video`` subcommands.

Registered in :data:`sim.cli.COMMAND_MODULES`. The replay window itself is the app's
(:mod:`sim.app.replay`); both are imported only when a command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from sim.errors import UserError
from sim.words import plural


def _size(text: str | None) -> tuple[int, int] | None:
    """``--size`` as (width, height); None when not given (the window fits the display)."""
    from sim.app.commands import parse_size

    return parse_size(text) if text else None


def _one_source(args: argparse.Namespace, command: str) -> None:
    """A RECORDING or ``--session ID``, not both and not neither."""
    if bool(args.recording) == bool(args.session):
        raise UserError(f"{command}: give either a RECORDING or --session ID")


def _cmd_replay(args: argparse.Namespace) -> int:
    _one_source(args, "replay")
    if args.session:
        from sim.lab.commands import session_file

        with session_file(args, args.session) as (path, _row):
            args.recording = str(path)
            return _replay(args)
    return _replay(args)


def _replay(args: argparse.Namespace) -> int:
    from sim.app.commands import check_at
    from sim.render.offscreen import require_display
    from sim.replay.timeline import Timeline

    size = _size(args.size)
    if not 0.25 <= args.speed <= 4:  # (NaN is refused too)
        raise UserError(f"--speed {args.speed:g}: expected 0.25 to 4")
    tl = Timeline(args.recording)  # reads and checks the files before any window opens
    if args.at is not None:
        check_at(args.at, tl.end_s)
    ghost = Timeline(args.ghost) if args.ghost else None
    if ghost is not None and ghost.header.get("scenario") != tl.header.get("scenario"):
        raise UserError(
            f"{args.ghost}: a recording of {ghost.header.get('scenario')!r}, not "
            f"{tl.header.get('scenario')!r}: cannot be the ghost"
        )
    tl.scenario()
    require_display("procsim replay")  # after the files, before pygame or OpenGL start
    from sim.app.replay import ReplayWindow

    win = ReplayWindow(tl, ghost, size, start_s=args.at, speed=args.speed)
    return win.run()


def _cmd_export_video(args: argparse.Namespace) -> int:
    _one_source(args, "export-video")
    if args.session:
        from sim.lab.commands import session_file

        with session_file(args, args.session) as (path, _row):
            args.recording = str(path)
            return _export_video(args)
    return _export_video(args)


def _export_video(args: argparse.Namespace) -> int:
    from sim.replay.video import export_video

    n = export_video(
        args.recording,
        args.output,
        fps=args.fps,
        size=_size(args.size) or (1280, 720),
        speed=args.speed,
        ghost=args.ghost,
        exam=args.exam,
        progress=not args.quiet,
    )
    print(f"{args.output}: {plural(n, 'frame')} at {args.fps:g} fps")
    return 0


def _session_args(p: argparse.ArgumentParser) -> None:
    from sim.lab.commands import add_db_args

    p.add_argument(
        "--session",
        metavar="ID",
        help="a stored session instead of a file (its id, or its first 8+ characters; "
        "from the store --db names)",
    )
    add_db_args(p)


def register(sub: Any) -> None:
    """Add ``replay`` and ``export-video`` to ``procsim``'s subparsers."""
    p = sub.add_parser(
        "replay",
        help="replay a recording in the 3-D scene (timeline, speed, ghost)",
        description="Open the 3-D scene driven by a recording, with the coaching HUD as "
        "the trainee saw it: play/pause (Space), speed 0.25x-4x (Up/Down), frame steps "
        "(Left/Right), a timeline to scrub with event and cue markers, speed and tremor "
        "plots, free camera (drag, wheel). F1 in the window lists the keys.",
    )
    p.add_argument("recording", nargs="?", help="recording file (.jsonl)")
    _session_args(p)
    p.add_argument("--ghost", metavar="REFERENCE", help="expert recording drawn translucent")
    p.add_argument("--at", type=float, metavar="SECONDS", help="start at this time")
    p.add_argument("--speed", type=float, default=1.0, help="playback speed (0.25 to 4)")
    p.add_argument(
        "--size", help="scene size WxH (default: the window, panel included, fits the display)"
    )
    p.set_defaults(func=_cmd_replay)

    p = sub.add_parser(
        "export-video",
        help="render a replay offscreen into an MP4 (H.264)",
        description="Render the replay (scene, coaching HUD, timeline panel, optional "
        "ghost) offscreen, frame by frame, into an MP4 (H.264, which browsers and learning "
        "platforms play). Progress goes to stderr: a bar on a terminal, a few lines in a "
        "log. No display needed.",
    )
    p.add_argument("recording", nargs="?", help="recording file (.jsonl)")
    _session_args(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE.mp4", help="video to write")
    p.add_argument("--ghost", metavar="REFERENCE", help="expert recording drawn translucent")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    p.add_argument("--speed", type=float, default=1.0, help="playback speed (0.25 to 4)")
    p.add_argument(
        "--size",
        default="1280x720",
        help="scene size WxH (default 1280x720; the timeline panel is added below it)",
    )
    p.add_argument("--exam", action="store_true", help="draw as in exam mode")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_export_video)
