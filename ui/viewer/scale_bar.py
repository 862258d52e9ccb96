"""A scale bar in µm drawn over the viewer, or a note when the slide has no µm/px.

Zoomed past the scan's own pixels it adds "digital ×N": the image is enlarged, not sharper.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

NICE_UM = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
"""Round lengths the bar may show (µm)."""

NO_SCALE_NOTE = "no scale: µm/px unknown"


def nice_length_um(um_per_view_px: float, max_view_px: float = 160.0) -> float:
    """Longest round length whose bar fits in ``max_view_px`` (the shortest one if none)."""
    fitting = [um for um in NICE_UM if um / um_per_view_px <= max_view_px]
    return float(fitting[-1] if fitting else NICE_UM[0])


def format_um(um: float) -> str:
    return f"{um / 1000:g} mm" if um >= 1000 else f"{um:g} µm"


class ScaleBar(QWidget):
    """Transparent to the mouse; the viewer keeps it at its bottom-left corner."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self._um_per_view_px: float | None = None
        self.length_um: float | None = None
        self.digital: float | None = None
        self.setFixedSize(300, 34)
        self.setVisible(False)

    def set_scale(
        self, um_per_view_px: float | None, has_slide: bool = True, digital: float | None = None
    ) -> None:
        """Update for the current zoom; None shows the 'unknown scale' note instead.

        ``digital``: screen px per scanned px when zoomed past the scan (None otherwise).
        """
        self._um_per_view_px = um_per_view_px
        self.digital = digital
        valid = um_per_view_px is not None and um_per_view_px > 0
        self.length_um = nice_length_um(um_per_view_px) if valid and um_per_view_px else None
        self.setVisible(has_slide)
        self.update()

    def text(self) -> str:
        base = NO_SCALE_NOTE if self.length_um is None else format_um(self.length_um)
        return base if self.digital is None else f"{base}  ·  digital ×{self.digital:.2g}"

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(QFont(painter.font().family(), 9))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 200))
        if self.length_um is None or not self._um_per_view_px:
            width = painter.fontMetrics().horizontalAdvance(self.text()) + 12
            painter.drawRoundedRect(QRectF(0, 10, width, 20), 3, 3)
            painter.setPen(QColor(90, 90, 90))
            painter.drawText(QRectF(6, 10, width, 20), Qt.AlignmentFlag.AlignVCenter, self.text())
            return
        bar_px = self.length_um / self._um_per_view_px
        text_px = painter.fontMetrics().horizontalAdvance(self.text())
        painter.drawRoundedRect(QRectF(0, 0, max(bar_px, text_px) + 16, 32), 3, 3)
        painter.setPen(QPen(QColor(20, 20, 20), 3))
        painter.drawLine(8, 24, int(8 + bar_px), 24)
        painter.setPen(QColor(20, 20, 20))
        painter.drawText(
            QRectF(8, 2, max(bar_px, text_px) + 8, 18), Qt.AlignmentFlag.AlignLeft, self.text()
        )
        painter.end()
