"""Move tool (V): click selects (Shift/Ctrl adds), drag moves, drag a handle edits a vertex.

A click on empty slide clears the selection and lets the viewer pan, so V is also the
navigation tool, as in QuPath. The vertex handles of a single selected polygon are drawn
by the layer; dragging one moves that vertex (a rectangle keeps its shape: the opposite
corner stays put).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QMouseEvent
from shapely import affinity
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, ToolShape
from ui.annotations.layer import HANDLE_VIEW_PX, editable_vertices
from ui.annotations.tools.base import Tool, ToolContext, has_shift, is_left


def moved_vertex(obj: Annotation, index: int, l0_x: float, l0_y: float) -> BaseGeometry:
    """``obj``'s polygon with vertex ``index`` at (l0_x, l0_y)."""
    vertices = editable_vertices(obj)
    if obj.tool == ToolShape.RECTANGLE and len(vertices) == 4:
        ox, oy = vertices[(index + 2) % 4]
        return box(min(ox, l0_x), min(oy, l0_y), max(ox, l0_x), max(oy, l0_y))
    vertices[index] = (l0_x, l0_y)
    holes = [list(r.coords) for r in obj.geometry.interiors]  # type: ignore[attr-defined]
    return Polygon(vertices, holes)


class MoveTool(Tool):
    name = "move"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__(ctx)
        self._start: tuple[float, float] | None = None
        self._moving: list[Annotation] = []
        self._vertex: tuple[Annotation, int] | None = None
        self._locked_press = False
        """The press picked a locked selection: a drag says why nothing moves."""

    def activate(self) -> None:
        self.ctx.layer.show_handles = True
        self.ctx.layer.update()

    def deactivate(self) -> None:
        super().deactivate()
        self.ctx.layer.show_handles = False
        self.ctx.layer.update()

    def cancel(self) -> bool:
        had = self._start is not None
        self._start, self._moving, self._vertex = None, [], None
        super().cancel()
        return had

    def press(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        c = self.ctx.collection
        self._locked_press = False
        if not is_left(event) or c is None:
            return False
        handle = self._handle_at(l0_x, l0_y)
        if handle is not None:
            if not self.ctx.refuse_locked([handle[0]]):
                self._vertex, self._start = handle, (l0_x, l0_y)
            return True
        hit = self.ctx.hit(l0_x, l0_y)
        if hit is None:
            if not has_shift(event):
                c.clear_selection()
            return False  # the viewer pans
        if has_shift(event):
            chosen = c.selection ^ {hit.id}
            c.select(chosen)
            return True
        if hit.id not in c.selection:
            c.select([hit.id])
        objects = self.ctx.selected()
        if any(o.locked for o in objects):
            self._locked_press = True  # selected, but not movable: said if the user drags
            return True
        self._start, self._moving = (l0_x, l0_y), objects
        return True

    def move(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if self._start is None:
            if self._locked_press and event.buttons() & Qt.MouseButton.LeftButton:
                self._locked_press = False
                self.ctx.refuse_locked(self.ctx.selected())
                return True
            return False
        if self._vertex is not None:
            obj, index = self._vertex
            self.ctx.preview.show(moved_vertex(obj, index, l0_x, l0_y))
            return True
        dx, dy = l0_x - self._start[0], l0_y - self._start[1]
        shapes = [affinity.translate(o.geometry, dx, dy) for o in self._moving]
        self.ctx.preview.show(shapes[0] if len(shapes) == 1 else _collect(shapes))
        return True

    def release(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if self._start is None:
            was_locked, self._locked_press = self._locked_press, False
            return was_locked
        (x0, y0), vertex, moving = self._start, self._vertex, self._moving
        self.cancel()
        if math.hypot(l0_x - x0, l0_y - y0) < self.ctx.l0_per_view_px():
            return True  # a click: selection only
        if vertex is not None:
            obj, index = vertex
            after = obj.with_changes(geometry=moved_vertex(obj, index, l0_x, l0_y))
            if not after.geometry.is_valid:
                self.ctx.message("That vertex would make the outline cross itself; "
                                 "it was put back.")  # fmt: skip
                return True
            self.ctx.apply(Edit.change([obj], [after], "Move vertex"))
            return True
        dx, dy = l0_x - x0, l0_y - y0
        after_all = [o.with_changes(geometry=affinity.translate(o.geometry, dx, dy))
                     for o in moving]  # fmt: skip
        n = len(moving)
        self.ctx.apply(Edit.change(moving, after_all, f"Move {n} object{'s' * (n > 1)}"))
        return True

    def _handle_at(self, l0_x: float, l0_y: float) -> tuple[Annotation, int] | None:
        selected = self.ctx.selected()
        if len(selected) != 1:
            return None
        reach = HANDLE_VIEW_PX * self.ctx.l0_per_view_px()
        best: tuple[float, int] | None = None
        for i, (x, y) in enumerate(editable_vertices(selected[0])):
            d = max(abs(x - l0_x), abs(y - l0_y))
            if d <= reach and (best is None or d < best[0]):
                best = (d, i)
        return (selected[0], best[1]) if best is not None else None


def _collect(shapes: list[BaseGeometry]) -> BaseGeometry:
    from shapely.geometry import GeometryCollection

    return GeometryCollection(shapes)
