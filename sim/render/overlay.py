"""2-D drawing for the HUD and the screens, as vertex arrays (no OpenGL here).

:class:`GlyphAtlas` renders the printable characters of a few font sizes once, with
``pygame.font``, into one greyscale image (uploaded once as a texture). :class:`Batch2D`
collects rectangles, lines, arcs and text as triangles in pixel coordinates (origin top left)
with texture coordinates and colours, in painting order; the renderer draws a whole batch in
one call. Solid shapes carry the texture coordinates :data:`SOLID_UV`, which tell the shader
to skip the atlas (full coverage), so solid shapes and text share one shader and one call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RGBA = tuple[float, float, float, float]
CHARS = "".join(chr(c) for c in range(32, 127)) + "°±·…–—×"
SIZES = (14, 17, 22, 30, 56)
"""Font sizes in pixels (at a HUD scale of 1)."""
#: Texture coordinates of solid shapes: outside the atlas, the UI shader reads no texel
#: there (full coverage), which spares the software rasteriser a texture fetch per pixel.
SOLID_UV = (-1.0, -1.0)


@dataclass(frozen=True)
class Glyph:
    u0: float
    v0: float
    u1: float
    v1: float
    w: int
    h: int


class GlyphAtlas:
    """Printable characters of :data:`SIZES` in one greyscale image.

    Attributes
    ----------
    image : ndarray, shape (H, W), uint8
        Coverage (alpha) of every glyph.
    glyphs : dict
        ``(size, char) -> Glyph`` (texture coordinates in 0-1, pixel size = advance x line
        height).
    """

    def __init__(self, sizes: Sequence[int] = SIZES, width: int = 1024) -> None:
        import pygame

        if not pygame.font.get_init():
            pygame.font.init()
        rows: list[tuple[int, int, np.ndarray, str]] = []
        for size in sizes:
            font = pygame.font.Font(None, int(round(size * 1.3)))
            for ch in CHARS:
                surf = font.render(ch, True, (255, 255, 255))
                alpha = pygame.surfarray.array_alpha(surf).T  # (h, w)
                rows.append((size, surf.get_width(), alpha, ch))
        x, y, line_h = 0, 0, 0
        placed = []
        for size, w, alpha, ch in rows:
            h = alpha.shape[0]
            if x + w + 1 > width:
                x, y, line_h = 0, y + line_h + 1, 0
            placed.append((size, ch, x, y, w, h, alpha))
            x += w + 1
            line_h = max(line_h, h)
        height = 1 << math.ceil(math.log2(y + line_h + 1))
        img = np.zeros((height, width), np.uint8)
        self.glyphs: dict[tuple[int, str], Glyph] = {}
        self.line_height: dict[int, int] = {}
        for size, ch, gx, gy, w, h, alpha in placed:
            img[gy : gy + h, gx : gx + w] = alpha
            self.glyphs[(size, ch)] = Glyph(
                gx / width, gy / height, (gx + w) / width, (gy + h) / height, w, h
            )
            self.line_height[size] = h
        self.image = img
        self._layout_cache: dict[tuple[str, int], tuple[np.ndarray, float]] = {}

    def nearest_size(self, px: float) -> int:
        return min(self.line_height, key=lambda s: abs(s - px))

    def layout(self, text: str, size: int) -> tuple[np.ndarray, float]:
        """Quads of ``text`` at the origin: (vertices (6n, 4) x y u v, width in px); cached."""
        key = (text, size)
        hit = self._layout_cache.get(key)
        if hit is not None:
            return hit
        quads = []
        x = 0.0
        for ch in text:
            gl = self.glyphs.get((size, ch)) or self.glyphs[(size, "?")]
            if ch != " ":
                x0, x1, y0, y1 = x, x + gl.w, 0.0, float(gl.h)
                quads.append(
                    [
                        (x0, y0, gl.u0, gl.v0),
                        (x0, y1, gl.u0, gl.v1),
                        (x1, y0, gl.u1, gl.v0),
                        (x1, y0, gl.u1, gl.v0),
                        (x0, y1, gl.u0, gl.v1),
                        (x1, y1, gl.u1, gl.v1),
                    ]
                )
            x += gl.w
        arr = np.array(quads, np.float32).reshape(-1, 4) if quads else np.zeros((0, 4), np.float32)
        if len(self._layout_cache) > 4000:
            self._layout_cache.clear()
        self._layout_cache[key] = (arr, x)
        return arr, x

    def text_width(self, text: str, size: int) -> float:
        return self.layout(text, size)[1]


class Batch2D:
    """Triangles of one 2-D layer in painting order: ``x y u v r g b a`` per vertex.

    Coordinates are pixels, origin at the top left, y down.
    """

    def __init__(self, atlas: GlyphAtlas, scale: float = 1.0) -> None:
        self.atlas = atlas
        self.scale = scale
        self._chunks: list[np.ndarray] = []
        self._pending: list[float] = []
        self._wu, self._wv = SOLID_UV

    # shapes go into a flat float list (cheap appends); text comes as arrays
    def _flush(self) -> None:
        if self._pending:
            self._chunks.append(np.array(self._pending, np.float32).reshape(-1, 8))
            self._pending = []

    def vertices(self) -> np.ndarray:
        """All triangles so far, shape (N, 8), float32."""
        self._flush()
        if not self._chunks:
            return np.zeros((0, 8), np.float32)
        return np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]

    def tri(self, pts: Sequence[tuple[float, float]], rgba: RGBA) -> None:
        u, v = self._wu, self._wv
        r, g, b, a = rgba
        ext = self._pending.extend
        for x, y in pts:
            ext((x, y, u, v, r, g, b, a))

    def rect(self, x: float, y: float, w: float, h: float, rgba: RGBA) -> None:
        self.tri(((x, y), (x, y + h), (x + w, y), (x + w, y), (x, y + h), (x + w, y + h)), rgba)

    def frame(self, x: float, y: float, w: float, h: float, t: float, rgba: RGBA) -> None:
        """The outline of a rectangle, ``t`` px thick."""
        self.rect(x, y, w, t, rgba)
        self.rect(x, y + h - t, w, t, rgba)
        self.rect(x, y, t, h, rgba)
        self.rect(x + w - t, y, t, h, rgba)

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float, rgba: RGBA) -> None:
        dx, dy = x1 - x0, y1 - y0
        n = math.hypot(dx, dy)
        if n < 1e-9:
            return
        ox, oy = -dy / n * width / 2, dx / n * width / 2
        self.tri(
            (
                (x0 + ox, y0 + oy),
                (x0 - ox, y0 - oy),
                (x1 + ox, y1 + oy),
                (x1 + ox, y1 + oy),
                (x0 - ox, y0 - oy),
                (x1 - ox, y1 - oy),
            ),
            rgba,
        )

    def polyline(self, pts: Sequence[tuple[float, float]], width: float, rgba: RGBA) -> None:
        for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:], strict=True):
            self.line(x0, y0, x1, y1, width, rgba)

    def polygon_strip(
        self,
        top: Sequence[tuple[float, float]] | np.ndarray,
        bottom: Sequence[tuple[float, float]] | np.ndarray,
        rgba: RGBA,
    ) -> None:
        """The area between two polylines of equal length (a filled band), shape (n, 2) each."""
        t = np.asarray(top, np.float32)
        btm = np.asarray(bottom, np.float32)
        n = len(t) - 1
        if n < 1:
            return
        q = np.empty((n, 6, 2), np.float32)
        q[:, 0], q[:, 1], q[:, 2] = t[:-1], btm[:-1], t[1:]
        q[:, 3], q[:, 4], q[:, 5] = t[1:], btm[:-1], btm[1:]
        out = np.empty((n * 6, 8), np.float32)
        out[:, 0:2] = q.reshape(-1, 2)
        out[:, 2], out[:, 3] = self._wu, self._wv
        out[:, 4:8] = rgba
        self._flush()
        self._chunks.append(out)

    def arc(
        self,
        cx: float,
        cy: float,
        r0: float,
        r1: float,
        a0_deg: float,
        a1_deg: float,
        rgba: RGBA,
        n: int = 24,
    ) -> None:
        """A ring sector between radii r0 < r1 from angle a0 to a1 (degrees, counter-clockwise
        on screen from +x)."""
        a = np.radians(np.linspace(a0_deg, a1_deg, n + 1))
        c, sn = np.cos(a), -np.sin(a)
        outer = np.stack([cx + r1 * c, cy + r1 * sn], axis=1)
        inner = np.stack([cx + r0 * c, cy + r0 * sn], axis=1)
        self.polygon_strip(outer, inner, rgba)

    def text(
        self,
        text: str,
        x: float,
        y: float,
        size: int,
        rgba: RGBA,
        anchor: str = "left",
    ) -> float:
        """Draw ``text`` with its top at ``y``; ``anchor`` left, centre or right of ``x``.

        Returns the width in pixels.
        """
        size = self.atlas.nearest_size(size * self.scale)
        quads, width = self.atlas.layout(text, size)
        if anchor == "centre":
            x -= width / 2
        elif anchor == "right":
            x -= width
        if len(quads):
            self._flush()
            out = np.empty((len(quads), 8), np.float32)
            out[:, 0] = quads[:, 0] + round(x)
            out[:, 1] = quads[:, 1] + round(y)
            out[:, 2:4] = quads[:, 2:4]
            out[:, 4:8] = rgba
            self._chunks.append(out)
        return width

    def line_height(self, size: int) -> int:
        size = self.atlas.nearest_size(size * self.scale)
        return self.atlas.line_height[size]

    def text_width(self, text: str, size: int) -> float:
        size = self.atlas.nearest_size(size * self.scale)
        return self.atlas.text_width(text, size)

    def wrap(self, text: str, size: int, max_width: float) -> list[str]:
        """``text`` broken into lines no wider than ``max_width`` pixels (at word breaks)."""
        lines: list[str] = []
        cur = ""
        for word in text.split():
            trial = f"{cur} {word}" if cur else word
            if cur and self.text_width(trial, size) > max_width:
                lines.append(cur)
                cur = word
            else:
                cur = trial
        if cur:
            lines.append(cur)
        return lines

    def fit(self, text: str, size: int, max_width: float) -> str:
        """``text`` shortened with an ellipsis to fit ``max_width`` pixels."""
        if self.text_width(text, size) <= max_width:
            return text
        while text and self.text_width(text + "…", size) > max_width:
            text = text[:-1]
        return text + "…"
