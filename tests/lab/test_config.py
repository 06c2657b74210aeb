"""Station config files and the rule that picks the session database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.errors import UserError
from sim.lab.config import load_config, local_url, resolve_db_url

REPO = Path(__file__).resolve().parents[2]


def test_the_documented_example_is_valid() -> None:
    cfg = load_config(REPO / "docs" / "station.example.toml")
    assert cfg.station_id == "skills-lab-a-03" and cfg.database is not None
    assert cfg.database.startswith("postgresql://") and cfg.inputs == ("mouse", "webcam")


def test_database_precedence(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg_file = tmp_path / "s.toml"
    cfg_file.write_text('[station]\nid = "x"\ndatabase = "sqlite:///from-config.sqlite"\n')
    cfg = load_config(cfg_file)
    assert resolve_db_url(None, None) == local_url()
    assert str(data_dir) in local_url() and local_url().endswith("sessions.sqlite")
    assert resolve_db_url(None, cfg) == "sqlite:///from-config.sqlite"
    monkeypatch.setenv("PROCSIM_DB_URL", "sqlite:///from-env.sqlite")
    assert resolve_db_url(None, cfg) == "sqlite:///from-env.sqlite"
    assert resolve_db_url("sqlite:///from-cli.sqlite", cfg) == "sqlite:///from-cli.sqlite"
    # the default config file in the data folder is read when none is given
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "station.toml").write_text('[station]\nid = "default-one"\n')
    assert load_config(None).station_id == "default-one"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[station\n", "not valid TOML"),
        ('[other]\nid = "x"\n', "missing table [station]"),
        ('[station]\nid = "x"\nexam_mode = "yes"\n', "station.exam_mode"),
        ('[station]\nid = "x"\ncolour = "red"\n', "station.colour': unknown"),
        ('[station]\nid = ""\n', "station.id"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(UserError, match=re.escape(message)):
        load_config(p)
