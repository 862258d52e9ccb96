"""Mouse events for annotation tools: the viewport's events, in level-0 px, offered first.

The viewer pans on a left drag; a tool (``MouseHandler``) sees each press, move, release
and double-click first and returns True to keep it from the viewer (a drawn stroke must
not also pan the slide).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QMouseEvent

MOUSE_KINDS = {
    QEvent.Type.MouseButtonPress: "press",
    QEvent.Type.MouseMove: "move",
    QEvent.Type.MouseButtonRelease: "release",
    QEvent.Type.MouseButtonDblClick: "double",
}


class MouseHandler(Protocol):
    """Receives the viewport's mouse events in level-0 px; True consumes (no pan)."""

    def mouse_event(self, kind: str, l0_x: float, l0_y: float, event: QMouseEvent) -> bool: ...


def route_mouse(
    handler: MouseHandler | None, event: QEvent, to_l0: Callable[[QPointF], tuple[float, float]]
) -> bool:
    """Offer ``event`` to ``handler``; True when the handler consumed it."""
    kind = MOUSE_KINDS.get(event.type())
    if not kind or handler is None or not isinstance(event, QMouseEvent):
        return False
    l0_x, l0_y = to_l0(event.position())
    return handler.mouse_event(kind, l0_x, l0_y, event)
