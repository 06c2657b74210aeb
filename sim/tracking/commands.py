"""``procsim track``: run a recorded webcam video through the hand tracking path and
write a recording that ``procsim score`` re-scores identically."""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.records import Action, ActionKind, Sample
from sim.errors import UserError
from sim.metrics.noise import InputNoise
from sim.tracking.tracker import HandTracker, TrackerConfig, landmarks_from_raw
from sim.words import plural


@dataclass(frozen=True, slots=True)
class TrackReport:
    """What ``procsim track`` did.

    Attributes
    ----------
    frames : int
        Frames tracked (every frame of the video).
    frames_with_hand : int
        Frames where the driving hand was found.
    processing_fps : float
        Frames tracked per second of wall time (decode + MediaPipe + mapping).
    noise_floor_mm : float
        Noise floor stored in the recording, mm.
    noise : InputNoise or None
        The calibration hold's noise on each scene axis and needle angle; None without a
        calibration hold.
    score : float
        Score of the session.
    passed : bool
        Whether it passed.
    verdict : str
        "PASS", "FAIL", "INCOMPLETE" (the procedure was not carried out to its end: not
        scored for sign-off) or "EMPTY" (no samples).
    """

    video: str
    recording: str
    scenario: str
    frames: int
    frames_with_hand: int
    duration_s: float
    processing_fps: float
    noise_floor_mm: float
    score: float
    passed: bool
    verdict: str = "FAIL"
    noise: InputNoise | None = None

    @property
    def detection_rate(self) -> float:
        return self.frames_with_hand / self.frames if self.frames else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "noise"}
        d["noise"] = self.noise.as_header() if self.noise is not None else None
        d["detection_rate"] = self.detection_rate
        return d


@dataclass(frozen=True, slots=True)
class TrackedVideo:
    """Every frame of a video tracked offline (:func:`track_video`).

    Attributes
    ----------
    samples : list of Sample
        One per frame.
    tracker : HandTracker
        The tracker used (image size, workspace).
    wall_s : float
        Wall time of the whole run (decoding, tracking, mapping), s.
    tracking_s : float
        Time spent tracking frames (detector and mapping, no decoding), s.
    """

    samples: list[Sample]
    tracker: HandTracker
    wall_s: float
    tracking_s: float


def track_video(video: str | Path, config: TrackerConfig, **source_kw: Any) -> TrackedVideo:
    """Every frame of ``video`` through the video source (offline: no frame dropped, the
    video's own timestamps as sample times); ``source_kw`` go to
    :class:`sim.sources.camera.CameraSource` (e.g. ``grabber``: frames from elsewhere).

    Raises
    ------
    UserError
        The video cannot be opened, or the source failed before its end.
    """
    from sim.sources.camera import CameraSource, InputSpec

    src = CameraSource(InputSpec("video", path=str(video)), config, realtime=False, **source_kw)
    try:
        c0 = time.perf_counter()
        src.start()
        samples = list(src.items())
        wall = time.perf_counter() - c0
        if src.error and not src.error.endswith("video ended"):
            raise UserError(src.error)
    finally:
        src.close()
    return TrackedVideo(samples, src.tracker, wall, src.tracking_time_s)


def track_samples(
    video: str | Path, config: TrackerConfig, **source_kw: Any
) -> tuple[list[Sample], HandTracker, float]:
    """:func:`track_video` as ``(samples, tracker, wall_s)``."""
    t = track_video(video, config, **source_kw)
    return t.samples, t.tracker, t.wall_s


def remap(samples: Sequence[Sample], tracker: HandTracker) -> list[Sample]:
    """The same Samples with poses re-derived from their raw landmarks by ``tracker``'s
    current workspace and roll offset (grip and tracking state are kept)."""
    out: list[Sample] = []
    last: Sample | None = None
    for s in samples:
        pose = tracker.pose(landmarks_from_raw(s.raw)) if s.tracked and s.raw else None
        if pose is not None:
            tip, axis, normal = tracker.needle(pose)
            last = replace(s, tip_mm=tip, axis=axis, normal=normal)
            out.append(last)
        elif last is not None:
            out.append(replace(s, tip_mm=last.tip_mm, axis=last.axis, normal=last.normal))
        else:
            out.append(replace(s, tip_mm=tracker.workspace.centre_mm))
    return out


