import math

import pytest

from sim.core.records import Event
from sim.metrics.scoring import points, score


def test_points_between_anchors_either_direction():
    assert points(0.0, expert=0.0, novice=10.0) == 100.0
    assert points(5.0, expert=0.0, novice=10.0) == 50.0
    assert points(20.0, expert=0.0, novice=10.0) == 0.0
    assert points(-2.0, expert=-2.0, novice=-8.0) == 100.0  # higher is better (SPARC)
    assert points(-5.0, expert=-2.0, novice=-8.0) == 50.0
    assert points(math.nan, expert=0.0, novice=10.0) == 0.0


def test_score_lists_every_metric_and_weights_the_total(veni):
    values = {a.name: a.expert for a in veni.scoring.anchors}
    r = score(veni, values, [], complete=True)
    assert r.score == 100.0 and r.passed
    names = {m.name for m in r.metrics}
    assert {"path_length_mm", "sparc", "ldlj", "tremor_peak_hz", "angle_error_deg"} <= names
    scored = [m for m in r.metrics if m.points is not None]
    assert len(scored) == len(veni.scoring.anchors)
    unscored = r.metric("ldlj")
    assert unscored.points is None and unscored.weight == 0
    # halve the heaviest metric: the total drops by its weighted share
    heavy = max(veni.scoring.anchors, key=lambda a: a.weight)
    values[heavy.name] = (heavy.expert + heavy.novice) / 2
    r2 = score(veni, values, [], complete=True)
    total_w = sum(a.weight for a in veni.scoring.anchors)
    assert r2.score == pytest.approx(100 - 50 * heavy.weight / total_w, abs=0.01)
    assert any(r2.metric(heavy.name).label.split(" error")[0] in a for a in r2.advice)


def test_critical_error_fails_regardless_of_score(veni):
    values = {a.name: a.expert for a in veni.scoring.anchors}
    crit = Event(3.0, "back_wall", "back wall of the vein pierced", True)
    minor = Event(2.0, "bevel_down", "bevel rolled", True)
    r = score(veni, values, [minor, crit], complete=True)
    assert r.score == 100.0
    assert not r.passed
    assert [e.kind for e in r.critical_errors] == ["back_wall"]
    assert [e.kind for e in r.errors] == ["bevel_down"]
    assert "critical" in r.advice[0]


def test_below_pass_score_fails(veni):
    values = {a.name: a.novice for a in veni.scoring.anchors}
    r = score(veni, values, [], complete=True)
    assert r.score == 0.0 and not r.passed
    assert len(r.advice) == 3
