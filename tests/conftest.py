"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.core.scenario import Scenario
from sim.scenarios import find_scenario, load_scenario, scenario_paths

REPO = Path(__file__).resolve().parents[1]
HANDS = REPO.parent / "shared" / "data" / "hands"


def scenario_of(task: str) -> Scenario:
    """The shipped scenario named after procedure ``task`` (its healthy adult), else its
    first one (for tests run over every registered procedure)."""
    paths = scenario_paths()
    own = [p for p in paths if p.stem == task]
    return next(sc for sc in map(load_scenario, own + paths) if sc.task == task)


@pytest.fixture(scope="session")
def veni() -> Scenario:
    return find_scenario("venipuncture")


@pytest.fixture(scope="session")
def sut() -> Scenario:
    return find_scenario("suturing")


@pytest.fixture(scope="module")
def renderer(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An offscreen OpenGL 3.3 renderer of the test module's ``SIZE`` (default 640x360);
    the module is skipped on a machine without OpenGL 3.3."""
    pygame = pytest.importorskip("pygame")
    from sim.errors import UserError
    from sim.render.offscreen import offscreen_context
    from sim.render.renderer import Renderer

    size = getattr(request.module, "SIZE", (640, 360))
    try:
        offscreen_context(size)
    except UserError as exc:  # pragma: no cover - machines without OpenGL 3.3
        pytest.skip(str(exc))
    yield Renderer(size)
    pygame.display.quit()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty per-user data folder, and no database URL or station config from the
    environment: for every test (autouse), so that no test writes into the user's own
    store or reads it."""
    d = tmp_path / "data"
    monkeypatch.setenv("PROCSIM_DATA_DIR", str(d))
    monkeypatch.delenv("PROCSIM_DB_URL", raising=False)
    monkeypatch.delenv("PROCSIM_STATION_CONFIG", raising=False)
    return d


@pytest.fixture()
def quit_display() -> Iterator[None]:
    """Close the pygame display after a test that opened a window."""
    yield
    import pygame

    pygame.display.quit()


def as_old_recording(
    src: Path,
    dst: Path,
    *,
    score: float | None = None,
    passed: bool | None = None,
    app_version: str = "0.0.9",
    drop_events: tuple[str, ...] = (),
) -> Path:
    """A copy of the recording ``src`` as an older procsim would have written it: its result
    without ``complete``/``empty`` (written before the score contract), the ``score`` and
    ``passed`` the old rules gave (default: unchanged), ``app_version``, and without the
    events of the kinds ``drop_events``."""
    out = []
    for line in src.read_text("utf-8").splitlines():
        rec = json.loads(line)
        if rec["type"] == "header":
            rec["app_version"] = app_version
        elif rec["type"] == "event" and rec["kind"] in drop_events:
            continue
        elif rec["type"] == "result":
            rec.pop("complete", None)
            rec.pop("empty", None)
            rec.pop("input_kind", None)
            if score is not None:
                rec["score"] = score
            if passed is not None:
                rec["passed"] = passed
        out.append(json.dumps(rec, separators=(",", ":")))
    dst.write_text("\n".join(out) + "\n", "utf-8")
    return dst


def stopped_after(pipeline: Any, items: Any, kind: str) -> Iterator[Any]:
    """The items of a trainee who stops (Esc) right after the first event of ``kind``: an
    abandoned session. ``pipeline`` is the one the items are fed to (read, not fed here)."""
    from sim.core.records import Action, ActionKind

    for item in items:
        yield item
        if any(e.kind == kind for e in pipeline.events):
            yield Action(item.t_s, ActionKind.FINISH)
            return


@pytest.fixture(scope="session")
def mouse_sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Venipuncture recordings made with the mouse: "complete" (an expert's moves, carried
    out to the end) and "incomplete" (the same moves abandoned after 6 s, before any
    puncture)."""
    from sim.core.records import Action, ActionKind
    from sim.pipeline import Pipeline
    from sim.sources.scripted import scripted_items
    from sim.storage.session import run_session

    sc = find_scenario("venipuncture")
    d = tmp_path_factory.mktemp("mouse")
    items = scripted_items(sc, "expert", 4)
    cut = [i for i in items if i.t_s < 6.0]
    cut.append(Action(cut[-1].t_s, ActionKind.FINISH))
    out = {}
    for name, its in (("complete", items), ("incomplete", cut)):
        out[name] = d / f"{name}.jsonl"
        run_session(Pipeline(sc, input_kind="mouse"), its, out[name], trainee="t-mouse")
    return out


# Identifiers a reader must never see: every catalogue name with an underscore, and the
# two smoothness measures that only their label spells out ("Smoothness (SPARC)").
def identifier_pattern() -> str:
    from sim.procedures.registry import metrics_of, procedures

    names = {n for p in procedures() for n in metrics_of(p)}
    shown = sorted(n for n in names if "_" in n) + ["sparc", "ldlj"]
    return r"\b(" + "|".join(shown) + r")\b"


def visible_text(page: str) -> str:
    """The text of an HTML page as a reader sees it (no markup, styles or attributes)."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.hidden = 0

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            self.hidden += tag in ("style", "script")

        def handle_endtag(self, tag: str) -> None:
            self.hidden -= tag in ("style", "script")

        def handle_data(self, data: str) -> None:
            if not self.hidden:
                self.parts.append(data)

    t = Text()
    t.feed(page)
    return " ".join(" ".join(t.parts).split())
