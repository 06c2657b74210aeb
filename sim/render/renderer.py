"""The renderer: draws a :class:`~sim.render.scene.Frame` (3-D scene + HUD) with OpenGL 3.3.

Usage (a GL 3.3 context must be current, e.g. from :func:`sim.render.gl.open_window` or
:func:`sim.render.offscreen.offscreen_context`)::

    renderer = Renderer((1280, 720))
    renderer.draw(frame, DrawOptions(), camera)      # into the bound framebuffer
    image = renderer.render_image(frame, options)   # offscreen, (720, 1280, 3) uint8

The renderer reads the frame and never changes it (nor the pipeline it came from). Static
meshes are uploaded once per scenario; each frame sets a few uniforms per object and draws
the whole HUD in one call from a stream buffer. Screens (start, results) draw their own
2-D batches with :meth:`Renderer.new_batch` and :meth:`Renderer.draw_batch`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
from OpenGL import GL

from sim.core.records import Sample, Vec3
from sim.core.scenario import Scenario
from sim.render import gl as glu
from sim.render.hud import draw_help, draw_hud
from sim.render.meshes import MeshData
from sim.render.overlay import Batch2D, GlyphAtlas
from sim.render.plugin import RGB, ScenePlugin, Tint
from sim.render.scene import DrawOptions, Frame, OrbitCamera, ortho_pixels, scene_of

MESH_VS = """
#version 330 core
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec3 a_nrm;
layout(location = 2) in vec3 a_col;
layout(location = 3) in float a_aux;
uniform mat4 u_mvp;
uniform mat4 u_model;
uniform vec3 u_light;
uniform vec3 u_eye;
out vec3 v_pos;
out vec2 v_shade;  // diffuse factor, specular
out vec3 v_col;
out float v_aux;
void main() {
    vec4 wp = u_model * vec4(a_pos, 1.0);
    v_pos = wp.xyz;
    vec3 n = normalize(mat3(u_model) * a_nrm);
    vec3 l = normalize(u_light);
    vec3 e = normalize(u_eye - wp.xyz);
    float wrap = max((dot(n, l) + 0.25) / 1.25, 0.0);
    float fill = max(dot(n, normalize(vec3(-0.5, 0.2, 0.8))), 0.0) * 0.18;
    float spec = pow(max(dot(n, normalize(l + e)), 0.0), 40.0) * 0.22;
    v_shade = vec2(0.30 + 0.62 * wrap + fill, spec);
    v_col = a_col;
    v_aux = a_aux;
    gl_Position = u_mvp * vec4(a_pos, 1.0);
}
"""

MESH_FS = """
#version 330 core
in vec3 v_pos;
in vec2 v_shade;
in vec3 v_col;
in float v_aux;
uniform vec3 u_hl_color;
uniform float u_hl;
uniform vec4 u_tint;       // lateral z, radius, half length, strength (0: no tint)
uniform float u_tint_top;  // the tint shows only above this y
uniform vec3 u_tint_color;
out vec4 frag;
void main() {
    vec3 base = mix(v_col, u_hl_color, clamp(v_aux * u_hl, 0.0, 1.0));
    if (u_tint.w > 0.0) {
        float lat = abs(v_pos.z - u_tint.x);
        float w = clamp(1.0 - (lat - 0.6 * u_tint.y) / (1.4 * u_tint.y), 0.0, 1.0);
        w *= clamp((u_tint.z - abs(v_pos.x)) / 10.0, 0.0, 1.0) * step(u_tint_top, v_pos.y);
        base = mix(base, u_tint_color, w * u_tint.w);
    }
    frag = vec4(base * v_shade.x + vec3(v_shade.y), 1.0);
}
"""

UI_VS = """
#version 330 core
layout(location = 0) in vec2 a_pos;
layout(location = 1) in vec2 a_uv;
layout(location = 2) in vec4 a_col;
uniform mat4 u_proj;
out vec2 v_uv;
out vec4 v_col;
void main() {
    v_uv = a_uv;
    v_col = a_col;
    gl_Position = u_proj * vec4(a_pos, 0.0, 1.0);
}
"""

UI_FS = """
#version 330 core
in vec2 v_uv;
in vec4 v_col;
uniform sampler2D u_tex;
out vec4 frag;
void main() {
    float cover = v_uv.x < 0.0 ? 1.0 : texture(u_tex, v_uv).r;  // solid shapes: u < 0
    frag = vec4(v_col.rgb, v_col.a * cover);
}
"""

IMAGE_FS = """
#version 330 core
in vec2 v_uv;
in vec4 v_col;
uniform sampler2D u_tex;
out vec4 frag;
void main() {
    frag = vec4(texture(u_tex, v_uv).rgb, 1.0);
}
"""

BACKGROUND = (0.17, 0.19, 0.23)
LIGHT: Vec3 = (0.35, 0.85, 0.45)


class _Canvas:
    """The renderer's :class:`~sim.render.plugin.Canvas` for one scenario: uploads, the
    scenario's dynamic meshes, and draws with the camera of the frame being drawn."""

    def __init__(self, renderer: Renderer) -> None:
        self._r = renderer
        self._extra: dict[Hashable, glu.GpuMesh | None] = {}
        self._vp = renderer._identity
        self._tint: Tint | None = None

    def begin(self, vp: np.ndarray) -> None:
        """Start drawing with view-projection ``vp``, no tint (the mesh program is in use)."""
        self._vp = vp
        self._tint = None
        GL.glUniform4f(self._r._u_tint, 0.0, 1.0, 0.0, 0.0)

    def upload(self, data: MeshData) -> glu.GpuMesh:
        return glu.GpuMesh(data)

    def cached(self, key: Hashable, build: Callable[[], MeshData | None]) -> glu.GpuMesh | None:
        if key not in self._extra:
            data = build()
            self._extra[key] = glu.GpuMesh(data) if data is not None else None
        return self._extra[key]

    def draw(
        self,
        mesh: glu.GpuMesh,
        model: np.ndarray | None = None,
        highlight: RGB = (0.0, 0.0, 0.0),
        highlight_weight: float = 0.0,
        tint: Tint | None = None,
    ) -> None:
        r = self._r
        if tint is not self._tint:
            if tint is None:
                GL.glUniform4f(r._u_tint, 0.0, 1.0, 0.0, 0.0)
            else:
                GL.glUniform4f(
                    r._u_tint, tint.centre_z_mm, tint.radius_mm, tint.half_length_mm, tint.strength
                )
                GL.glUniform1f(r._u_tint_top, tint.above_y_mm)
                GL.glUniform3f(r._u_tint_color, *tint.rgb)
            self._tint = tint
        if model is None:
            GL.glUniformMatrix4fv(r._u_mvp, 1, GL.GL_TRUE, self._vp)
            GL.glUniformMatrix4fv(r._u_model, 1, GL.GL_TRUE, r._identity)
        else:
            GL.glUniformMatrix4fv(r._u_mvp, 1, GL.GL_TRUE, self._vp @ model)
            GL.glUniformMatrix4fv(r._u_model, 1, GL.GL_TRUE, model)
        GL.glUniform3f(r._u_hl_color, *highlight)
        GL.glUniform1f(r._u_hl, highlight_weight)
        mesh.draw()


