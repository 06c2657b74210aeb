"""Per-group tracking figures for ``procsim audit-tracking --groups FILE.csv``.

A lab lists which group each audited video belongs to (self-described skin tone, hand size,
age band, glove or bare hand: whatever it wants to compare) in a CSV file with the header
``video,group``. For every audit condition and every figure this module gives each group's
mean over its videos and the largest gap between groups, with a percentile bootstrap
confidence interval over videos. Pure numpy: no cv2, no mediapipe.

Matching videos
---------------
The ``video`` column names a video either

- by **file name** alone (no folder, e.g. ``p07_left.mp4``): it matches every audited video
  with that file name, in whatever folder; if two audited videos share it, that is an error
  (give their paths instead); or
- by **path** (anything with a folder, e.g. ``videos/p07_left.mp4``): it matches the audited
  video with the same path once both are made absolute; relative paths are taken from the
  current directory, as the ``VIDEO`` arguments of ``procsim audit-tracking`` are.

A path entry wins over a file-name entry for the same video. An audited video the file does
not list is left out of the group figures and named under ``videos_without_group``; an entry
that matches no audited video is named under ``entries_without_video``.

The gap and its interval
------------------------
For each condition and figure, each group's mean is taken over its videos that have the figure
(a video where the hand was never detected has no jitter: it counts for detection rate only).
The gap is the highest group mean minus the lowest (ties broken by group name); its interval
is the percentile bootstrap of the difference between **those two groups' means**, resampling
videos with replacement within each group (``resamples`` times, from ``seed``: the same input
gives the same interval). It does not allow for having picked the two extremes out of several
groups, so with many groups it is somewhat narrow. A group of **one video** has no spread to
resample: the interval would pretend that video's figure is the group's exact mean, so none is
given, and :attr:`GroupGap.note` says so in words. An interval of zero width is genuine: every
video of both groups had the same figure.
"""

from __future__ import annotations

import csv
import io
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import UserError, read_bytes

#: The audit figures compared between groups, in the order they are reported. The unit is in
#: each name (``detection_rate`` is a fraction 0..1).
FIGURES = ("detection_rate", "jitter_mm", "angle_jitter_deg", "noise_floor_mm")

#: Bootstrap resamples by default: enough that the 2.5 and 97.5 percentiles move by well under
#: the figures' last shown digit between seeds (our choice).
DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
#: How each figure is named and shown in words: (label, unit, scale, decimals); a detection
#: rate (a fraction) is shown in percent, its gaps in percentage points.
FIGURE_WORDS: dict[str, tuple[str, str, float, int]] = {
    "detection_rate": ("detection rate", "%", 100.0, 0),
    "jitter_mm": ("landmark jitter", " mm", 1.0, 2),
    "angle_jitter_deg": ("needle angle jitter", "°", 1.0, 1),
    "noise_floor_mm": ("noise floor", " mm", 1.0, 2),
}
_MAX_FILE_BYTES = 10_000_000  # a groups file lists videos; 10 MB is far past any lab's


