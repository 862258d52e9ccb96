"""Keyboard navigation of the viewer: arrows pan, +/- zoom, 0 or F fits."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt

KEY_ZOOM = 1.5
KEY_PAN_FRACTION = 0.125
"""One arrow press moves the view by this fraction of its size."""


class Navigable(Protocol):
    def width(self) -> int: ...
    def height(self) -> int: ...
    def pan_by(self, view_dx: float, view_dy: float) -> None: ...
    def zoom_by(self, factor: float) -> None: ...
    def fit(self) -> None: ...


def handle_key(view: Navigable, key: int) -> bool:
    """Apply ``key`` to ``view``; False when it is not a navigation key."""
    step_x = view.width() * KEY_PAN_FRACTION
    step_y = view.height() * KEY_PAN_FRACTION
    pans = {
        Qt.Key.Key_Left: (-step_x, 0.0),
        Qt.Key.Key_Right: (step_x, 0.0),
        Qt.Key.Key_Up: (0.0, -step_y),
        Qt.Key.Key_Down: (0.0, step_y),
    }
    if key in pans:
        view.pan_by(*pans[Qt.Key(key)])
    elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
        view.zoom_by(KEY_ZOOM)
    elif key == Qt.Key.Key_Minus:
        view.zoom_by(1.0 / KEY_ZOOM)
    elif key in (Qt.Key.Key_0, Qt.Key.Key_F):
        view.fit()
    else:
        return False
    return True
