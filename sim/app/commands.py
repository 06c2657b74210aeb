"""The ``procsim station``, ``procsim practice`` and ``procsim render`` subcommands."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from sim.errors import UserError
from sim.lab.commands import add_db_args
from sim.words import plural


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> (1280, 720); :class:`UserError` otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise UserError(f"--size '{text}': expected WIDTHxHEIGHT, e.g. 1280x720")
    w, h = int(m.group(1)), int(m.group(2))
    if not (64 <= w <= 8192 and 64 <= h <= 8192):
        raise UserError(f"--size '{text}': width and height must be between 64 and 8192")
    return w, h


def check_at(at_s: float, end_s: float) -> None:
    """``--at`` must be a time within the recording (0 to ``end_s`` s): :class:`UserError`
    with one line naming both otherwise."""
    if not 0.0 <= at_s <= end_s:
        raise UserError(
            f"--at {at_s:g}: the recording is {end_s:.1f} s long "
            f"(expected a time from 0 to {end_s:.1f} s)"
        )


def _cmd_practice(args: argparse.Namespace) -> int:
    from sim.app.inputs import check_hand, check_spec
    from sim.render.offscreen import require_display
    from sim.scenarios import find_scenario

    size = parse_size(args.size) if args.size else None
    check_spec(args.input)
    hand = check_hand(args.hand)
    scenario = find_scenario(args.scenario) if args.scenario else None
    curriculum = None
    if args.curriculum:  # read now: a bad file is one line before the window opens
        from sim.curriculum import load_curriculum

        curriculum = load_curriculum(Path(args.curriculum))
    require_display("procsim practice")  # after the arguments, before pygame or OpenGL start
    from sim.app.app import App
    from sim.app.settings import Settings

    settings = (
        Settings(scenario, args.input, args.trainee, args.exam, hand, voice=not args.no_voice)
        if scenario is not None
        else None
    )
    if size is None:
        from sim.app.window import window_for_display

        size = window_for_display()
    app = App(
        size,
        settings,
        trainee=args.trainee,
        input_spec=args.input,
        exam=args.exam,
        hand=hand,
        sound=not args.no_sound,
        voice=not args.no_voice,
    )
    if curriculum is not None:
        app.curriculum = curriculum  # the start screen's "Next:" follows it
    status = app.run()
    for p in app.recordings:
        print(f"recording: {p}")
    return status


def _cmd_render(args: argparse.Namespace) -> int:
    from sim.render.offscreen import use_offscreen_if_headless

    use_offscreen_if_headless()  # before pygame or OpenGL start
    size = parse_size(args.size)
    out = Path(args.output)
    if out.suffix.lower() != ".png":
        raise UserError(f"{out}: expected a .png output file")
    if not out.parent.exists():
        raise UserError(f"{out.parent}: no such folder for the output")
    if not args.at >= 0:
        raise UserError(f"--at {args.at:g}: expected a time of 0 s or more")
    from sim.storage.recording import load_recording
    from sim.storage.session import end_s, pipeline_at

    rec = load_recording(args.recording)  # reads and checks the recording first
    check_at(args.at, end_s(rec))
    pipeline = pipeline_at(rec, args.at)
    from sim.render.offscreen import render_frame, save_png
    from sim.render.scene import DrawOptions, frame_from_pipeline

    frame = frame_from_pipeline(pipeline, t_s=args.at)

    image = render_frame(frame, size, DrawOptions(exam=args.exam, hud=not args.no_hud))
    save_png(image, out)
    print(f"{out}: {frame.scenario.id} at {args.at:g} s ({size[0]}x{size[1]})")
    return 0


def _has_display() -> bool:
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and (
        os.environ.get("SDL_VIDEODRIVER", "") not in ("offscreen", "dummy")
    )


def _cmd_station(args: argparse.Namespace) -> int:
    from sim.lab.config import load_config, local_url, resolve_db_url
    from sim.lab.sync import Lab
    from sim.render.offscreen import require_display

    cfg = load_config(args.config)
    if args.curriculum:  # the command line over the config's `curriculum`
        from dataclasses import replace

        cfg = replace(cfg, curriculum=args.curriculum)
    if cfg.curriculum is not None:  # read now: a bad file is one line, exit 2
        from sim.curriculum import load_curriculum

        load_curriculum(Path(cfg.curriculum))
    size = parse_size(args.size) if args.size else (1280, 720)
    for sid in (cfg.assigned_scenario, *cfg.scenarios):
        if sid:
            from sim.scenarios import find_scenario

            find_scenario(sid)  # an unknown scenario in the config: one line, exit 2
    require_display("procsim station")  # after the config, before pygame or OpenGL start
    lab = Lab(
        local_url(),
        resolve_db_url(args.db, cfg),
        retention_days=cfg.retention_days,
        keep_raw=cfg.keep_raw_landmarks,
    )
    erased = lab.apply_retention()
    if erased:
        print(f"retention: the recordings of {plural(erased, 'session')} erased (scores kept)")
    found = lab.recover(cfg.station_id)  # recordings a crash left unstored
    if found:
        print(f"stored {plural(len(found), 'session')} left unstored by a crash (incomplete)")
    target = lab.remote_display or lab.local.display_url
    if lab.remote_url is not None:
        from sim.lab.database import StoreUnavailable, unusable

        try:
            lab.open_remote().close()
        except StoreUnavailable as exc:
            if args.db:  # named on the command line: the caller must know
                lab.close()
                raise UserError(f"--db: {unusable(exc)} ({exc})") from None
            print(
                f"procsim: warning: lab database unreachable ({exc}); sessions are kept on "
                "this station and sent when it can be reached (procsim sessions sync)",
                file=sys.stderr,
            )
            target = f"{lab.local.display_url}, queued for {target}"
    print(f"procsim station {cfg.station_id!r}: sessions go to {target}")
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
    print(f"procsim station {cfg.station_id!r}: {plural(len(app.stored), 'session')} stored")
    return status


def register(sub: Any) -> None:
    """Add ``station``, ``practice`` and ``render`` to the ``procsim`` subparsers."""
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
    p.add_argument(
        "--curriculum",
        metavar="FILE",
        help="curriculum file for the start screen's suggestion (default: the config's "
        "`curriculum`, else the shipped scenarios/curriculum.toml; docs/curriculum.md)",
    )
    add_db_args(p)
    p.set_defaults(func=_cmd_station)

    p = sub.add_parser(
        "practice",
        help="open the practice window (3-D scene, live coaching, results)",
        description="Practise a scenario with the mouse (or another input) and live "
        "coaching; every session is recorded under the per-user data folder "
        "($PROCSIM_DATA_DIR, else $XDG_DATA_HOME/procsim or ~/.local/share/procsim). "
        "Without SCENARIO a start screen lets you choose. Controls: docs/controls.md "
        "(F1 in the window).",
    )
    p.add_argument(
        "scenario", nargs="?", help="scenario id (see `procsim scenarios`) or .toml path"
    )
    p.add_argument(
        "--input",
        default="mouse",
        metavar="INPUT",
        help="what drives the needle: mouse, webcam[:N] (your hand in front of camera N, "
        "default 0), or video:PATH (a recorded hand video) (default: mouse)",
    )
    p.add_argument("--trainee", default="anonymous", help="trainee id stored in the recording")
    p.add_argument(
        "--hand",
        default="right",
        metavar="left|right",
        help="dominant hand, the one a webcam or video input follows (default: right)",
    )
    p.add_argument(
        "--exam", action="store_true", help="exam mode: no cues or guides, only the result"
    )
    p.add_argument("--size", help="window size WxH (default: fits the display)")
    p.add_argument("--no-sound", action="store_true", help="no sounds for critical events")
    p.add_argument(
        "--no-voice",
        action="store_true",
        help="the patient's words are shown, not spoken (espeak-ng)",
    )
    p.add_argument(
        "--curriculum",
        metavar="FILE",
        help="curriculum file for the start screen's suggestion (default: the shipped "
        "scenarios/curriculum.toml; docs/curriculum.md)",
    )
    p.set_defaults(func=_cmd_practice)

    p = sub.add_parser(
        "render",
        help="render a recording's scene and HUD at a moment to a PNG (offscreen)",
        description="Replay a recording up to --at seconds through the pipeline and draw "
        "the scene and HUD as the trainee saw them, offscreen, into a PNG.",
    )
    p.add_argument("recording", help="recording file (.jsonl)")
    p.add_argument(
        "--at", type=float, required=True, metavar="SECONDS", help="time in the session, s"
    )
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--size", default="1280x720", help="image size WxH (default 1280x720)")
    p.add_argument("--exam", action="store_true", help="draw as in exam mode (no cues, no guides)")
    p.add_argument("--no-hud", action="store_true", help="the 3-D scene only")
    p.set_defaults(func=_cmd_render)
