"""The calibration screen: for a tracked input (webcam, video), the guided still-hand hold
before the session (tracker noise floor, workspace mapping, and whether the light, the
image's sharpness and the tracking are good enough); skippable."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pygame

from sim.app.widgets import ACCENT
from sim.core.records import Action
from sim.metrics.motion import MIN_TREMOR_RATE_HZ
from sim.render.hud import BAD, GOOD, MUTED, PANEL, WARN, WHITE

if TYPE_CHECKING:
    from sim.app.app import App
    from sim.app.settings import Settings
    from sim.sources import Calibratable
    from sim.tracking.calibration import CalibrationResult, CalibrationSession

CALIBRATION_DONE_S = 3.0
"""How long the calibration screen shows its result before the session starts, s."""


class CalibrationScreen:
    """The guided calibration of a tracked input, before the session (nothing is recorded
    yet).

    The camera view fills most of the window; every polled Sample goes to a
    :class:`~sim.tracking.calibration.CalibrationSession`, whose instruction and progress
    are shown with a progress bar. When the still hold is done the calibrated workspace
    and roll offset are applied to the source and, after :data:`CALIBRATION_DONE_S`, the
    session starts with the measured noise floor.

    The hold's frames are measured too (:func:`sim.tracking.hand_image.measure_hand_image`);
    when the light, the sharpness or the noise floor make tracking unreliable
    (:attr:`CalibrationResult.poor`), the screen says what is wrong and how to fix it and
    waits: Enter goes on regardless (the recording notes the conditions), C calibrates
    again after the fix.

    Keys: S skips the calibration (noise floor 0, marked "skipped" in the recording), M
    continues with the mouse, Esc goes back to the start screen. A camera that fails is
    shown with the offer of the mouse.

    Parameters
    ----------
    app : App
        The window.
    settings : Settings
        The session to start afterwards.
    source : Calibratable
        A tracked source, not started yet.
    """

    def __init__(self, app: App, settings: Settings, source: Calibratable) -> None:
        self.app = app
        self.settings = settings
        self.source = source
        self.session = self._new_session()
        self.status = self.session.status
        self.result: CalibrationResult | None = None
        self.tracked = False  # the newest Sample had the hand
        self.done = False
        self._done_at: float | None = None
        self._view: tuple[float, Any] | None = None  # (frame time, camera view image)
        self._measured_t: float | None = None  # time of the last frame measured
        pygame.key.stop_text_input()
        self.t0 = app.clock()
        source.start(self.t0)

    def _new_session(self) -> CalibrationSession:
        from sim.tracking.calibration import CalibrationSession

        src = self.source
        # the floor at the camera's own rate, as the tremor metric measures the session
        return CalibrationSession(src.tracker.aspect, src.tracker.workspace, src.config.dominant)

    def handle(self, event: Any) -> None:
        if event.type != pygame.KEYDOWN or self.done:
            return
        if event.key == pygame.K_ESCAPE:
            self._leave()
            self.app.show_start(self.settings)
        elif self.waiting and event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self._start_session(self.result)
        elif self.waiting and event.key == pygame.K_c:
            self.result = None
            self.session = self._new_session()
            self.status = self.session.status
        elif event.key == pygame.K_s and self.source.error is None:
            self._start_session(None)
        elif event.key == pygame.K_m:
            self._leave()
            self.app.begin_session(replace(self.settings, input_spec="mouse"))

    @property
    def waiting(self) -> bool:
        """Calibrated in poor conditions: waiting for the trainee to go on or calibrate
        again."""
        return (
            self.result is not None
            and bool(self.result.poor)
            and not self.done
            and self.source.error is None
        )

    def _measure_frame(self) -> None:
        """Measure the newest tracked frame (once) while the hold is under way."""
        fv = self.source.latest_frame()
        if fv is None or fv.landmarks is None or fv.t_s == self._measured_t:
            return
        if not self.session.holding:
            return
        from sim.tracking.hand_image import measure_hand_image

        self._measured_t = fv.t_s
        self.session.observe(measure_hand_image(fv.rgb, fv.landmarks))

    def update(self) -> None:
        if self.done:
            return
        if self.result is None:
            self._measure_frame()
            for item in self.source.poll():
                if isinstance(item, Action):
                    continue
                self.tracked = bool(item.tracked)
                self.status = self.session.update(item)
                result = self.session.result
                if result is None:
                    continue
                if not math.isfinite(result.noise.z_mm):
                    # no usable tip positions in the hold: hold again (a floor that is NaN
                    # only says the camera is too slow for the tremor band: kept, see
                    # CalibrationResult.tremor_floor_mm)
                    self.session = self._new_session()
                    self.status = replace(
                        self.session.status, message="Hand not measured: hold still again"
                    )
                    continue
                self.result = result
                # poses from the next frame on are in the calibrated workspace
                self.source.apply_calibration(result.workspace, result.roll_offset_deg)
                # poor conditions: the trainee reads the fix and chooses (Enter or C)
                self._done_at = None if result.poor else self.app.clock()
                break
        elif self.waiting:
            self.source.poll()  # keep the camera view live; nothing is recorded yet
        elif self._done_at is not None and self.app.clock() - self._done_at >= CALIBRATION_DONE_S:
            self._start_session(self.result)

    def _start_session(self, result: CalibrationResult | None) -> None:
        self.done = True
        self.app.begin_session(self.settings, self.source, result, source_t0=self.t0)

    def _leave(self) -> None:
        self.done = True
        self.source.close()

    def _draw_result(
        self, b: Any, result: CalibrationResult, y: float, w: float, s: float
    ) -> float:
        """ "Calibrated", each poor condition with its fix, the noise of each quantity in
        words and what the depth assist does; returns the y below them."""
        if result.poor:
            b.text(
                "Calibrated, but tracking would be unreliable:", w / 2, y, 22, WARN, anchor="centre"
            )
            y += 30 * s
            for p in result.poor:
                for line in b.wrap(p.message, 17, w - 120 * s):
                    b.text(line, w / 2, y, 17, WARN, anchor="centre")
                    y += 24 * s
            y += 6 * s
        else:
            b.text("Calibrated", w / 2, y, 22, GOOD, anchor="centre")
            y += 30 * s
        words = result.noise.words()
        if not math.isfinite(result.noise_floor_mm) and not any(
            p.name == "slow" for p in result.poor
        ):  # (a "slow" condition above says so, with the fix)
            words += (
                f"; tremor not measured: only {result.rate_hz:.0f} frames/s were tracked "
                f"(needs {MIN_TREMOR_RATE_HZ:.0f})"
            )
        for line in b.wrap(words[0].upper() + words[1:], 17, w - 120 * s):
            b.text(line, w / 2, y, 17, WHITE, anchor="centre")
            y += 24 * s
        assist = self.source.tracker.assist
        if assist.guided:
            what = (
                "kept over the target for you"
                if assist.mode == "fixed"
                else f"pulled onto the target when within {assist.snap_mm:g} mm"
            )
            b.text(
                f"Depth is too coarse in a webcam to aim by: side to side, the needle is {what}",
                w / 2,
                y + 4 * s,
                14,
                MUTED,
                anchor="centre",
            )
            y += 24 * s
        return y

    def close(self) -> None:
        """The window was closed: nothing was recorded yet; release the camera."""
        if not self.done:
            self._leave()

    def draw(self) -> None:
        r = self.app.renderer
        r.clear((0.10, 0.12, 0.16))
        w, h = r.size
        s = h / 720.0
        b = r.new_batch()
        b.text(
            f"Calibration  ·  {self.settings.scenario.title}  ·  {self.settings.hand} hand",
            w / 2,
            14 * s,
            22,
            WHITE,
            anchor="centre",
        )
        # the camera view, as large as fits between the title and the instructions
        # room below for the poor conditions and their fixes (up to two lines each)
        below = 230 + (36 + 48 * len(self.result.poor) if self.result is not None else 0)
        view_w, view_h = int(w * 0.62), int(h - below * s)
        vx, vy = (w - view_w) / 2, 50 * s
        fv = self.source.latest_frame()
        if fv is not None:
            fh, fw = fv.rgb.shape[:2]
            width = max(64, min(view_w, int(view_h * fw / fh)))
            if self._view is None or self._view[0] != fv.t_s or self._view[1].shape[1] != width:
                from sim.tracking.overlay import camera_view

                self._view = (fv.t_s, camera_view(fv.rgb, fv.landmarks, fv.others, width=width))
        else:
            b.rect(vx, vy, view_w, view_h, PANEL)
            b.text("starting the camera...", w / 2, vy + view_h / 2, 17, MUTED, anchor="centre")
        y = 50 * s + view_h + 14 * s
        err = self.source.error
        if err:
            for line in b.wrap(err, 17, w - 80 * s):
                b.text(line, w / 2, y, 17, WARN, anchor="centre")
                y += 24 * s
            b.text(
                "M: continue with the mouse  ·  Esc: back to the start screen",
                w / 2,
                y + 6 * s,
                17,
                WHITE,
                anchor="centre",
            )
        else:
            if self.result is not None:  # the outcome: what the camera can measure
                y = self._draw_result(b, self.result, y, w, s)
            else:
                for line in b.wrap(self.status.message, 22, w - 80 * s):
                    b.text(line, w / 2, y, 22, WHITE, anchor="centre")
                    y += 30 * s
                y += 6 * s
                bar = (w / 2 - 300 * s, y, 600 * s, 16 * s)
                b.rect(*bar, PANEL)
                b.rect(
                    bar[0], bar[1], bar[2] * min(max(self.status.progress, 0.0), 1.0), bar[3], WHITE
                )
                b.frame(*bar, 1.5, ACCENT)
                y += 28 * s
            if fv is not None and not self.tracked and self.result is None:
                b.text("hand not visible", w / 2, y, 17, BAD, anchor="centre")
        if self.result is None:  # once calibrated, the session is about to start
            b.text(
                "Hold the needle still, bevel up, where you want to work: this measures the "
                "camera's jitter (not counted as tremor), checks the light and the image's "
                "sharpness, and sets your working space.",
                w / 2,
                h - 62 * s,
                14,
                MUTED,
                anchor="centre",
            )
            b.text(
                "S: skip calibration  ·  M: use the mouse  ·  Esc: back",
                w / 2,
                h - 36 * s,
                14,
                MUTED,
                anchor="centre",
            )
        elif self.waiting:
            b.text(
                "Enter: go on as it is (the report will say it was tracked in poor conditions)"
                "  ·  C: calibrate again after the fix  ·  Esc: back",
                w / 2,
                h - 36 * s,
                14,
                WHITE,
                anchor="centre",
            )
        elif err is None:
            b.text("starting the session...", w / 2, h - 36 * s, 14, MUTED, anchor="centre")
        r.draw_batch(b)
        if self._view is not None and fv is not None:
            image = self._view[1]
            r.draw_image(image, (w - image.shape[1]) / 2, vy)
