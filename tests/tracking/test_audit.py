"""``procsim audit-tracking``: flags, figures, the report, the command end to end on a real
video, and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from sim.core.records import Sample
from sim.tracking import audit
from tests.mutations import FUZZ, assert_one_clean_line, finite_json, mutated, run_cli
from tests.tracking.conftest import TEST_VIDEO, need_file, need_mediapipe

# --- flags (pure, hand-made figures) ----------------------------------------------------


def fig(name: str, detection: float, floor: float | None = 1.0) -> dict[str, Any]:
    return {"name": name, "detection_rate": detection, "noise_floor_mm": floor}


ORIGINAL = fig("original", 0.95, 1.0)


def test_a_detection_drop_of_more_than_ten_points_is_flagged_with_advice() -> None:
    (f,) = audit.flags(ORIGINAL, fig("dim", 0.80))
    assert f["figure"] == "detection_rate"
    assert "80 %" in f["text"] and "15 points fewer" in f["text"]
    assert "light in front of the hand" in f["advice"]
    assert audit.flags(ORIGINAL, fig("dim", 0.86)) == []  # 9 points: not flagged
    assert audit.flags(ORIGINAL, fig("dim", 1.0)) == []


def test_a_doubled_noise_floor_is_flagged() -> None:
    (f,) = audit.flags(ORIGINAL, fig("low_resolution", 0.95, 2.0))
    assert f["figure"] == "noise_floor_mm" and "2.0 times" in f["text"]
    assert "720p" in f["advice"]
    assert audit.flags(ORIGINAL, fig("low_resolution", 0.95, 1.9)) == []
    both = audit.flags(ORIGINAL, fig("blur", 0.5, 3.0))
    assert [f["figure"] for f in both] == ["detection_rate", "noise_floor_mm"]
    assert "exposure is shorter" in both[0]["advice"]


def test_a_floor_lost_where_the_original_had_one_is_flagged() -> None:
    (f,) = audit.flags(ORIGINAL, fig("backlit", 0.9, None))
    assert "not measurable" in f["text"] and "window" in f["advice"]
    # no floor in the original: nothing to compare
    assert audit.flags(fig("original", 0.95, None), fig("backlit", 0.9, None)) == []


def test_a_poorly_tracked_original_is_flagged_on_its_own() -> None:
    (f,) = audit.flags(fig("original", 0.7), fig("original", 0.7))
    assert "70 %" in f["text"] and "Re-record" in f["advice"]
    assert audit.flags(ORIGINAL, ORIGINAL) == []


def test_a_floor_lost_on_a_moving_hand_does_not_say_still() -> None:
    # a video with no still stretch is measured over all tracked frames: "where it was
    # still" would be untrue there (the newcomer's --frames 60 audit said it)
    (f,) = audit.flags(ORIGINAL, fig("warm", 0.9, None), "moving")
    assert "not tracked for 1 s in a row" in f["text"] and "still" not in f["text"]
    (g,) = audit.flags(ORIGINAL, fig("warm", 0.9, None), "still")
    assert "where it was still" in g["text"]


def test_advice_for_a_simulated_condition_is_conditional() -> None:
    # the conditions are simulated on the videos given, not found in the lab's room
    for name, advice in audit.ADVICE.items():
        if name != "original":
            assert advice.startswith("If "), name
    assert "tungsten" in audit.ADVICE["warm"]


def test_the_report_header_names_every_flag_rule() -> None:
    html = audit.report_html(_doc(), 300, 1)
    head = html.split("<h2>")[0]
    assert "under 90 % of its frames" in head
    assert "more than 10 percentage points fewer" in head
    assert "double" in head and "not measurable" in head


def test_every_condition_has_advice() -> None:
    from sim.tracking.conditions import CONDITIONS

    assert set(audit.ADVICE) == set(CONDITIONS)


# --- figures (pure, synthetic Samples) --------------------------------------------------


def samples(n: int, rate: float, tips: np.ndarray, tracked: np.ndarray) -> list[Sample]:
    return [
        Sample(i / rate, tuple(float(v) for v in tips[i]), tracked=bool(tracked[i]))
        for i in range(n)
    ]


def test_still_stretches_and_their_jitter() -> None:
    rate, n = 25.0, 150
    rng = np.random.default_rng(3)
    tips = np.zeros((n, 3))
    tips[:50, 0] = np.linspace(0, 200, 50)  # 2 s moving at 100 mm/s
    tips[50:, 0] = 200.0  # then 4 s still
    tips += rng.normal(0.0, 0.5, tips.shape)
    s = samples(n, rate, tips, np.ones(n, bool))
    still = audit.still_frames(s)
    assert still is not None
    assert not still[:45].any() and still[55:].all()
    f = audit.measure("original", s, still, tracking_s=1.5)
    assert f.detection_rate == 1.0
    assert f.latency_ms == pytest.approx(10.0)
    # jitter about the running median of white noise of 0.5 mm on each axis
    assert f.jitter_axes_mm is not None
    for v in f.jitter_axes_mm:
        assert 0.3 < v < 0.55
    assert f.jitter_mm == pytest.approx(math.sqrt(sum(v * v for v in f.jitter_axes_mm)))
    assert f.noise_floor_mm is not None and 0.2 < f.noise_floor_mm < 0.8
    assert f.measured_s == pytest.approx(3.8, abs=0.25)


def test_a_condition_that_loses_the_hand_has_no_jitter() -> None:
    rate, n = 25.0, 60
    tips = np.zeros((n, 3))
    lost = samples(n, rate, tips, np.zeros(n, bool))
    assert audit.still_frames(lost) is None
    f = audit.measure("dim", lost, np.ones(n, bool))
    assert f.detection_rate == 0.0 and f.jitter_mm is None and f.noise_floor_mm is None
    d = f.as_dict()
    assert d["jitter_mm"] is None and d["flags"] == []


# --- the report (pure, a hand-made document) --------------------------------------------


def _doc() -> dict[str, Any]:
    orig = fig("original", 1.0, 1.0) | {"jitter_mm": 2.0, "angle_jitter_deg": 0.5}
    dim = fig("dim", 0.5, 1.1) | {"jitter_mm": 3.0, "angle_jitter_deg": 0.9}
    for c in (orig, dim):
        c |= {"latency_ms": 40.0, "frames": 60, "flags": audit.flags(orig, c)}
    return {
        "videos": [
            {
                "video": "/x/room <1>.mp4",
                "image_size": [640, 360],
                "fps": 25.0,
                "measured_over": "moving",
                "processing_s": 12.0,
                "conditions": [orig, dim],
            }
        ]
    }


def test_the_report_flags_the_condition_with_what_to_do() -> None:
    html = audit.report_html(_doc(), 300, 1)
    assert "<h2>What to do</h2>" in html
    assert "If a station is dimly lit, add light in front of the hand" in html
    assert "room &lt;1&gt;.mp4: dim" in html  # escaped, and says where the advice came from
    assert '<td class="num critical"><b>50 %</b></td>' in html
    assert "upper bounds" in html  # a hand that never rests says so
    # ... of the frames audited only, with a warning saying what a fair audit needs
    assert "never rests for 1 s in the 60 frames audited" in html
    assert "<b>Warning:</b>" in html and "still hold of 1 s or more" in html
    assert "with their consent" in html


def test_a_clean_audit_says_nothing_was_flagged() -> None:
    doc = _doc()
    doc["videos"][0]["conditions"] = doc["videos"][0]["conditions"][:1]
    html = audit.report_html(doc, None, 1)
    assert "No condition was flagged" in html and "critical" not in html.split("<h2>")[2]


# --- end to end on a real video ---------------------------------------------------------


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, str]:
    need_mediapipe()
    video = need_file(TEST_VIDEO)
    d = tmp_path_factory.mktemp("audit")
    groups = d / "groups.csv"
    groups.write_text(f"video,group\n{video.name},bare hand\n", encoding="utf-8")
    report = d / "report.html"
    rc, out, err = run_cli(
        [
            "audit-tracking",
            str(video),
            "--frames",
            "30",
            "--conditions",
            "original,mirrored,low_resolution",
            "--json",
            "-o",
            str(report),
            "--groups",
            str(groups),
        ]
    )
    assert rc == 0, err
    return finite_json(out), report, err


def test_the_json_has_every_video_and_condition(audited: tuple[dict[str, Any], Path, str]) -> None:
    doc, _, _ = audited
    (v,) = doc["videos"]
    assert v["video"] == str(TEST_VIDEO)
    assert v["image_size"] == [640, 360]
    assert [c["name"] for c in v["conditions"]] == ["original", "mirrored", "low_resolution"]
    for c in v["conditions"]:
        assert c["frames"] == 30
        assert 0.0 <= c["detection_rate"] <= 1.0
        for key in ("jitter_mm", "angle_jitter_deg", "noise_floor_mm", "latency_ms"):
            assert c[key] is None or c[key] >= 0.0, key
        assert isinstance(c["flags"], list)
    orig = v["conditions"][0]
    # the README of the footage: a hand in every frame; over 30 frames, a jitter of mm
    assert orig["detection_rate"] == 1.0
    assert 0.05 < orig["jitter_mm"] < 30.0
    assert doc["groups"]["conditions"][0]["figures"][0]["groups"][0]["group"] == "bare hand"


def test_the_report_and_the_timing(audited: tuple[dict[str, Any], Path, str]) -> None:
    _, report, err = audited
    html = report.read_text(encoding="utf-8")
    assert "<h1>Tracking audit</h1>" in html and "low resolution" in html
    assert "up to the first 30 frames of each; 3 conditions." in html
    assert "<h2>Groups</h2>" in html and "bare hand" in html
    assert f"{TEST_VIDEO}: 3 conditions x 30 frames in" in err  # time per video, on stderr


# --- bad input --------------------------------------------------------------------------


def test_a_missing_video_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    rc, out, err = run_cli(["audit-tracking", str(missing)])
    assert rc == 2 and out == ""
    assert_one_clean_line(err, missing)
    assert "no such video file" in err


def test_a_file_that_is_not_a_video_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("cv2", reason="OpenCV (opencv-contrib-python) is not installed")
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n")
    rc, _, err = run_cli(["audit-tracking", str(bad), "--json"])
    assert rc == 2
    assert_one_clean_line(err, bad)
    assert "not a readable video" in err


def test_a_bad_groups_file_is_one_line_before_any_tracking(tmp_path: Path) -> None:
    csv = tmp_path / "g.csv"
    csv.write_text("file,team\na.mp4,x\n")
    rc, _, err = run_cli(["audit-tracking", str(tmp_path / "a.mp4"), "--groups", str(csv)])
    assert rc == 2
    assert_one_clean_line(err, csv)
    assert "line 1" in err and "'video'" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--conditions", "dim,foggy"], "unknown condition 'foggy'"),
        (["--frames", "-3"], "--frames -3"),
        (["--stride", "0"], "--stride 0"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    rc, _, err = run_cli(["audit-tracking", str(tmp_path / "a.mp4"), *args])
    assert rc == 2 and says in err and err.count("\n") == 1


VALID_CSV = b"video,group\nmps_hand_landmarker_test_video.mp4,A\nother.mp4,B\n"


@settings(FUZZ, max_examples=30)
@given(mutated(VALID_CSV))
def test_fuzz_the_groups_file(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    """A mutated groups file: one line naming it, or (read fine) the missing video's line;
    never a traceback. The video is missing so no example runs the tracker."""
    d = tmp_path_factory.mktemp("fuzz")
    csv, video = d / "g.csv", d / "missing.mp4"
    csv.write_bytes(data)
    rc, out, err = run_cli(["audit-tracking", str(video), "--groups", str(csv)])
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith((f"procsim: error: {csv}", f"procsim: error: {video}")), err


def test_fuzz_the_video(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Mutated video files (header bytes changed, cut short): exit 0 with figures, or 2
    with one line naming the file; never a traceback."""
    need_mediapipe()
    data = need_file(TEST_VIDEO).read_bytes()
    rng = np.random.default_rng(14)
    d = tmp_path_factory.mktemp("vfuzz")
    cases = [
        data[: len(data) // 3],  # cut short
        data[:2000],  # header only
        bytes(rng.integers(0, 256, 64, dtype=np.uint8)) + data[64:],  # header garbled
        data[:4000] + bytes(rng.integers(0, 256, 4000, dtype=np.uint8)) + data[8000:],
    ]
    for i, case in enumerate(cases):
        video = d / f"v{i}.mp4"
        video.write_bytes(case)
        rc, out, err = run_cli(
            ["audit-tracking", str(video), "--frames", "3", "--conditions", "original", "--json"]
        )
        if rc == 0:
            doc = json.loads(out)
            assert doc["videos"][0]["conditions"][0]["frames"] <= 3
        else:
            assert rc == 2, err
            assert_one_clean_line(err.splitlines()[-1] + "\n", video)


# --- the command's words, with the tracking replaced by fixed figures -------------------


def _fake_audit(video: str, **kw: Any) -> audit.VideoAudit:
    """A moving hand in 60 frames: the newcomer's --frames 60 case."""
    base = Path(video).name
    floor = 2.0 if base.startswith("a") else 3.0
    cond = [
        audit.ConditionFigures(name, 60, 60, (1.0, 1.0, 1.0), 1.0, floor, 2.4, 10.0, 1.0)
        for name in ("original", "dim")
    ]
    figs = tuple(
        audit.ConditionFigures(
            **{
                k: getattr(c, k)
                for k in audit.ConditionFigures.__dataclass_fields__
                if k != "flags"
            },
            flags=tuple(audit.flags(cond[0].as_dict(), c.as_dict(), "moving")),
        )
        for c in cond
    )
    return audit.VideoAudit(video, (640, 360), 25.0, "moving", 2.0, figs)


@pytest.fixture
def fake_tracking(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(audit, "audit_video", _fake_audit)
    monkeypatch.setattr(audit, "check_videos", lambda videos: None)
    monkeypatch.chdir(tmp_path)
    groups = tmp_path / "g.csv"
    groups.write_text("video,group\na1.mp4,bare\nb1.mp4,glove\nnot-filmed.mp4,glove\n")
    return groups


def test_groups_in_the_text_output_with_warnings(fake_tracking: Path) -> None:
    rc, out, err = run_cli(
        ["audit-tracking", "a1.mp4", "b1.mp4", "c1.mp4", "--groups", str(fake_tracking)]
    )
    assert rc == 0, err
    # without --json or -o the groups were not shown at all before
    assert "Groups: largest gap of each figure" in out
    assert "noise floor: highest 'glove' 3.00 mm, lowest 'bare' 2.00 mm; gap 1.00 mm" in out
    # the CSV entry that matches no video and the video without a group, before tracking
    assert "warning" in err and "not-filmed.mp4" in err and "c1.mp4" in err
    assert err.index("not-filmed.mp4") < err.index("a1.mp4:")
    # a hand that never rests in the frames audited is warned about, in words
    assert "never rests for 1 s in the 60 frames audited" in out
    assert "never rests for 1 s in the 60 frames audited" in err and "--frames 0" in err
    assert "floor ms" not in out  # the table header says "noise floor" and "ms/frame"


def test_the_groups_table_says_a_shared_note_once(fake_tracking: Path) -> None:
    report = fake_tracking.parent / "r.html"
    rc, _, err = run_cli(
        ["audit-tracking", "a1.mp4", "b1.mp4", "-o", str(report), "--groups", str(fake_tracking)]
    )
    assert rc == 0, err
    html = report.read_text(encoding="utf-8")
    assert html.count("have only one video each") == 1  # once, not in all 8 rows
    assert html.count(">note 1<") == 8
    assert "Largest gap of each figure" in html
    assert "matching no video audited: not-filmed.mp4" in html


def test_an_unwritable_report_is_refused_before_tracking(
    fake_tracking: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(video: str, **kw: Any) -> audit.VideoAudit:
        raise AssertionError("tracked before checking the report path")

    monkeypatch.setattr(audit, "audit_video", never)
    bad = fake_tracking.parent / "no-such-folder" / "r.html"
    rc, out, err = run_cli(["audit-tracking", "a1.mp4", "-o", str(bad)])
    assert rc == 2 and out == ""
    assert_one_clean_line(err, bad)
    assert "cannot write" in err
    folder = fake_tracking.parent
    rc, _, err = run_cli(["audit-tracking", "a1.mp4", "-o", str(folder)])
    assert rc == 2 and "is a folder" in err


def test_mediapipe_native_log_lines_are_told_from_ours() -> None:
    from sim.tracking.mediapipe_hands import NATIVE_LOG

    for line in (
        b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
        b"W0000 00:00:1796099307.480264   30752 inference_feedback_manager.cc:114] Feedback "
        b"manager requires a model with a single signature inference.\n",
        b"I0000 00:00:1796099820.401250    2348 gl_context_egl.cc:85] Successfully initialized\n",
    ):
        assert NATIVE_LOG.match(line), line
    for line in (b"procsim: error: a.mp4: no such video file\n", b"  original  60 frames\n"):
        assert not NATIVE_LOG.match(line), line
