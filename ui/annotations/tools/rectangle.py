"""Rectangle tool (R): drag from corner to corner."""

from __future__ import annotations

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.model import ToolShape
from ui.annotations.tools.drag import DragShapeTool


class RectangleTool(DragShapeTool):
    name = "rectangle"
    shape = ToolShape.RECTANGLE
    label = "Add rectangle"

    def shape_for(self, l0_x0: float, l0_y0: float, l0_x1: float, l0_y1: float) -> BaseGeometry:
        return box(min(l0_x0, l0_x1), min(l0_y0, l0_y1), max(l0_x0, l0_x1), max(l0_y0, l0_y1))
