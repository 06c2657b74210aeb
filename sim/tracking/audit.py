"""``procsim audit-tracking``: how well the hand tracker sees a lab's own videos under worse
light, worse cameras and the other hand.

For each video and each image condition (:mod:`sim.tracking.conditions`) the real tracking
path runs over the video's frames (:func:`sim.tracking.commands.track_video`, the code of
``procsim track`` and of the live webcam, with the condition applied to each frame as it is
read), and the figures below are taken from its Samples.

Where the figures are measured
------------------------------
Jitter and the noise floor describe a *still* hand. The still stretches are found once per
video, on the ``original`` condition: frames where the hand is tracked and its running median
(0.3 s, :func:`sim.metrics.noise.running_median`) moves slower than
:data:`STILL_SPEED_MM_S`, in runs of at least :data:`MIN_STILL_S`. Every condition is measured
over the same frames, so the figures compare like with like. A video without such a stretch
(a hand that never rests) is measured over all its tracked frames instead, and
``measured_over`` says ``"moving"``: its jitter and floor then include some of the hand's own
motion and are upper bounds on the tracker's.

Figures of one condition (the ``--json`` keys)
----------------------------------------------
``name``
    The condition (:data:`sim.tracking.conditions.CONDITIONS`).
``frames``, ``frames_with_hand``
    Frames tracked, and those where the driving hand was found.
``detection_rate``
    ``frames_with_hand / frames`` (0..1).
``jitter_mm``
    Tip jitter in the scene, mm: the root sum of squares of ``jitter_axes_mm``.
``jitter_axes_mm``
    ``[x, y, z]``: the SD of the tip about its 0.3 s running median along the arm, up, and
    across the arm (the camera's depth), after the workspace mapping
    (:func:`sim.metrics.noise.jitter`, what a calibration hold measures); pooled over the
    stretches by their length.
``angle_jitter_deg``
    The same for the needle's pitch to the skin, degrees.
``noise_floor_mm``
    The tracker's noise floor as calibration measures it: 4-12 Hz RMS of the tip
    (:func:`sim.tracking.calibration.noise_floor_mm`) over each stretch of at least 1 s,
    pooled by length.
``measured_s``
    Seconds of tracked frames the jitter and floor were measured over (null figures when
    there are none: the hand was not found there).
``latency_ms``
    Tracking time per frame (MediaPipe and the mapping, no decoding), ms.
``processing_s``
    Wall time of this condition (decoding, the condition, tracking), s.
``flags``
    ``[{"figure", "text", "advice"}]``: what :func:`flags` found against ``original``.

The workspace mapping is the uncalibrated default (as ``procsim track`` without
``--calibration-hold``): the same for every condition. With ``--scenario`` the scenario's
depth assist for video input is applied (a snapped depth has no jitter across the arm).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.records import Sample
from sim.errors import UserError
from sim.tracking.conditions import CONDITIONS, DESCRIPTIONS, PARAMS, ConditionParams, Frame
from sim.words import plural

DEFAULT_FRAMES = 300
"""Frames tracked per video and condition by default (our choice: 10-12 s of video, about
20 s of tracking per condition on a 2-core station, so a video takes minutes)."""

STILL_SPEED_MM_S = 40.0
"""The hand is still while its 0.3 s running median moves slower than this, mm/s (our
choice: well below a deliberate movement, above what tracker jitter makes the median do)."""

MIN_STILL_S = 1.0
"""Shortest still stretch, s: the noise floor's 4-12 Hz band needs at least 1 s
(:func:`sim.tracking.calibration.noise_floor_mm`)."""

DETECTION_DROP = 0.10
"""A condition is flagged when its detection rate falls by more than this against the
original (issue 14: "more than 10 points")."""

NOISE_RATIO = 2.0
"""A condition is flagged when its noise floor reaches this multiple of the original's
(issue 14: "doubles")."""

ADVICE: dict[str, str] = {
    "original": "Re-record with the whole hand in view, lit from the front, against a plain "
    "background: the tracker misses the hand in this video as recorded.",
    "mirrored": "If some of your trainees are left-handed: the other hand (the image flipped "
    "left to right) is tracked worse, so audit videos of your left-handed trainees, and read "
    "their webcam scores with care until then.",
    "dim": "If a station is dimly lit, add light in front of the hand (a desk lamp behind the "
    "camera, aimed at the hands).",
    "backlit": "If a window or bright lamp is behind the hands at a station, turn the station "
    "away from it, or add light in front of the hand.",
    "low_contrast": "If a station's background is close to the colour of skin or gloves, or "
    "its camera's picture looks hazy, use a plain, matt background that differs from skin and "
    "gloves, and clean the camera lens.",
    "blur": "If moving hands look smeared in a station's camera picture, reduce motion blur: "
    "more light, so that the camera's exposure is shorter (or a camera set to 60 frames/s).",
    "low_resolution": "If a station's camera gives less than 720p, use 720p (1280x720) or "
    "better: a better camera, or set the camera to its full resolution.",
    "noise": "If a station's camera picture is grainy, add light (it lowers sensor noise); a "
    "better camera (larger sensor) helps too.",
    "warm": "If a station's camera is under tungsten (warm, yellow) light, fix the white "
    "balance: use daylight lamps, or set the camera's white balance by hand instead of "
    "automatic.",
    "cool": "If a station's camera is in shade or under cold (blue) light, fix the white "
    "balance: use daylight lamps, or set the camera's white balance by hand instead of "
    "automatic.",
}
"""What a lab manager can do when a condition is flagged. Every condition but ``original`` is
simulated on the videos given, so its advice says when it applies to a station ("If ...")."""

FLAG_RULES = (
    f"the video as recorded has the hand in under {100 * (1 - DETECTION_DROP):.0f} % of its "
    f"frames; a condition finds the hand in more than {100 * DETECTION_DROP:.0f} percentage "
    "points fewer frames than as recorded; a condition's noise floor is at least "
    f"{'double' if NOISE_RATIO == 2 else f'{NOISE_RATIO:g} times'} the one as recorded; or a "
    "condition's noise floor is not measurable (the hand not tracked for 1 s in a row) where "
    "the video as recorded had one"
)
"""Every rule :func:`flags` applies, in words (the report's header says them all)."""


def moving_warning(video: str, frames: int) -> str:
    """The words for a video whose audited frames hold no still stretch of
    :data:`MIN_STILL_S` (its jitter and floor include the hand's own motion)."""
    return (
        f"{video}: the hand never rests for {MIN_STILL_S:g} s in the "
        f"{plural(frames, 'frame')} audited, so its jitter and noise floor include the hand's "
        f"own motion (upper bounds, not fair to compare): audit frames that include a still hold "
        f"of {MIN_STILL_S:g} s or more (--frames 0 audits every frame)"
    )


class ConditionedGrabber:
    """Frames of a video with an image condition applied (a
    :class:`sim.sources.camera.FrameGrabber`).

    Parameters
    ----------
    inner : FrameGrabber
        The video's frames (an opened :class:`sim.sources.camera.CvCapture`).
    condition : str
        A key of :data:`sim.tracking.conditions.CONDITIONS`.
    frames : int or None
        Stop after this many frames (None: the whole video).
    stride : int
        Keep every ``stride``-th frame (1: all).
    params : ConditionParams
        The conditions' numbers.
    """

    def __init__(
        self,
        inner: Any,
        condition: str,
        frames: int | None = None,
        stride: int = 1,
        params: ConditionParams = PARAMS,
    ) -> None:
        self._inner = inner
        self._fn = CONDITIONS[condition]
        self._frames = frames
        self._stride = max(1, stride)
        self._params = params
        self._read = 0
        self._given = 0
        self.is_video = True
        self.size: tuple[int, int] = inner.size
        self.fps: float = inner.fps / self._stride
        self.condition_s = 0.0
        """Time spent applying the condition, s."""

    def read(self) -> tuple[Frame | None, float | None]:
        if self._frames is not None and self._given >= self._frames:
            return None, None
        while True:
            frame, ts = self._inner.read()
            if frame is None:
                return None, None
            index = self._read
            self._read += 1
            if index % self._stride == 0:
                break
        self._given += 1
        c0 = time.perf_counter()
        out = self._fn(np.asarray(frame, dtype=np.uint8), index, self._params)
        self.condition_s += time.perf_counter() - c0
        return out, ts

    def release(self) -> None:
        self._inner.release()


@dataclass(frozen=True, slots=True)
class ConditionFigures:
    """The tracking figures of one video under one condition (see the module docstring for
    each field)."""

    name: str
    frames: int
    frames_with_hand: int
    jitter_axes_mm: tuple[float, float, float] | None
    angle_jitter_deg: float | None
    noise_floor_mm: float | None
    measured_s: float
    latency_ms: float
    processing_s: float
    flags: tuple[dict[str, str], ...] = ()

    @property
    def detection_rate(self) -> float:
        return self.frames_with_hand / self.frames if self.frames else 0.0

    @property
    def jitter_mm(self) -> float | None:
        if self.jitter_axes_mm is None:
            return None
        return math.sqrt(sum(v * v for v in self.jitter_axes_mm))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "detection_rate": self.detection_rate,
            "jitter_mm": self.jitter_mm,
            "angle_jitter_deg": self.angle_jitter_deg,
            "noise_floor_mm": self.noise_floor_mm,
            "jitter_axes_mm": None if self.jitter_axes_mm is None else list(self.jitter_axes_mm),
            "frames": self.frames,
            "frames_with_hand": self.frames_with_hand,
            "measured_s": self.measured_s,
            "latency_ms": self.latency_ms,
            "processing_s": self.processing_s,
            "flags": [dict(f) for f in self.flags],
        }


