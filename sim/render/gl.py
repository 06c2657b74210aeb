"""OpenGL 3.3 core helpers: window/context creation, shaders, meshes on the GPU, offscreen
framebuffers that read back into numpy arrays.

Modern OpenGL only (VAOs, VBOs, GLSL 330). PyOpenGL's per-call error checking is turned off
(it costs more Python time than the draw calls themselves); :func:`check_errors` can be
called where a check is wanted.
"""

from __future__ import annotations

import ctypes

import OpenGL

OpenGL.ERROR_CHECKING = False
OpenGL.ERROR_LOGGING = False
import numpy as np  # noqa: E402
from OpenGL import GL  # noqa: E402

from sim.errors import UserError  # noqa: E402
from sim.render.meshes import STRIDE, MeshData  # noqa: E402

HEADLESS_HINT = (
    "set SDL_VIDEODRIVER=offscreen PYOPENGL_PLATFORM=egl SDL_AUDIODRIVER=dummy to render "
    "without a display (Mesa/EGL)"
)
"""What to do when an offscreen (hidden) context cannot be had: render, export-video."""
WINDOW_HINT = (
    "run it in a desktop session with OpenGL 3.3, or under xvfb-run to try it without a screen"
)
"""What to do when a window to look at cannot be had: practice, replay, station."""


def open_window(size: tuple[int, int], title: str = "procsim", hidden: bool = False) -> object:
    """Open a pygame window with an OpenGL 3.3 core context.

    Raises
    ------
    UserError
        No display, or no OpenGL 3.3 (one line saying what to do).
    """
    import pygame

    hint = HEADLESS_HINT if hidden else WINDOW_HINT
    if pygame.display.get_init() and pygame.display.get_surface() is not None:
        # A window is already open (e.g. an offscreen one from an earlier render): start
        # afresh, as an offscreen EGL surface would otherwise keep its old size.
        pygame.display.quit()
    try:
        pygame.display.init()
    except pygame.error as exc:
        raise UserError(f"no display available ({exc}): {hint}") from None
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, 3)
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, 3)
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)
    pygame.display.gl_set_attribute(pygame.GL_DEPTH_SIZE, 24)
    pygame.display.gl_set_attribute(pygame.GL_DOUBLEBUFFER, 1)
    flags = pygame.OPENGL | pygame.DOUBLEBUF | (pygame.HIDDEN if hidden else 0)
    try:
        surface = pygame.display.set_mode(size, flags)
    except pygame.error as exc:
        raise UserError(
            f"cannot open an OpenGL 3.3 window ({exc}): update the graphics driver, or {hint}"
        ) from None
    pygame.display.set_caption(title)
    check_version(hint)
    return surface


def check_version(hint: str = HEADLESS_HINT) -> tuple[int, int]:
    """The context's OpenGL version; raises :class:`UserError` below 3.3, the line ending
    with ``hint`` (what to do)."""
    try:
        raw = GL.glGetString(GL.GL_VERSION)
    except Exception as exc:  # PyOpenGL raises various errors when no context is current
        raise UserError(f"no OpenGL 3.3 context ({type(exc).__name__}): {hint}") from None
    text = raw.decode("ascii", "replace") if raw else ""
    try:
        major, minor = (int(x) for x in text.split()[0].split(".")[:2])
    except (ValueError, IndexError):
        raise UserError(f"cannot read the OpenGL version ('{text}'): {hint}") from None
    if (major, minor) < (3, 3):
        raise UserError(
            f"OpenGL {major}.{minor} found, 3.3 core needed: update the graphics driver or "
            f"use Mesa ({hint})"
        )
    return major, minor


def check_errors(where: str) -> None:
    err = GL.glGetError()
    if err != GL.GL_NO_ERROR:
        raise RuntimeError(f"OpenGL error 0x{err:x} in {where}")


def compile_program(vertex_src: str, fragment_src: str) -> int:
    """Compile and link a GLSL 330 program."""
    prog = GL.glCreateProgram()
    shaders = []
    for kind, src in ((GL.GL_VERTEX_SHADER, vertex_src), (GL.GL_FRAGMENT_SHADER, fragment_src)):
        sh = GL.glCreateShader(kind)
        GL.glShaderSource(sh, src)
        GL.glCompileShader(sh)
        if not GL.glGetShaderiv(sh, GL.GL_COMPILE_STATUS):
            log = GL.glGetShaderInfoLog(sh).decode(errors="replace")
            raise RuntimeError(f"shader compile failed: {log}")
        GL.glAttachShader(prog, sh)
        shaders.append(sh)
    GL.glLinkProgram(prog)
    if not GL.glGetProgramiv(prog, GL.GL_LINK_STATUS):
        raise RuntimeError(
            f"shader link failed: {GL.glGetProgramInfoLog(prog).decode(errors='replace')}"
        )
    for sh in shaders:
        GL.glDeleteShader(sh)
    return int(prog)


