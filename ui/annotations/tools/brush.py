"""Brush tool (B): paint a region; strokes add to the selected region, Alt+drag rubs out.

As in QuPath, a stroke adds to the selected region only where it touches it: a stroke
that misses the selection is a new object (and an Alt stroke that misses rubs out nothing).

The brush's diameter is set in µm (``ToolContext.brush_um``) and converted with the
slide's µm/px, so a 40 µm brush covers the same tissue at every zoom. A slide without
µm/px gets a brush of ``FALLBACK_VIEW_PX`` screen pixels, and the status bar says so.
"""

from __future__ import annotations

from PySide6.QtGui import QMouseEvent
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, ToolShape
from ui.annotations.tools.base import Tool, ToolContext, has_alt, is_left

FALLBACK_VIEW_PX = 30.0
BRUSH_QUAD_SEGS = 8


def stroke_geometry(points: list[tuple[float, float]], l0_radius: float) -> BaseGeometry:
    """The area a brush of ``l0_radius`` covers along ``points``."""
    line: BaseGeometry = LineString(points) if len(points) > 1 else Point(points[0])
    return line.buffer(l0_radius, quad_segs=BRUSH_QUAD_SEGS)


def is_region(obj: Annotation) -> bool:
    return obj.geometry.geom_type in ("Polygon", "MultiPolygon")


class BrushTool(Tool):
    name = "brush"
    shape = ToolShape.BRUSH

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__(ctx)
        self._points: list[tuple[float, float]] = []
        self._target: Annotation | None = None
        self._subtract = False
        self._warned_no_mpp = False

    def l0_radius(self) -> float:
        slide = self.ctx.viewer.slide
        mpp = slide.mpp if slide is not None else None
        if mpp is None:
            if not self._warned_no_mpp:
                self._warned_no_mpp = True
                self.ctx.message("This slide has no µm/px, so the brush is sized in screen "
                                 "pixels; set the scale in the Slide panel for a µm brush.")
            return FALLBACK_VIEW_PX / 2 * self.ctx.l0_per_view_px()
        return self.ctx.brush_um / 2 / mpp.x

    def cancel(self) -> bool:
        had = bool(self._points)
        self._points, self._target = [], None
        super().cancel()
        return had

    def press(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if not is_left(event):
            return False
        selected = self.ctx.selected()
        target = selected[0] if len(selected) == 1 and is_region(selected[0]) else None
        self._subtract = has_alt(event)
        if self._subtract and target is None:
            self.ctx.message("Alt+brush rubs out part of the selected region: select one "
                             "region first (V, then click it).")  # fmt: skip
            return True
        if target is not None and self.ctx.refuse_locked([target]):
            return True
        self._target = target
        self._points = [(l0_x, l0_y)]
        self._show()
        return True

    def move(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if not self._points:
            self.ctx.preview.show(Point(l0_x, l0_y).buffer(self.l0_radius()).exterior)
            return False
        last = self._points[-1]
        if abs(l0_x - last[0]) + abs(l0_y - last[1]) >= self.l0_radius() / 4:
            self._points.append((l0_x, l0_y))
            self._show()
        return True

    def release(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        if not self._points:
            return False
        self._points.append((l0_x, l0_y))
        missed = self._target is not None and not self._touches_target()
        result, target = self._result(), self._target
        self._points, self._target = [], None
        self.ctx.preview.clear()
        if missed and self._subtract:
            self.ctx.message("The stroke missed the selected region: nothing rubbed out.")
            return True
        if target is None or missed:
            self.ctx.add(result, ToolShape.BRUSH, "Brush")
        elif result.is_empty:
            self.ctx.apply(Edit.remove([target], "Rub out region"))
        else:
            label = "Rub out" if self._subtract else "Brush"
            self.ctx.apply(Edit.change([target], [target.with_changes(geometry=result)], label))
        return True

    def _stroke(self) -> BaseGeometry:
        return stroke_geometry(self._points, self.l0_radius())

    def _touches_target(self) -> bool:
        return self._target is not None and self._stroke().intersects(self._target.geometry)

    def _result(self) -> BaseGeometry:
        stroke = self._stroke()
        if self._target is None:
            return stroke
        if self._subtract:
            return self._target.geometry.difference(stroke)  # a miss leaves it as it is
        if not stroke.intersects(self._target.geometry):
            return stroke  # a stroke apart from the selection is an object of its own
        return self._target.geometry.union(stroke)

    def _show(self) -> None:
        self.ctx.preview.show(self._result())
