"""The ``report`` command's bad input: one line naming what is wrong, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main


def test_report_needs_a_recording_or_a_trainee_with_sessions(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.html"
    assert main(["report", "-o", str(out)]) == 2
    assert "RECORDING or --trainee" in capsys.readouterr().err
    assert main(["report", "--trainee", "nobody", "-o", str(out)]) == 2
    assert "no sessions of trainee 'nobody'" in capsys.readouterr().err
    assert not out.exists()
