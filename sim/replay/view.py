"""Drawing a replay with OpenGL: the scene and coaching HUD as the trainee saw them, a
translucent ghost instrument from a reference recording, and the replay panel on top.

Used by the replay window (:mod:`sim.app.replay`) and by the video export
(:mod:`sim.replay.video`); both need a current OpenGL 3.3 context.
"""

from __future__ import annotations

from pathlib import Path

from OpenGL import GL

from sim.core.records import Sample
from sim.render.renderer import Renderer
from sim.render.scene import DrawOptions, Frame, OrbitCamera, default_camera
from sim.replay.derived import Derived
from sim.replay.ghost import GhostAlignment, phase_starts
from sim.replay.panel import PanelModel, draw_panel, panel_height
from sim.replay.timeline import Timeline

GHOST_ALPHA = 0.38


def full_size(size: tuple[int, int]) -> tuple[tuple[int, int], int]:
    """(window size, panel height) for a scene of ``size``: the panel strip goes above the
    scene, and both dimensions are even (video codecs want that)."""
    ph = panel_height(size)
    ph += (size[1] + ph) % 2
    return (size[0] + size[0] % 2, size[1] + ph), ph


def scene_for_window(window: tuple[int, int]) -> tuple[int, int]:
    """The largest scene whose replay (scene and panel, :func:`full_size`) fits in a window
    of ``window`` = (width, height) pixels: the scene takes the window's width and what the
    panel leaves of its height."""
    w, h = window
    w -= w % 2
    sh = int(h * 720 / 880)  # a 720-row scene has a 160-row panel
    while sh > 64 and full_size((w, sh))[0][1] > h:
        sh -= 1
    return w, max(sh, 64)


class ReplayView:
    """One recording (and optionally a ghost) ready to be drawn at any time.

    Parameters
    ----------
    timeline : Timeline
        The recording to replay.
    size : (width, height)
        The scene's size in pixels; the panel adds :func:`panel_height` rows above it
        (``full_size``).
    ghost : Timeline, optional
        A reference (expert) recording of the same scenario, drawn as a translucent
        instrument aligned at the start of each phase.
    """

    def __init__(
        self, timeline: Timeline, size: tuple[int, int], ghost: Timeline | None = None
    ) -> None:
        self.tl = timeline
        self.size = size
        self.full_size, self.panel_h = full_size(size)
        self.scenario = timeline.scenario()
        self.derived = Derived(timeline)
        self.model = PanelModel(timeline)
        self.camera: OrbitCamera = default_camera(self.scenario)
        self.renderer = Renderer(size)
        self.ghost = ghost
        self.ghost_name = Path(ghost.path).name if ghost is not None else None
        self.align: GhostAlignment | None = None
        if ghost is not None:
            self.align = GhostAlignment(phase_starts(timeline), phase_starts(ghost), ghost.end_s)

    def reset_camera(self) -> None:
        self.camera = default_camera(self.scenario)

    def frame_at(self, t_s: float, exact: bool = True) -> Frame:
        """What the trainee saw at ``t_s``: the recorded pose, the re-derived state.

        With ``exact`` False (the window), a time the pipeline has not reached yet gives the
        recorded state only (pose, events, the recorded banner; no live view) instead of
        waiting for the first pass to get there.
        """
        rec = self.tl.state_at(t_s)
        if not exact and not self.derived.ready(t_s):
            return Frame(
                scenario=self.scenario,
                sample=rec.sample,
                banner=rec.banner,
                events=rec.events,
                t_s=t_s,
                phase="(replaying...)",
                input_kind=self.tl.input_kind,
            )
        d = self.derived.at(t_s)
        return Frame(
            scenario=self.scenario,
            sample=rec.sample,
            view=d.view,
            state=d.task_state,
            banner=d.banner,
            events=d.events,
            t_s=t_s,
            phase=d.phase,
            input_kind=self.tl.input_kind,
        )

    def ghost_sample(self, t_s: float) -> Sample | None:
        """The ghost's pose at the trainee's ``t_s`` (None: no ghost, or not in this phase)."""
        if self.ghost is None or self.align is None:
            return None
        gt = self.align.ghost_time(t_s)
        return None if gt is None else self.ghost.state_at(gt).sample

    def draw(
        self,
        t_s: float,
        *,
        speed: float = 1.0,
        playing: bool = False,
        options: DrawOptions | None = None,
        show_ghost: bool = True,
        exact: bool = True,
    ) -> Frame:
        """Draw everything at ``t_s`` into the bound framebuffer of ``full_size``; returns
        the frame drawn (see :meth:`frame_at` for ``exact``)."""
        options = options or DrawOptions()
        frame = self.frame_at(t_s, exact)
        w, h = self.size
        r = self.renderer
        r.resize(self.size)
        r.draw_scene(frame, options, self.camera)
        if show_ghost:
            g = self.ghost_sample(t_s)
            if g is not None:
                self._draw_ghost(g)
        r.draw_overlay(frame, options)
        # the panel: a strip above the scene (GL rows h .. h + panel)
        fw = self.full_size[0]
        GL.glViewport(0, h, fw, self.panel_h)
        r.resize((fw, self.panel_h))
        pb = r.new_batch()
        title = f"{self.tl.header.get('trainee', '')} - {self.scenario.id}"
        draw_panel(
            pb,
            self.model,
            (fw, self.panel_h),
            t_s,
            speed=speed,
            playing=playing,
            title=title,
            ghost=self.ghost_name if show_ghost else None,
        )
        r.draw_batch(pb)
        r.resize(self.size)
        GL.glViewport(0, 0, w, h)
        return frame

    def _draw_ghost(self, sample: Sample) -> None:
        """The ghost's instrument, translucent (constant-alpha blending, no depth writes)."""
        self.renderer.draw_instrument(self.scenario, sample, self.camera, GHOST_ALPHA)
