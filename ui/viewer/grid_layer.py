"""The tile grid drawn as crisp outlines over the slide (one path item, cosmetic pen).

A grid of N tiles becomes one ``QGraphicsPathItem`` (drawn in C++, no Python per tile),
hidden while tiles are smaller than a few screen pixels, where outlines would only grey
the tissue out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

GRID_Z = 1000.0
MIN_TILE_VIEW_PX = 6.0
"""Hide the grid when a tile is drawn smaller than this many screen pixels."""


class GridLayer:
    """Outlines of square tiles with top-left corners ``l0_xy`` and side ``l0_tile_px``."""

    def __init__(
        self, l0_xy: NDArray[np.int64], l0_tile_px: float, color: QColor | None = None
    ) -> None:
        self.l0_xy = np.asarray(l0_xy, dtype=np.int64).reshape(-1, 2)
        self.l0_tile_px = float(l0_tile_px)
        path = QPainterPath()
        for x, y in self.l0_xy.tolist():
            path.addRect(x, y, self.l0_tile_px, self.l0_tile_px)
        self.item = QGraphicsPathItem(path)
        pen = QPen(color or QColor(0, 190, 255, 200))
        pen.setCosmetic(True)  # one screen pixel wide at any zoom
        pen.setWidthF(1.0)
        self.item.setPen(pen)
        self.item.setZValue(GRID_Z)
        self.enabled = True
        self._big_enough = True

    def update_for_zoom(self, l0_per_view_px: float) -> None:
        """Show the outlines only when tiles are big enough on screen to tell apart."""
        self._big_enough = self.l0_tile_px / max(l0_per_view_px, 1e-9) >= MIN_TILE_VIEW_PX
        self.item.setVisible(self.enabled and self._big_enough)

    def set_enabled(self, on: bool) -> None:
        """The user's toggle (View > Tile Grid); zoom may still hide the outlines."""
        self.enabled = bool(on)
        self.item.setVisible(self.enabled and self._big_enough)

    def __len__(self) -> int:
        return len(self.l0_xy)
