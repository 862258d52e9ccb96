"""The Make Regions preview on the slide: candidate outlines dashed magenta, the selected
ones cyan, each over a white halo so it shows on any stain or overlay. Cosmetic pens keep
the width in screen pixels at every zoom. Split from :mod:`ui.annotations.regions_dialog`,
which decides what to show."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

PREVIEW_Z = 1000
CANDIDATE_RGB = (255, 0, 200)
"""Magenta: in no overlay colour map nor class palette, and seen on H&E's pink and blue."""
SELECTED_RGB = (0, 220, 255)


def outline_path(geoms: list[Any]) -> QPainterPath:
    """Every ring of ``geoms`` (polygons or multipolygons in level-0 px) as one path."""
    path = QPainterPath()
    for geom in geoms:
        for poly in getattr(geom, "geoms", [geom]):
            for ring in (poly.exterior, *poly.interiors):
                xy = list(ring.coords)
                if len(xy) < 2:
                    continue
                path.moveTo(*xy[0])
                for x, y in xy[1:]:
                    path.lineTo(x, y)
                path.closeSubpath()
    return path


class HaloOutline:
    """A halo + coloured outline pair drawn over the slide (cosmetic pens)."""

    def __init__(self, view_box: Any, rgb: tuple[int, int, int], width: float, z: int,
                 dashed: bool = False) -> None:  # fmt: skip
        self.items: list[QGraphicsPathItem] = []
        style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
        for colour, w, pen_style in ((QColor(255, 255, 255, 200), width + 2, Qt.PenStyle.SolidLine),
                                     (QColor(*rgb), width, style)):
            item = QGraphicsPathItem()
            pen = QPen(colour, w, pen_style)
            pen.setCosmetic(True)
            item.setPen(pen)
            item.setZValue(z + len(self.items))
            view_box.addItem(item, ignoreBounds=True)
            self.items.append(item)
        self._view_box = view_box

    def show(self, path: QPainterPath) -> None:
        """Draw ``path``; an empty path hides the outline but keeps its items."""
        for item in self.items:
            item.setPath(path)

    def remove(self) -> None:
        """Take the items off the slide for good (the dialog closed)."""
        for item in self.items:
            self._view_box.removeItem(item)


def candidate_outline(view_box: Any) -> HaloOutline:
    """The candidates: dashed magenta."""
    return HaloOutline(view_box, CANDIDATE_RGB, 2.0, PREVIEW_Z, dashed=True)


def selection_outline(view_box: Any) -> HaloOutline:
    """The candidates selected in the list: cyan, above the candidates."""
    return HaloOutline(view_box, SELECTED_RGB, 3.0, PREVIEW_Z + 5)
