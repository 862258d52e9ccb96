"""Minimap: the slide thumbnail with the viewer's visible rectangle; click or drag recenters.

The thumbnail is read on the viewer's loader (off the UI thread). The minimap only
subscribes to the viewer's signals and calls its public ``center_on``::

    minimap = Minimap(viewer)   # follows viewer.sigSlideChanged / sigViewChanged
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from pathscaat.slides.base import Slide
from ui.viewer.slide_viewer import SlideViewer
from ui.viewer.tile_grid import L0Rect

THUMB_PX = 256
VIEWPORT_PEN = QColor(255, 196, 0)


class Minimap(QWidget):
    """Overview of the viewer's slide; left click or drag centres the viewer there."""

    def __init__(self, viewer: SlideViewer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self._slide: Slide | None = None
        self._image: QImage | None = None
        self._l0_view: L0Rect | None = None
        self.setMinimumSize(120, 120)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        viewer.sigSlideChanged.connect(self.set_slide)
        viewer.sigViewChanged.connect(self._on_view_changed)
        if viewer.slide is not None:
            self.set_slide(viewer.slide)

    def sizeHint(self) -> QSize:
        return QSize(220, 220)

    @property
    def has_thumbnail(self) -> bool:
        return self._image is not None

    def set_slide(self, slide: Slide | None) -> None:
        """Load the thumbnail of ``slide`` off the UI thread (None clears the minimap)."""
        self._slide = slide
        self._image = None
        self._l0_view = None
        self.update()
        if slide is None:
            return

        def done(rgb: NDArray[np.uint8]) -> None:
            if self._slide is slide:  # ignore a thumbnail of a slide no longer shown
                self._image = _to_qimage(rgb)
                self.update()

        self.viewer.loader.submit_task(lambda: slide.thumbnail(THUMB_PX), done, self._on_error)

    def _on_error(self, message: str) -> None:
        self.viewer.sigError.emit(f"minimap: {message}")

    def _on_view_changed(self, l0_rect: L0Rect) -> None:
        self._l0_view = l0_rect
        self.update()

    def _target(self) -> QRectF | None:
        """Where the whole slide is drawn in this widget (aspect kept, centred)."""
        if self._slide is None:
            return None
        l0_w, l0_h = self._slide.dimensions
        scale = min(self.width() / l0_w, self.height() / l0_h)
        w, h = l0_w * scale, l0_h * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(58, 58, 62))
        target = self._target()
        if target is None or self._slide is None:
            return
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
        if self._l0_view is not None:
            scale = target.width() / self._slide.dimensions[0]
            x, y, w, h = self._l0_view
            view = QRectF(target.x() + x * scale, target.y() + y * scale, w * scale, h * scale)
            painter.setClipRect(target)
            painter.setPen(QPen(VIEWPORT_PEN, 2))
            painter.drawRect(view.intersected(target.adjusted(1, 1, -1, -1)))
        painter.end()

    def l0_at(self, widget_pt: QPointF) -> tuple[float, float] | None:
        """Level-0 point under a widget point, or None outside the slide."""
        target = self._target()
        if target is None or self._slide is None or not target.contains(widget_pt):
            return None
        scale = self._slide.dimensions[0] / target.width()
        return ((widget_pt.x() - target.x()) * scale, (widget_pt.y() - target.y()) * scale)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._recenter(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._recenter(event)

    def _recenter(self, event: QMouseEvent) -> None:
        point = self.l0_at(event.position())
        if point is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.viewer.center_on(*point)


def _to_qimage(rgb: NDArray[np.uint8]) -> QImage:
    data = np.ascontiguousarray(rgb[..., :3])
    h, w = data.shape[:2]
    return QImage(data.data, w, h, w * 3, QImage.Format.Format_RGB888).copy()
