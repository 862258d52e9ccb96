"""Points tool (.): each click adds a point to the selected points annotation, or starts one.

Like QuPath, the points of one annotation share a class (counting cells of one kind);
deselect (Esc) to start a new set.
"""

from __future__ import annotations

from PySide6.QtGui import QMouseEvent
from shapely.geometry import MultiPoint

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, ToolShape
from ui.annotations.tools.base import Tool, is_left


def is_points(obj: Annotation) -> bool:
    return obj.geometry.geom_type in ("Point", "MultiPoint")


class PointsTool(Tool):
    name = "points"
    shape = ToolShape.POINTS

    def press(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if not is_left(event):
            return False
        selected = self.ctx.selected()
        target = selected[0] if len(selected) == 1 and is_points(selected[0]) else None
        if target is None:
            self.ctx.add(MultiPoint([(l0_x, l0_y)]), ToolShape.POINTS, "Add points")
            return True
        if self.ctx.refuse_locked([target]):
            return True
        coords = [(p.x, p.y) for p in getattr(target.geometry, "geoms", [target.geometry])]
        after = target.with_changes(geometry=MultiPoint([*coords, (l0_x, l0_y)]))
        self.ctx.apply(Edit.change([target], [after], "Add point"))
        return True

    def release(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        return is_left(event)