class _Scene:
    """One scenario's scene: its procedure's plug-in, the meshes it built, its canvas."""

    def __init__(self, renderer: Renderer, scenario: Scenario) -> None:
        self.plugin: ScenePlugin[Any] = scene_of(scenario)
        self.canvas = _Canvas(renderer)
        self.meshes: Any = self.plugin.build(scenario, self.canvas)


class Renderer:
    """Draws frames of any scenario into the current framebuffer or an offscreen one.

    Parameters
    ----------
    size : tuple of int
        (width, height) of the target in pixels.

    Notes
    -----
    Needs a current OpenGL 3.3 core context. One renderer serves any number of scenarios
    (meshes are cached per scenario content hash).
    """

    def __init__(self, size: tuple[int, int]) -> None:
        glu.check_version()
        self.size = size
        self.mesh_prog = glu.compile_program(MESH_VS, MESH_FS)
        self.ui_prog = glu.compile_program(UI_VS, UI_FS)
        u = self._uniforms(
            self.mesh_prog,
            "u_mvp u_model u_light u_eye u_hl_color u_hl u_tint u_tint_top u_tint_color",
        )
        self._u_tint, self._u_tint_top = u["u_tint"], u["u_tint_top"]
        self._u_tint_color = u["u_tint_color"]
        self._u_mvp, self._u_model = u["u_mvp"], u["u_model"]
        self._u_light, self._u_eye = u["u_light"], u["u_eye"]
        self._u_hl_color, self._u_hl = u["u_hl_color"], u["u_hl"]
        ui = self._uniforms(self.ui_prog, "u_proj u_tex")
        self._u_proj = ui["u_proj"]
        self.atlas = GlyphAtlas()
        self.atlas_tex = glu.upload_texture_alpha(self.atlas.image)
        GL.glUseProgram(self.ui_prog)
        GL.glUniform1i(ui["u_tex"], 0)
        self.stream = glu.StreamBuffer()
        self.image_prog = glu.compile_program(UI_VS, IMAGE_FS)
        self._u_img_proj = GL.glGetUniformLocation(self.image_prog, "u_proj")
        GL.glUseProgram(self.image_prog)
        GL.glUniform1i(GL.glGetUniformLocation(self.image_prog, "u_tex"), 0)
        self._image_tex: int | None = None
        self._image_shape: tuple[int, ...] = ()
        self._image_src: np.ndarray | None = None  # the array now in the texture
        self._scenes: dict[str, _Scene] = {}
        self._fbo: glu.Framebuffer | None = None
        self._identity = np.eye(4, dtype=np.float32)
        self.last_batch: Batch2D | None = None

    @staticmethod
    def _uniforms(prog: int, names: str) -> dict[str, int]:
        return {n: GL.glGetUniformLocation(prog, n) for n in names.split()}

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size

    def _scene(self, scenario: Scenario) -> _Scene:
        """The scene of ``scenario``, its meshes built on first use (per content hash)."""
        key = scenario.content_hash
        found = self._scenes.get(key)
        if found is None:
            found = self._scenes[key] = _Scene(self, scenario)
        return found

    # --- 3-D ------------------------------------------------------------------------------
    def draw(
        self, frame: Frame, options: DrawOptions | None = None, camera: OrbitCamera | None = None
    ) -> None:
        """Clear and draw ``frame`` (scene, then HUD) into the bound framebuffer.

        Parameters
        ----------
        frame : Frame
            What to draw (read only).
        options : DrawOptions, optional
            Exam mode, HUD, help overlay, message line.
        camera : OrbitCamera, optional
            Defaults to :func:`~sim.render.scene.default_camera` of the scenario.
        """
        options = options or DrawOptions()
        self.draw_scene(frame, options, camera)
        self.draw_overlay(frame, options)

    def draw_scene(
        self, frame: Frame, options: DrawOptions | None = None, camera: OrbitCamera | None = None
    ) -> None:
        """Clear and draw the 3-D scene of ``frame`` only (see :meth:`draw`)."""
        options = options or DrawOptions()
        camera = camera or self._scene(frame.scenario).plugin.camera(frame.scenario)
        w, h = self.size
        GL.glViewport(0, 0, w, h)
        GL.glClearColor(*BACKGROUND, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_BLEND)
        GL.glEnable(GL.GL_CULL_FACE)
        self._draw_scene(frame, options, camera)
        GL.glDisable(GL.GL_CULL_FACE)

    def draw_overlay(self, frame: Frame, options: DrawOptions) -> None:
        """The HUD and help overlay of ``frame`` (per ``options``) over what is drawn."""
        batch = self.new_batch()
        if options.hud:
            draw_hud(batch, frame, options, self.size)
        if options.help:
            draw_help(batch, options.help_lines, self.size)
        self.draw_batch(batch)
        self.last_batch = batch

    def _draw_scene(self, frame: Frame, options: DrawOptions, camera: OrbitCamera) -> None:
        scene = self._scene(frame.scenario)
        GL.glUseProgram(self.mesh_prog)
        GL.glUniform3f(self._u_light, *LIGHT)
        GL.glUniform3f(self._u_eye, *camera.eye())
        scene.canvas.begin(camera.view_projection(self.size))
        scene.plugin.draw(scene.meshes, frame, options, scene.canvas)

    def draw_instrument(
        self,
        scenario: Scenario,
        sample: Sample,
        camera: OrbitCamera | None = None,
        alpha: float = 1.0,
    ) -> None:
        """Draw one more instrument (as the scenario's procedure draws it: a syringe, a
        curved needle in its driver) at ``sample``'s pose over what is already in the
        framebuffer.

        Used for the expert ghost in a replay. Below ``alpha`` 1 it is drawn translucent:
        constant-alpha blending and no depth writes, so it neither hides nor is hidden by
        the trainee's own instrument, but the scene's surfaces still occlude it.

        Parameters
        ----------
        scenario : Scenario
            The scenario being drawn (selects the meshes).
        sample : Sample
            The instrument's pose (read only).
        camera : OrbitCamera, optional
            The camera the scene was drawn with; defaults to
            :func:`~sim.render.scene.default_camera` of the scenario.
        alpha : float
            Opacity, 0-1.
        """
        scene = self._scene(scenario)
        camera = camera or scene.plugin.camera(scenario)
        GL.glUseProgram(self.mesh_prog)
        GL.glUniform3f(self._u_light, *LIGHT)
        GL.glUniform3f(self._u_eye, *camera.eye())
        scene.canvas.begin(camera.view_projection(self.size))
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glEnable(GL.GL_CULL_FACE)  # lit per vertex: only front faces are shaded right
        translucent = alpha < 1.0
        if translucent:
            GL.glDepthMask(GL.GL_FALSE)
            GL.glEnable(GL.GL_BLEND)
            GL.glBlendColor(0.0, 0.0, 0.0, max(float(alpha), 0.0))
            GL.glBlendFunc(GL.GL_CONSTANT_ALPHA, GL.GL_ONE_MINUS_CONSTANT_ALPHA)
        scene.plugin.draw_instrument(scene.meshes, sample, scene.canvas)
        GL.glDisable(GL.GL_CULL_FACE)
        if translucent:
            GL.glDepthMask(GL.GL_TRUE)
            GL.glDisable(GL.GL_BLEND)

    # --- 2-D ------------------------------------------------------------------------------
    def new_batch(self) -> Batch2D:
        """An empty 2-D batch scaled for the current size."""
        return Batch2D(self.atlas)

    def draw_batch(self, batch: Batch2D) -> None:
        """Draw a 2-D batch over whatever is in the framebuffer (one draw call)."""
        verts = batch.vertices()
        if not len(verts):
            return
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glUseProgram(self.ui_prog)
        GL.glUniformMatrix4fv(self._u_proj, 1, GL.GL_TRUE, ortho_pixels(*self.size))
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.atlas_tex)
        self.stream.draw(verts)
        GL.glDisable(GL.GL_BLEND)

    def draw_image(self, rgb: np.ndarray, x: float, y: float) -> None:
        """Draw an RGB image at pixel ``(x, y)`` (its top left), at its own size.

        Parameters
        ----------
        rgb : ndarray, shape (h, w, 3), uint8
            Top row first (e.g. a camera frame for the picture-in-picture view). Uploaded
            into one reused texture only when a different array comes than last time, so a
            camera view redrawn every frame costs one upload per camera frame; pass a new
            array for new content (an array changed in place is not uploaded again).
        """
        GL.glActiveTexture(GL.GL_TEXTURE0)
        if self._image_tex is None or rgb is not self._image_src:
            self._upload_image(rgb)
        else:
            GL.glBindTexture(GL.GL_TEXTURE_2D, self._image_tex)
        h, w = self._image_shape[:2]
        quad = np.array(
            [
                (x, y, 0, 0),
                (x, y + h, 0, 1),
                (x + w, y, 1, 0),
                (x + w, y, 1, 0),
                (x, y + h, 0, 1),
                (x + w, y + h, 1, 1),
            ],
            np.float32,
        )
        verts = np.zeros((6, 8), np.float32)
        verts[:, :4] = quad
        verts[:, 4:] = 1.0
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glUseProgram(self.image_prog)
        GL.glUniformMatrix4fv(self._u_img_proj, 1, GL.GL_TRUE, ortho_pixels(*self.size))
        self.stream.draw(verts)

    def _upload_image(self, rgb: np.ndarray) -> None:
        img = np.ascontiguousarray(rgb, np.uint8)
        h, w = img.shape[:2]
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        if self._image_tex is None or self._image_shape != img.shape:
            if self._image_tex is None:
                self._image_tex = int(GL.glGenTextures(1))
            GL.glBindTexture(GL.GL_TEXTURE_2D, self._image_tex)
            GL.glTexImage2D(
                GL.GL_TEXTURE_2D, 0, GL.GL_RGB8, w, h, 0, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, img
            )
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
            self._image_shape = img.shape
        else:
            GL.glBindTexture(GL.GL_TEXTURE_2D, self._image_tex)
            GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, img)
        self._image_src = rgb

    def clear(self, rgb: tuple[float, float, float] = BACKGROUND) -> None:
        GL.glViewport(0, 0, *self.size)
        GL.glClearColor(*rgb, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)

    # --- offscreen ------------------------------------------------------------------------
    def render_image(
        self, frame: Frame, options: DrawOptions | None = None, camera: OrbitCamera | None = None
    ) -> np.ndarray:
        """Draw ``frame`` into an offscreen framebuffer and read it back.

        Returns
        -------
        ndarray, shape (height, width, 3), uint8
            RGB, top row first.
        """
        if self._fbo is None or self._fbo.size != self.size:
            if self._fbo is not None:
                self._fbo.delete()
            self._fbo = glu.Framebuffer(self.size)
        self._fbo.bind()
        self.draw(frame, options, camera)
        image = glu.read_pixels(self.size)
        glu.bind_default_framebuffer(self.size)
        return image

    def capture(self) -> np.ndarray:
        """The bound framebuffer as (height, width, 3) uint8 RGB, top row first."""
        return glu.read_pixels(self.size)