@dataclass(frozen=True, slots=True)
class VideoAudit:
    """One video's audit.

    Attributes
    ----------
    video : str
        The video as given.
    image_size : (int, int)
        Width and height, pixels.
    fps : float
        Frames per second tracked (the video's, divided by the stride).
    measured_over : {"still", "moving"}
        Where jitter and floor were measured (module docstring).
    processing_s : float
        Wall time of the whole video's audit, s.
    conditions : tuple of ConditionFigures
        In :data:`sim.tracking.conditions.CONDITIONS` order.
    """

    video: str
    image_size: tuple[int, int]
    fps: float
    measured_over: str
    processing_s: float
    conditions: tuple[ConditionFigures, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "image_size": list(self.image_size),
            "fps": self.fps,
            "measured_over": self.measured_over,
            "processing_s": self.processing_s,
            "conditions": [c.as_dict() for c in self.conditions],
        }


# --- figures (pure) ---------------------------------------------------------------------


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in ``mask``."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def still_frames(samples: Sequence[Sample], min_s: float = MIN_STILL_S) -> np.ndarray | None:
    """Frames where the hand is tracked and still (module docstring), as a boolean mask over
    ``samples``; None when no still stretch lasts ``min_s``."""
    from sim.metrics.noise import running_median

    tracked = np.array([s.tracked for s in samples], bool)
    idx = np.flatnonzero(tracked)
    if len(idx) < 3:
        return None
    t = np.array([samples[i].t_s for i in idx])
    p = np.array([samples[i].tip_mm for i in idx])
    med = running_median(t, p)
    speed = np.linalg.norm(np.gradient(med, t, axis=0), axis=1)
    still = np.zeros(len(samples), bool)
    still[idx[speed < STILL_SPEED_MM_S]] = True
    keep = np.zeros_like(still)
    ts = np.array([s.t_s for s in samples])
    for a, b in _runs(still):
        if ts[b - 1] - ts[a] >= min_s:
            keep[a:b] = True
    return keep if keep.any() else None


