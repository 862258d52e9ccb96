"""Line art and labels painted onto an exported image: outline, grid, annotations, scale
bar, legends.

The pixels under them come from :func:`pathscaat.inference.render.render_in_bands`; this
module only draws with a ``QPainter`` in the image's own pixels, mapping level-0
coordinates with ``(l0 - origin) * scale``. What it draws is taken from the window as
values first (:class:`LegendSpec`, :class:`AnnotationShapes`), so painting is safe in a
worker thread while the user goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF, QTransform

from pathscaat.annotations.model import RGB
from ui.annotations.chunks import OUTLINE_NEAR_VIEW_PX, OUTLINE_VIEW_PX, DrawStyle, colour_of
from ui.annotations.chunks import draw_paths as draw_annotation_paths
from ui.annotations.paths import batch_paths
from ui.panels.layers_panel import display_name
from ui.viewer.grid_layer import MIN_TILE_VIEW_PX
from ui.viewer.outline_layer import OUTLINE_COLOR, rings_path
from ui.viewer.overlay_layer import OverlayLayer
from ui.viewer.scale_bar import format_um, nice_length_um

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from ui.annotations.layer import AnnotationLayer

L0Rect = tuple[float, float, float, float]
ANTIALIAS_BELOW_L0_PER_PX = 4.0
"""As the annotation layer: thin 1 px outlines zoomed out, 2 px antialiased zoomed in."""
PANEL_BG = QColor(255, 255, 255, 225)
TEXT = QColor(20, 20, 20)
GRID_COLOR = QColor(0, 190, 255, 200)


def _l0_transform(l0_rect: L0Rect, scale: float) -> QTransform:
    x, y, _, _ = l0_rect
    return QTransform(scale, 0, 0, scale, -x * scale, -y * scale)


def paint_outline(
    painter: QPainter, rings: Sequence[NDArray[np.float64]], l0_rect: L0Rect, scale: float
) -> None:
    """The tissue outline, 2 px wide whatever the scale."""
    path = _l0_transform(l0_rect, scale).map(rings_path(rings))
    painter.setPen(QPen(OUTLINE_COLOR, 2.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)


def paint_grid(
    painter: QPainter, l0_xy: NDArray[np.int64], l0_side: float, l0_rect: L0Rect, scale: float
) -> None:
    """Tile outlines, unless tiles would be too small to tell apart (as on screen)."""
    side = l0_side * scale
    if side < MIN_TILE_VIEW_PX:
        return
    x0, y0, _, _ = l0_rect
    painter.setPen(QPen(GRID_COLOR, 1.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for l0_x, l0_y in np.asarray(l0_xy).tolist():
        painter.drawRect(QRectF((l0_x - x0) * scale, (l0_y - y0) * scale, side, side))


def paint_scale_bar(
    painter: QPainter, image: QImage, um_per_px: float | None, digital: float | None
) -> None:
    """A round-length bar at the bottom left (or the 'no scale' note)."""
    painter.setFont(QFont(painter.font().family(), max(9, image.height() // 80)))
    metrics = painter.fontMetrics()
    max_bar = max(60.0, image.width() / 5)
    note = f"  ·  digital ×{digital:.2g}" if digital else ""
    text = "no scale: µm/px unknown" if not um_per_px else ""
    bar_px = 0.0
    if um_per_px:
        length = nice_length_um(um_per_px, max_bar)
        bar_px = length / um_per_px
        text = format_um(length)
    text += note
    pad = metrics.height() * 0.5
    w = max(bar_px, metrics.horizontalAdvance(text)) + 2 * pad
    h = metrics.height() * 2 + pad
    box = QRectF(pad, image.height() - h - pad, w, h)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(PANEL_BG)
    painter.drawRoundedRect(box, 4, 4)
    painter.setPen(TEXT)
    painter.drawText(QPointF(box.x() + pad, box.y() + metrics.ascent() + pad / 2), text)
    if bar_px:
        y = box.bottom() - pad
        painter.setPen(QPen(TEXT, max(3.0, metrics.height() / 5)))
        painter.drawLine(QPointF(box.x() + pad, y), QPointF(box.x() + pad + bar_px, y))


@dataclass(frozen=True)
class AnnotationShapes:
    """The annotations in an export's area, grouped by colour, and how to draw them."""

    groups: list[tuple[RGB, list[BaseGeometry]]]
    style: DrawStyle
    l0_per_out_px: float
    width_px: float

    @classmethod
    def of_layer(
        cls, layer: AnnotationLayer, l0_rect: L0Rect, l0_per_out_px: float, enlarge: float = 1.0
    ) -> AnnotationShapes | None:
        """What ``layer`` shows in ``l0_rect`` (None when it shows nothing there)."""
        collection = layer.collection
        if collection is None or not len(collection) or not layer.style.visible:
            return None
        x, y, w, h = l0_rect
        objs = [o for o in collection.query((x, y, x + w, y + h)) if layer.style.shows(o)]
        if not objs:
            return None
        groups: dict[RGB, list[BaseGeometry]] = {}
        for obj in objs:
            groups.setdefault(colour_of(obj), []).append(obj.geometry)
        near = l0_per_out_px < ANTIALIAS_BELOW_L0_PER_PX
        width = (OUTLINE_NEAR_VIEW_PX if near else OUTLINE_VIEW_PX) * enlarge
        return cls(list(groups.items()), layer.style.draw(), l0_per_out_px, width)


