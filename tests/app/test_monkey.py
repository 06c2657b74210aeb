"""Monkey test: random pygame events into the real practice screen (offscreen, stepped clock).

For a few thousand frames per scenario, with a fixed seed: mouse motion (mostly around the
puncture site or wound, sometimes anywhere), buttons, the wheel, and keys (needle controls
held and released, T, F1, arrows, zoom, Enter and Esc, which end the session; the results
screen's R starts the next). After every item the pipeline takes, the cue contract of
``tests/feedback/contract.py`` holds (words agree with the view, no cue outside its phases,
no blinking); after every frame the HUD's banner is the live cue; every session's recording
re-scores to exactly what was recorded, and nothing raises. One frame in five is drawn
(the HUD text is most of a frame's time on a software renderer).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from sim.procedures.registry import ids  # noqa: E402
from sim.render.scene import frame_from_pipeline  # noqa: E402
from sim.storage.session import rescore  # noqa: E402
from tests.app.driver import Driver  # noqa: E402
from tests.conftest import scenario_of  # noqa: E402
from tests.feedback.contract import CueContract  # noqa: E402

FRAMES = 1500
DRAW_EVERY = 5
SIZE = (480, 270)
HELD = [pygame.K_w, pygame.K_s, pygame.K_q, pygame.K_e, pygame.K_a, pygame.K_d]
TAPS = [pygame.K_t, pygame.K_F1, pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN]
TAPS += [pygame.K_PLUS, pygame.K_MINUS, pygame.K_c, pygame.K_m, pygame.K_x]
ENDS = [pygame.K_RETURN, pygame.K_ESCAPE]


def _key(kind: int, key: int) -> Any:
    return pygame.event.Event(kind, key=key, mod=0, unicode="", scancode=0)


class Monkey:
    """Random events for the practice screen, from one seeded generator."""

    def __init__(self, d: Driver, seed: int) -> None:
        self.d = d
        self.rng = np.random.default_rng(seed)
        # around where the instrument starts: the procedure's site
        ins = d.screen.source.instrument
        self.site = ins.pose(ins.start())[0]
        keys = [pygame.key.key_code(k) for k in d.screen.procedure.keys]
        self.taps = TAPS + [k for k in keys if k not in TAPS]  # T is a no-op where no key
        self.pos = (SIZE[0] / 2, SIZE[1] / 2)
        self.counts: Counter[str] = Counter()

    def events(self) -> list[Any]:
        """0-3 events for one frame; a session-ending key only comes last."""
        r = self.rng
        out = []
        for _ in range(int(r.integers(0, 4))):
            u = r.random()
            if u < 0.55:
                out.append(self._motion())
            elif u < 0.65:
                b = int(r.choice([1, 2, 3]))
                kind = pygame.MOUSEBUTTONDOWN if r.random() < 0.5 else pygame.MOUSEBUTTONUP
                out.append(pygame.event.Event(kind, pos=self._pix(), button=b))
                self.counts["button"] += 1
            elif u < 0.75:
                out.append(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=int(r.integers(-3, 4))))
                self.counts["wheel"] += 1
            elif u < 0.93:
                k = int(r.choice(HELD))
                out.append(_key(pygame.KEYDOWN if r.random() < 0.5 else pygame.KEYUP, k))
                self.counts["held key"] += 1
            else:
                k = int(r.choice(self.taps))
                out += [_key(pygame.KEYDOWN, k), _key(pygame.KEYUP, k)]
                self.counts["tap key"] += 1
        if r.random() < 1 / 400:  # about one session end every 7 s
            out.append(_key(pygame.KEYDOWN, int(r.choice(ENDS))))
            self.counts["end key"] += 1
        return out

    def _pix(self) -> tuple[int, int]:
        return (int(self.pos[0]), int(self.pos[1]))

    def _motion(self) -> Any:
        r = self.rng
        old = self.pos
        if r.random() < 0.7:  # around the site
            cam = self.d.screen.camera
            cx, cy = cam.project(self.site, self.d.app.renderer.size)
            self.pos = (cx + r.normal(0, 40), cy + r.normal(0, 30))
        else:
            self.pos = (r.uniform(0, SIZE[0]), r.uniform(0, SIZE[1]))
        self.pos = (min(max(self.pos[0], 0), SIZE[0] - 1), min(max(self.pos[1], 0), SIZE[1] - 1))
        rel = (int(self.pos[0] - old[0]), int(self.pos[1] - old[1]))
        self.counts["motion"] += 1
        return pygame.event.Event(pygame.MOUSEMOTION, pos=self._pix(), rel=rel, buttons=(0, 0, 0))


def _watch(screen: Any) -> CueContract:
    """Check the contract after every item the practice screen's pipeline takes; draw one
    frame in ``DRAW_EVERY`` (drawing the HUD is most of a frame's time offscreen)."""
    draw = screen.draw
    frame = iter(range(10**9))
    screen.draw = lambda: None if next(frame) % DRAW_EVERY else draw()
    p = screen.pipeline
    check = CueContract(p)
    feed = p.feed

    def checked(item: Any) -> Any:
        step = feed(item)
        check.after_item()
        return step

    p.feed = checked
    return check


@pytest.mark.parametrize("task", ids())
def test_random_events_keep_the_cue_contract_and_recordings_rescore(
    task: str, data_dir: Path, quit_display: None
) -> None:
    from sim.app.practice import PracticeScreen
    from sim.app.results import ResultsScreen

    d = Driver(scenario_of(task).id, size=SIZE)
    monkey = Monkey(d, seed=9)
    check = _watch(d.screen)
    totals: Counter[str] = Counter()
    sessions = 0
    items = 0

    def session_over(result: Any, path: Path) -> None:
        nonlocal sessions, items
        check.after_item(closing=True)
        check.after_session(result)
        again = rescore(path)
        assert again.matches, f"{path} does not re-score to what was recorded"
        assert again.result.as_dict() == result.as_dict()
        totals.update(check.stats)
        sessions += 1

    for _ in range(FRAMES):
        for e in monkey.events():
            pygame.event.post(e)
        d.frames(1)
        screen = d.screen
        if isinstance(screen, ResultsScreen):
            session_over(screen.result, screen.path)
            d.key(pygame.K_r)  # the next session
            assert isinstance(d.screen, PracticeScreen)
            check = _watch(d.screen)
            continue
        assert isinstance(screen, PracticeScreen) and d.app.running
        p = screen.pipeline
        # the HUD's banner is the live cue, with today's words
        banner = frame_from_pipeline(p).banner
        assert banner == p.cues_engine.banner()
        if banner is not None:
            assert banner.message == check.rules[banner.rule].text(p.cues_engine.view)
    screen = d.screen
    assert isinstance(screen, PracticeScreen)
    screen.close()  # the window closed mid-session: kept, marked incomplete
    assert screen.recorder.result is not None
    session_over(screen.recorder.result, screen.path)
    items = totals["items"]
    print(f"\nmonkey {task}: {FRAMES} frames, {sessions} sessions, {items} items, ", end="")
    print(f"events {dict(monkey.counts)}, cues {dict(totals)}")
    assert sessions >= 2 and totals["started"] > 0 and totals["numbers_checked"] > 0