def _pooled(values: Sequence[float], weights: Sequence[float]) -> float | None:
    """Root of the weighted mean square (None for nothing finite)."""
    pairs = [(v, w) for v, w in zip(values, weights, strict=True) if math.isfinite(v) and w > 0]
    if not pairs:
        return None
    return math.sqrt(sum(w * v * v for v, w in pairs) / sum(w for _, w in pairs))


def measure(
    name: str,
    samples: Sequence[Sample],
    basis: np.ndarray,
    tracking_s: float = 0.0,
    processing_s: float = 0.0,
) -> ConditionFigures:
    """The figures of one condition's Samples over the frames in ``basis``.

    Parameters
    ----------
    name : str
        The condition.
    samples : sequence of Sample
        One per frame.
    basis : (n,) bool array
        The frames to measure jitter and floor over (the original's still frames, or all).
    tracking_s, processing_s : float
        Time tracking, and the condition's whole wall time, s.
    """
    from sim.metrics.noise import jitter, needle_angles_deg
    from sim.tracking.calibration import noise_floor_mm

    n = len(samples)
    tracked = np.array([s.tracked for s in samples], bool)
    mask = tracked & np.asarray(basis[:n], bool) if n else tracked
    axes: list[list[float]] = [[], [], []]
    angle: list[float] = []
    floors: list[float] = []
    weights: list[float] = []
    floor_w: list[float] = []
    measured = 0.0
    for a, b in _runs(mask):
        run = samples[a:b]
        if len(run) < 3:
            continue
        t = np.array([s.t_s for s in run])
        tip = np.array([s.tip_mm for s in run])
        j = jitter(t, tip)
        pitch = jitter(t, needle_angles_deg([s.axis for s in run], [s.normal for s in run]))[0]
        span = float(t[-1] - t[0])
        measured += span
        weights.append(len(run))
        for k in range(3):
            axes[k].append(j[k])
        angle.append(pitch)
        if span >= MIN_STILL_S:
            floors.append(noise_floor_mm(t, tip))
            floor_w.append(len(run))
    jit = [_pooled(axes[k], weights) for k in range(3)]
    jitter_axes = None if any(v is None for v in jit) else (jit[0], jit[1], jit[2])
    return ConditionFigures(
        name=name,
        frames=n,
        frames_with_hand=int(tracked.sum()),
        jitter_axes_mm=jitter_axes,  # type: ignore[arg-type]
        angle_jitter_deg=_pooled(angle, weights),
        noise_floor_mm=_pooled(floors, floor_w),
        measured_s=measured,
        latency_ms=1000.0 * tracking_s / n if n else 0.0,
        processing_s=processing_s,
    )