def paint_annotations(
    painter: QPainter, shapes: AnnotationShapes, l0_rect: L0Rect, scale: float
) -> None:
    """Fill and outline each annotation in its class colour, as the layer draws them."""
    painter.save()
    painter.setTransform(_l0_transform(l0_rect, scale))
    for colour, geoms in shapes.groups:
        paths = batch_paths(geoms, shapes.l0_per_out_px)
        draw_annotation_paths(painter, paths, QColor(*colour), shapes.style, shapes.width_px)
    painter.restore()


@dataclass(frozen=True)
class LegendSpec:
    """One layer's legend: its title and class swatches (over eosin, over haematoxylin)
    or a colour bar with the values at its ends."""

    title: str
    swatches: list[tuple[str, RGB, RGB]]
    bar: QImage | None = None
    lo: str = ""
    hi: str = ""
    scale: str = ""
    """The scale of the run that made the layer (``OverlayLayer.scale_text``)."""


def legend_spec(layer: OverlayLayer) -> LegendSpec:
    """The legend of ``layer`` as it is now (UI thread)."""
    title = display_name(layer.name, layer.kind)
    swatches = layer.legend_swatches()
    if swatches:
        return LegendSpec(title, swatches, scale=layer.scale_text)
    return LegendSpec(title, [], layer.legend_image(256, 8), f"{layer.value_min:.3g}",
                      f"{layer.value_max:.3g}", layer.scale_text)  # fmt: skip


def _legend_rows(spec: LegendSpec) -> int:
    return 1 + (len(spec.swatches) + 1) // 2 if spec.swatches else 2


def paint_legends(painter: QPainter, image: QImage, layers: Sequence[LegendSpec]) -> None:
    """A box at the bottom right: each layer's name and its colour bar or class swatches."""
    if not layers:
        return
    painter.setFont(QFont(painter.font().family(), max(9, image.height() // 80)))
    metrics = painter.fontMetrics()
    line = metrics.height() * 1.3
    pad = metrics.height() * 0.6
    width = max(metrics.horizontalAdvance("M") * 22.0, 160.0)
    scale = _scale_text(layers)
    wrap = Qt.TextFlag.TextWordWrap
    scale_h = metrics.boundingRect(QRect(0, 0, int(width - 2 * pad), 10000), wrap, scale).height()
    height = sum(_legend_rows(layer) * line for layer in layers) + pad * (len(layers) + 1)
    height += scale_h + pad if scale else 0
    box = QRectF(image.width() - width - pad, image.height() - height - pad, width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(PANEL_BG)
    painter.drawRoundedRect(box, 4, 4)
    y = box.y() + pad
    for layer in layers:
        painter.setPen(TEXT)
        painter.drawText(QPointF(box.x() + pad, y + metrics.ascent()), layer.title)
        y += line
        y = _paint_key(painter, layer, QRectF(box.x() + pad, y, width - 2 * pad, line)) + pad
    if scale:
        painter.setPen(TEXT)
        painter.drawText(QRectF(box.x() + pad, y, width - 2 * pad, scale_h), wrap, scale)


def _scale_text(layers: Sequence[LegendSpec]) -> str:
    """The scale of the runs behind ``layers`` (one line each), or ''."""
    scales = dict.fromkeys(layer.scale for layer in layers if layer.scale)
    return "\n".join(f"Scale: {text}" for text in scales)


def _paint_swatch(
    painter: QPainter, box: QRectF, eosin: tuple[int, int, int], haem: tuple[int, int, int]
) -> None:
    """A class swatch as the layers panel draws it: over eosin (upper left) and over
    haematoxylin (lower right), at the layer's opacity."""
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(*eosin))
    painter.drawPolygon(QPolygonF([box.topLeft(), box.topRight(), box.bottomLeft()]))
    painter.setBrush(QColor(*haem))
    painter.drawPolygon(QPolygonF([box.topRight(), box.bottomRight(), box.bottomLeft()]))
    painter.setPen(QPen(QColor(60, 60, 60), 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(box)


def _paint_key(painter: QPainter, layer: LegendSpec, row: QRectF) -> float:
    """Swatches (classes) or a colour bar with its ends; returns the y below it."""
    metrics = painter.fontMetrics()
    entries = layer.swatches
    if entries:
        half = row.width() / 2
        for i, (name, eosin, haem) in enumerate(entries):
            x = row.x() + (i % 2) * half
            y = row.y() + (i // 2) * row.height()
            side = metrics.height() * 0.8
            _paint_swatch(painter, QRectF(x, y + (row.height() - side) / 2, side, side),
                          eosin, haem)  # fmt: skip
            painter.setPen(TEXT)
            painter.drawText(QPointF(x + side * 1.5, y + metrics.ascent()), name)
        return row.y() + ((len(entries) + 1) // 2) * row.height()
    lo, hi = layer.lo, layer.hi
    margin = max(metrics.horizontalAdvance(lo), metrics.horizontalAdvance(hi)) + 6
    bar = QRectF(row.x() + margin, row.y() + row.height() * 0.2, row.width() - 2 * margin,
                 row.height() * 0.6)  # fmt: skip
    if layer.bar is not None:
        painter.drawImage(bar, layer.bar)
    painter.setPen(TEXT)
    painter.drawText(QPointF(row.x(), row.y() + metrics.ascent()), lo)
    painter.drawText(QPointF(bar.right() + 6, row.y() + metrics.ascent()), hi)
    return row.bottom()
