"""What only some live sources can do is declared as Protocols, and the app's choices
follow them: the mouse takes the window's events and gives advice; a camera that opened is
calibrated first; a camera that failed shows its (empty) view but is not calibrated, so the
practice screen opens at once and offers the mouse."""

from __future__ import annotations

from sim.app.mouse import MouseSource
from sim.render.scene import default_camera
from sim.scenarios import find_scenario
from sim.sources import Calibratable, GivesAdvice, HandlesEvents, ShowsCamera
from sim.sources.camera import open_live_source


def test_the_mouse_takes_events_and_advises_but_has_no_camera() -> None:
    sc = find_scenario("suturing")
    cam = default_camera(sc)
    m = MouseSource(sc, lambda: cam, lambda: (640, 480), clock=lambda: 0.0)
    assert isinstance(m, HandlesEvents) and isinstance(m, GivesAdvice)
    assert not isinstance(m, ShowsCamera) and not isinstance(m, Calibratable)


def test_a_camera_that_failed_to_open_is_not_calibrated(tmp_path) -> None:  # noqa: ANN001
    src = open_live_source(f"video:{tmp_path / 'missing.mp4'}")
    assert src.error is not None
    assert isinstance(src, ShowsCamera) and not isinstance(src, Calibratable)
    assert not isinstance(src, HandlesEvents)


def test_a_camera_that_opened_is_calibrated_first() -> None:
    import pytest

    pytest.importorskip("cv2", reason="OpenCV (opencv-contrib-python) is not installed")
    from sim.sources.camera import CameraSource
    from tests.sources.test_camera import FakeDetector, FakeGrabber

    src = CameraSource(
        "video:fake.mp4", realtime=False, grabber=FakeGrabber(2), detector=FakeDetector()
    )
    try:
        assert isinstance(src, Calibratable) and isinstance(src, ShowsCamera)
        assert not isinstance(src, HandlesEvents)
    finally:
        src.close()
