"""Reports opened in a real headless Chromium: they render, their images decode, the score
and the metric table are there, and HTML typed by users shows as text."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.lab.store import Store
from sim.storage.recording import load_recording

from .conftest import Browser


def _not_blank(image: np.ndarray) -> None:
    """Real content: plenty of non-white pixels, and the coloured pixels of plots."""
    rgb = image.reshape(-1, 3)
    ink = np.any(rgb < 0.9, axis=1).mean()
    coloured = (np.ptp(rgb, axis=1) > 0.25).mean()
    assert ink > 0.03, f"page looks blank ({ink:.1%} non-white)"
    assert coloured > 0.002, "no coloured pixels: plots did not draw"


def test_session_report(
    browser: Browser, novice_recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(novice_recording), "-o", str(out)]) == 0
    page = browser.render(out, tmp_path)
    rec = load_recording(novice_recording)
    assert rec.result is not None

    widths = page.image_widths()
    # path, speed, tremor, the patient's discomfort, timeline
    assert len(widths) == 5 and all(w > 300 for w in widths), widths
    _not_blank(page.image)

    dom = page.dom
    score = re.search(r'id="score">score <b>([\d.]+)</b>', dom)
    assert score and float(score.group(1)) == pytest.approx(rec.result["score"], abs=0.05)
    # the novice pierced the back wall and stopped: not carried out to its end
    assert ">INCOMPLETE<" in dom and "incomplete: not scored for sign-off" in dom
    table = re.search(r'<table class="metrics">(.*?)</table>', dom, re.S)
    assert table is not None
    for name, m in rec.result["metrics"].items():
        assert f"<td>{m['label']}<div" in table.group(1)
        assert f"<td>{name}</td>" not in table.group(1)
    assert table.group(1).count("<tr>") == len(rec.result["metrics"]) + 1
    for crit in rec.result["critical_errors"]:
        assert crit["message"] in dom
    for advice in rec.result["advice"]:
        assert advice.replace("<", "&lt;") in dom
    # names typed by people are text, never markup
    assert "&lt;img src=x" in dom and "Bob" in dom
    assert "pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert "t-&lt;i&gt;042&lt;/i&gt;" in dom and "<i>042</i>" not in dom


def test_trainee_report(
    browser: Browser,
    novice_recording: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sim.pipeline import Pipeline
    from sim.scenarios import find_scenario
    from sim.sources.scripted import ScriptedSource
    from sim.storage.session import run_session

    monkeypatch.setenv("PROCSIM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PROCSIM_DB_URL", raising=False)
    sc = find_scenario("venipuncture")
    files = []
    for i, skill in enumerate(["novice", "expert", "expert", "expert"]):
        p = tmp_path / f"s{i}.jsonl"
        run_session(Pipeline(sc), ScriptedSource(sc, skill, 10 + i), p, trainee="t-7")
        files.append(str(p))
    other = tmp_path / "other.jsonl"
    run_session(Pipeline(sc), ScriptedSource(sc, "intermediate", 1), other, trainee="t-8")
    name = "<script>document.body.dataset.pwned=1</script>Zoë"
    assert main(["sessions", "import", *files, "--name", name, "--note", "<b>keep</b>"]) == 0
    assert main(["sessions", "import", str(other)]) == 0
    out = tmp_path / "progress.html"
    assert main(["report", "--trainee", "t-7", "-o", str(out)]) == 0
    # tall enough to show the sign-off section and the learning curve and cohort below it
    page = browser.render(out, tmp_path, height_px=2400)

    widths = page.image_widths()
    # CUSUM chart, learning curve, cohort
    assert len(widths) == 3 and all(w > 300 for w in widths)
    _not_blank(page.image)
    dom = page.dom
    # the novice stopped before blood was drawn (session 1: listed, marked, not counted),
    # then three expert passes: the 2-in-a-row streak at session 3, one more
    assert "2 consecutive passes reached (session 3); 1 of 10 further passes" in dom
    assert "4 sessions (1 incomplete: listed below, left out of the curve" in dom
    assert dom.count("incomplete: not scored for sign-off") == 1
    assert "Against the cohort (2 trainees" in dom
    # beside it, LC-CUSUM over the three complete cases: 3 x ln(0.9 / 0.75) = 0.55
    assert "not yet signed off: LC-CUSUM 0.55 of limit 3.82 (3 full cases)" in dom
    assert dom.index("Sign-off in Venipuncture") < dom.index("learning curve venipuncture")
    sessions = re.search(r'<table class="sessions">(.*?)</table>', dom, re.S)
    assert sessions is not None and sessions.group(1).count("<tr>") == 5
    assert "&lt;script&gt;document.body.dataset.pwned=1&lt;/script&gt;Zoë" in dom
    assert "&lt;b&gt;keep&lt;/b&gt;" in dom
    assert "data-pwned" not in dom
    with Store(f"sqlite:///{tmp_path / 'data' / 'sessions.sqlite'}") as s:
        assert s.count() == 5