def run_track(
    video: str | Path,
    scenario_id: str,
    output: str | Path,
    *,
    config: TrackerConfig | None = None,
    noise_floor_mm: float | None = None,
    calibration_hold_s: float = 0.0,
    trainee: str = "anonymous",
    force: bool = False,
) -> TrackReport:
    """Track a video and record the session (see ``procsim track --help``)."""
    from sim.pipeline import Pipeline
    from sim.scenarios import depth_assist, find_scenario
    from sim.storage.session import SessionRecorder
    from sim.tracking.calibration import calibrate_hold

    config = config or TrackerConfig()
    scenario = find_scenario(scenario_id)
    out = Path(output)
    if out.exists() and not force:
        raise UserError(f"{out}: already exists (use --force to overwrite)")
    samples, tracker, wall = track_samples(video, config)
    n_frames = len(samples)
    if not samples:
        raise UserError(f"{video}: no frames")
    floor = 0.0 if noise_floor_mm is None else noise_floor_mm
    noise: InputNoise | None = None
    calibration: dict[str, Any] = {}
    if calibration_hold_s > 0:
        hold = [s for s in samples if s.t_s - samples[0].t_s < calibration_hold_s]
        held = [s for s in hold if s.tracked and s.raw is not None]
        if len(held) < max(8, 0.8 * len(hold)):
            raise UserError(
                f"{video}: the hand is not visible in the first {calibration_hold_s:g} s "
                "(needed for calibration)"
            )
        cal = calibrate_hold(
            np.array([s.t_s for s in held]),
            np.array([landmarks_from_raw(s.raw) for s in held if s.raw is not None]),
            tracker.aspect,
            tracker.workspace,
            config.dominant,
        )
        if math.isnan(cal.noise_floor_mm):
            raise UserError(f"{video}: calibration hold too short (needs at least 1 s)")
        tracker.calibrate(cal.workspace, cal.roll_offset_deg)
        samples = samples[len(hold) :]
        if noise_floor_mm is None:
            floor = cal.noise_floor_mm
        noise = cal.noise
        calibration.update(cal.as_header())
    # the scenario's depth assist for video input, on the calibrated poses
    tracker.assist = depth_assist(scenario, "video")
    samples = remap(samples, tracker)
    calibration.update(
        {
            "noise_floor_mm": floor,
            "depth_assist": tracker.assist.as_dict(),
            "workspace": tracker.workspace.as_dict(),
            "roll_offset_deg": tracker.roll_offset_deg,
            "image_size": list(tracker.image_size),
            "tracker": config.as_dict(),
            "raw": "mediapipe image landmarks 0-20, x y z interleaved; x, y normalised by the "
            "tracked frame's width and height (mirrored if tracker.mirror), z relative depth",
        }
    )
    if out.exists():
        out.unlink()
    rec = SessionRecorder(
        Pipeline(
            scenario,
            noise_floor_mm=floor,
            input_kind="video",
            noise=noise,
            guided=tracker.assist.guided,
        ),
        out,
        trainee=trainee,
        calibration=calibration,
        meta={"video": str(video), "frames": n_frames},
        # a file asked for from the user's own video, to study the tracker: it keeps the
        # landmarks (the session store strips them unless a station keeps them)
        keep_raw=True,
    )
    try:
        for s in samples:
            rec.feed(s)
        if samples:
            rec.feed(Action(samples[-1].t_s, ActionKind.FINISH))
    except BaseException:
        rec.finish()
        raise
    result = rec.finish()
    with_hand = sum(1 for s in samples if s.tracked)
    return TrackReport(
        str(video),
        str(out),
        scenario.id,
        len(samples),
        with_hand,
        samples[-1].t_s - samples[0].t_s if samples else 0.0,
        n_frames / wall if wall > 0 else math.inf,
        floor,
        result.score,
        result.passed,
        result.verdict,
        noise,
    )


def _cmd_track(args: argparse.Namespace) -> int:
    from sim.metrics.scoring import VERDICT_LINES

    config = TrackerConfig(
        dominant=args.hand, model_complexity=args.model_complexity, mirror=not args.no_mirror
    )
    rep = run_track(
        args.video,
        args.scenario,
        args.output,
        config=config,
        noise_floor_mm=args.noise_floor,
        calibration_hold_s=args.calibration_hold,
        trainee=args.trainee,
        force=args.force,
    )
    if args.json:
        print(json.dumps(rep.as_dict(), indent=2, allow_nan=False))
        return 0
    print(
        f"{rep.recording}: {plural(rep.frames, 'frame')}, hand in {rep.frames_with_hand} "
        f"({100 * rep.detection_rate:.1f} %), processed at {rep.processing_fps:.1f} frames/s; "
        f"{rep.scenario} score {rep.score:.1f}/100 {rep.verdict}"
        + (f": {VERDICT_LINES[rep.verdict]}" if rep.verdict in VERDICT_LINES else "")
    )
    if rep.noise is not None:
        print(f"  calibration hold: {rep.noise.words()}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``procsim track`` to the command line."""
    p = subparsers.add_parser(
        "track",
        help="track the hand in a recorded webcam video and write a recording",
        description="Run every frame of a recorded webcam video through the hand tracking "
        "path (MediaPipe Hands, the same code as the live webcam) and the scenario's "
        "pipeline, and write a recording that `procsim score` re-scores identically.",
    )
    p.add_argument("video", help="video file (any format OpenCV reads: .mp4, .avi...)")
    p.add_argument("--scenario", required=True, help="scenario id or .toml path")
    p.add_argument("-o", "--output", required=True, help="recording file to write (.jsonl)")
    p.add_argument("--json", action="store_true", help="print frames, detection rate, fps")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--hand", choices=["right", "left"], default="right", help="driving hand")
    p.add_argument(
        "--model-complexity",
        type=int,
        choices=[0, 1],
        default=1,
        help="0 faster, 1 (default) more accurate",
    )
    p.add_argument(
        "--no-mirror",
        action="store_true",
        help="do not flip frames into the selfie view (scene z then points to the camera)",
    )
    p.add_argument(
        "--noise-floor",
        type=float,
        default=None,
        metavar="MM",
        help="tracker noise floor in the tremor band, mm RMS (default: from "
        "--calibration-hold, else 0)",
    )
    p.add_argument(
        "--calibration-hold",
        type=float,
        default=0.0,
        metavar="S",
        help="the first S seconds show the still-hand calibration hold: calibrate the "
        "workspace and noise floor from them and record the rest",
    )
    p.add_argument("--trainee", default="anonymous", help="trainee id stored in the recording")
    p.set_defaults(func=_cmd_track)

    from sim.tracking import audit

    audit.register(subparsers)
