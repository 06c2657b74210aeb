"""``procsim next``: what a trainee should practise next, and why (the curriculum,
``docs/curriculum.md``), from their sessions in the store.

Registered in :data:`sim.cli.COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import UserError
from sim.lab.commands import add_db_args, reading_store

if TYPE_CHECKING:
    from sim.core.curriculum import Curriculum, Recommendation


def recommend(
    curriculum: Curriculum,
    trainee: str,
    rows: Any,
    now_utc: dt.datetime,
    procedure: str | None = None,
) -> Recommendation:
    """What ``trainee`` should practise next given their stored sessions ``rows`` (the
    store's :class:`~sim.lab.store.SessionRow` list; other trainees' are skipped)."""
    from sim.core.curriculum import decide_next
    from sim.curriculum import attempts_from_rows

    history = attempts_from_rows(r for r in rows if r.trainee_id == trainee)
    return decide_next(curriculum, history, now_utc, procedure)


def next_for(
    trainee: str,
    store: Any,
    curriculum: Curriculum,
    now_utc: dt.datetime | None = None,
    procedure: str | None = None,
) -> Recommendation:
    """:func:`recommend` with the trainee's sessions read from ``store`` (now: the clock)."""
    now = now_utc or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return recommend(curriculum, trainee, store.find(trainee=trainee), now, procedure)


def words(trainee: str, rec: Recommendation, sessions: int) -> str:
    """``procsim next``'s text: the scenario, why, any notes and how to start it."""
    exam = " --exam" if rec.exam else ""
    lines = [
        f"Next for {trainee}: {rec.title} [{rec.scenario}]" + (" (exam mode)" if rec.exam else ""),
        f"  {rec.reason}",
    ]
    if sessions == 0:
        lines.append(f"  ({trainee} has no counted sessions in the store yet.)")
    if rec.signoff is not None:
        lines.append(f"  Sign-off ({rec.task}): {rec.signoff.line}")
    lines += [f"  Note: {n}" for n in rec.notes]
    lines.append(f"  Start it: procsim practice {rec.scenario} --trainee {trainee}{exam}")
    return "\n".join(lines)


def _cmd_next(args: argparse.Namespace) -> int:
    from sim.app.settings import trainee_id_problem
    from sim.curriculum import attempts_from_rows, load_curriculum

    problem = trainee_id_problem(args.trainee)
    if problem is not None:
        raise UserError(f"--trainee {args.trainee!r}: {problem}")
    curriculum = load_curriculum(Path(args.curriculum) if args.curriculum else None)
    if args.procedure is not None and args.procedure not in curriculum.tasks:
        raise UserError(
            f"--procedure {args.procedure!r}: expected one of {', '.join(curriculum.tasks)} "
            f"(the procedures of {curriculum.source})"
        )
    store = reading_store(args)
    try:
        rows = store.find(trainee=args.trainee)
        where = store.display_url
    finally:
        store.close()
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rec = recommend(curriculum, args.trainee, rows, now, args.procedure)
    counted = len(attempts_from_rows(rows))
    if args.json:
        out = {
            "trainee": args.trainee,
            "store": where,
            "curriculum": curriculum.source,
            "sessions": counted,
            **rec.as_dict(),
        }
        print(json.dumps(out, indent=2, allow_nan=False))
        return 0
    print(words(args.trainee, rec, counted))
    return 0


def register(sub: Any) -> None:
    """Add ``next`` to ``procsim``'s subparsers."""
    p = sub.add_parser(
        "next",
        help="what a trainee should practise next, and why (the curriculum)",
        description="Reads the trainee's sessions from the store and the curriculum "
        "(scenarios/curriculum.toml, or --curriculum FILE; docs/curriculum.md) and says "
        "which scenario to practise next and why: the next case after passes, a drill "
        "aimed at what lost the most points after a failure, an easier case after repeated "
        "failures, the exam, practice of the hard cases until the LC-CUSUM signs the "
        "trainee off, then spaced practice or a refresher after a long break.",
    )
    p.add_argument("--trainee", required=True, metavar="ID", help="the trainee's id")
    p.add_argument("--json", action="store_true", help="JSON (docs/curriculum.md)")
    p.add_argument(
        "--curriculum", metavar="FILE", help="curriculum file (default: the shipped one)"
    )
    p.add_argument(
        "--procedure",
        metavar="P",
        help="the procedure to practise (default: the one practised last, or the next one "
        "not yet signed off in)",
    )
    add_db_args(p)
    p.set_defaults(func=_cmd_next)
