"""Per-group audit figures (``procsim audit-tracking --groups``): the means, the largest gap
and its bootstrap interval against a hand-checked example, and the groups CSV reader (clear
one-line errors; mutation fuzzing)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings

from sim.errors import UserError
from sim.tracking.groups import group_figures, match_groups, read_groups
from tests.mutations import FUZZ, mutated


def _video(name: str, **conditions: dict[str, Any]) -> dict[str, Any]:
    return {"video": name, "conditions": [{"name": c, **f} for c, f in conditions.items()]}


def _audit(det: dict[str, float], jit: dict[str, float | None]) -> list[dict[str, Any]]:
    return [_video(v, original={"detection_rate": det[v], "jitter_mm": jit[v]}) for v in det]


GROUPS = {"a1.mp4": "A", "a2.mp4": "A", "a3.mp4": "A", "b1.mp4": "B", "b2.mp4": "B"}
DET = {"a1.mp4": 0.9, "a2.mp4": 0.8, "a3.mp4": 1.0, "b1.mp4": 0.6, "b2.mp4": 0.7}
JIT: dict[str, float | None] = {
    "a1.mp4": 1.0,
    "a2.mp4": 2.0,
    "a3.mp4": 3.0,
    "b1.mp4": 4.0,
    "b2.mp4": 6.0,
}


def test_group_means_and_gap_match_the_hand_worked_example():
    # Detection rate: A = (0.9 + 0.8 + 1.0) / 3 = 0.9; B = (0.6 + 0.7) / 2 = 0.65.
    # Highest A, lowest B, gap 0.9 - 0.65 = 0.25.
    # Jitter: A = (1 + 2 + 3) / 3 = 2.0 mm; B = (4 + 6) / 2 = 5.0 mm; highest B, gap 3.0 mm.
    # Bootstrap bounds by hand: a resample of B's two videos has mean 4, 5 or 6; of A's three,
    # between 1 and 3; so every resampled B - A lies in [4 - 3, 6 - 1] = [1, 5].
    res = group_figures(_audit(DET, JIT), GROUPS, resamples=500, seed=1)
    det = res.gap("original", "detection_rate")
    assert [(g.group, g.videos) for g in det.groups] == [("A", 3), ("B", 2)]
    assert det.groups[0].mean == pytest.approx(0.9)
    assert det.groups[1].mean == pytest.approx(0.65)
    assert (det.highest, det.lowest) == ("A", "B")
    assert det.gap == pytest.approx(0.25)
    jit = res.gap("original", "jitter_mm")
    assert [g.mean for g in jit.groups] == pytest.approx([2.0, 5.0])
    assert (jit.highest, jit.lowest, jit.gap) == ("B", "A", pytest.approx(3.0))
    assert jit.ci_low is not None and jit.ci_high is not None
    assert 1.0 <= jit.ci_low <= jit.gap <= jit.ci_high <= 5.0
    assert det.ci_low is not None and det.ci_high is not None
    assert det.ci_low <= det.gap <= det.ci_high
    assert jit.note == "" and det.note == ""


def test_interval_is_reproducible_with_the_seed_and_moves_with_another():
    # Eight videos a group with distinct figures: many possible resample means, so another
    # seed lands on other percentiles (with the five-video example they can coincide).
    groups = {f"{g}{i}.mp4": g for g in "AB" for i in range(8)}
    jit = {v: (1.0 if v[0] == "A" else 3.0) + 0.37 * int(v[1]) ** 1.5 for v in groups}
    audit = _audit({v: 1.0 for v in groups}, jit)  # type: ignore[arg-type]
    a = group_figures(audit, groups, seed=7).gap("original", "jitter_mm")
    b = group_figures(audit, groups, seed=7).gap("original", "jitter_mm")
    c = group_figures(audit, groups, seed=8).gap("original", "jitter_mm")
    assert a.gap == pytest.approx(2.0)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    assert c.ci_low is not None and c.ci_high is not None
    assert c.ci_low <= c.gap <= c.ci_high  # type: ignore[operator]


def test_interval_shrinks_with_more_videos_of_the_same_spread():
    # Each video recorded four times over: the same group means, four times the videos, so the
    # bootstrap spread of each mean falls by about sqrt(4) = 2.
    det4 = {f"{k}{i}": v for k, v in DET.items() for i in range(4)}
    jit4 = {f"{k}{i}": v for k, v in JIT.items() for i in range(4)}
    groups4 = {f"{k}{i}": g for k, g in GROUPS.items() for i in range(4)}
    few = group_figures(_audit(DET, JIT), GROUPS).gap("original", "jitter_mm")
    many = group_figures(_audit(det4, jit4), groups4).gap("original", "jitter_mm")
    assert many.gap == pytest.approx(few.gap)
    width_few = few.ci_high - few.ci_low  # type: ignore[operator]
    width_many = many.ci_high - many.ci_low  # type: ignore[operator]
    assert 0.0 < width_many < 0.7 * width_few


def test_identical_videos_within_each_group_give_a_zero_width_interval():
    # Every A video 0.9, every B video 0.6: every resample has the same means, so the
    # interval is exactly the gap 0.3.
    det = {v: (0.9 if g == "A" else 0.6) for v, g in GROUPS.items()}
    gap = group_figures(_audit(det, JIT), GROUPS).gap("original", "detection_rate")
    assert gap.gap == pytest.approx(0.3)
    assert gap.ci_low == pytest.approx(0.3, abs=1e-12)
    assert gap.ci_high == pytest.approx(0.3, abs=1e-12)


def test_a_group_of_one_video_has_no_interval_and_says_why():
    groups = {**GROUPS, "c1.mp4": "C"}
    audit = _audit({**DET, "c1.mp4": 0.5}, {**JIT, "c1.mp4": 2.5})
    gap = group_figures(audit, groups).gap("original", "detection_rate")
    assert (gap.highest, gap.lowest, gap.gap) == ("A", "C", pytest.approx(0.4))
    assert gap.ci_low is None and gap.ci_high is None
    assert "group 'C' has only one video" in gap.note
    # Between groups of several videos (jitter: C is neither extreme) there is one.
    jit = group_figures(audit, groups).gap("original", "jitter_mm")
    assert (jit.highest, jit.lowest) == ("B", "A") and jit.ci_low is not None


def test_a_video_without_the_figure_counts_only_for_the_others():
    # b2 never saw the hand: no jitter; B's jitter is b1's alone (one video, no interval),
    # its detection rate still both videos'.
    res = group_figures(_audit(DET, {**JIT, "b2.mp4": None}), GROUPS)
    jit = res.gap("original", "jitter_mm")
    assert [(g.group, g.videos, g.mean) for g in jit.groups] == [("A", 3, 2.0), ("B", 1, 4.0)]
    assert jit.ci_low is None and "only one video" in jit.note
    assert res.gap("original", "detection_rate").groups[1].videos == 2


def test_gaps_in_words_for_a_lab_manager():
    res = group_figures(_audit(DET, JIT), GROUPS, resamples=500, seed=1)
    det = res.gap("original", "detection_rate")
    line = det.words()
    assert line.startswith("detection rate: highest 'A' 90%, lowest 'B' 65%; gap 25 points (95%")
    jit = res.gap("original", "jitter_mm").words()
    assert "landmark jitter: highest 'B' 5.00 mm, lowest 'A' 2.00 mm; gap 3.00 mm" in jit
    both = group_figures(_audit(DET, JIT), {"a1.mp4": "A", "b1.mp4": "B"}).gap(
        "original", "jitter_mm"
    )
    assert both.words() == (
        "landmark jitter: highest 'B' 4.00 mm, lowest 'A' 1.00 mm; gap 3.00 mm; no interval: "
        "groups 'A' and 'B' have only one video each, so nothing shows how much the figure "
        "varies between videos; record more videos of them"
    )


def test_one_group_has_no_gap():
    res = group_figures(_audit(DET, JIT), {"a1.mp4": "A", "a2.mp4": "A"})
    gap = res.gap("original", "detection_rate")
    assert gap.gap is None and "fewer than two groups" in gap.note
    assert res.videos_without_group == ("a3.mp4", "b1.mp4", "b2.mp4")


def test_to_json_lists_conditions_figures_and_unlisted_videos():
    audit = _audit(DET, JIT) + [_video("x.mp4", original={"detection_rate": 0.1})]
    js = group_figures(audit, {**GROUPS, "gone.mp4": "A"}, resamples=50).to_json()
    assert js["resamples"] == 50 and js["videos_without_group"] == ["x.mp4"]
    assert js["entries_without_video"] == ["gone.mp4"]
    assert [c["name"] for c in js["conditions"]] == ["original"]
    fig = {f["figure"]: f for f in js["conditions"][0]["figures"]}
    assert set(fig) == {"detection_rate", "jitter_mm", "angle_jitter_deg", "noise_floor_mm"}
    assert fig["detection_rate"]["gap"] == pytest.approx(0.25)
    assert fig["angle_jitter_deg"]["gap"] is None  # no video measured it


def test_match_by_file_name_or_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    videos = ["left/p1.mp4", "right/p1.mp4", str(tmp_path / "p2.mp4")]
    by_path = {"left/p1.mp4": "L", "./right/p1.mp4": "R", "p2.mp4": "X"}
    assert match_groups(videos, by_path) == {
        "left/p1.mp4": "L",
        "right/p1.mp4": "R",
        str(tmp_path / "p2.mp4"): "X",
    }
    # A path entry wins over a file-name entry.
    assert match_groups(["left/p2.mp4"], {"p2.mp4": "N", "left/p2.mp4": "P"}) == {
        "left/p2.mp4": "P"
    }
    with pytest.raises(UserError, match=r"'p1.mp4' matches 2 audited videos"):
        match_groups(videos, {"p1.mp4": "A"})


# -- the CSV reader ---------------------------------------------------------------------

VALID = b'video,group\na1.mp4,light\nvideos/a2.mp4,dark\n\n"b 1.mp4" , glove\n'


def _read(tmp_path: Path, data: bytes) -> dict[str, str]:
    p = tmp_path / "groups.csv"
    p.write_bytes(data)
    return read_groups(p)


def test_reads_a_valid_file_with_any_column_order(tmp_path: Path):
    assert _read(tmp_path, VALID) == {
        "a1.mp4": "light",
        "videos/a2.mp4": "dark",
        "b 1.mp4": "glove",
    }
    swapped = b"\xef\xbb\xbfGroup,notes,Video\r\nbare,ok,a1.mp4\r\nbare,,a1.mp4\r\n"
    assert _read(tmp_path, swapped) == {"a1.mp4": "bare"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty; expected a header 'video,group'"),
        (b"video,grp\na,b\n", "line 1: header has no column 'group'"),
        (b"file,group\na,b\n", "line 1: header has no column 'video'"),
        (b"video,group\n", "no videos after the header"),
        (b"video,group\na.mp4\n", "line 2: 1 column(s); expected 'video,group'"),
        (b"video,group\na.mp4,A\nb.mp4, \n", "line 3: video 'b.mp4' has an empty group"),
        (b"video,group\n,A\n", "line 2: empty video"),
        (
            b"video,group\na.mp4,A\nb.mp4,B\na.mp4,B\n",
            "line 4: video 'a.mp4' is in group 'B' here but in 'A' on line 2",
        ),
        (b"video,group\na.mp4,\xff\n", "line 2: not UTF-8 text"),
        (b"video,group\na.mp4,A\x00\n", "line 2: NUL byte"),
    ],
)
def test_bad_files_are_refused_in_one_line_naming_file_and_line(
    tmp_path: Path, data: bytes, message: str
):
    with pytest.raises(UserError) as err:
        _read(tmp_path, data)
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'groups.csv'}: ") and "\n" not in text
    assert message in text


def test_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(UserError, match="no such groups file"):
        read_groups(tmp_path / "nope.csv")


_DIR = Path(tempfile.mkdtemp(prefix="procsim-fuzz-groups-"))


@settings(FUZZ, max_examples=200)
@given(mutated(VALID))
def test_fuzz_groups_file_is_read_or_refused_in_one_line(data: bytes):
    p = _DIR / "groups.csv"
    p.write_bytes(data)
    try:
        groups = read_groups(p)
    except UserError as exc:
        event("refused")
        assert str(exc).startswith(f"{p}: ") and "\n" not in str(exc), str(exc)
        return
    event("read")
    assert groups and all(v.strip() and g.strip() for v, g in groups.items())
    assert all(v == v.strip() and g == g.strip() for v, g in groups.items())
