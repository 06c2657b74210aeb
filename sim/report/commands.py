"""The ``procsim report`` subcommand: an HTML report of a session or of a trainee's progress.

Registered in :data:`sim.cli.COMMAND_MODULES`. A trainee's report reads the session store
chosen with ``--db``/``--config`` (:mod:`sim.lab.commands`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.errors import UserError
from sim.lab.commands import add_db_args, reading_store


def _write(out: str, text: str) -> None:
    from sim.paths import open_private

    p = Path(out)
    try:
        with open_private(p, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise UserError(f"{p}: cannot write ({exc.strerror})") from None


def _cmd_report(args: argparse.Namespace) -> int:
    if sum(map(bool, (args.recording, args.trainee, args.session))) != 1:
        raise UserError("report: give either a RECORDING or --trainee ID (or --session ID)")
    if args.session:
        from sim.lab.commands import session_file
        from sim.report.session import session_report

        with session_file(args, args.session) as (path, row):
            text = session_report(path, display_name=row.display_name, notes=row.notes)
        _write(args.output, text)
        print(f"{args.output}: report of session {row.id}")
        return 0
    if args.recording:
        from sim.report.session import session_report

        _write(args.output, session_report(args.recording))
        print(f"{args.output}: report of {args.recording}")
        return 0
    from sim.curriculum import load_curriculum
    from sim.report.trainee import trainee_report

    curriculum = load_curriculum(Path(args.curriculum) if args.curriculum else None)
    store = reading_store(args)
    try:
        text = trainee_report(store, args.trainee, curriculum)
    finally:
        store.close()
    _write(args.output, text)
    print(f"{args.output}: progress report of {args.trainee}")
    return 0


def _cmd_progress(args: argparse.Namespace) -> int:
    import datetime as dt
    import json

    from sim.curriculum import load_curriculum
    from sim.report.progress import cohort_json, cohort_progress, cohort_words

    if bool(args.cohort) == bool(args.trainee):
        raise UserError("progress: give either --cohort or --trainee ID")
    curriculum = load_curriculum(Path(args.curriculum) if args.curriculum else None)
    source = curriculum.source or "shipped"
    store = reading_store(args)
    try:
        rows = store.find(trainee=args.trainee) if args.trainee else store.find()
    finally:
        store.close()
    if args.trainee and not rows:
        raise UserError(f"no sessions of trainee {args.trainee!r} in {store.display_url}")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    progress = cohort_progress(rows, curriculum, now)
    if args.json:
        print(json.dumps(cohort_json(progress, now, source), indent=2))
    else:
        print(cohort_words(progress, source))
    return 0


def register(sub: Any) -> None:
    """Add ``report`` and ``progress`` to ``procsim``'s subparsers."""
    p = sub.add_parser(
        "report",
        help="HTML report of a session, or of a trainee's progress",
        description="One self-contained HTML file: a session's score, metrics, plots, "
        "timeline and advice (RECORDING), or a trainee's learning curves, proficiency "
        "sign-off and standing in the cohort (--trainee ID, from the session store). "
        "--session ID reports a stored session from the store.",
    )
    p.add_argument("recording", nargs="?", metavar="RECORDING", help="recording file")
    p.add_argument("--trainee", metavar="ID", help="progress report of this trainee")
    p.add_argument(
        "--session",
        metavar="ID",
        help="report of a stored session (its id, or its first 8+ characters)",
    )
    p.add_argument("-o", "--output", required=True, metavar="FILE.html", help="file to write")
    p.add_argument(
        "--curriculum",
        metavar="FILE",
        help="curriculum whose LC-CUSUM rates and warning rules the trainee report uses "
        "(default: the shipped scenarios/curriculum.toml)",
    )
    add_db_args(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "progress",
        help="LC-CUSUM sign-off, relapse and who is at risk, per trainee and procedure",
        description="Per trainee and procedure: LC-CUSUM sign-off (signed off at case n, "
        "or the CUSUM against its decision limit), the relapse CUSUM after sign-off, and "
        "the trainees at risk with the reason (a stalled learning curve below the pass "
        "line, a relapse, the same critical error again, no practice for longer than the "
        "curriculum's decay interval). Rates and rules come from the curriculum; "
        "docs/progress.md explains the statistics and the --json fields.",
    )
    p.add_argument("--cohort", action="store_true", help="every trainee in the store")
    p.add_argument("--trainee", metavar="ID", help="one trainee")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--curriculum",
        metavar="FILE",
        help="curriculum file (TOML; default: the shipped scenarios/curriculum.toml)",
    )
    add_db_args(p)
    p.set_defaults(func=_cmd_progress)
