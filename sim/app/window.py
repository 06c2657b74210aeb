"""The size of a window that fits the display it opens on.

The practice and replay windows open at a size picked from the desktop's size
(:func:`fit_window`), so that a 1366x768 laptop (the smallest display procsim supports)
shows the whole window with its title bar and the taskbar, and a larger display gets a
larger window. ``--size`` on the command line still chooses a size by hand.
"""

from __future__ import annotations

import math

MIN_DISPLAY: tuple[int, int] = (1366, 768)
"""The smallest display procsim supports (width, height), pixels."""
FILL = 0.9
"""Share of the display's height (and at most 0.95 of its width) the window takes: our
choice, so that the window leaves the desktop visible round it."""
DECORATIONS_PX = 80
"""Rows kept free for a title bar and a taskbar (about 30 and 40 px on common desktops;
our choice)."""


def fit_window(display: tuple[int, int], aspect: tuple[int, int] = (16, 9)) -> tuple[int, int]:
    """The window size for a display of ``display`` = (width, height) pixels.

    The window has the proportions ``aspect`` and is as large as fits in the display
    less :data:`DECORATIONS_PX` rows and at most :data:`FILL` of its height (0.95 of its
    width); both dimensions are even (video codecs and the replay's panel want that).

    Parameters
    ----------
    display : (int, int)
        The desktop's size, pixels.
    aspect : (int, int)
        Width to height of the window.

    Returns
    -------
    (int, int)
        Window width and height, pixels (at least 64 each).

    Examples
    --------
    >>> fit_window((1366, 768))
    (1222, 688)
    >>> fit_window((1920, 1080))
    (1728, 972)
    """
    dw, dh = display
    room_w = math.floor(dw * 0.95)
    room_h = min(dh - DECORATIONS_PX, math.floor(dh * FILL))
    h = min(room_h, room_w * aspect[1] / aspect[0])
    w = h * aspect[0] / aspect[1]
    w_px, h_px = int(w) // 2 * 2, int(h) // 2 * 2
    return max(w_px, 64), max(h_px, 64)


def display_size() -> tuple[int, int]:
    """The size of the desktop the window opens on (the first display), pixels.

    Starts pygame's display module if it is not started. Where there is no display, or the
    video driver reports no size (0x0, as some offscreen drivers do), :data:`MIN_DISPLAY`.
    """
    import pygame

    try:
        pygame.display.init()
    except pygame.error:  # no display: opening the window says so, in one line
        return MIN_DISPLAY
    sizes = pygame.display.get_desktop_sizes()
    if sizes and sizes[0][0] > 0 and sizes[0][1] > 0:
        return int(sizes[0][0]), int(sizes[0][1])
    info = pygame.display.Info()
    if info.current_w > 0 and info.current_h > 0:
        return int(info.current_w), int(info.current_h)
    return MIN_DISPLAY


def window_for_display(aspect: tuple[int, int] = (16, 9)) -> tuple[int, int]:
    """:func:`fit_window` for the desktop this process shows on (:func:`display_size`)."""
    return fit_window(display_size(), aspect)
