"""Ellipse tool (O): drag the ellipse's bounding box from corner to corner."""

from __future__ import annotations

from shapely import affinity
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.model import ToolShape
from ui.annotations.tools.drag import DragShapeTool

ELLIPSE_QUAD_SEGS = 16
"""Vertices per quarter: 64 in all, smooth at any zoom a screen shows."""


def ellipse(l0_x0: float, l0_y0: float, l0_x1: float, l0_y1: float) -> BaseGeometry:
    """The ellipse inscribed in a box, as a polygon (QuPath writes ellipses as polygons)."""
    cx, cy = (l0_x0 + l0_x1) / 2, (l0_y0 + l0_y1) / 2
    circle = Point(cx, cy).buffer(1.0, quad_segs=ELLIPSE_QUAD_SEGS)
    return affinity.scale(circle, abs(l0_x1 - l0_x0) / 2, abs(l0_y1 - l0_y0) / 2)


class EllipseTool(DragShapeTool):
    name = "ellipse"
    shape = ToolShape.ELLIPSE
    label = "Add ellipse"

    def shape_for(self, l0_x0: float, l0_y0: float, l0_x1: float, l0_y1: float) -> BaseGeometry:
        return ellipse(l0_x0, l0_y0, l0_x1, l0_y1)