def flags(
    original: Mapping[str, Any], condition: Mapping[str, Any], measured_over: str = "still"
) -> list[dict[str, str]]:
    """What is wrong with ``condition``'s figures against ``original``'s (their JSON forms).

    A condition is flagged when its detection rate falls by more than :data:`DETECTION_DROP`
    (10 points), when its noise floor reaches :data:`NOISE_RATIO` times the original's, or
    when the original had a noise floor and the condition has none (the hand was lost where
    it was still; with ``measured_over`` ``"moving"``, where it was tracked). ``original``
    itself is flagged when it finds the hand in under ``1 - DETECTION_DROP`` of its frames.

    Returns
    -------
    list of dict
        ``{"figure", "text", "advice"}`` each; empty when all is well.
    """
    name = str(condition["name"])
    advice = ADVICE.get(name, "")
    out: list[dict[str, str]] = []
    d0, d1 = float(original["detection_rate"]), float(condition["detection_rate"])
    if name == "original":
        if d1 < 1.0 - DETECTION_DROP:
            out.append(
                {
                    "figure": "detection_rate",
                    "text": "hand never found in the video as recorded"
                    if d1 == 0
                    else f"hand found in only {100 * d1:.0f} % of frames as recorded",
                    "advice": advice,
                }
            )
        return out
    if d0 - d1 > DETECTION_DROP:
        out.append(
            {
                "figure": "detection_rate",
                "text": f"hand found in {100 * d1:.0f} % of frames "
                f"({100 * (d0 - d1):.0f} points fewer than as recorded)",
                "advice": advice,
            }
        )
    f0, f1 = original.get("noise_floor_mm"), condition.get("noise_floor_mm")
    if isinstance(f0, (int, float)) and f0 > 0:
        if isinstance(f1, (int, float)) and f1 >= NOISE_RATIO * f0:
            out.append(
                {
                    "figure": "noise_floor_mm",
                    "text": f"noise floor {f1:.2f} mm, {f1 / f0:.1f} times the {f0:.2f} mm "
                    "as recorded",
                    "advice": advice,
                }
            )
        elif f1 is None:
            out.append(
                {
                    "figure": "noise_floor_mm",
                    "text": "noise floor not measurable: the hand was lost where it was still "
                    "as recorded"
                    if measured_over == "still"
                    else "noise floor not measurable: the hand was not tracked for 1 s in a row",
                    "advice": advice,
                }
            )
    return out


# --- running it -------------------------------------------------------------------------


