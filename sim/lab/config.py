"""Station configuration (TOML) and the rule that picks the session database.

The database URL is taken from, in order: ``--db URL``, the ``PROCSIM_DB_URL`` environment
variable, the station config file, and finally the local SQLite file
``data_dir()/sessions.sqlite``. See ``docs/store.md`` for the file format.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserError
from sim.paths import data_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DB_ENV = "PROCSIM_DB_URL"
CONFIG_ENV = "PROCSIM_STATION_CONFIG"
INPUT_KINDS = ("mouse", "webcam", "video")


@dataclass(frozen=True, slots=True)
class StationConfig:
    """A skills-lab station: who it is, where sessions go and what it may run.

    Attributes
    ----------
    station_id : str
        Name of the station, stored with every session.
    database : str or None
        URL of the lab database (PostgreSQL); None keeps sessions on this machine only.
    scenarios : tuple of str
        Scenario ids a trainee may choose; empty allows every shipped scenario.
    inputs : tuple of str
        Allowed input kinds (``mouse``, ``webcam``, ``video``); empty allows all.
    assigned_scenario : str or None
        Scenario given to every trainee without a choice.
    exam_mode : bool
        Exam mode: no live cues, one attempt, results shown at the end only.
    path : str
        File the configuration came from ("" for the defaults).
    keep_raw_landmarks : bool
        Keep the raw hand landmarks (63 numbers per webcam sample, biometric data) in
        recordings and the store; False (the default) strips them where recordings are
        written and where sessions are stored. No metric needs them.
    retention_days : int or None
        Recordings (the raw motion data) of sessions that started more than this many days
        ago are erased from this station's store and recordings folder at start and at
        each sync; the scores and metrics stay. None keeps them.
    follow_curriculum : bool
        Once a trainee has typed their id, select the scenario the curriculum suggests for
        them (``docs/curriculum.md``); the start screen shows the suggestion either way.
    curriculum : str or None
        The curriculum file (None: the shipped ``scenarios/curriculum.toml``).
    """

    station_id: str = "station"
    database: str | None = None
    scenarios: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    assigned_scenario: str | None = None
    exam_mode: bool = False
    path: str = ""
    keep_raw_landmarks: bool = False
    retention_days: int | None = None
    follow_curriculum: bool = False
    curriculum: str | None = None


def default_config_path() -> Path | None:
    """The station config used when none is given: ``$PROCSIM_STATION_CONFIG``, else
    ``data_dir()/station.toml`` if that file exists."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    p = data_dir() / "station.toml"
    return p if p.is_file() else None


def _str_list(path: str, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{path}: key 'station.{key}': expected a list of strings")
    return tuple(value)


def load_config(path: str | Path | None) -> StationConfig:
    """Read a station config file; ``None`` gives the defaults (or the default file)."""
    p = Path(path) if path is not None else default_config_path()
    if p is None:
        return StationConfig()
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except FileNotFoundError:
        raise UserError(f"{p}: no such station config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: cannot read station config ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{p}: not valid TOML ({exc})") from None
    st = data.get("station")
    if not isinstance(st, dict):
        raise UserError(f"{p}: missing table [station]")
    known = {
        "id",
        "database",
        "scenarios",
        "inputs",
        "assigned_scenario",
        "exam_mode",
        "keep_raw_landmarks",
        "retention_days",
        "follow_curriculum",
        "curriculum",
    }
    unknown = sorted(set(st) - known)
    if unknown:
        raise UserError(
            f"{p}: key 'station.{unknown[0]}': unknown (expected one of {', '.join(sorted(known))})"
        )
    sid = st.get("id", "station")
    if not isinstance(sid, str) or not sid.strip():
        raise UserError(f"{p}: key 'station.id': expected a non-empty string")
    db = st.get("database")
    if db is not None and (not isinstance(db, str) or not db.strip()):
        raise UserError(f"{p}: key 'station.database': expected a database URL string")
    inputs = _str_list(str(p), "inputs", st.get("inputs", []))
    bad = [i for i in inputs if i not in INPUT_KINDS]
    if bad:
        raise UserError(
            f"{p}: key 'station.inputs': unknown input {bad[0]!r} "
            f"(expected {', '.join(INPUT_KINDS)})"
        )
    assigned = st.get("assigned_scenario")
    if assigned is not None and (not isinstance(assigned, str) or not assigned):
        raise UserError(f"{p}: key 'station.assigned_scenario': expected a scenario id")
    exam = st.get("exam_mode", False)
    if not isinstance(exam, bool):
        raise UserError(f"{p}: key 'station.exam_mode': expected true or false")
    keep_raw = st.get("keep_raw_landmarks", False)
    if not isinstance(keep_raw, bool):
        raise UserError(f"{p}: key 'station.keep_raw_landmarks': expected true or false")
    days = st.get("retention_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        raise UserError(f"{p}: key 'station.retention_days': expected a whole number of days >= 1")
    follow = st.get("follow_curriculum", False)
    if not isinstance(follow, bool):
        raise UserError(f"{p}: key 'station.follow_curriculum': expected true or false")
    if follow and assigned is not None:
        raise UserError(
            f"{p}: key 'station.follow_curriculum': expected false with assigned_scenario "
            "(one scenario for everyone cannot follow each trainee's curriculum)"
        )
    cur = st.get("curriculum")
    if cur is not None and (not isinstance(cur, str) or not cur.strip()):
        raise UserError(f"{p}: key 'station.curriculum': expected the path of a curriculum file")
    if isinstance(cur, str):  # relative to the config file
        cur = str((p.parent / Path(cur.strip()).expanduser()).resolve())
    return StationConfig(
        station_id=sid.strip(),
        database=db.strip() if isinstance(db, str) else None,
        scenarios=_str_list(str(p), "scenarios", st.get("scenarios", [])),
        inputs=inputs,
        assigned_scenario=assigned,
        exam_mode=exam,
        path=str(p),
        keep_raw_landmarks=keep_raw,
        retention_days=days,
        follow_curriculum=follow,
        curriculum=cur,
    )


def local_url() -> str:
    """URL of this machine's own SQLite store."""
    return f"sqlite:///{data_dir() / 'sessions.sqlite'}"


def resolve_db_url(cli_url: str | None, config: StationConfig | None = None) -> str:
    """The session database to use: ``--db`` > ``$PROCSIM_DB_URL`` > config > local SQLite."""
    if cli_url:
        return cli_url
    env = os.environ.get(DB_ENV)
    if env:
        return env
    if config is not None and config.database:
        return config.database
    return local_url()
