"""The ``procsim`` command line. Every subcommand has ``--help``.

Bad input (a missing or invalid file, an unknown scenario, an unusable device) prints one
line naming what is wrong and exits with status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sim import __version__
from sim.core.scenario import ScenarioError
from sim.errors import UserError
from sim.scenarios import find_scenario, load_scenario, patient_of, scenario_paths
from sim.storage.recording import RecordingError

Handler = Callable[[argparse.Namespace], int]


# --- scenarios ---------------------------------------------------------------------------
def _cmd_scenarios(args: argparse.Namespace) -> int:
    if args.action == "check":
        sc = load_scenario(args.file)
        print(
            f"{args.file}: ok ({sc.id}, task {sc.task}, schema {sc.schema_version}, "
            + (f"patient {sc.patient.id}, " if sc.patient else "")
            + f"sha256 {sc.content_hash[:12]})"
        )
        return 0
    rows: list[tuple[str, ...]] = [("scenario", "procedure", "patient", "difficulty", "title")]
    for p in scenario_paths():
        try:
            sc = load_scenario(p)
            case = patient_of(sc)
            who = (case.id, str(case.difficulty)) if case else ("-", "-")
            drill = f"  [drill: {', '.join(sc.drill.targets)}]" if sc.drill else ""
            rows.append((sc.id, sc.task, *who, sc.title + drill))
        except ScenarioError as exc:
            rows.append((p.stem, "INVALID", "", "", str(exc)))
    # each column as wide as its longest entry, so long case names keep the columns aligned
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print(" ".join(f"{cell:{w}s}" for cell, w in zip(row, widths, strict=False)), row[4])
    return 0


# --- simulate ----------------------------------------------------------------------------
def _cmd_simulate(args: argparse.Namespace) -> int:
    from sim.pipeline import Pipeline
    from sim.sources.scripted import ScriptedSource
    from sim.storage.session import run_session

    scenario = find_scenario(args.scenario)
    overrides = {
        k: v
        for k, v in (
            ("tremor_rms_mm", args.tremor_mm),
            ("tremor_hz", args.tremor_hz),
            ("angle_deg", args.angle),
        )
        if v is not None
    }
    # Flag and range of each override (our choice): a tremor up to 10 mm RMS below the
    # Nyquist frequency, an angle of 0-90 deg.
    ranges = {
        "tremor_rms_mm": ("--tremor-mm", 0.0, 10.0),
        "tremor_hz": ("--tremor-hz", 0.0, scenario.sample_rate_hz / 2),
        "angle_deg": ("--angle", 0.0, 90.0),
    }
    for name, v in overrides.items():
        flag, lo, hi = ranges[name]
        if not (math.isfinite(v) and lo <= v <= hi) or (name == "tremor_hz" and v in (lo, hi)):
            raise UserError(f"{flag}: {v:g} is out of range (expected {lo:g} to {hi:g})")
    from sim.procedures import registry

    errors = list(dict.fromkeys(args.error or ()))
    proc = registry.get(scenario.task)
    known = proc.error_kinds + proc.reactions  # errors, and the patient's other reactions
    for kind in errors:
        if kind not in known:
            raise UserError(
                f"--error {kind}: not an error of {scenario.task} "
                f"(expected one of: {', '.join(known)})"
            )
    source = ScriptedSource(scenario, args.skill, args.seed, errors, **overrides)
    out = Path(args.output)
    if out.exists() and not args.force:
        raise UserError(f"{out}: already exists (use --force to overwrite)")
    if out.exists():
        out.unlink()
    pipeline = Pipeline(scenario, input_kind="scripted")
    result = run_session(
        pipeline,
        source,
        out,
        trainee=args.trainee,
        meta={"skill": args.skill, "seed": args.seed, **overrides, "errors": errors},
    )
    print(f"{out}: {scenario.id} {args.skill} seed {args.seed}: {outcome_line(result)}")
    return 0


# --- score -------------------------------------------------------------------------------
def outcome_line(result: Any) -> str:
    """``score 63.2/100  PASS (pass at 70)``; an incomplete or empty session says so plainly
    (``score 8.3/100  INCOMPLETE (pass at 70): incomplete: not scored for sign-off``)."""
    from sim.metrics.scoring import VERDICT_LINES

    line = f"score {result.score:.1f}/100  {result.verdict} (pass at {result.pass_score:g})"
    why = VERDICT_LINES.get(result.verdict)
    return f"{line}: {why}" if why else line


def print_result(name: str, result: Any) -> None:
    """Human-readable result of a scored session: labels, values rounded and with units the
    way every view shows them; a metric that earned nothing says why."""
    print(f"{name}: {result.scenario}  {outcome_line(result)}")
    if result.drill:
        print(f"  {result.drill_line}")
    if result.phases_s:
        print("  phases: " + ", ".join(f"{name} {sec:.0f} s" for name, sec in result.phases_s))
    for e in result.critical_errors:
        print(f"  CRITICAL  {e.message}")
    for e in result.errors:
        print(f"  error     {e.message}")
    if result.checklist:
        print("  checklist (critical: *)")
        lw = max(len(st.label) for st in result.checklist)
        for st in result.checklist:
            when = "" if st.t_s is None else f"{st.t_s:6.1f} s"
            note = f"  {st.note}" if st.note else ""
            mark = "*" if st.critical else " "
            print(f"  {mark} {st.label:{lw}s}  {st.status:12s} {when:>8s}{note}".rstrip())
    rows = []
    for m in result.metrics:
        pts = "" if m.points is None else f"{m.points:.0f}"
        wt = "" if m.points is None else f"{m.weight:g}"
        value = m.note if m.status in ("not done", "not measured") else m.shown
        why = f"  ({m.note})" if m.status in ("incomplete", "uncertain") else ""
        rows.append((m.label, value, pts, wt, why))
    # the longest label and value set their columns
    w = max([6, *(len(r[0]) for r in rows)])
    vw = max([5, *(len(r[1]) for r in rows)])
    print(f"  {'metric':{w}s} {'value':>{vw}s} {'points':>6s} {'weight':>6s}")
    for label, value, pts, wt, why in rows:
        print(f"  {label:{w}s} {value:>{vw}s} {pts:>6s} {wt:>6s}{why}".rstrip())
    from sim.metrics.scoring import measurement_notes

    for note in measurement_notes((m.label, m.status, m.note, m.words) for m in result.metrics):
        print(f"  {note}")
    for a in result.advice:
        print(f"  work on: {a}")


def json_result(result: Any) -> dict[str, Any]:
    """``ScoreResult.as_dict()`` for ``--json``: metrics keyed by their identifiers (for
    machines), each with its catalogue ``label``, and ``verdict``."""
    d: dict[str, Any] = result.as_dict()
    d["verdict"] = result.verdict
    return d


def _cmd_score(args: argparse.Namespace) -> int:
    from sim.storage.session import rescore
    from sim.tracking.quality import poor_words

    out = []
    differs = 0
    for f in args.files:
        r = rescore(f)
        if args.json:
            d = json_result(r.result)
            d["file"] = f
            d["matches_recording"] = r.matches
            d["recorded"] = None if r.recorded is None else r.recorded.as_dict()
            d["today"] = r.today.as_dict()
            d["poor_conditions"] = list(r.recording.poor_conditions)
            out.append(d)
        else:
            print_result(f, r.result)
            if r.recording.poor_conditions:
                print(f"  ! {poor_words(r.recording.poor_conditions)} (the calibration said so)")
            print(f"  {r.line()}")
        differs += r.differs
    if args.json:
        print(json.dumps(out if len(out) > 1 else out[0], indent=2, allow_nan=False, default=str))
    return 1 if differs else 0


# --- motion ------------------------------------------------------------------------------
def _cmd_motion(args: argparse.Namespace) -> int:
    from sim.metrics.motion import motion_metrics
    from sim.metrics.trajectory_csv import read_trajectory_csv

    if not (math.isfinite(args.noise_floor) and 0.0 <= args.noise_floor <= 100.0):
        raise UserError(
            f"--noise-floor: expected a number of mm from 0 to 100, got {args.noise_floor:g}"
        )
    t, pos = read_trajectory_csv(args.csv)
    mm = motion_metrics(t, pos, noise_floor_mm=args.noise_floor)
    from sim.metrics.catalog import MOTION
    from sim.procedures.registry import format_value

    if args.json:
        print(
            json.dumps(
                {
                    info.name: {
                        "label": info.label,
                        "value": v if math.isfinite(v := float(getattr(mm, info.name))) else None,
                        "unit": info.unit,
                    }
                    for info in MOTION
                },
                indent=2,
                allow_nan=False,
            )
        )
        return 0
    for info in MOTION:
        v = float(getattr(mm, info.name))
        print(
            f"{info.heading:24s} {format_value(info.name, v, unit=False):>9s}  {info.description}"
        )
    return 0


# --- parser ------------------------------------------------------------------------------
class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (naming the command and pointing
    to its ``--help``) and exit status 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def practised() -> str:
    """The procedures one can practise, in words: "venipuncture and suturing" (from the
    registry's names, so a new procedure is named too)."""
    from sim.procedures import registry

    names = [p.name for p in registry.procedures()]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="procsim",
        description=f"Practise {practised()} with scored hand motion and live coaching.",
    )
    parser.add_argument("--version", action="version", version=f"procsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "scenarios",
        help="list scenarios, or validate a scenario file",
        description="List the shipped scenarios (`procsim scenarios` or `procsim scenarios "
        "list`), or validate a scenario file (`procsim scenarios check FILE`).",
    )
    sp = p.add_subparsers(dest="action", metavar="ACTION")
    sp.add_parser(
        "list",
        help="list the shipped scenarios (the default)",
        description="List the shipped scenarios: id, procedure and title; a file that "
        "does not read is listed as INVALID with the reason.",
    )
    q = sp.add_parser(
        "check",
        help="validate a scenario file",
        description="Validate one scenario file (docs/scenarios.md documents every key): "
        "print its id, procedure, schema version and content hash, or one line naming "
        "the key that is wrong and what was expected.",
        epilog="exit status: 0 valid; 2 invalid or unreadable.",
    )
    q.add_argument("file", metavar="FILE", help="scenario file (.toml)")
    p.set_defaults(func=_cmd_scenarios, action="list")

    from sim.procedures import registry
    from sim.sources.scripted import SKILLS

    kinds = {p.id: p.error_kinds + p.reactions for p in registry.procedures()}
    p = sub.add_parser(
        "simulate",
        help="write a recording of a scripted trainee",
        description="Run a scripted trainee of a given skill through a "
        "scenario and write the recording. Error kinds (and patient reactions) for --error: "
        + "; ".join(f"{task}: {', '.join(k)}" for task, k in kinds.items())
        + ".",
    )
    p.add_argument("scenario", help="scenario id (see `procsim scenarios`) or .toml path")
    p.add_argument(
        "--skill",
        choices=SKILLS,
        default="expert",
        help=f"how well the scripted trainee works ({', '.join(SKILLS)}): its aim, angle, "
        "tremor, speed and hesitation (default: expert)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--tremor-mm",
        type=float,
        metavar="MM",
        help="tremor RMS amplitude, mm (default: the skill level's)",
    )
    p.add_argument(
        "--tremor-hz",
        type=float,
        metavar="HZ",
        help="tremor frequency, Hz (default: the skill level's)",
    )
    p.add_argument(
        "--angle",
        type=float,
        metavar="DEG",
        help="mean insertion angle, where the procedure has one (default: the skill level's)",
    )
    p.add_argument(
        "--error",
        action="append",
        metavar="KIND",
        choices=sorted({k for ks in kinds.values() for k in ks}),
        help="make this error on purpose (repeatable; the kinds of each task are listed above)",
    )
    p.add_argument("--trainee", default="scripted", help="trainee id stored in the recording")
    p.add_argument("-o", "--output", required=True, help="recording file to write (.jsonl)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser(
        "score",
        help="re-score recordings (recorded score against today's)",
        description="Re-run recordings through today's task, metrics and cue rules, print "
        "the result and the score recorded in the file next to today's (e.g. 'recorded "
        "63.2 PASS by 0.1.0; today 40.1 INCOMPLETE by 0.2.0 (rules changed since)'). "
        "--json gives both as 'recorded' and 'today' (score, passed, complete, empty, "
        "app_version). To store today's score, write a re-scored recording with "
        "`procsim rescore`.",
        epilog="exit status: 0 every re-score matches its recording (or the recording has "
        "no result: an interrupted session); 1 at least one differs from what was "
        "recorded; 2 a file cannot be read.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="recording files")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser(
        "motion",
        help="motion metrics of any trajectory CSV",
        description="Task-independent metrics (time, path length, movements, "
        "SPARC, LDLJ, tremor) of a UTF-8 CSV with a header row naming the columns t_s, "
        "x_mm, y_mm, z_mm (extra columns are ignored). Every value must be a finite number "
        "(times within 1e10 s, positions within 1e6 mm) and the times must increase; "
        "a bad file gets one line naming the line (exit status 2).",
    )
    p.add_argument("csv", help="trajectory CSV file")
    p.add_argument(
        "--noise-floor",
        type=float,
        default=0.0,
        metavar="MM",
        help="tracker noise floor in the tremor band, mm RMS (default 0)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_motion)

    for register in _extra_commands():
        register(sub)
    return parser


# Modules of the features (storage, tracking, lab, report, replay, app) that add
# subcommands, each next to its feature: each has a ``register(subparsers)`` function.
# Imported only when the parser is built; ``procsim --help`` lists commands in this order.
COMMAND_MODULES: tuple[str, ...] = (
    "sim.storage.commands",
    "sim.tracking.commands",
    "sim.lab.commands",
    "sim.lab.next",
    "sim.report.commands",
    "sim.replay.commands",
    "sim.app.commands",
    "sim.portal.commands",
)


def _extra_commands() -> list[Callable[[Any], None]]:
    import importlib

    return [importlib.import_module(name).register for name in COMMAND_MODULES]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except (UserError, ScenarioError, RecordingError) as exc:
        print(f"procsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("procsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`procsim score FILE | head`): stop quietly, as cat does
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