def audit_video(
    video: str,
    *,
    conditions: Sequence[str] = tuple(CONDITIONS),
    frames: int | None = DEFAULT_FRAMES,
    stride: int = 1,
    dominant: str = "right",
    scenario: str | None = None,
    params: ConditionParams = PARAMS,
    progress: Any = None,
) -> VideoAudit:
    """Track ``video`` under each condition and measure it (module docstring).

    Parameters
    ----------
    video : str
        Video file.
    conditions : sequence of str
        Conditions to run; ``original`` is always run first (the others are compared to it).
    frames : int or None
        Frames per condition (None: all).
    stride : int
        Track every ``stride``-th frame.
    dominant : {"right", "left"}
        The driving hand as recorded (``mirrored`` tracks the other one).
    scenario : str, optional
        Scenario id or path whose depth assist for video input to apply.
    progress : callable, optional
        Called with one line of text after each condition.

    Raises
    ------
    UserError
        A video that cannot be opened or read.
    """
    from sim.sources.camera import CvCapture, InputSpec
    from sim.tracking.commands import track_video
    from sim.tracking.tracker import TrackerConfig

    assist = None
    if scenario is not None:
        from sim.scenarios import depth_assist, find_scenario

        assist = depth_assist(find_scenario(scenario), "video")
    names = ["original"] + [c for c in conditions if c != "original"]
    other = "left" if dominant == "right" else "right"
    c0 = time.perf_counter()
    results: list[ConditionFigures] = []
    basis: np.ndarray | None = None
    measured_over = "still"
    size: tuple[int, int] = (0, 0)
    fps = 0.0
    for name in names:
        k0 = time.perf_counter()
        grabber = ConditionedGrabber(
            CvCapture(InputSpec("video", path=video)), name, frames, stride, params
        )
        size, fps = grabber.size, grabber.fps
        config = TrackerConfig(dominant=other if name == "mirrored" else dominant)
        run = track_video(video, config, grabber=grabber, assist=assist)
        if not run.samples:
            raise UserError(f"{video}: no frames")
        if basis is None:
            basis = still_frames(run.samples)
            if basis is None:
                measured_over = "moving"
                basis = np.ones(len(run.samples), bool)
        fig = measure(name, run.samples, basis, run.tracking_s, time.perf_counter() - k0)
        results.append(fig)
        if progress is not None:
            progress(
                f"  {name:15s} {plural(len(run.samples), 'frame')} in {fig.processing_s:5.1f} s, "
                f"hand in {100 * fig.detection_rate:3.0f} %"
            )
    orig = results[0].as_dict()
    flagged = tuple(
        ConditionFigures(
            **{k: getattr(f, k) for k in ConditionFigures.__dataclass_fields__ if k != "flags"},
            flags=tuple(flags(orig, f.as_dict(), measured_over)),
        )
        for f in results
    )
    return VideoAudit(video, size, fps, measured_over, time.perf_counter() - c0, flagged)


def check_videos(videos: Sequence[str]) -> None:
    """Every video exists and opens (UserError, one line, for the first that does not)."""
    from sim.sources.camera import CvCapture, InputSpec

    for v in videos:
        CvCapture(InputSpec("video", path=v)).release()


