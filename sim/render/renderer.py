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

import numpy as np
from OpenGL import GL

from sim.core.records import Sample, Vec3
from sim.core.scenario import Scenario
from sim.procedures.venipuncture.spec import VenipunctureGeometry
from sim.render import gl as glu
from sim.render import meshes as mz
from sim.render.hud import draw_help, draw_hud
from sim.render.overlay import Batch2D, GlyphAtlas
from sim.render.scene import (
    DrawOptions,
    Frame,
    OrbitCamera,
    default_camera,
    haematoma_site,
    needle_frame,
    ortho_pixels,
    stitch_positions,
)

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
uniform vec4 u_vein;       // lateral z, radius, half length, strength (0: no vein)
uniform float u_vein_top;  // the vein shows only above this y
out vec4 frag;
const vec3 VEIN = vec3(0.36, 0.42, 0.62);
void main() {
    vec3 base = mix(v_col, u_hl_color, clamp(v_aux * u_hl, 0.0, 1.0));
    if (u_vein.w > 0.0) {
        float lat = abs(v_pos.z - u_vein.x);
        float w = clamp(1.0 - (lat - 0.6 * u_vein.y) / (1.4 * u_vein.y), 0.0, 1.0);
        w *= clamp((u_vein.z - abs(v_pos.x)) / 10.0, 0.0, 1.0) * step(u_vein_top, v_pos.y);
        base = mix(base, VEIN, w * u_vein.w);
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


def driver_frame(needle_model: np.ndarray, grasp_local: np.ndarray) -> np.ndarray:
    """Model matrix of the needle driver holding the needle at ``grasp_local``.

    The jaws close on the needle at 90 degrees to its plane; the handle rises from there
    towards the viewer's right, as a right-handed trainee holds it.
    """
    m = needle_model.astype(np.float64)
    origin = m[:3, :3] @ grasp_local + m[:3, 3]
    across = m[:3, 2]  # the needle plane's normal
    if across @ np.array([1.0, 0.0, 0.35]) < 0:
        across = -across
    handle = across + np.array([0.0, 0.9, 0.0])
    handle /= np.linalg.norm(handle)
    side = np.cross(handle, np.array([0.0, 1.0, 0.0]))
    side = side / (np.linalg.norm(side) + 1e-12)
    up = np.cross(side, handle)
    out = np.eye(4, dtype=np.float32)
    out[:3, 0], out[:3, 1], out[:3, 2], out[:3, 3] = handle, up, side, origin
    return out


class _SceneMeshes:
    """GPU meshes of one scenario (uploaded once)."""

    def __init__(self, scenario: Scenario) -> None:
        geo = scenario.geometry
        self.venipuncture = isinstance(geo, VenipunctureGeometry)
        self.extra: dict[object, glu.GpuMesh | None] = {}
        if isinstance(geo, VenipunctureGeometry):
            self.body = glu.GpuMesh(mz.merge([mz.forearm(geo), mz.table(-2 * geo.arm_radius_mm)]))
            self.tourniquet: glu.GpuMesh | None = glu.GpuMesh(mz.tourniquet(geo))
            self.instrument = glu.GpuMesh(mz.syringe(geo.needle_length_mm))
            self.driver: glu.GpuMesh | None = None
            self.grasp = np.zeros(3)
            self.targets: glu.GpuMesh | None = None
        else:
            self.body = glu.GpuMesh(mz.skin_pad(geo))
            self.tourniquet = None
            self.instrument = glu.GpuMesh(mz.curved_needle(geo))
            self.driver = glu.GpuMesh(mz.needle_driver())
            self.grasp = mz.grasp_point(geo)
            tol = scenario.suturing[1]
            self.targets = glu.GpuMesh(mz.targets(geo, tol.bite_target_mm))
        self.geo = geo

    def cached(self, key: object, build: object) -> glu.GpuMesh | None:
        """A dynamic mesh (haematoma, stitches) rebuilt only when ``key`` changes."""
        if key not in self.extra:
            data = build() if callable(build) else None
            self.extra[key] = glu.GpuMesh(data) if data is not None else None
        return self.extra[key]


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
            self.mesh_prog, "u_mvp u_model u_light u_eye u_hl_color u_hl u_vein u_vein_top"
        )
        self._u_vein, self._u_vein_top = u["u_vein"], u["u_vein_top"]
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
        self._scenes: dict[str, _SceneMeshes] = {}
        self._fbo: glu.Framebuffer | None = None
        self._identity = np.eye(4, dtype=np.float32)
        self.last_batch: Batch2D | None = None

    @staticmethod
    def _uniforms(prog: int, names: str) -> dict[str, int]:
        return {n: GL.glGetUniformLocation(prog, n) for n in names.split()}

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size

    def scene(self, scenario: Scenario) -> _SceneMeshes:
        key = scenario.content_hash
        if key not in self._scenes:
            self._scenes[key] = _SceneMeshes(scenario)
        return self._scenes[key]

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
        camera = camera or default_camera(frame.scenario)
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
        sm = self.scene(frame.scenario)
        vp = camera.view_projection(self.size)
        GL.glUseProgram(self.mesh_prog)
        GL.glUniform3f(self._u_light, *LIGHT)
        GL.glUniform3f(self._u_eye, *camera.eye())
        st = frame.state
        ident = self._identity
        # the instrument first: it is nearest, so the depth test spares the pixels behind it
        GL.glUniform4f(self._u_vein, 0.0, 1.0, 0.0, 0.0)
        if frame.sample is not None:
            model = needle_frame(frame.sample)
            flash = bool(getattr(st, "flashback", False)) or bool(getattr(st, "drawn", False))
            self._draw(sm.instrument, vp @ model, model, mz.BLOOD, 1.0 if flash else 0.0)
            if sm.driver is not None:
                held = driver_frame(model, sm.grasp)
                self._draw(sm.driver, vp @ held, held)
        # the body: forearm (vein shows through, more with the tourniquet on) or skin pad
        tq_on = bool(getattr(st, "tourniquet_on", False))
        if isinstance(sm.geo, VenipunctureGeometry):
            vz, vr, vhalf, vis, vtop = mz.vein_tint_params(sm.geo)
            GL.glUniform4f(self._u_vein, vz, vr, vhalf, vis * (0.85 if tq_on else 0.6))
            GL.glUniform1f(self._u_vein_top, vtop)
        self._draw(sm.body, vp, ident)
        GL.glUniform4f(self._u_vein, 0.0, 1.0, 0.0, 0.0)
        if sm.venipuncture:
            if tq_on and sm.tourniquet is not None:
                self._draw(sm.tourniquet, vp, ident)
            site = haematoma_site(frame.events)
            if site is not None or bool(getattr(st, "back_wall", False)):
                geo = sm.geo
                assert isinstance(geo, VenipunctureGeometry)
                where = site or (0.0, 0.0, geo.vein_lateral_mm)
                mesh = sm.cached(("haematoma", where), lambda: mz.haematoma(where, geo))
                if mesh is not None:
                    self._draw(mesh, vp, ident)
        else:
            if (
                sm.targets is not None
                and not options.exam
                and getattr(sm.geo, "show_targets", False)
            ):
                self._draw(sm.targets, vp, ident)
            placed = stitch_positions(frame.events)
            if placed:
                key = ("stitches", tuple(placed))
                mesh = sm.cached(key, lambda: mz.stitches(placed))
                if mesh is not None:
                    self._draw(mesh, vp, ident)

    def draw_instrument(
        self,
        scenario: Scenario,
        sample: Sample,
        camera: OrbitCamera | None = None,
        alpha: float = 1.0,
    ) -> None:
        """Draw one more instrument (needle or syringe, and the needle driver when the
        scenario has one) at ``sample``'s pose over what is already in the framebuffer.

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
        sm = self.scene(scenario)
        camera = camera or default_camera(scenario)
        vp = camera.view_projection(self.size)
        GL.glUseProgram(self.mesh_prog)
        GL.glUniform3f(self._u_light, *LIGHT)
        GL.glUniform3f(self._u_eye, *camera.eye())
        GL.glUniform4f(self._u_vein, 0.0, 1.0, 0.0, 0.0)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glEnable(GL.GL_CULL_FACE)  # lit per vertex: only front faces are shaded right
        translucent = alpha < 1.0
        if translucent:
            GL.glDepthMask(GL.GL_FALSE)
            GL.glEnable(GL.GL_BLEND)
            GL.glBlendColor(0.0, 0.0, 0.0, max(float(alpha), 0.0))
            GL.glBlendFunc(GL.GL_CONSTANT_ALPHA, GL.GL_ONE_MINUS_CONSTANT_ALPHA)
        model = needle_frame(sample)
        self._draw(sm.instrument, vp @ model, model)
        if sm.driver is not None:
            held = driver_frame(model, sm.grasp)
            self._draw(sm.driver, vp @ held, held)
        GL.glDisable(GL.GL_CULL_FACE)
        if translucent:
            GL.glDepthMask(GL.GL_TRUE)
            GL.glDisable(GL.GL_BLEND)

    def _draw(
        self,
        mesh: glu.GpuMesh,
        mvp: np.ndarray,
        model: np.ndarray,
        hl_color: tuple[float, float, float] = (0.0, 0.0, 0.0),
        hl: float = 0.0,
    ) -> None:
        GL.glUniformMatrix4fv(self._u_mvp, 1, GL.GL_TRUE, mvp)
        GL.glUniformMatrix4fv(self._u_model, 1, GL.GL_TRUE, model)
        GL.glUniform3f(self._u_hl_color, *hl_color)
        GL.glUniform1f(self._u_hl, hl)
        mesh.draw()

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
