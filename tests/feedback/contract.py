"""The cue contract (``sim.feedback.cues``) as a checker run after every item of a pipeline.

Used by the stateful test (random streams into the pipeline) and the monkey test (random
events into the practice screen). Each check states something a trainee would see: a cue
whose words disagree with the needle, a cue outside its phases, a cue that blinks, a pass
without the procedure done.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from sim.core import geometry as g
from sim.core.records import Cue, Sample, Severity
from sim.feedback.cues import LiveView, Rule
from sim.metrics.scoring import ScoreResult
from sim.pipeline import Pipeline

EPS = 1e-9
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# rules about the needle (all but the tourniquet's clock): none before the trainee moved
NOT_NEEDLE = {"tourniquet_too_long"}
NEEDS_NEAR = {
    "too_steep",
    "too_shallow",
    "off_vein",
    "bevel_down",
    "hold_steady",
    "bite_short",
    "bite_long",
    "not_perpendicular",
}


class ContractError(AssertionError):
    pass


def _check(ok: bool, what: str, v: LiveView | None, cue: Cue | None = None) -> None:
    if not ok:
        raise ContractError(f"{what}\n  cue: {cue}\n  view: {v}")


class CueContract:
    """Checks a pipeline's cues against the contract after every item.

    Call :meth:`after_item` after each item fed; :meth:`after_session` once the session is
    closed. ``stats`` counts what was seen (items, cues started, text updates, ends).
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline
        sc = pipeline.scenario
        self.rules: dict[str, Rule[Any]] = {r.name: r for r in pipeline.cues_engine.rules}
        self.fb = sc.feedback
        self.min_show = sc.feedback.min_show_s
        self.release = sc.feedback.release_s
        self._n_cues = 0
        self._n_samples = 0
        self._first: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
        self._moved = False
        self.shown: dict[str, Cue] = {}  # the cues on screen, rebuilt from the records only
        self._start: dict[str, float] = {}
        self._last_hold: dict[str, float] = {}
        self._first_false: dict[str, float] = {}
        self._last_t = -math.inf
        self._closing = False
        self.stats: Counter[str] = Counter()

    # --- per item ----------------------------------------------------------------------
    def after_item(self, closing: bool = False) -> None:
        """Check the records and the cues on screen after one item (``closing``: after
        ``close_cues``, whose ends are not releases)."""
        self._closing = closing
        p, eng = self.p, self.p.cues_engine
        v = eng.view
        self.stats["items"] += 1
        for s in p.samples[self._n_samples :]:
            self._sample(s)
        self._n_samples = len(p.samples)
        new = p.cues[self._n_cues :]
        self._n_cues = len(p.cues)
        started: set[str] = set()
        ended: set[str] = set()
        for c in new:
            self._record(c, v, started, ended)
        _check(not (started & ended), f"ended and restarted on one item: {started & ended}", v)
        # what the recording says is on screen is what the engine shows (replay = live)
        live = {c.rule: c for c in eng.active()}
        _check(self.shown == live, f"recorded cues {self.shown} != shown {live}", v)
        if v is None:
            _check(not live, "a cue before the first sample", v)
            return
        self._view_flags(v)
        for c in live.values():
            self._active(c, v)

    def _sample(self, s: Sample) -> None:
        if not s.tracked or self._moved:
            return
        if self._first is None:
            self._first = (s.tip_mm, s.axis)
            return
        tip0, ax0 = self._first
        self._moved = (
            g.norm(g.sub(s.tip_mm, tip0)) > self.fb.move_start_mm
            or g.angle_between_deg(s.axis, ax0) > self.fb.move_start_deg
        )

    def _record(self, c: Cue, v: LiveView | None, started: set[str], ended: set[str]) -> None:
        _check(c.t_s >= self._last_t - EPS, "cue records go back in time", v, c)
        self._last_t = c.t_s
        _check(v is not None, "a cue record before any view", v, c)
        assert v is not None
        rule = self.rules.get(c.rule)
        _check(rule is not None, "a cue of an unknown rule", v, c)
        assert rule is not None
        if c.active and not c.update:
            _check(c.rule not in self.shown, "started while already shown", v, c)
            _check(rule.applies(v) and rule.on(v), "started without its condition", v, c)
            _check(rule.hold(v), "on without hold: the hysteresis is inverted", v, c)
            self.shown[c.rule] = c
            self._start[c.rule] = c.t_s
            self._last_hold[c.rule] = c.t_s
            self._first_false.pop(c.rule, None)
            started.add(c.rule)
            self.stats["started"] += 1
            self.stats[f"started:{c.rule}"] += 1
        elif c.active:
            _check(c.rule in self.shown, "an update of a cue not shown", v, c)
            was = self.shown[c.rule]
            _check(
                (c.message, c.severity) != (was.message, was.severity),
                "an update that changes nothing",
                v,
                c,
            )
            want = rule.severity if rule.hold(v) else Severity.INFO
            _check(c.severity is want, "a warning colour for a solved problem, or back", v, c)
            self.shown[c.rule] = c
            self.stats["updates"] += 1
        else:
            _check(c.rule in self.shown, "ended a cue not shown", v, c)
            _check(not c.update, "an end marked as an update", v, c)
            del self.shown[c.rule]
            ended.add(c.rule)
            self.stats["ended"] += 1
            if self._closing:
                self.stats["ended_at_close"] += 1
            elif rule.applies(v):
                # released while its rule still applies: no flicker
                start = self._start[c.rule]
                _check(c.t_s - start >= self.min_show - EPS, "shown less than min_show_s", v, c)
                _check(
                    self._last_hold[c.rule] <= c.t_s - self.release + 1e-6,
                    f"ended {c.t_s - self._last_hold[c.rule]:.3f} s after its hold was true",
                    v,
                    c,
                )
                self.stats["released"] += 1
            else:
                self.stats["ended_by_phase"] += 1

    def _view_flags(self, v: LiveView) -> None:
        fb = self.fb
        _check(v.done == (v.phase == "done"), "done is not the phase 'done'", v)
        _check(v.moved == self._moved, f"moved is {v.moved}, the samples say {self._moved}", v)
        if v.inserted or v.distance_to_skin_mm <= fb.approach_mm:
            _check(v.near, "in or at the skin but not near", v)
        if not v.inserted and v.distance_to_skin_mm > fb.approach_mm + fb.approach_hysteresis_mm:
            _check(not v.near, "far from the skin but near", v)

    def _active(self, c: Cue, v: LiveView) -> None:
        rule = self.rules[c.rule]
        _check(c.message == rule.text(v), f"words are not today's: {rule.text(v)!r}", v, c)
        _check(rule.applies(v), "shown outside its phases", v, c)
        _check(not v.done, "a cue after the task was done", v, c)
        _check(v.moved or c.rule in NOT_NEEDLE, "a needle cue before the trainee moved", v, c)
        if c.rule in NEEDS_NEAR:
            _check(v.near, "an aiming or steadiness cue with the needle far away", v, c)
        if rule.hold(v):
            self._last_hold[c.rule] = v.t_s
            self._first_false.pop(c.rule, None)
        else:
            off = self._first_false.setdefault(c.rule, v.t_s)
            _check(
                v.t_s - self._start[c.rule] < self.min_show + EPS
                or v.t_s - off < self.release + EPS,
                "shown after its condition was gone for release_s",
                v,
                c,
            )
        self._number(c, v)

    def _number(self, c: Cue, v: LiveView) -> None:
        """The number shown is the view's value rounded (to its decimals or one more), and
        the words never ask to go where the value already is."""
        shows = self.rules[c.rule].shows
        m = NUMBER.search(c.message)
        if m is None:
            return
        _check(shows is not None, "words with a number from a rule that declares none", v, c)
        assert shows is not None
        text = m.group(0)
        n = float(text)
        k = len(text.split(".")[1]) if "." in text else 0
        value, dp = shows(v)
        _check(
            k in (dp, dp + 1), f"{text} shown with {k} decimals (expected {dp} or {dp + 1})", v, c
        )
        _check(abs(n - value) <= 0.5 * 10.0**-k + 1e-9, f"{text} is not {value} rounded", v, c)
        self.stats["numbers_checked"] += 1
        msg = c.message
        for word, test in (
            (r"lower to ([\d.]+)-([\d.]+)", lambda a, b: n > b),
            (r"raise to ([\d.]+)-([\d.]+)", lambda a, b: n < a),
            (r"keep it within ([\d.]+)-([\d.]+)", lambda a, b: a <= n <= b),
        ):
            w = re.search(word, msg)
            if w:
                _check(test(float(w.group(1)), float(w.group(2))), f"{text} vs {w.group(0)}", v, c)
        w = re.search(r": slow under ([\d.]+)", msg)
        if w:
            _check(n > float(w.group(1)), "slow down while under the limit", v, c)
        w = re.search(r": keep it under ([\d.]+)", msg)
        if w:
            _check(n <= float(w.group(1)), "'keep it under' while over the limit", v, c)
        if msg.startswith("off the vein by"):
            _check(n > 0, "off the vein by a negative distance", v, c)

    # --- per session -------------------------------------------------------------------
    def after_session(self, result: ScoreResult) -> None:
        """The score agrees with the events: no pass without the procedure done."""
        p = self.p
        kinds = Counter(e.kind for e in p.events)
        # the procedure's own reading of its events (how recordings without ``complete``
        # are judged), independent of the task's is_complete
        done = p.procedure.complete_from_events(p.scenario, p.events)
        critical = [e.kind for e in p.events if e.kind in p.scenario.scoring.critical_errors]
        _check(result.complete == done, f"complete {result.complete} for {dict(kinds)}", None)
        _check(not (result.passed and not done), f"passed incomplete: {dict(kinds)}", None)
        _check(not (result.passed and critical), f"passed with {critical}", None)
        _check(not (result.empty and result.score), "an empty session scored", None)
        self.stats["complete"] += int(result.complete)
        _check(not self.p.cues_engine.active(), "cues left after the session closed", None)
        self.stats["sessions"] += 1
        self.stats["passed"] += int(result.passed)
