"""The tissue outline drawn over the slide: closed rings as one path item, cosmetic pen."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPathItem

OUTLINE_Z = 990.0
OUTLINE_COLOR = QColor(20, 20, 20, 210)


def rings_path(rings: Sequence[NDArray[np.float64]]) -> QPainterPath:
    """One path of closed polygons (level-0 x, y)."""
    path = QPainterPath()
    for ring in rings:
        path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in ring]))
        path.closeSubpath()
    return path


class OutlineLayer:
    """Outlines (``pathscaat.inference.outlines.tissue_outline``) as a crisp dark line."""

    def __init__(self, rings: Sequence[NDArray[np.float64]], color: QColor | None = None) -> None:
        self.rings = list(rings)
        self.item = QGraphicsPathItem(rings_path(self.rings))
        pen = QPen(color or OUTLINE_COLOR)
        pen.setCosmetic(True)  # the same width at any zoom
        pen.setWidthF(1.5)
        self.item.setPen(pen)
        self.item.setZValue(OUTLINE_Z)

    def __len__(self) -> int:
        return len(self.rings)
