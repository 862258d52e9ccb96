"""Shared by the annotation UI tests: a real viewer on a generated slide, and mouse drags."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from ui.viewer import SlideViewer

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier


def view_pt(viewer: SlideViewer, l0_x: float, l0_y: float) -> QPoint:
    """Widget pixel of a level-0 point (rounded: the tests allow a screen pixel)."""
    return viewer.view_from_l0(l0_x, l0_y).toPoint()


def drag(
    viewer: SlideViewer, l0_path: list[tuple[float, float]],
    modifiers: Qt.KeyboardModifier = NO_MOD,
) -> None:  # fmt: skip
    """Press at the first level-0 point, move through the others, release at the last."""
    port = viewer.view_box.scene().views()[0].viewport()
    pts = [view_pt(viewer, x, y) for x, y in l0_path]
    QTest.mousePress(port, LEFT, modifiers, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(port, p)
    QTest.mouseRelease(port, LEFT, modifiers, pts[-1])


def click(viewer: SlideViewer, l0_x: float, l0_y: float,
          modifiers: Qt.KeyboardModifier = NO_MOD) -> None:  # fmt: skip
    port = viewer.view_box.scene().views()[0].viewport()
    QTest.mouseClick(port, LEFT, modifiers, view_pt(viewer, l0_x, l0_y))


def double_click(viewer: SlideViewer, l0_x: float, l0_y: float) -> None:
    port = viewer.view_box.scene().views()[0].viewport()
    QTest.mouseDClick(port, LEFT, NO_MOD, view_pt(viewer, l0_x, l0_y))


def zoom_to(viewer: SlideViewer, l0_per_view_px: float, l0_x: float, l0_y: float) -> None:
    """Set the zoom (level-0 px per screen px) and centre on a level-0 point."""
    viewer.zoom_by(viewer.l0_per_view_px() / l0_per_view_px)
    viewer.center_on(l0_x, l0_y)
    viewer.flush()


__all__ = ["QPointF", "click", "double_click", "drag", "view_pt", "zoom_to"]
