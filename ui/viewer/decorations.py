"""Line art over the slide that the user toggles: the tile grid and the tissue outline.

Each is optional (it comes with an inference output) and has a user switch (View menu);
the grid also hides itself while tiles are too small on screen to tell apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtGui import QColor

from ui.viewer.grid_layer import GridLayer
from ui.viewer.outline_layer import OutlineLayer

GRID, OUTLINE = "grid", "outline"
SHOWN_AT_FIRST = {GRID: False, OUTLINE: True}
"""The grid is detail for checking a run; the outline is context worth having at once."""


class Decorations:
    """The grid and outline items in ``view_box`` and whether the user wants each shown."""

    def __init__(self, view_box: pg.ViewBox) -> None:
        self._vb = view_box
        self.grid: GridLayer | None = None
        self.outline: OutlineLayer | None = None
        self.wanted = dict(SHOWN_AT_FIRST)

    def set_grid(
        self, l0_xy: NDArray[np.int64] | None, l0_tile_px: float, l0_per_view_px: float,
        color: QColor | None = None,
    ) -> None:  # fmt: skip
        if self.grid is not None:
            self._vb.removeItem(self.grid.item)
            self.grid = None
        if l0_xy is not None and len(l0_xy):
            self.grid = GridLayer(l0_xy, l0_tile_px, color)
            self.grid.set_enabled(self.wanted[GRID])
            self._vb.addItem(self.grid.item)
            self.grid.update_for_zoom(l0_per_view_px)

    def set_outline(self, rings: Sequence[NDArray[np.float64]] | None) -> None:
        if self.outline is not None:
            self._vb.removeItem(self.outline.item)
            self.outline = None
        if rings:
            self.outline = OutlineLayer(rings)
            self.outline.item.setVisible(self.wanted[OUTLINE])
            self._vb.addItem(self.outline.item)

    def available(self, name: str) -> bool:
        return (self.grid if name == GRID else self.outline) is not None

    def set_visible(self, name: str, on: bool) -> None:
        """The user's switch for ``grid`` or ``outline`` (kept for the next slide too)."""
        if name not in self.wanted:
            raise ValueError(f"no decoration {name!r}; choose {GRID!r} or {OUTLINE!r}")
        self.wanted[name] = bool(on)
        if name == GRID and self.grid is not None:
            self.grid.set_enabled(on)
        if name == OUTLINE and self.outline is not None:
            self.outline.item.setVisible(on)

    def is_shown(self, name: str) -> bool:
        """True when the item exists, is switched on and (grid) is big enough to see."""
        layer = self.grid if name == GRID else self.outline
        return layer is not None and layer.item.isVisible()

    def update_for_zoom(self, l0_per_view_px: float) -> None:
        if self.grid is not None:
            self.grid.update_for_zoom(l0_per_view_px)

    def clear(self) -> None:
        self.set_grid(None, 0.0, 1.0)
        self.set_outline(None)
