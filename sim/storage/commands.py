"""``procsim rescore``: a new recording of an old session, scored by today's rules.

Registered in :data:`sim.cli.COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
from typing import Any


def _cmd_rescore(args: argparse.Namespace) -> int:
    from sim.storage.session import write_rescored

    r = write_rescored(args.recording, args.output)
    print(f"{args.output}: re-score of {args.recording}: {r.line()}")
    return 0


def register(sub: Any) -> None:
    """Add ``rescore`` to ``procsim``'s subparsers."""
    p = sub.add_parser(
        "rescore",
        help="write a re-scored copy of a recording (today's rules)",
        description="Write a new recording from the samples and actions of RECORDING, "
        "with the events, cues and result of today's pipeline. The header is kept "
        "(trainee, station, session id, calibration, scenario); its meta.rescored_from "
        "names the original file, its SHA-256 and the procsim version that recorded it. "
        "The original is never overwritten. Store the re-score with `procsim sessions "
        "import --replace` (see docs/store.md).",
        epilog="exit status: 0 written; 2 RECORDING cannot be read, or -o is RECORDING "
        "itself or an existing file.",
    )
    p.add_argument("recording", metavar="RECORDING", help="recording file (.jsonl)")
    p.add_argument("-o", "--output", required=True, metavar="NEW.jsonl", help="file to write")
    p.set_defaults(func=_cmd_rescore)
