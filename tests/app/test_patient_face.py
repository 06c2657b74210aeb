"""The patient panel as a trainee reads it: the number, its words, its colour and the face
always agree, and the face changes where the words do."""

from __future__ import annotations

import pytest

from sim.core.patient import PatientView
from sim.render.hud import BAD, DISCOMFORT_WORDS, draw_face, draw_patient
from sim.render.overlay import Batch2D, GlyphAtlas


class ShapeBatch(Batch2D):
    """A batch that remembers every text and every line drawn."""

    def __init__(self, atlas: GlyphAtlas) -> None:
        super().__init__(atlas)
        self.texts: list[tuple[str, tuple[float, ...]]] = []
        self.lines: list[tuple[tuple[float, float], ...]] = []

    def text(self, text, x, y, size, rgba, anchor="left"):  # noqa: ANN001, ANN201
        self.texts.append((text, tuple(rgba)))
        return super().text(text, x, y, size, rgba, anchor)

    def polyline(self, pts, width, rgba):  # noqa: ANN001, ANN201
        self.lines.append(tuple((round(x, 2), round(y, 2)) for x, y in pts))
        return super().polyline(pts, width, rgba)


@pytest.fixture(scope="module")
def atlas() -> GlyphAtlas:
    return GlyphAtlas()


def _panel(atlas: GlyphAtlas, discomfort: float) -> tuple[str, tuple[float, ...]]:
    b = ShapeBatch(atlas)
    draw_patient(b, PatientView(discomfort=discomfort), 0.0, (1366, 768))
    return next((t, c) for t, c in b.texts if t.startswith("discomfort "))


def test_the_words_and_colour_follow_the_number_shown(atlas):
    # 7.6 and 8.2 both show 8: the newcomer saw "8/10 in pain" then "8/10 in severe pain"
    assert _panel(atlas, 7.6) == _panel(atlas, 8.2) == ("discomfort 8/10  in severe pain", BAD)
    for shown in range(11):
        assert _panel(atlas, shown - 0.5) == _panel(atlas, shown + 0.49)  # halves round up


def _face(atlas: GlyphAtlas, shown: int) -> list[tuple[tuple[float, float], ...]]:
    b = ShapeBatch(atlas)
    draw_face(b, 100.0, 100.0, 1.0, shown, BAD)
    return b.lines


def test_the_face_changes_exactly_where_the_words_do(atlas):
    faces = [_face(atlas, n) for n in range(11)]
    words = [_panel(atlas, n)[0].split("  ", 1)[1] for n in range(11)]
    assert len(set(words)) == len(DISCOMFORT_WORDS)
    for n in range(10):
        assert (faces[n] == faces[n + 1]) == (words[n] == words[n + 1]), n
    assert faces[7] != faces[8]  # "looks identical from 7 to 8"
    # the mouth (the face's last line) goes from a smile to a frown: its middle rises above
    # its corners (y down) a little more at each level
    bend = [f[-1][len(f[-1]) // 2][1] - f[-1][0][1] for f in faces]
    assert bend[0] > 0 > bend[10]
    assert all(a >= b for a, b in zip(bend, bend[1:], strict=False))
