"""Shapes drawn by dragging from one corner to the other (rectangle, ellipse)."""

from __future__ import annotations

from PySide6.QtGui import QMouseEvent
from shapely.geometry.base import BaseGeometry

from ui.annotations.tools.base import MIN_DRAG_VIEW_PX, Tool, ToolContext, is_left


class DragShapeTool(Tool):
    """Press at one corner, drag, release at the other: one new annotation."""

    label = "Add shape"

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__(ctx)
        self._start: tuple[float, float] | None = None

    def shape_for(self, l0_x0: float, l0_y0: float, l0_x1: float, l0_y1: float) -> BaseGeometry:
        raise NotImplementedError

    def cancel(self) -> bool:
        self._start = None
        return super().cancel()

    def press(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if not is_left(event):
            return False
        self._start = (l0_x, l0_y)
        return True

    def move(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if self._start is None:
            return False
        if self._big_enough(l0_x, l0_y):
            self.ctx.preview.show(self.shape_for(*self._start, l0_x, l0_y))
        return True

    def release(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if self._start is None:
            return False
        start, self._start = self._start, None
        self.ctx.preview.clear()
        if self._big_enough(l0_x, l0_y, start):
            assert self.shape is not None
            self.ctx.add(self.shape_for(*start, l0_x, l0_y), self.shape, self.label)
        return True

    def _big_enough(
        self, l0_x: float, l0_y: float, start: tuple[float, float] | None = None
    ) -> bool:
        x0, y0 = start or self._start or (l0_x, l0_y)
        least = MIN_DRAG_VIEW_PX * self.ctx.l0_per_view_px()
        return abs(l0_x - x0) >= least and abs(l0_y - y0) >= least
