"""The results page as a trainee reads it: no words drawn over other words, step names whole."""

from __future__ import annotations

import pytest

from sim.app.results import _draw_checklist, draw_results
from sim.core import geometry as g
from sim.core.records import Action, ActionKind, Sample
from sim.metrics.scoring import ScoreResult
from sim.pipeline import Pipeline
from sim.render.overlay import Batch2D, GlyphAtlas
from sim.scenarios import find_scenario

Box = tuple[str, float, float, float, float]
"""A text drawn: its words, left, top, right, bottom (pixels)."""


class BoxBatch(Batch2D):
    """A batch that remembers where every text went, as the box its glyphs fill."""

    def __init__(self, atlas: GlyphAtlas) -> None:
        super().__init__(atlas)
        self.boxes: list[Box] = []

    def text(self, text, x, y, size, rgba, anchor="left"):  # noqa: ANN001, ANN201
        width = self.text_width(text, size)
        left = x - (width / 2 if anchor == "centre" else width if anchor == "right" else 0)
        if text.strip():
            self.boxes.append((text, left, y, left + width, y + self.line_height(size)))
        return super().text(text, x, y, size, rgba, anchor)


@pytest.fixture(scope="module")
def atlas() -> GlyphAtlas:
    return GlyphAtlas()


@pytest.fixture(scope="module")
def clumsy() -> ScoreResult:
    """A steep stick on the elderly patient with no checklist step taken: every step says
    "not done" beside its name, as on the newcomer's results page."""
    sc = find_scenario("venipuncture-elderly")
    axis, normal = g.pose_from_angles(0.0, 43.0, 0.0)
    p = Pipeline(sc, input_kind="mouse")
    p.feed(Action(0.0, ActionKind.TOURNIQUET_ON))
    for i in range(60):
        d = 10.0 - i * 0.3
        p.feed(Sample(0.1 + i / 60, (-d * axis[0], -d * axis[1], -d * axis[2]), axis, normal))
    return p.result()


def _overlaps(boxes: list[Box]) -> list[tuple[str, str]]:
    out = []
    for i, (ta, l1, t1, r1, b1) in enumerate(boxes):
        for tb, l2, t2, r2, b2 in boxes[i + 1 :]:
            if min(r1, r2) - max(l1, l2) > 1 and min(b1, b2) - max(t1, t2) > 1:
                out.append((ta, tb))
    return out


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_no_words_on_the_results_page_are_drawn_over_others(atlas, clumsy, size):
    assert sum(not st.ok for st in clumsy.checklist) >= 8  # many "not done" beside names
    b = BoxBatch(atlas)
    draw_results(b, clumsy, "/tmp/recordings/x.jsonl", size)
    left = [t for t, x, *_ in b.boxes if x < size[0] / 2]  # the checklist's side of the page
    assert left.count("not done") == sum(not st.done for st in clumsy.checklist)
    assert _overlaps(b.boxes) == []
    assert all(right <= size[0] for _, _, _, right, _ in b.boxes)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_checklist_step_names_are_whole_where_there_is_room(atlas, clumsy, size):
    b = BoxBatch(atlas)
    draw_results(b, clumsy, "/tmp/recordings/x.jsonl", size)
    texts = [t for t, *_ in b.boxes]
    for st in clumsy.checklist:
        assert st.label + (" *" if st.critical else "") in texts


def test_a_narrow_checklist_puts_each_status_under_its_step(atlas, clumsy):
    # too narrow for name and status side by side: the names wrap, each status goes under
    b = BoxBatch(atlas)
    bottom = _draw_checklist(b, clumsy, 0.0, 0.0, 300.0, 1.0, exam=False)
    assert _overlaps(b.boxes) == []
    assert all(right <= 300.0 for _, _, _, right, _ in b.boxes)
    assert [t for t, *_ in b.boxes].count("not done") == sum(not st.done for st in clumsy.checklist)
    assert bottom >= max(bot for *_, bot in b.boxes)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_a_session_tracked_in_poor_conditions_says_which_on_the_results_page(atlas, clumsy, size):
    b = BoxBatch(atlas)
    draw_results(b, clumsy, "/tmp/recordings/x.jsonl", size, poor=("dim", "blur"))
    texts = " ".join(t for t, *_ in b.boxes)
    assert "Tracked in poor conditions: too dark on the hand, blurred image" in texts
    assert _overlaps(b.boxes) == []
    plain = BoxBatch(atlas)
    draw_results(plain, clumsy, "/tmp/recordings/x.jsonl", size)
    assert "poor conditions" not in " ".join(t for t, *_ in plain.boxes)
