"""The ImageItems of one pyramid source in the viewer's ViewBox.

A layer shows the tiles of the level that suits the current zoom. Tiles of other levels
stay as placeholders (finer ones drawn above coarser ones) until the current level covers
the visible part of them, so zooming never flashes white. A small coarsest level is kept
as a permanent backdrop, so panning into new ground shows a blurred preview at once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter

from pathscaat.slides.region import Region
from ui.viewer.tile_grid import L0Rect, Source, intersects

BACKDROP_MAX_PX = 2048
"""The coarsest level becomes a backdrop when neither side is longer than this."""

PREFETCH_FRACTION = 0.25
"""Tiles this far (fraction of the view) beyond each edge are loaded too, last, so a pan
shows tiles that are already there."""

ToImage = Callable[[NDArray[np.uint8]], NDArray[np.uint8]]


PAINT_FORMAT = QImage.Format.Format_ARGB32_Premultiplied
"""The raster engine's own pixel format: pyqtgraph renders RGB tiles as RGB888, which every
paint converts again (about 9x the cost of drawing a tile at 0.6x scale on 2 cores)."""


class TileImageItem(pg.ImageItem):
    """An ``ImageItem`` whose rendered image is converted once to the format painting wants,
    so a repaint of the slide (a pan, or an annotation chunk finishing above it) is a blit."""

    def render(self) -> None:
        super().render()
        image: QImage | None = getattr(self, "qimage", None)
        if image is not None and not image.isNull() and image.format() != PAINT_FORMAT:
            self.qimage = image.convertToFormat(PAINT_FORMAT)


class CrispImageItem(TileImageItem):
    """An image drawn without smoothing: categorical tiles keep sharp borders when enlarged
    (a smoothed class map would blend two classes' colours into a third)."""

    def paint(self, p: QPainter, *args: object) -> None:
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        super().paint(p, *args)


Configure = Callable[[pg.ImageItem], None]


def _grow(rect: L0Rect, fraction: float = PREFETCH_FRACTION) -> L0Rect:
    x, y, w, h = rect
    return (x - w * fraction, y - h * fraction, w * (1 + 2 * fraction), h * (1 + 2 * fraction))


def _clip(a: L0Rect, b: L0Rect) -> L0Rect:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return (x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


class TileLayer:
    """Places tiles of ``source`` as ``ImageItem``s at ``z_base`` (+ level offset)."""

    def __init__(
        self,
        view_box: pg.ViewBox,
        source: Source,
        z_base: float = 0.0,
        to_image: ToImage | None = None,
        configure: Configure | None = None,
        opaque: bool = True,
        crisp: bool = False,
    ) -> None:
        self.view_box = view_box
        self.opaque = opaque
        self.item_type = CrispImageItem if crisp else TileImageItem
        self.source = source
        self.z_base = z_base
        self.to_image = to_image
        self.configure = configure
        self.items: dict[Region, pg.ImageItem] = {}
        self.current: set[Region] = set()
        self.level = -1
        self.visible = True
        self._l0_view: L0Rect = (0.0, 0.0, 0.0, 0.0)
        self.backdrop = self._backdrop_regions()

    def _backdrop_regions(self) -> set[Region]:
        slide = self.source.slide
        top = slide.level_count - 1
        w, h = slide.level_dimensions[top]
        if not self.opaque or top == 0 or max(w, h) > BACKDROP_MAX_PX:
            return set()
        return set(self.source.tiles(top, (0.0, 0.0, *self.source.l0_extent())))

    def wanted(self, l0_view: L0Rect, l0_per_view_px: float) -> list[Region]:
        """Choose the level for this zoom; return the tiles to show, most urgent first."""
        self._l0_view = l0_view
        if not self.visible:
            self.current = set()
            return []
        self.level = self.source.level_for(l0_per_view_px)
        visible = self.source.tiles(self.level, l0_view)
        shown = set(visible)
        ring = [r for r in self.source.tiles(self.level, _grow(l0_view)) if r not in shown]
        self.current = shown | set(ring)
        self._drop_offscreen()
        backdrop = sorted(self.backdrop - self.current, key=lambda r: (r.l0_y, r.l0_x))
        return visible + backdrop + ring

    def add_tile(self, region: Region, tile: NDArray[np.uint8]) -> None:
        """Show a delivered tile (ignored when already shown or no longer wanted)."""
        if region in self.items or not (region in self.current or region in self.backdrop):
            return
        image = self.to_image(tile) if self.to_image is not None else tile
        item = self.item_type(image, autoLevels=False)
        if self.configure is not None:
            self.configure(item)
        item.setRect(QRectF(*self.source.l0_rect(region)))
        item.setZValue(self.z_base - region.level)
        item.setVisible(self.visible)
        self.view_box.addItem(item)
        self.items[region] = item
        if not self.opaque and region in self.current:
            self._drop_under(region)
        self.prune()

    def _drop_under(self, region: Region) -> None:
        """A transparent tile would show placeholders through it: drop those it overlaps."""
        rect = self.source.l0_rect(region)
        for other in list(self.items):
            if other not in self.current and intersects(self.source.l0_rect(other), rect):
                self._remove(other)

    def prune(self) -> None:
        """Remove placeholders whose visible part the current level already covers."""
        for region in list(self.items):
            if region in self.current or region in self.backdrop:
                continue
            rect = self.source.l0_rect(region)
            shown = _clip(rect, self._l0_view)
            if shown[2] <= 0 or shown[3] <= 0 or self._covered(shown):
                self._remove(region)

    def _covered(self, l0_rect: L0Rect) -> bool:
        if self.level < 0:
            return False
        needed = self.source.tiles(self.level, l0_rect)
        return all(r in self.items for r in needed) and bool(needed)

    def _drop_offscreen(self) -> None:
        for region in list(self.items):
            keep = region in self.current or region in self.backdrop
            if not keep and not intersects(self.source.l0_rect(region), self._l0_view):
                self._remove(region)

    def _remove(self, region: Region) -> None:
        item = self.items.pop(region)
        self.view_box.removeItem(item)

    def set_z_base(self, z_base: float) -> None:
        """Move the layer in the stack (overlay order); tiles keep finer-above-coarser."""
        self.z_base = z_base
        for region, item in self.items.items():
            item.setZValue(z_base - region.level)

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        for item in self.items.values():
            item.setVisible(visible)

    def apply(self, fn: Configure) -> None:
        """Re-style every shown tile (colormap, opacity) without reading anything."""
        for item in self.items.values():
            fn(item)

    def covers_view(self) -> bool:
        """True when the current level's tiles cover the whole visible slide area."""
        w, h = self.source.l0_extent()
        shown = _clip((0.0, 0.0, w, h), self._l0_view)
        return shown[2] <= 0 or shown[3] <= 0 or self._covered(shown)

    def clear(self) -> None:
        for region in list(self.items):
            self._remove(region)
        self.current = set()
