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
    """As a real double-click arrives: press, release, double-click, release."""
    port = viewer.view_box.scene().views()[0].viewport()
    pt = view_pt(viewer, l0_x, l0_y)
    QTest.mouseClick(port, LEFT, NO_MOD, pt)
    QTest.mouseDClick(port, LEFT, NO_MOD, pt)  # QTest sends the double-click event alone
    QTest.mouseRelease(port, LEFT, NO_MOD, pt)


def zoom_to(viewer: SlideViewer, l0_per_view_px: float, l0_x: float, l0_y: float) -> None:
    """Set the zoom (level-0 px per screen px) and centre on a level-0 point."""
    viewer.zoom_by(viewer.l0_per_view_px() / l0_per_view_px)
    viewer.center_on(l0_x, l0_y)
    viewer.flush()


__all__ = ["QPointF", "click", "double_click", "drag", "view_pt", "zoom_to"]


SLIDE_PX = 2048
SLIDE_MPP = 0.5
_PIXELS: list[object] = []


def slide_pixels() -> object:
    """The generated slide's level 0, made once per session (it is only read)."""
    from tests.ui.viewer_slides import gradient_rgb

    if not _PIXELS:
        _PIXELS.append(gradient_rgb(SLIDE_PX, SLIDE_PX))
    return _PIXELS[0]


class Bench:
    """A window with the real viewer on a generated slide and the annotation controller."""

    def __init__(self, qtbot: object) -> None:
        from PySide6.QtWidgets import QMainWindow

        from tests.ui.viewer_slides import ArraySlide
        from ui.annotations.controller import AnnotationController

        self.messages: list[str] = []
        self.errors: list[str] = []
        self.win = QMainWindow()
        self.viewer = SlideViewer(synchronous=True)
        self.win.setCentralWidget(self.viewer)
        self.ann = AnnotationController(self.win, self.viewer, self.messages.append,
                                        self.errors.append)  # fmt: skip
        for act in [*self.ann.actions.tools.values(), self.ann.actions.delete,
                    self.ann.actions.undo, self.ann.actions.redo, *self.ann.actions.classify]:
            self.win.addAction(act)  # shortcuts live where a menu would put them
        qtbot.addWidget(self.win)  # type: ignore[attr-defined]
        self.win.resize(640, 480)
        self.win.show()
        qtbot.waitExposed(self.win)  # type: ignore[attr-defined]
        self.slide = ArraySlide(slide_pixels(), mpp_um=SLIDE_MPP)  # type: ignore[arg-type]
        self.viewer.set_slide(self.slide)
        self.ann.set_slide(self.slide)

    @property
    def collection(self):  # type: ignore[no-untyped-def]
        assert self.ann.collection is not None
        return self.ann.collection

    def tool(self, name: str) -> None:
        self.ann.tools.set_tool(name)

    def close(self) -> None:
        self.viewer.shutdown()