def audit_json(
    audits: Sequence[VideoAudit], groups: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The ``--json`` document: ``{"videos": [...]}``, plus ``"groups"`` with a groups file."""
    doc: dict[str, Any] = {"videos": [a.as_dict() for a in audits]}
    if groups is not None:
        from sim.tracking.groups import group_figures

        doc["groups"] = group_figures(doc["videos"], groups).to_json()
    return _finite(doc)


def _finite(v: Any) -> Any:
    """NaN and infinities as null (strict JSON)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


# --- the report -------------------------------------------------------------------------


def _num(v: object, fmt: str) -> str:
    return format(v, fmt) if isinstance(v, (int, float)) and math.isfinite(v) else "–"


def report_html(doc: Mapping[str, Any], frames: int | None, stride: int) -> str:
    """The audit report (a self-contained HTML page) from :func:`audit_json`'s document."""
    from sim.report.html import esc, page, table, td

    parts = ["<h1>Tracking audit</h1>"]
    videos = doc["videos"]
    n_cond = len({c["name"] for v in videos for c in v["conditions"]})
    limit = "all frames" if frames is None else f"up to the first {frames} frames"
    parts.append(
        f'<p class="meta">{len(videos)} video{"s" if len(videos) != 1 else ""}; '
        f"{esc(limit)} of each{'' if stride == 1 else f', every {stride}th'}; "
        f"{plural(n_cond, 'condition')}. Flagged when {esc(FLAG_RULES)}. Every condition "
        "but the original is simulated on the videos given: its advice applies to a station "
        "only if the station has that condition.</p>"
    )
    # what to do: each piece of advice once, with where it came from
    todo: dict[str, list[str]] = {}
    for v in videos:
        for c in v["conditions"]:
            for f in c["flags"]:
                todo.setdefault(f["advice"], []).append(f"{Path(v['video']).name}: {c['name']}")
    parts.append("<h2>What to do</h2>")
    if todo:
        items = "".join(
            f"<li>{esc(a)} <span class='desc'>({esc('; '.join(dict.fromkeys(w)))})</span></li>"
            for a, w in todo.items()
        )
        parts.append(f'<ul class="advice">{items}</ul>')
    else:
        parts.append("<p>No condition was flagged: tracking held up under every condition.</p>")
    parts.append(
        "<p class='why'>The conditions are made from the videos given, so these figures say how "
        "the tracker copes with the hands, skin, gloves and rooms in those videos, and nothing "
        "about others. An audit is as good as the videos behind it: record your own trainees "
        "(with their consent) at your own stations.</p>"
    )
    for v in videos:
        w, h = v["image_size"]
        n = v["conditions"][0]["frames"] if v["conditions"] else 0
        over = (
            "still stretches of the hand"
            if v["measured_over"] == "still"
            else f"all tracked frames (the hand never rests for {MIN_STILL_S:g} s in the "
            f"{plural(n, 'frame')} audited: jitter and floor are upper bounds)"
        )
        parts.append(f"<h2>{esc(Path(v['video']).name)}</h2>")
        parts.append(
            f'<p class="meta">{esc(v["video"])}: {w}x{h}, {_num(v["fps"], ".0f")} frames/s; '
            f"jitter and noise floor over {esc(over)}; audited in "
            f"{_num(v['processing_s'], '.0f')} s.</p>"
        )
        if v["measured_over"] != "still":
            warning = esc(moving_warning(v["video"], n))
            parts.append(f"<p class='why'><b>Warning:</b> {warning}.</p>")
        rows = []
        for c in v["conditions"]:
            flagged = {f["figure"] for f in c["flags"]}

            def cell(key: str, text: str, flagged: set[str] = flagged) -> str:
                if key in flagged:
                    return f'<td class="num critical"><b>{esc(text)}</b></td>'
                return td(text, numeric=True)

            note = "; ".join(f["text"] for f in c["flags"])
            rows.append(
                [
                    td(
                        f"<b>{esc(c['name'].replace('_', ' '))}</b><br>"
                        f"<span class='desc'>{esc(DESCRIPTIONS.get(c['name'], ''))}</span>",
                        raw=True,
                    ),
                    cell("detection_rate", f"{100 * c['detection_rate']:.0f} %"),
                    td(_num(c["jitter_mm"], ".2f"), numeric=True),
                    td(_num(c["angle_jitter_deg"], ".1f"), numeric=True),
                    cell("noise_floor_mm", _num(c["noise_floor_mm"], ".2f")),
                    td(_num(c["latency_ms"], ".0f"), numeric=True),
                    td(f'<span class="critical">{esc(note)}</span>' if note else "", raw=True),
                ]
            )
        parts.append(
            table(
                [
                    "condition",
                    "hand found",
                    "jitter mm",
                    "angle jitter °",
                    "noise floor mm",
                    "ms/frame",
                    "flag",
                ],
                rows,
                numeric=(1, 2, 3, 4, 5),
            )
        )
    if "groups" in doc:
        parts.append(_groups_html(doc["groups"]))
    parts.append("<h2>How to read this</h2>")
    parts.append(
        "<ul>"
        "<li><b>hand found</b>: frames in which the tracker found the driving hand.</li>"
        "<li><b>jitter</b>: how far one reading of the needle tip strays from where the hand "
        "is (SD about a 0.3 s running median, all three axes together, mm in the scene after "
        "the default workspace mapping); <b>angle jitter</b> the same for the needle's angle "
        "to the skin.</li>"
        "<li><b>noise floor</b>: the tracker's jitter in the 4-12 Hz tremor band, as the "
        "calibration hold measures it; tremor is reported only above it, so a higher floor "
        "hides more of a trainee's tremor.</li>"
        "<li><b>ms/frame</b>: tracking time per frame on this computer.</li>"
        "<li>The conditions are simulated from each video (one global change per frame); real "
        "dim or backlit rooms also change the camera's own exposure and noise, so treat the "
        "figures as a guide and confirm with a video recorded in the room itself.</li>"
        "</ul>"
    )
    return page("Tracking audit", "\n".join(parts))


def _groups_html(groups: Mapping[str, Any]) -> str:
    from sim.report.html import esc, table, td
    from sim.tracking.groups import group_warnings, largest_gaps

    parts = ["<h2>Groups</h2>"]
    pct = f"{100 * groups['confidence']:.0f} %"
    parts.append(
        f"<p class='meta'>Mean of each figure per group, and the largest gap between groups "
        f"with its {pct} interval (bootstrap over videos, {groups['resamples']} resamples). "
        "A gap whose interval includes 0 is not evidence of a difference.</p>"
    )
    for line in group_warnings(groups):
        parts.append(f"<p class='why'><b>Warning:</b> {esc(line)}.</p>")
    summary = largest_gaps(groups, shared_notes=False)  # the notes follow
    if summary:
        items = "".join(f"<li>{esc(line)}</li>" for line in summary)
        parts.append(f"<p>Largest gap of each figure, over every condition:</p><ul>{items}</ul>")
    # a note shared by several rows is said once, above the table, and referred to by number
    counts: dict[str, int] = {}
    for c in groups["conditions"]:
        for f in c["figures"]:
            if f["note"]:
                counts[f["note"]] = counts.get(f["note"], 0) + 1
    shared = [n for n, k in counts.items() if k > 1]
    if shared:
        items = "".join(f"<li>{esc(n)}</li>" for n in shared)
        parts.append(f"<p>Notes:</p><ol class='notes'>{items}</ol>")
    rows = []
    for c in groups["conditions"]:
        for f in c["figures"]:
            scale = 100.0 if f["figure"] == "detection_rate" else 1.0
            fmt = ".0f" if scale == 100.0 else ".2f"
            means = ", ".join(
                f"{g['group']} {_num(None if g['mean'] is None else scale * g['mean'], fmt)}"
                f" (n={g['videos']})"
                for g in f["groups"]
            )
            if f["gap"] is None:
                gap = "–"
            elif f["ci_low"] is None:
                gap = _num(scale * f["gap"], fmt)
            else:
                gap = (
                    f"{_num(scale * f['gap'], fmt)} [{_num(scale * f['ci_low'], fmt)}, "
                    f"{_num(scale * f['ci_high'], fmt)}]"
                )
            label = f["figure"].replace("detection_rate", "hand found %").replace("_", " ")
            rows.append(
                [
                    td(c["name"].replace("_", " ")),
                    td(label),
                    td(means),
                    td(gap, numeric=True),
                    td(f"note {shared.index(f['note']) + 1}" if f["note"] in shared else f["note"]),
                ]
            )
    parts.append(table(["condition", "figure", "groups", "gap", "note"], rows, numeric=(3,)))
    return "\n".join(parts)


# --- command line -----------------------------------------------------------------------


def _cmd_audit(args: argparse.Namespace) -> int:
    conditions = list(CONDITIONS)
    if args.conditions:
        conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
        bad = [c for c in conditions if c not in CONDITIONS]
        if bad or not conditions:
            raise UserError(
                f"--conditions {args.conditions}: unknown condition {bad[0] if bad else ''!r} "
                f"(expected some of: {', '.join(CONDITIONS)})"
            )
    if args.frames < 0:
        raise UserError(f"--frames {args.frames}: expected a number of frames (0: all)")
    if args.stride < 1:
        raise UserError(f"--stride {args.stride}: expected 1 or more")
    frames = None if args.frames == 0 else args.frames
    groups = None
    if args.groups:
        from sim.tracking.groups import read_groups

        groups = read_groups(Path(args.groups))
    if args.scenario:
        from sim.scenarios import find_scenario

        find_scenario(args.scenario)
    check_videos(args.video)
    if groups is not None:
        from sim.tracking.groups import group_warnings, match_groups, unmatched_entries

        matched = match_groups(args.video, groups)
        for line in group_warnings(
            {
                "videos_without_group": [v for v in args.video if v not in matched],
                "entries_without_video": unmatched_entries(args.video, groups),
            }
        ):
            print(f"procsim: warning: {args.groups}: {line}", file=sys.stderr, flush=True)
    out = Path(args.output) if args.output else None
    if out is not None:
        check_writable(out)
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if args.json else print
    audits = []
    for v in args.video:
        say(f"{v}:")
        a = audit_video(
            v,
            conditions=conditions,
            frames=frames,
            stride=args.stride,
            dominant=args.hand,
            scenario=args.scenario,
            progress=say,
        )
        audits.append(a)
        n = a.conditions[0].frames
        say(
            f"{v}: {plural(len(a.conditions), 'condition')} x {plural(n, 'frame')} in "
            f"{a.processing_s:.0f} s "
            f"({a.processing_s / max(1, len(a.conditions)):.1f} s a condition)"
        )
        if a.measured_over != "still":
            print(f"procsim: warning: {moving_warning(v, n)}", file=sys.stderr, flush=True)
    doc = audit_json(audits, groups)
    if out is not None:
        try:
            out.write_text(report_html(doc, frames, args.stride), encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{out}: cannot write ({exc.strerror})") from None
        say(f"report: {out}")
    if args.json:
        print(json.dumps(doc, indent=2, allow_nan=False))
        return 0
    for v in doc["videos"]:
        n = v["conditions"][0]["frames"] if v["conditions"] else 0
        where = (
            "jitter and floor over the still stretches"
            if v["measured_over"] == "still"
            else f"the hand never rests for {MIN_STILL_S:g} s in the {plural(n, 'frame')} "
            "audited: jitter and floor are upper bounds"
        )
        print(f"\n{v['video']} ({where}):")
        print(
            f"  {'condition':15s} {'hand':>5s} {'jitter':>7s} {'angle':>6s} {'noise':>6s} "
            f"{'ms/frame':>8s}"
        )
        print(f"  {'':15s} {'found':>5s} {'mm':>7s} {'deg':>6s} {'floor':>6s}")
        for c in v["conditions"]:
            print(
                f"  {c['name']:15s} {100 * c['detection_rate']:4.0f}% "
                f"{_num(c['jitter_mm'], '7.2f'):>7s} {_num(c['angle_jitter_deg'], '6.1f'):>6s} "
                f"{_num(c['noise_floor_mm'], '6.2f'):>6s} {_num(c['latency_ms'], '.0f'):>8s}"
                + "".join(f"\n    ! {f['text']}: {f['advice']}" for f in c["flags"])
            )
    if "groups" in doc:
        from sim.tracking.groups import group_warnings, largest_gaps

        print("\nGroups: largest gap of each figure, over every condition")
        for line in largest_gaps(doc["groups"]):
            print(f"  {line}")
        for line in group_warnings(doc["groups"]):
            print(f"  warning: {line}")
        print("  (every condition and figure: --json or -o REPORT.html)")
    return 0


def check_writable(out: Path) -> None:
    """Refuse, in one line, a report path that cannot be written (checked before the audit,
    which takes minutes): a folder, a missing folder, or one that refuses the file. The file
    is opened for appending (nothing of it changes) and removed again if it was not there."""
    if out.is_dir():
        raise UserError(f"{out}: is a folder (expected an .html file to write)")
    parent = out.parent
    if not parent.is_dir():
        raise UserError(f"{out}: cannot write: there is no folder {parent}")
    existed = out.exists()
    try:
        with out.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror})") from None
    if not existed:
        out.unlink(missing_ok=True)


