"""Each annotation tool, driven by real mouse events on the real viewer at two zooms.

Shapes must land in level-0 px whatever the zoom; a screen pixel of rounding is allowed
(``tol`` below is one screen pixel in level-0 px).
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, ToolShape
from tests.ui.annotation_helpers import SLIDE_MPP, Bench, click, double_click, drag, zoom_to

ZOOMS = [4.0, 0.5]  # level-0 px per screen px: zoomed out, and past the scan's resolution
CX, CY = 1000.0, 1000.0


@pytest.fixture
def bench(qtbot):
    b = Bench(qtbot)
    yield b
    b.close()


def _at(bench: Bench, l0_per_view_px: float) -> float:
    zoom_to(bench.viewer, l0_per_view_px, CX, CY)
    assert bench.viewer.l0_per_view_px() == pytest.approx(l0_per_view_px, rel=0.02)
    return 1.01 * l0_per_view_px  # one screen pixel of rounding


def _only(bench: Bench) -> Annotation:
    objs = bench.collection.objects()
    assert len(objs) == 1, [o.geometry.wkt for o in objs]
    return objs[0]


@pytest.mark.parametrize("zoom", ZOOMS)
def test_rectangle_lands_in_level0_px(bench: Bench, zoom: float) -> None:
    tol = _at(bench, zoom)
    w, h = 120 * zoom, 80 * zoom  # the same screen size at each zoom
    bench.tool("rectangle")
    drag(bench.viewer, [(CX, CY), (CX + w / 2, CY + h / 3), (CX + w, CY + h)])
    obj = _only(bench)
    assert obj.tool == ToolShape.RECTANGLE
    assert obj.geometry.bounds == pytest.approx((CX, CY, CX + w, CY + h), abs=tol)
    assert obj.geometry.area == pytest.approx(obj.geometry.envelope.area)
    assert bench.collection.selection == {obj.id}  # the new shape is selected


@pytest.mark.parametrize("zoom", ZOOMS)
def test_ellipse_fills_the_dragged_box(bench: Bench, zoom: float) -> None:
    tol = _at(bench, zoom)
    w, h = 160 * zoom, 60 * zoom
    bench.tool("ellipse")
    drag(bench.viewer, [(CX - w / 2, CY - h / 2), (CX + w / 2, CY + h / 2)])
    obj = _only(bench)
    assert obj.tool == ToolShape.ELLIPSE
    assert obj.geometry.bounds == pytest.approx((CX - w / 2, CY - h / 2, CX + w / 2, CY + h / 2),
                                                abs=tol)  # fmt: skip
    assert obj.geometry.area == pytest.approx(math.pi * w / 2 * h / 2, rel=0.02)


@pytest.mark.parametrize("zoom", ZOOMS)
def test_polygon_clicks_then_double_click_closes(bench: Bench, zoom: float) -> None:
    tol = _at(bench, zoom)
    s = 100 * zoom
    corners = [(CX, CY), (CX + s, CY), (CX + s, CY + s)]
    bench.tool("polygon")
    for x, y in corners:
        click(bench.viewer, x, y)
    assert len(bench.collection) == 0  # still drawing
    double_click(bench.viewer, CX, CY + s)
    obj = _only(bench)
    got = list(obj.geometry.exterior.coords)[:-1]
    assert len(got) == 4
    for (gx, gy), (ex, ey) in zip(got, [*corners, (CX, CY + s)], strict=True):
        assert (gx, gy) == pytest.approx((ex, ey), abs=tol)


def test_polygon_escape_abandons_and_too_few_points_say_so(bench: Bench) -> None:
    _at(bench, 1.0)
    bench.tool("polygon")
    click(bench.viewer, CX, CY)
    click(bench.viewer, CX + 50, CY)
    QTest.keyClick(bench.viewer, Qt.Key.Key_Escape)
    double_click(bench.viewer, CX, CY + 50)
    assert len(bench.collection) == 0
    assert bench.messages and "3 distinct points" in bench.messages[-1]


@pytest.mark.parametrize("zoom", ZOOMS)
def test_brush_width_is_in_micrometres_and_alt_rubs_out(bench: Bench, zoom: float) -> None:
    tol = _at(bench, zoom)
    bench.ann.ctx.brush_um = 20 * zoom  # 40 screen px wide at each zoom
    r = bench.ann.ctx.brush_um / 2 / SLIDE_MPP
    length = 200 * zoom
    bench.tool("brush")
    steps = [(CX + length * i / 10, CY) for i in range(11)]
    drag(bench.viewer, steps)
    obj = _only(bench)
    assert obj.tool == ToolShape.BRUSH
    assert obj.geometry.bounds == pytest.approx((CX - r, CY - r, CX + length + r, CY + r), abs=tol)
    mid = CX + length / 2
    drag(bench.viewer, [(mid, CY - 2 * r), (mid, CY), (mid, CY + 2 * r)],
         Qt.KeyboardModifier.AltModifier)  # fmt: skip
    cut = _only(bench)
    assert cut.id == obj.id and cut.geometry.geom_type == "MultiPolygon"
    assert len(cut.geometry.geoms) == 2
    assert not cut.geometry.contains(obj.geometry.centroid)


def test_brush_adds_to_the_selected_region(bench: Bench) -> None:
    _at(bench, 1.0)
    bench.tool("brush")
    drag(bench.viewer, [(CX, CY), (CX + 50, CY)])
    first = _only(bench)
    drag(bench.viewer, [(CX + 50, CY), (CX + 50, CY + 100)])
    grown = _only(bench)
    assert grown.id == first.id and grown.geometry.area > first.geometry.area * 1.5
    assert grown.geometry.geom_type == "Polygon"


@pytest.mark.parametrize("zoom", ZOOMS)
def test_points_join_one_points_annotation(bench: Bench, zoom: float) -> None:
    tol = _at(bench, zoom)
    spots = [(CX, CY), (CX + 40 * zoom, CY + 10 * zoom), (CX - 30 * zoom, CY + 60 * zoom)]
    bench.tool("points")
    for x, y in spots:
        click(bench.viewer, x, y)
    obj = _only(bench)
    assert obj.tool == ToolShape.POINTS and obj.geometry.geom_type == "MultiPoint"
    got = [(p.x, p.y) for p in obj.geometry.geoms]
    for g, e in zip(got, spots, strict=True):
        assert g == pytest.approx(e, abs=tol)


@pytest.mark.parametrize("zoom", ZOOMS)
def test_move_tool_selects_drags_and_edits_a_vertex(bench: Bench, zoom: float) -> None:
    tol = _at(bench, zoom)
    s = 100 * zoom
    from shapely.geometry import Polygon

    tri = Annotation(Polygon([(CX, CY), (CX + s, CY), (CX, CY + s)]), tool=ToolShape.POLYGON)
    bench.collection.apply(Edit.add([tri]))
    bench.tool("move")
    click(bench.viewer, CX + s * 0.2, CY + s * 0.2)
    assert bench.collection.selection == {tri.id}
    dx, dy = 50 * zoom, 30 * zoom
    drag(bench.viewer, [(CX + s * 0.2, CY + s * 0.2), (CX + s * 0.2 + dx, CY + s * 0.2 + dy)])
    moved = _only(bench)
    assert moved.geometry.bounds == pytest.approx((CX + dx, CY + dy, CX + s + dx, CY + s + dy),
                                                  abs=tol)  # fmt: skip
    corner = (CX + s + dx, CY + dy)  # drag this vertex's handle further right
    drag(bench.viewer, [corner, (corner[0] + s, corner[1])])
    edited = _only(bench)
    assert list(edited.geometry.exterior.coords)[1] == pytest.approx(
        (corner[0] + s, corner[1]), abs=tol)  # fmt: skip
    assert bench.collection.undo_label == "Move vertex"


def test_click_on_empty_slide_clears_selection_and_pans(bench: Bench) -> None:
    _at(bench, 1.0)
    from shapely.geometry import box

    obj = Annotation(box(CX, CY, CX + 50, CY + 50))
    bench.collection.apply(Edit.add([obj]))
    bench.collection.select([obj.id])
    before = bench.viewer.l0_visible_rect()
    bench.tool("move")
    drag(bench.viewer, [(CX - 100, CY - 100), (CX - 150, CY - 130), (CX - 200, CY - 160)])
    assert bench.collection.selection == frozenset()
    assert bench.viewer.l0_visible_rect()[0] > before[0]  # the slide followed the pointer
    assert _only(bench).geometry.bounds == obj.geometry.bounds


def test_locked_object_is_not_moved_and_the_status_says_why(bench: Bench) -> None:
    _at(bench, 1.0)
    from shapely.geometry import box

    obj = Annotation(box(CX, CY, CX + 80, CY + 80), locked=True, name="Margin")
    bench.collection.apply(Edit.add([obj]))
    bench.tool("move")
    drag(bench.viewer, [(CX + 40, CY + 40), (CX + 60, CY + 60), (CX + 90, CY + 90)])
    assert _only(bench).geometry.bounds == obj.geometry.bounds
    assert any("locked" in m and "Margin" in m for m in bench.messages)
    bench.ann.actions.delete.trigger()
    assert len(bench.collection) == 1


def test_undo_redo_restore_the_drawn_shape(bench: Bench) -> None:
    _at(bench, 2.0)
    bench.tool("rectangle")
    drag(bench.viewer, [(CX, CY), (CX + 200, CY + 200)])
    drawn = _only(bench)
    QTest.keyClick(bench.viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(bench.collection) == 0
    assert bench.ann.actions.redo.isEnabled()
    QTest.keyClick(bench.viewer, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert _only(bench) == drawn


def test_tool_keys_pick_tools(bench: Bench) -> None:
    for key, name in ((Qt.Key.Key_R, "rectangle"), (Qt.Key.Key_O, "ellipse"),
                      (Qt.Key.Key_P, "polygon"), (Qt.Key.Key_B, "brush"),
                      (Qt.Key.Key_Period, "points"), (Qt.Key.Key_V, "move")):  # fmt: skip
        QTest.keyClick(bench.viewer, key)
        assert bench.ann.tools.active.name == name
        assert bench.ann.actions.tools[name].isChecked()


def test_a_brush_stroke_apart_from_the_selection_is_a_new_object(bench: Bench) -> None:
    """QuPath: strokes grow the selected region only where they touch it."""
    _at(bench, 1.0)
    bench.ann.ctx.brush_um = 10.0  # 20 px wide
    bench.tool("brush")
    drag(bench.viewer, [(CX, CY), (CX + 50, CY)])
    first = _only(bench)
    assert [o.id for o in bench.ann.ctx.selected()] == [first.id]
    drag(bench.viewer, [(CX, CY + 150), (CX + 50, CY + 150)])  # 130 px of gap
    objs = bench.collection.objects()
    assert len(objs) == 2
    kept = next(o for o in objs if o.id == first.id)
    assert kept.geometry.equals(first.geometry)
    new = next(o for o in objs if o.id != first.id)
    assert new.geometry.bounds[1] > CY + 130 and new.tool == ToolShape.BRUSH
    assert bench.collection.undo_label == "Brush"
    # Alt strokes that miss the selected region rub out nothing, and say so
    drag(bench.viewer, [(CX - 100, CY - 100), (CX - 60, CY - 100)],
         Qt.KeyboardModifier.AltModifier)  # fmt: skip
    assert len(bench.collection) == 2 and any("missed" in m for m in bench.messages)