def read_groups(path: Path) -> dict[str, str]:
    """The group of each video a groups CSV lists: ``{video as written: group}``.

    Parameters
    ----------
    path : Path
        A UTF-8 CSV file whose header names the columns ``video`` and ``group`` (in any order,
        any case; other columns are ignored), then one line per video. Blank lines are skipped.
        A video listed twice with the same group is fine; with different groups it is an error.

    Returns
    -------
    dict of str to str
        Video (file name or path, stripped of surrounding spaces) to group (stripped).

    Raises
    ------
    UserError
        One line naming the file, the line and what was expected: unreadable or not UTF-8,
        no header or a header without ``video`` or ``group``, a line without those columns,
        an empty video or group, a video given two groups, no videos at all.
    """
    data = read_bytes(path, "groups file", UserError)
    if len(data) > _MAX_FILE_BYTES:
        raise UserError(f"{path}: {len(data)} bytes; a groups file is expected under 10 MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}: line {line}: not UTF-8 text (expected a CSV file)") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise UserError(f"{path}: line {line}: NUL byte (expected a text CSV file)")
    reader = csv.reader(io.StringIO(text, newline=""))
    groups: dict[str, str] = {}
    first_line: dict[str, int] = {}
    columns: tuple[int, int] | None = None
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _header_columns(path, line, row)
                continue
            v_col, g_col = columns
            if len(row) <= max(v_col, g_col):
                raise UserError(
                    f"{path}: line {line}: {len(row)} column(s); expected 'video,group' "
                    f"as in the header"
                )
            video, group = row[v_col].strip(), row[g_col].strip()
            if not video:
                raise UserError(f"{path}: line {line}: empty video (expected a file name or path)")
            if not group:
                raise UserError(f"{path}: line {line}: video {video!r} has an empty group")
            if video in groups and groups[video] != group:
                raise UserError(
                    f"{path}: line {line}: video {video!r} is in group {group!r} here but in "
                    f"{groups[video]!r} on line {first_line[video]} (expected one group per video)"
                )
            groups.setdefault(video, group)
            first_line.setdefault(video, line)
    except csv.Error as exc:
        raise UserError(f"{path}: line {reader.line_num}: not valid CSV ({exc})") from None
    if columns is None:
        raise UserError(f"{path}: empty; expected a header 'video,group' and a line per video")
    if not groups:
        raise UserError(
            f"{path}: no videos after the header (expected one 'video,group' line each)"
        )
    return groups


def _header_columns(path: Path, line: int, row: list[str]) -> tuple[int, int]:
    names = [cell.strip().lower() for cell in row]
    missing = [c for c in ("video", "group") if c not in names]
    if missing:
        raise UserError(
            f"{path}: line {line}: header has no column {' or '.join(repr(m) for m in missing)} "
            f"(expected a header 'video,group')"
        )
    return names.index("video"), names.index("group")


def match_groups(videos: Sequence[str], groups: Mapping[str, str]) -> dict[str, str]:
    """Each audited video's group, matched as the module docstring says.

    Parameters
    ----------
    videos : sequence of str
        The audited videos as given on the command line.
    groups : mapping of str to str
        :func:`read_groups`'s result.

    Returns
    -------
    dict of str to str
        Audited video (as given) to group, for the videos the file lists.

    Raises
    ------
    UserError
        A file-name entry that matches two audited videos in different folders.
    """
    by_path = {_absolute(v): g for v, g in groups.items() if _has_folder(v)}
    by_name = {v: g for v, g in groups.items() if not _has_folder(v)}
    named: dict[str, list[str]] = {}
    for video in videos:
        named.setdefault(Path(video).name, []).append(video)
    for name in by_name:
        if len(set(map(_absolute, named.get(name, [])))) > 1:
            raise UserError(
                f"groups: {name!r} matches {len(named[name])} audited videos "
                f"({', '.join(named[name])}); give their paths instead of the file name"
            )
    matched: dict[str, str] = {}
    for video in videos:
        group = by_path.get(_absolute(video), by_name.get(Path(video).name))
        if group is not None:
            matched[video] = group
    return matched


def _has_folder(video: str) -> bool:
    return Path(video).name != video


def _absolute(video: str) -> str:
    return str(Path(video).expanduser().resolve(strict=False))


def unmatched_entries(videos: Sequence[str], groups: Mapping[str, str]) -> list[str]:
    """The entries of a groups file that match none of ``videos`` (in file order)."""
    paths = {_absolute(v) for v in videos}
    names = {Path(v).name for v in videos}
    return [v for v in groups if (_absolute(v) not in paths if _has_folder(v) else v not in names)]


@dataclass(frozen=True, slots=True)
class GroupMean:
    """One group's mean of one figure under one condition.

    Attributes
    ----------
    group : str
        The group as the CSV names it.
    videos : int
        Videos of the group that have the figure (the mean is over these).
    mean : float or None
        Mean over those videos, in the figure's unit (its name's suffix); None when none has it.
    """

    group: str
    videos: int
    mean: float | None


