"""Windows fit the display they open on, and the replay's panel reads at the sizes that gives:
the legend above the plots (not over them), a key for the timeline's markers, the latest
event never running into the title, a tremor trace on the live meter's scale, and the cue
banner clear of the HUD's title."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from sim.app.window import MIN_DISPLAY, fit_window  # noqa: E402
from sim.render.hud import banner_rect  # noqa: E402
from sim.render.overlay import Batch2D, GlyphAtlas  # noqa: E402
from sim.replay.panel import MIN_PANEL_PX, PanelLayout, PanelModel, draw_panel  # noqa: E402
from sim.replay.timeline import Timeline  # noqa: E402
from sim.replay.view import full_size, scene_for_window  # noqa: E402

DISPLAYS = [MIN_DISPLAY, (1280, 800), (1440, 900), (1920, 1080), (2560, 1440), (3840, 2160)]


@pytest.mark.parametrize("display", DISPLAYS)
def test_the_window_fits_the_display_with_room_for_title_bar_and_taskbar(
    display: tuple[int, int],
) -> None:
    w, h = fit_window(display)
    dw, dh = display
    assert w <= dw and h <= dh - 60  # a title bar and a taskbar still fit round it
    assert h >= 0.85 * dh or w >= 0.9 * dw  # and it is not a postage stamp
    assert abs(w / h - 16 / 9) < 0.01 and w % 2 == 0 and h % 2 == 0
    # the replay: scene and panel together fit in that window, the scene as wide as it
    scene = scene_for_window((w, h))
    (fw, fh), panel = full_size(scene)
    assert fw == w and h - 2 <= fh <= h and panel >= MIN_PANEL_PX


def test_the_sizes_on_a_laptop_and_on_a_full_hd_display() -> None:
    assert fit_window((1366, 768)) == (1222, 688)  # was 1280x880: cut off on the laptop
    assert fit_window((1920, 1080)) == (1728, 972)
    assert full_size(scene_for_window((1222, 688)))[0] == (1222, 688)


class Seen(Batch2D):
    """A batch that keeps where each text went: (text, x0, y0, x1, y1)."""

    def __init__(self) -> None:
        super().__init__(GlyphAtlas())
        self.boxes: list[tuple[str, float, float, float, float]] = []

    def text(self, text: str, x: float, y: float, size: int, *a: Any, **kw: Any) -> float:
        width = super().text(text, x, y, size, *a, **kw)
        anchor = kw.get("anchor", a[1] if len(a) > 1 else "left")
        x0 = x - width if anchor == "right" else x - width / 2 if anchor == "centre" else x
        self.boxes.append((text, x0, y, x0 + width, y + self.line_height(size)))
        return width


@pytest.fixture(scope="module")
def suturing(tmp_path_factory: pytest.TempPathFactory) -> PanelModel:
    from tests.replay.helpers import record

    return PanelModel(
        Timeline(record(tmp_path_factory.mktemp("fit"), "suturing", "intermediate", 2))
    )


@pytest.mark.parametrize("display", [MIN_DISPLAY, (1920, 1080)])
def test_the_panel_reads_at_the_window_sizes(
    suturing: PanelModel, display: tuple[int, int]
) -> None:
    scene = scene_for_window(fit_window(display))
    (w, _), ph = full_size(scene)
    tl = suturing.tl
    t = max(m.t_s for m in suturing.markers if m.category != "cue") + 0.01
    seen = Seen()
    lay = draw_panel(
        seen,
        suturing,
        (w, ph),
        t,
        speed=1.0,
        playing=True,
        title="a-trainee-with-a-long-id - suturing",
        ghost="expert-reference-recording.jsonl",
    )
    assert lay.plot_bottom - lay.plot_top >= 40 and lay.bar_bottom <= ph
    # every word is in the two rows above the plots: none is written over a trace
    assert seen.boxes and all(y1 <= lay.plot_top for _, _, _, _, y1 in seen.boxes)
    words = [b[0] for b in seen.boxes]
    for key in ("event", "error", "cue shown"):  # the timeline markers' key
        assert key in words
    assert any(w.startswith("steady limit") for w in words)
    # nothing written over anything else (the latest event stops short of the title)
    for i, a in enumerate(seen.boxes):
        for b in seen.boxes[i + 1 :]:
            overlap = (
                min(a[3], b[3]) - max(a[1], b[1]) > 0 and min(a[4], b[4]) - max(a[2], b[2]) > 0
            )
            assert not overlap, f"{a[0]!r} overlaps {b[0]!r}"
    assert all(b[1] >= 0 and b[3] <= w for b in seen.boxes)
    assert tl.end_s > t


def test_the_tremor_trace_is_on_the_live_meters_scale(suturing: PanelModel) -> None:
    """A trainee whose tremor stays under the steady limit has a trace under the dashed
    limit line, not one stretched to the top of the plot."""
    m = suturing
    assert np.nanmax(m.tremor) < m.tremor_limit_mm  # this recording: a steady hand
    _, _, tremor, _ = m.series(PanelLayout.of(1222, 150))
    limit = m.tremor_limit_mm / m.tremor_top_mm
    assert np.nanmax(tremor) < limit
    assert np.nanmax(tremor) == pytest.approx(np.nanmax(m.tremor) / m.tremor_top_mm, rel=0.01)


@pytest.mark.parametrize("display", [MIN_DISPLAY, (1920, 1080)])
def test_the_cue_banner_stays_clear_of_the_title(display: tuple[int, int]) -> None:
    scene = scene_for_window(fit_window(display))
    s = scene[1] / 720.0
    bx, by, bw, bh = banner_rect(scene)
    title_right = (12 + 270) * s  # the HUD's timer and title panel, top left
    assert bx >= title_right and bx + bw <= scene[0]


def test_the_replay_window_opens_at_the_fitted_size(
    monkeypatch: pytest.MonkeyPatch, quit_display: None, tmp_path: Path
) -> None:
    from sim.app.replay import ReplayWindow
    from tests.replay.helpers import record

    monkeypatch.setattr(pygame.display, "get_desktop_sizes", lambda: [MIN_DISPLAY])
    win = ReplayWindow(
        Timeline(record(tmp_path, "venipuncture", "expert", 1)), realtime=False, hidden=True
    )
    assert win.window_size == (1222, 688)
    assert win.capture().shape == (688, 1222, 3)
