"""Polygon tool (P): click vertices; double-click (or Enter) closes, Backspace takes one back."""

from __future__ import annotations

import shapely
from PySide6.QtGui import QMouseEvent
from shapely.geometry import GeometryCollection, LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.model import ToolShape
from ui.annotations.tools.base import Tool, ToolContext, is_left


def closed_polygon(vertices: list[tuple[float, float]]) -> BaseGeometry | None:
    """The polygon through ``vertices``; a self-crossing outline is repaired (make_valid)."""
    if len(vertices) < 3:
        return None
    poly = Polygon(vertices)
    if not poly.is_valid:
        fixed = shapely.make_valid(poly)
        parts = [g for g in shapely.get_parts(fixed) if g.geom_type == "Polygon"]
        if not parts:
            return None
        poly = shapely.union_all(parts)
    return poly if poly.area > 0 else None


class PolygonTool(Tool):
    name = "polygon"
    shape = ToolShape.POLYGON

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__(ctx)
        self.vertices: list[tuple[float, float]] = []

    def cancel(self) -> bool:
        had = bool(self.vertices)
        self.vertices = []
        super().cancel()
        return had

    def finish(self) -> bool:
        if not self.vertices:
            return False
        poly = closed_polygon(self._distinct())
        vertices, self.vertices = self.vertices, []
        self.ctx.preview.clear()
        if poly is None:
            self.ctx.message(f"A polygon needs 3 distinct points; it had {len(vertices)}. "
                             "Click at least three points, then double-click.")  # fmt: skip
            return True
        self.ctx.add(poly, ToolShape.POLYGON, "Add polygon")
        return True

    def undo_vertex(self) -> bool:
        """Backspace: remove the last vertex clicked."""
        if not self.vertices:
            return False
        self.vertices.pop()
        self._show()
        return True

    def press(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if not is_left(event):
            return False
        self.vertices.append((l0_x, l0_y))
        self._show()
        return True

    def move(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if not self.vertices:
            return False
        self._show((l0_x, l0_y))
        return True

    def release(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        return bool(self.vertices)

    def double(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if not is_left(event):
            return False
        return self.finish()

    def _distinct(self) -> list[tuple[float, float]]:
        """Vertices without repeats closer than a screen pixel (a double-click's second hit)."""
        least = self.ctx.l0_per_view_px()
        out: list[tuple[float, float]] = []
        for x, y in self.vertices:
            if not out or abs(x - out[-1][0]) > least or abs(y - out[-1][1]) > least:
                out.append((x, y))
        return out

    def _show(self, cursor: tuple[float, float] | None = None) -> None:
        points = self.vertices + ([cursor] if cursor else [])
        line: BaseGeometry = LineString(points) if len(points) > 1 else Point(points[0])
        self.ctx.preview.show(GeometryCollection([line, MultiPoint(self.vertices)]))