@dataclass(frozen=True, slots=True)
class GroupGap:
    """The groups' means of one figure under one condition, and the largest gap between them.

    Attributes
    ----------
    condition : str
        Audit condition (``original``, ``mirrored``, ``dim``...).
    figure : str
        One of :data:`FIGURES`; values below are in its unit.
    groups : tuple of GroupMean
        Every group, by name.
    highest, lowest : str or None
        The groups with the highest and lowest mean (None with fewer than two groups with one).
    gap : float or None
        ``highest``'s mean minus ``lowest``'s, >= 0; None with fewer than two groups with a mean.
    ci_low, ci_high : float or None
        Percentile bootstrap interval of that difference at :attr:`confidence`; None when
        there is no gap or when either group has a single video (see :attr:`note`).
    confidence : float
        The interval's coverage (0.95: the 2.5th to the 97.5th percentile).
    note : str
        In words, why there is no gap or no interval ("" when both are given).
    """

    condition: str
    figure: str
    groups: tuple[GroupMean, ...]
    highest: str | None
    lowest: str | None
    gap: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    note: str

    def words(self) -> str:
        """One line for a lab manager: ``"landmark jitter: highest 'glove' 0.41 mm, lowest
        'bare' 0.22 mm; gap 0.19 mm (95% interval 0.08 to 0.31 mm)"``, or why there is none."""
        label, unit, scale, dp = FIGURE_WORDS.get(self.figure, (self.figure, "", 1.0, 3))
        gap_unit = " points" if unit == "%" else unit

        def shown(v: float, u: str) -> str:
            return f"{v * scale:.{dp}f}{u}"

        if self.gap is None or self.highest is None or self.lowest is None:
            return f"{label}: {self.note}"
        means = {g.group: g.mean for g in self.groups}
        hi, lo = means[self.highest], means[self.lowest]
        assert hi is not None and lo is not None
        line = (
            f"{label}: highest {self.highest!r} {shown(hi, unit)}, lowest {self.lowest!r} "
            f"{shown(lo, unit)}; gap {shown(self.gap, gap_unit)}"
        )
        if self.ci_low is not None and self.ci_high is not None:
            line += (
                f" ({self.confidence:.0%} interval {shown(self.ci_low, '')} to "
                f"{shown(self.ci_high, gap_unit)})"
            )
        return line + (f"; {self.note}" if self.note else "")

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form (None for what is not given)."""
        return {
            "figure": self.figure,
            "groups": [{"group": g.group, "videos": g.videos, "mean": g.mean} for g in self.groups],
            "highest": self.highest,
            "lowest": self.lowest,
            "gap": self.gap,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """Per-group figures of a whole audit: what goes under ``"groups"`` in its JSON.

    Attributes
    ----------
    gaps : tuple of GroupGap
        One per condition and figure, conditions in the audit's order, figures in
        :data:`FIGURES` order.
    videos_without_group : tuple of str
        Audited videos the groups file does not list (left out of the figures).
    entries_without_video : tuple of str
        Groups-file entries that match no audited video.
    resamples : int
        Bootstrap resamples behind every interval.
    seed : int
        The bootstrap's seed.
    confidence : float
        The intervals' coverage.
    """

    gaps: tuple[GroupGap, ...]
    videos_without_group: tuple[str, ...]
    entries_without_video: tuple[str, ...]
    resamples: int
    seed: int
    confidence: float

    def gap(self, condition: str, figure: str) -> GroupGap:
        """The gap of ``figure`` under ``condition`` (KeyError if the audit has neither)."""
        for g in self.gaps:
            if g.condition == condition and g.figure == figure:
                return g
        raise KeyError((condition, figure))

    def to_json(self) -> dict[str, Any]:
        """``{"resamples", "seed", "confidence", "videos_without_group",
        "entries_without_video", "conditions": [{"name", "figures": [GroupGap.to_json()]}]}``."""
        conditions: dict[str, list[dict[str, Any]]] = {}
        for g in self.gaps:
            conditions.setdefault(g.condition, []).append(g.to_json())
        return {
            "resamples": self.resamples,
            "seed": self.seed,
            "confidence": self.confidence,
            "videos_without_group": list(self.videos_without_group),
            "entries_without_video": list(self.entries_without_video),
            "conditions": [{"name": c, "figures": f} for c, f in conditions.items()],
        }


def group_figures(
    videos: Sequence[Mapping[str, Any]],
    groups: Mapping[str, str],
    *,
    figures: Sequence[str] = FIGURES,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = DEFAULT_CONFIDENCE,
) -> GroupFigures:
    """Each group's mean and the largest gap, per condition and figure, of an audit.

    Parameters
    ----------
    videos : sequence of mapping
        The audit's per-video results in its JSON form: ``{"video": str, "conditions":
        [{"name": str, "detection_rate": float, "jitter_mm": float or None, ...}]}``. A figure
        that is None, missing or not finite counts as "not measured" for that video.
    groups : mapping of str to str
        :func:`read_groups`'s result (matched to the videos by :func:`match_groups`).
    figures : sequence of str
        Figures to compare (default :data:`FIGURES`).
    resamples : int
        Bootstrap resamples (>= 1).
    seed : int
        Seed of the bootstrap; each condition and figure draws from its own stream derived from
        it, so adding a condition does not change another's interval.
    confidence : float
        Coverage of the intervals, in (0, 1).

    Returns
    -------
    GroupFigures
    """
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    names = [str(v["video"]) for v in videos]
    group_of = match_groups(names, groups)
    conditions: list[str] = []
    for v in videos:
        for c in v["conditions"]:
            if c["name"] not in conditions:
                conditions.append(c["name"])
    gaps = []
    for condition in conditions:
        for figure in figures:
            per_group: dict[str, list[float]] = {g: [] for g in sorted(set(group_of.values()))}
            for v in videos:
                group = group_of.get(str(v["video"]))
                if group is None:
                    continue
                value = _figure(v, condition, figure)
                if value is not None:
                    per_group[group].append(value)
            rng = np.random.default_rng([seed, zlib.crc32(f"{condition}\0{figure}".encode())])
            gaps.append(_gap(condition, figure, per_group, rng, resamples, confidence))
    return GroupFigures(
        gaps=tuple(gaps),
        videos_without_group=tuple(n for n in names if n not in group_of),
        entries_without_video=tuple(unmatched_entries(names, groups)),
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


def _figure(video: Mapping[str, Any], condition: str, figure: str) -> float | None:
    for c in video["conditions"]:
        if c["name"] == condition:
            value = c.get(figure)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value) if math.isfinite(value) else None
            return None
    return None


def _gap(
    condition: str,
    figure: str,
    per_group: Mapping[str, list[float]],
    rng: np.random.Generator,
    resamples: int,
    confidence: float,
) -> GroupGap:
    means = tuple(
        GroupMean(g, len(vals), float(np.mean(vals)) if vals else None)
        for g, vals in per_group.items()
    )
    measured = [m for m in means if m.mean is not None]
    empty = [m.group for m in means if m.mean is None]
    unmeasured = (
        f"; not measured in any video of {', '.join(repr(g) for g in empty)}" if empty else ""
    )

    def gap(**kw: Any) -> GroupGap:
        base: dict[str, Any] = dict(
            condition=condition,
            figure=figure,
            groups=means,
            highest=None,
            lowest=None,
            gap=None,
            ci_low=None,
            ci_high=None,
            confidence=confidence,
            note="",
        )
        base.update(kw)
        return GroupGap(**base)

    if len(measured) < 2:
        return gap(note=f"no gap: fewer than two groups have this figure{unmeasured}")
    # Highest mean first, ties by group name: two distinct groups even when all means are equal.
    order = sorted(measured, key=lambda m: (-_mean(m), m.group))
    hi, lo = order[0], order[-1]
    point = _mean(hi) - _mean(lo)
    single = sorted(m.group for m in (hi, lo) if m.videos == 1)  # the same words each time
    if single:
        return gap(
            highest=hi.group,
            lowest=lo.group,
            gap=point,
            note=(
                (
                    f"no interval: group {single[0]!r} has only one video"
                    if len(single) == 1
                    else f"no interval: groups {single[0]!r} and {single[1]!r} have only one "
                    "video each"
                )
                + ", so nothing shows how much the figure varies between videos; record more "
                f"videos of {'it' if len(single) == 1 else 'them'}{unmeasured}"
            ),
        )
    diffs = _resampled_means(per_group[hi.group], rng, resamples) - _resampled_means(
        per_group[lo.group], rng, resamples
    )
    tail = 100.0 * (1.0 - confidence) / 2.0
    ci_low, ci_high = (float(x) for x in np.percentile(diffs, [tail, 100.0 - tail]))
    return gap(
        highest=hi.group,
        lowest=lo.group,
        gap=point,
        ci_low=ci_low,
        ci_high=ci_high,
        note=unmeasured.removeprefix("; "),
    )


def _mean(m: GroupMean) -> float:
    assert m.mean is not None
    return m.mean


def _resampled_means(values: list[float], rng: np.random.Generator, resamples: int) -> Any:
    """Means of ``resamples`` resamples (with replacement, same size) of ``values``."""
    v = np.asarray(values, dtype=float)
    idx = rng.integers(0, len(v), size=(resamples, len(v)))
    return v[idx].mean(axis=1)


def group_warnings(groups: Mapping[str, Any]) -> list[str]:
    """Warnings about a groups file against the videos audited (:meth:`GroupFigures.to_json`'s
    form, or any mapping with ``videos_without_group`` and ``entries_without_video``): the
    videos it does not list and its entries that match no video, one line each ("" none)."""
    out = []
    if groups.get("videos_without_group"):
        out.append(
            "not in the groups file, so left out of the group figures: "
            + ", ".join(groups["videos_without_group"])
        )
    if groups.get("entries_without_video"):
        out.append(
            "in the groups file but matching no video audited: "
            + ", ".join(groups["entries_without_video"])
        )
    return out


def largest_gaps(groups: Mapping[str, Any], shared_notes: bool = True) -> list[str]:
    """For each figure, the condition with the largest gap between groups, in words
    (:meth:`GroupGap.words`, with the condition); from :meth:`GroupFigures.to_json`'s form.
    A figure no condition has a gap for says why (its first condition's note). A note that
    several lines share is said once, as a last line (left out with ``shared_notes`` False:
    the caller says it)."""
    best: dict[str, GroupGap] = {}
    for c in groups["conditions"]:
        for f in c["figures"]:
            g = GroupGap(
                condition=c["name"],
                figure=f["figure"],
                groups=tuple(GroupMean(m["group"], m["videos"], m["mean"]) for m in f["groups"]),
                highest=f["highest"],
                lowest=f["lowest"],
                gap=f["gap"],
                ci_low=f["ci_low"],
                ci_high=f["ci_high"],
                confidence=float(groups["confidence"]),
                note=f["note"],
            )
            old = best.get(g.figure)
            if old is None or (g.gap is not None and (old.gap is None or g.gap > old.gap)):
                best[g.figure] = g
    order = [f for f in FIGURES if f in best] + [f for f in best if f not in FIGURES]
    gaps = [best[f] for f in order]
    notes = [g.note for g in gaps if g.gap is not None and g.note]
    shared = {n for n in notes if notes.count(n) > 1}  # said once, after the lines
    lines = []
    for g in gaps:
        if g.gap is None:
            lines.append(g.words())
            continue
        line = replace(g, note="" if g.note in shared else g.note).words()
        lines.append(f"{line} (under {g.condition})")
    if not shared_notes:
        return lines
    return lines + [f"{n[:1].upper()}{n[1:]}." for n in sorted(shared)]
