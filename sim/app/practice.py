"""The practice screen: the session. It polls the live source, feeds a
:class:`~sim.storage.session.SessionRecorder`, draws the scene and the coaching HUD."""

from __future__ import annotations

import functools
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pygame

from sim.app.help import CHECKLIST_KEYS, STEP_KEYS, help_lines
from sim.app.inputs import make_source
from sim.app.widgets import Clickable
from sim.core import patient
from sim.core.checklist import RELEASE, STEPS, pending, waits_for
from sim.core.records import Action, ActionKind
from sim.metrics.scoring import ScoreResult
from sim.paths import new_recording_path, recordings_of
from sim.pipeline import Pipeline
from sim.procedures.registry import get as procedure_of
from sim.render.hud import checklist_rects
from sim.render.scene import DrawOptions, default_camera, frame_from_pipeline
from sim.sources import Calibratable, GivesAdvice, HandlesEvents, LiveSource, ShowsCamera
from sim.storage.session import SessionRecorder

if TYPE_CHECKING:
    from sim.app.app import App
    from sim.app.settings import Settings
    from sim.tracking.calibration import CalibrationResult


NOTICE_S = 3.0
"""How long a refused step's words stay on screen, s (our choice: read once at ease)."""


class PracticeScreen:
    """A session: live source -> recorder (pipeline) -> scene and HUD.

    Parameters
    ----------
    app : App
        The window.
    settings : Settings
        Scenario, input, trainee, exam mode, dominant hand.
    source : LiveSource, optional
        A source already opened (and, with ``source_t0``, already running: the
        calibration screen hands its camera over); default: a new one for
        ``settings.input_spec``.
    calibration : CalibrationResult, optional
        The calibration applied to a tracked ``source``: its noise floor goes to the
        pipeline (tremor metric) and the recording header. A tracked source without one
        was not calibrated (noise floor 0, header ``calibration.status`` "skipped").
    source_t0 : float, optional
        The ``app.clock()`` time a running ``source`` was started with. Its sample times
        are shifted to this session's start, and samples from before it are dropped.
    """

    def __init__(
        self,
        app: App,
        settings: Settings,
        *,
        source: LiveSource | None = None,
        calibration: CalibrationResult | None = None,
        source_t0: float | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        sc = settings.scenario
        self.procedure = procedure_of(sc.task)
        self.camera = default_camera(sc)
        floor = calibration.tremor_floor_mm if calibration is not None else 0.0
        # tracked in poor conditions (the calibration said so; the results screen repeats it)
        self.poor = tuple(p.name for p in calibration.poor) if calibration is not None else ()
        self.source = source if source is not None else self._make_source(settings.input_spec)
        src = self.source
        self.pipeline = Pipeline(
            sc,
            floor,
            src.input_kind,
            noise=calibration.noise if calibration is not None else None,
            guided=src.tracker.assist.guided if isinstance(src, Calibratable) else frozenset(),
        )
        self.path = new_recording_path(sc.id, settings.trainee)
        self.session_id = str(uuid.uuid4())
        self.recorder = SessionRecorder(
            self.pipeline,
            self.path,
            trainee=settings.trainee,
            station=app.station_id(),
            keep_raw=app.keep_raw_landmarks,
            calibration=self._calibration_header(calibration),
            meta={
                "session_id": self.session_id,
                "exam": settings.exam,
                "input_spec": settings.input_spec,
                "hand": settings.hand,
            },
        )
        app.recordings.append(self.path)
        self.help = False
        self._held: dict[str, float] = {}  # repeating keys held down: when last acted
        self._help_since: float | None = None  # app clock when help opened (session paused)
        self._paused_s = 0.0
        self.checklist = sc.checklist
        self.help_lines = help_lines(self.procedure, sc.checklist)
        self.clicks = Clickable()  # the checklist's buttons drawn this frame
        self._stopped = False  # the trainee pressed Enter
        # a short hint of the controls in the trainee's first session, until the first action
        first = not any(p != self.path for p in recordings_of(settings.trainee))
        self.hint: str | None = None
        self._notice: tuple[str, float] | None = None  # a step refused, and when
        if first and self.source.input_kind == "mouse":
            self.hint = self.procedure.help.hint
        self.t0 = app.clock()
        # sample times of a source started earlier (calibration) minus this: session time
        self._offset = 0.0
        if source is not None and source_t0 is not None:
            self._offset = self.t0 - source_t0
        else:
            self.source.start(self.t0)
        self._orbit = False
        self.done = False
        self._pip: tuple[float, Any] | None = None  # (frame time, image) of the camera view
        pygame.key.stop_text_input()

    def _calibration_header(self, calibration: CalibrationResult | None) -> dict[str, Any] | None:
        """The header's ``calibration`` block: how a tracked source derived its poses, and
        whether it was calibrated (None for an untracked source such as the mouse)."""
        if not isinstance(self.source, Calibratable):
            return None
        header_of = self.source.calibration_header
        if calibration is None:
            return {**header_of(0.0), "status": "skipped"}
        return {
            **calibration.as_header(),
            **header_of(calibration.tremor_floor_mm),
            "status": "calibrated",
        }

    def _make_source(self, spec: str) -> LiveSource:
        return make_source(
            spec,
            self.settings.scenario,
            camera=lambda: self.camera,
            size=lambda: self.app.renderer.size,
            clock=self.app.clock,
            hand=self.settings.hand,
        )

    def now(self) -> float:
        """Session time, s: the app clock since the start, less the time help was open."""
        paused = self._paused_s
        if self._help_since is not None:
            paused += self.app.clock() - self._help_since
        return self.app.clock() - self.t0 - paused

    def toggle_help(self) -> None:
        """Open or close the help; while it is open the session is paused: the clock stops
        and the instrument's motion is not recorded."""
        if not self.help:
            self._feed_source()  # up to now first
            self._help_since = self.app.clock()
        elif self._help_since is not None:
            self.source.poll()  # motion made while reading the help is not the session's
            gap = self.app.clock() - self._help_since
            self._paused_s += gap
            self._offset += gap
            self._help_since = None
        self.help = not self.help

    def take_step(self, step: str) -> None:
        """Take a step of the scenario's checklist (its key or its button): the step's action
        (releasing the tourniquet: the shared tourniquet-off action)."""
        if self.checklist is not None:
            first = waits_for(self.checklist, step, self.pipeline.events)
            if first is not None:  # not yet possible: say what must happen first
                what = self.procedure.milestones.get(first, first.replace("_", " "))
                self._notice = (f"{STEPS[step].capitalize()}: not yet ({what} first)", self.now())
                return
        kind = ActionKind.TOURNIQUET_OFF if step == RELEASE else step
        self._action(kind)

    def steps_left(self) -> tuple[str, ...]:
        """The checklist's steps not taken yet (none without a checklist)."""
        return pending(self.checklist, self.pipeline.events)

    def _action(self, kind: str) -> None:
        self._feed_source()  # samples up to now first, so items stay in time order
        self._feed(Action(round(self.now(), 6), kind))
        if kind == ActionKind.FINISH:
            self._stopped = True  # the trainee stopped: the steps left are not waited for

    def _feed(self, item: Any) -> None:
        step = self.recorder.feed(item)
        if self.settings.voice:  # the patient speaks (in the background: no frame waits)
            for e in step.events:
                if e.kind == patient.SAID:
                    self.app.voice.say(e.message)
        if step.events and not self.settings.exam:
            tones = self.procedure.sounds
            for e in step.events:
                if e.kind in tones:
                    self.app.sounds.play(tones[e.kind])

    def _feed_source(self) -> None:
        for item in self.source.poll():
            if self._offset:
                t = round(item.t_s - self._offset, 6)
                if t < 0.0:
                    continue  # captured before the session started (during calibration)
                item = replace(item, t_s=t)
            self._feed(item)
            if self.pipeline.finished:
                break

    def handle(self, event: Any) -> None:
        et = event.type
        if et in (pygame.KEYDOWN, pygame.MOUSEBUTTONDOWN, pygame.MOUSEWHEEL):
            self.hint = None  # the first action: the trainee has started
        if et == pygame.KEYDOWN:
            k = event.key
            if k in (pygame.K_F1, pygame.K_h):
                self.toggle_help()
                return
            if self.help:
                if k == pygame.K_ESCAPE:
                    self.toggle_help()
                return  # paused: nothing else acts while the help is open
            if k == pygame.K_ESCAPE:
                self.finish()
                return
            if k in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self._action(ActionKind.FINISH)
                return
            name = pygame.key.name(k)
            key_action = self.procedure.keys.get(name)
            if key_action is not None:
                self._action(key_action(self.pipeline.state))
                if name in self.procedure.repeat_hz:
                    self._held[name] = self.now()  # again while held (see update)
                return
            step = CHECKLIST_KEYS.get(name)
            if step is not None and self.checklist is not None and step in self.checklist.steps:
                self.take_step(step)
                return
            if k == pygame.K_m and self.source.error is not None:
                self.source.close()
                self.source = self._make_source("mouse")
                self.source.start(self.t0)
                self._offset = 0.0
                return
            if self._camera_key(k):
                return
        if et == pygame.KEYUP:
            self._held.pop(pygame.key.name(event.key), None)
        elif et == pygame.WINDOWFOCUSLOST:
            self._held.clear()  # its key-up goes to another window
        if self.help:
            return  # paused
        if et == pygame.MOUSEBUTTONDOWN and event.button == 1 and self.clicks.click(event.pos):
            return  # a checklist button, not the instrument
        if isinstance(self.source, HandlesEvents) and self.source.handle_event(event):
            return
        self._camera_event(event)

    def _camera_key(self, k: int) -> bool:
        cam = self.camera
        if k == pygame.K_LEFT:
            cam.orbit(-10, 0)
        elif k == pygame.K_RIGHT:
            cam.orbit(10, 0)
        elif k == pygame.K_UP:
            cam.orbit(0, 5)
        elif k == pygame.K_DOWN:
            cam.orbit(0, -5)
        elif k in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            cam.zoom(0.9)
        elif k in (pygame.K_MINUS, pygame.K_KP_MINUS):
            cam.zoom(1.1)
        elif k == pygame.K_c:
            self.camera = default_camera(self.settings.scenario)
        else:
            return False
        return True

    def _camera_event(self, event: Any) -> None:
        et = event.type
        if et == pygame.MOUSEBUTTONDOWN and event.button in (1, 2):
            self._orbit = True
        elif et == pygame.MOUSEBUTTONUP and event.button in (1, 2):
            self._orbit = False
        elif et == pygame.MOUSEMOTION and self._orbit:
            self.camera.orbit(-event.rel[0] * 0.3, event.rel[1] * 0.3)
        elif et == pygame.MOUSEWHEEL:
            self.camera.zoom(0.9**event.y)

    def update(self) -> None:
        if self.done or self.help:
            return
        self._feed_source()
        self._repeat_held()
        # a complete procedure waits for the checklist's steps left (gauze, sharps) or Enter
        ended = self.pipeline.finished or self.pipeline.complete
        if ended and (self._stopped or not self.steps_left()):
            self.finish()

    def _repeat_held(self) -> None:
        """A held key whose action repeats (``Procedure.repeat_hz``) sends it again each
        period it has been held."""
        now = self.now()
        for name, last in list(self._held.items()):
            period = 1.0 / self.procedure.repeat_hz[name]
            while now - last >= period and not self.pipeline.finished:
                last += period
                self._action(self.procedure.keys[name](self.pipeline.state))
            self._held[name] = last

    def finish(self) -> None:
        """End the session: score, write the result, show the results screen."""
        if not self.done:
            self.app.show_results(self.settings, self._end(), self.path, self.poor)

    def close(self) -> None:
        """The window was closed: keep the recording, scored as far as it went."""
        if not self.done:
            result = self._end()
            state = "complete" if result.complete else "incomplete"
            print(f"procsim: session interrupted; recording kept ({state}): {self.path}")

    def _end(self) -> ScoreResult:
        """Stop the session, however it was stopped: the task hears a stop it did not reach
        by itself (it ends the tourniquet's time and notes what was left undone), as with
        Enter; then the source closes and the recording is scored and closed."""
        if not self.pipeline.finished:
            self._action(ActionKind.FINISH)
        self.done = True
        self.source.close()
        return self.recorder.finish()

    def options(self) -> DrawOptions:
        err = self.source.error
        advice = self.source.advice() if isinstance(self.source, GivesAdvice) else None
        msg = f"{err}: press M to continue with the mouse" if err else self.hint or advice
        if self._notice is not None and self.now() - self._notice[1] < NOTICE_S:
            msg = self._notice[0]
        ended = self.pipeline.complete or self.pipeline.finished
        left = self.steps_left() if ended else ()
        if left and not err:
            steps = ", ".join(f"{STEP_KEYS[st]} {STEPS[st]}" for st in left)
            msg = f"Procedure complete. Checklist steps left: {steps}; or Enter to finish"
        return DrawOptions(
            exam=self.settings.exam,
            hud=True,
            help=self.help,
            help_lines=self.help_lines,
            message=msg,
            title=f"{self.settings.trainee}  ·  {self.settings.scenario.title}",
            step_keys=tuple(STEP_KEYS.items()),
        )

    def draw(self) -> None:
        frame = frame_from_pipeline(self.pipeline, t_s=self.now())
        # a tracked source may offer a smoothed pose for the on-screen instrument only
        # (the pipeline and the metrics keep the raw samples)
        shown = self.source.display_sample() if isinstance(self.source, ShowsCamera) else None
        if shown is not None:
            frame = replace(frame, sample=shown)
        self.app.renderer.draw(frame, self.options(), self.camera)
        self._checklist_buttons()
        self._draw_camera_view()

    def _checklist_buttons(self) -> None:
        """Make the checklist's buttons (drawn by the HUD) clickable: a click takes the
        step."""
        self.clicks = Clickable()
        if self.checklist is None or self.help:
            return
        for step, rect in checklist_rects(self.pipeline.scenario, self.app.renderer.size):
            self.clicks.add(rect, functools.partial(self.take_step, step))

    def _draw_camera_view(self) -> None:
        """Picture-in-picture of a camera source's newest frame (top right), if it has one."""
        fv = self.source.latest_frame() if isinstance(self.source, ShowsCamera) else None
        if fv is None:
            return
        r = self.app.renderer
        w, h = r.size
        s = h / 720.0
        if self._pip is None or self._pip[0] != fv.t_s:
            from sim.tracking.overlay import camera_view

            image = camera_view(fv.rgb, fv.landmarks, fv.others, width=int(240 * s))
            self._pip = (fv.t_s, image)
        image = self._pip[1]
        r.draw_image(image, w - image.shape[1] - 16 * s, 14 * s)