class GpuMesh:
    """A :class:`~sim.render.meshes.MeshData` uploaded once (static VBO + index buffer)."""

    def __init__(self, mesh: MeshData) -> None:
        self.count = len(mesh.indices)
        self.vao = GL.glGenVertexArrays(1)
        self.vbo, self.ebo = GL.glGenBuffers(2)
        GL.glBindVertexArray(self.vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        data = np.ascontiguousarray(mesh.vertices, np.float32)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, data.nbytes, data, GL.GL_STATIC_DRAW)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self.ebo)
        idx = np.ascontiguousarray(mesh.indices, np.uint32)
        GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, idx.nbytes, idx, GL.GL_STATIC_DRAW)
        stride = STRIDE * 4
        for loc, (off, n) in enumerate(((0, 3), (3, 3), (6, 3), (9, 1))):
            GL.glEnableVertexAttribArray(loc)
            GL.glVertexAttribPointer(loc, n, GL.GL_FLOAT, False, stride, ctypes.c_void_p(off * 4))
        GL.glBindVertexArray(0)

    def draw(self) -> None:
        GL.glBindVertexArray(self.vao)
        GL.glDrawElements(GL.GL_TRIANGLES, self.count, GL.GL_UNSIGNED_INT, None)

    def delete(self) -> None:
        GL.glDeleteVertexArrays(1, [self.vao])
        GL.glDeleteBuffers(2, [self.vbo, self.ebo])


class StreamBuffer:
    """A vertex buffer re-filled every frame (the 2-D overlay): ``x y u v r g b a`` floats."""

    FLOATS = 8

    def __init__(self, capacity: int = 20000) -> None:
        self.vao = GL.glGenVertexArrays(1)
        self.vbo = GL.glGenBuffers(1)
        self.capacity = 0
        GL.glBindVertexArray(self.vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        self._reserve(capacity)
        stride = self.FLOATS * 4
        for loc, (off, n) in enumerate(((0, 2), (2, 2), (4, 4))):
            GL.glEnableVertexAttribArray(loc)
            GL.glVertexAttribPointer(loc, n, GL.GL_FLOAT, False, stride, ctypes.c_void_p(off * 4))
        GL.glBindVertexArray(0)

    def _reserve(self, n: int) -> None:
        self.capacity = n
        GL.glBufferData(GL.GL_ARRAY_BUFFER, n * self.FLOATS * 4, None, GL.GL_STREAM_DRAW)

    def draw(self, vertices: np.ndarray) -> None:
        """Upload ``vertices`` (shape (N, 8), float32) and draw them as triangles."""
        n = len(vertices)
        if n == 0:
            return
        GL.glBindVertexArray(self.vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        if n > self.capacity:
            self._reserve(max(n, self.capacity * 2))
        else:  # orphan the old storage so the driver need not wait for the last frame
            GL.glBufferData(
                GL.GL_ARRAY_BUFFER, self.capacity * self.FLOATS * 4, None, GL.GL_STREAM_DRAW
            )
        GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, vertices.nbytes, vertices)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, n)


def upload_texture_alpha(image: np.ndarray) -> int:
    """A single-channel (R8) texture from ``image`` (shape (H, W), uint8, top row first)."""
    tex = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
    GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
    h, w = image.shape
    GL.glTexImage2D(
        GL.GL_TEXTURE_2D,
        0,
        GL.GL_R8,
        w,
        h,
        0,
        GL.GL_RED,
        GL.GL_UNSIGNED_BYTE,
        np.ascontiguousarray(image),
    )
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
    return int(tex)


class Framebuffer:
    """An offscreen colour + depth target of ``size`` = (width, height) pixels."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        w, h = size
        self.fbo = GL.glGenFramebuffers(1)
        self.color, self.depth = GL.glGenRenderbuffers(2)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self.color)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, w, h)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self.depth)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, w, h)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, self.color
        )
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_RENDERBUFFER, self.depth
        )
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RuntimeError(f"offscreen framebuffer incomplete (0x{status:x})")

    def bind(self) -> None:
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        GL.glViewport(0, 0, *self.size)

    def delete(self) -> None:
        GL.glDeleteFramebuffers(1, [self.fbo])
        GL.glDeleteRenderbuffers(2, [self.color, self.depth])


def read_pixels(size: tuple[int, int]) -> np.ndarray:
    """The bound framebuffer as an image, shape (height, width, 3), uint8 RGB, top row first."""
    w, h = size
    GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
    raw = GL.glReadPixels(0, 0, w, h, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
    img = np.frombuffer(raw, np.uint8).reshape(h, w, 3)
    return np.ascontiguousarray(img[::-1])


def bind_default_framebuffer(size: tuple[int, int]) -> None:
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
    GL.glViewport(0, 0, *size)