def register(subparsers: Any) -> None:
    """Add ``procsim audit-tracking`` to the command line."""
    p = subparsers.add_parser(
        "audit-tracking",
        help="how well the hand tracker sees your videos in poor light, at low resolution...",
        description="Track each video as recorded and under simulated conditions (the other "
        "hand, dim, backlit, low contrast, motion blur, 320x180, sensor noise, warm and cool "
        "white balance), measure detection, jitter, noise floor and tracking time, and flag "
        "each condition that makes tracking clearly worse, with what to do about it.",
    )
    p.add_argument("video", nargs="+", help="video files (any format OpenCV reads)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("-o", "--output", metavar="REPORT.html", help="write an HTML report")
    p.add_argument(
        "--groups",
        metavar="FILE.csv",
        help="CSV with columns video,group: add per-group figures and the gaps between groups",
    )
    p.add_argument("--scenario", help="apply this scenario's depth assist for video input")
    p.add_argument(
        "--frames",
        type=int,
        default=DEFAULT_FRAMES,
        metavar="N",
        help=f"frames per video and condition (default {DEFAULT_FRAMES}; 0: all)",
    )
    p.add_argument(
        "--stride", type=int, default=1, metavar="K", help="track every K-th frame (default 1)"
    )
    p.add_argument(
        "--conditions",
        metavar="A,B",
        help=f"only these conditions (default all: {', '.join(CONDITIONS)})",
    )
    p.add_argument(
        "--hand", choices=["right", "left"], default="right", help="the hand in the videos"
    )
    p.set_defaults(func=_cmd_audit)
