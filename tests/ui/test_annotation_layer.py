"""The annotation layer: what it draws (pixels of a real render), level of detail, caching."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from shapely import affinity
from shapely.geometry import Point, Polygon, box

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass
from tests.ui.annotation_helpers import Bench, zoom_to
from tests.ui.test_viewer import to_array
from ui.annotations.chunks import band_for, chunk_keys
from ui.annotations.paths import batch_paths

RED = PathClass("Tumour", (255, 0, 0))


@pytest.fixture
def bench(qtbot):
    b = Bench(qtbot)
    zoom_to(b.viewer, 1.0, 1000, 1000)
    yield b
    b.close()


def render(bench: Bench) -> np.ndarray:
    bench.ann.layer.ensure_built()
    return to_array(bench.viewer.render_to_qimage())


def pixel(bench: Bench, img: np.ndarray, l0_x: float, l0_y: float) -> np.ndarray:
    p = bench.viewer.view_from_l0(l0_x, l0_y).toPoint()
    return img[p.y(), p.x()].astype(int)


def test_fill_outline_and_opacity_show_in_the_render(bench: Bench) -> None:
    plain = render(bench)
    obj = Annotation(box(900, 900, 1100, 1100), path_class=RED)
    bench.collection.apply(Edit.add([obj]))
    filled = render(bench)
    inside, outside = (1000, 1000), (800, 800)
    tint = pixel(bench, filled, *inside) - pixel(bench, plain, *inside)
    assert tint[0] > 20 and tint[1] < 0  # redder, less green: the class colour at 25 %
    assert (pixel(bench, filled, *outside) == pixel(bench, plain, *outside)).all()
    edge = pixel(bench, filled, 900, 1000)
    assert edge[0] > 200 and edge[1] < 60  # the outline is the class colour, opaque
    bench.ann.layer.set_style(fill=False)
    outline_only = render(bench)
    assert (pixel(bench, outline_only, *inside) == pixel(bench, plain, *inside)).all()
    bench.ann.layer.set_style(fill=True, opacity=1.0)
    solid = render(bench)
    assert tuple(pixel(bench, solid, *inside)) == (255, 0, 0)


def test_an_edit_redraws_only_what_it_touched(bench: Bench) -> None:
    obj = Annotation(box(900, 900, 1000, 1000), path_class=RED)
    bench.collection.apply(Edit.add([obj]))
    bench.ann.layer.set_style(opacity=1.0)
    render(bench)
    moved = obj.with_changes(geometry=affinity.translate(obj.geometry, 150, 0))
    bench.collection.apply(Edit.change([obj], [moved]))
    img = render(bench)
    assert tuple(pixel(bench, img, 1100, 950)) == (255, 0, 0)
    assert tuple(pixel(bench, img, 950, 950)) != (255, 0, 0)
    bench.collection.undo()
    img = render(bench)
    assert tuple(pixel(bench, img, 950, 950)) == (255, 0, 0)


def test_selection_is_highlighted(bench: Bench) -> None:
    obj = Annotation(box(900, 900, 1100, 1100), path_class=RED)
    bench.collection.apply(Edit.add([obj]))
    bench.collection.select([obj.id])
    img = render(bench)
    r, g, b = pixel(bench, img, 900, 1000)
    assert r > 200 and g > 200 and b < 80  # yellow over the red outline


def test_only_chunks_in_view_are_built(bench: Bench) -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 2048, (5000, 2))
    bench.collection.apply(Edit.add([Annotation(box(x, y, x + 8, y + 8)) for x, y in xy]))
    layer = bench.ann.layer
    layer.invalidate()
    built = layer.ensure_built()
    x, y, w, h = bench.viewer.l0_visible_rect()
    in_view = chunk_keys(band_for(bench.viewer.l0_per_view_px()), x, y, x + w, y + h)
    assert built == len(in_view) and len(in_view) <= 12  # 640x480 view, 256 px chunks
    assert layer.ensure_built() == 0  # cached


def test_level_of_detail_boxes_tiny_shapes_and_simplifies_big_ones() -> None:
    circles = [Point(x * 100.0, 0).buffer(20, quad_segs=12) for x in range(50)]  # 49 vertices
    exact = batch_paths(circles, 0.01)  # zoomed far in: every vertex kept
    assert exact.area.elementCount() == 50 * 49
    near = batch_paths(circles, 0.5)  # 80 screen px across: only sub-pixel detail goes
    assert 50 * 24 <= near.area.elementCount() < 50 * 49
    far = batch_paths(circles, 16.0)  # 2.5 screen px across: a box each
    assert far.area.elementCount() == 50 * 5
    mid = batch_paths(circles, 4.0)  # 10 screen px across: a few vertices each
    assert 50 * 5 <= mid.area.elementCount() < 50 * 16


def test_holes_stay_open_and_overlaps_stay_filled() -> None:
    hole = [(20, 20), (20, 40), (40, 40), (40, 20)]
    donut = Polygon([(0, 0), (60, 0), (60, 60), (0, 60)], [hole])
    clockwise = Polygon([(50, 50), (50, 90), (90, 90), (90, 50)])  # overlaps the donut's corner
    paths = batch_paths([donut, clockwise], 1.0)
    assert not paths.area.contains(QPointF(30, 30))  # the hole
    assert paths.area.contains(QPointF(10, 10))
    assert paths.area.contains(QPointF(55, 55))  # the overlap of two objects


def test_points_and_lines_are_drawn(bench: Bench) -> None:
    from shapely.geometry import LineString, MultiPoint

    bench.ann.layer.set_style(opacity=1.0)
    objs = [Annotation(MultiPoint([(900, 900), (950, 950)]), path_class=RED),
            Annotation(LineString([(1000, 800), (1100, 800)]), path_class=RED)]  # fmt: skip
    bench.collection.apply(Edit.add(objs))
    img = render(bench)
    assert tuple(pixel(bench, img, 950, 950)) == (255, 0, 0)
    assert pixel(bench, img, 1050, 800)[0] > 200


def test_a_paint_only_composes_and_a_timer_builds_what_is_missing(bench: Bench, qtbot) -> None:
    layer = bench.ann.layer
    bench.collection.apply(Edit.add([Annotation(box(900, 900, 1100, 1100), path_class=RED)]))
    layer.set_style(opacity=1.0)
    layer.invalidate()
    built = layer.cache.built
    first = to_array(bench.viewer.render_to_qimage())  # a paint: nothing is built in it
    assert layer.cache.built == built
    assert tuple(pixel(bench, first, 1000, 1000)) != (255, 0, 0)
    qtbot.waitUntil(lambda: layer.cache.built > built)  # the build timer, after the paint
    later = to_array(bench.viewer.render_to_qimage())
    assert tuple(pixel(bench, later, 1000, 1000)) == (255, 0, 0)


def test_a_big_selection_is_drawn_from_the_chunks_in_view_at_any_zoom(bench: Bench) -> None:
    rng = np.random.default_rng(2)
    objs = [Annotation(box(x, y, x + 24, y + 24), path_class=RED)
            for x, y in rng.uniform(0, 2000, (4000, 2))]  # fmt: skip
    layer = bench.ann.layer
    probe = objs[0].geometry.bounds
    edge = (probe[0], (probe[1] + probe[3]) / 2)  # middle of its left side
    empty = {}
    for l0_per_px in (4.0, 0.5):  # the whole slide, then a few objects
        zoom_to(bench.viewer, l0_per_px, *edge)
        empty[l0_per_px] = pixel(bench, render(bench), *edge)
    bench.collection.apply(Edit.add(objs))
    bench.collection.select([o.id for o in objs])
    for l0_per_px in (4.0, 0.5):
        zoom_to(bench.viewer, l0_per_px, *edge)
        img = render(bench)
        r, g, b = pixel(bench, img, *edge)
        assert r > 200 and g > 200 and b < 80, (l0_per_px, (r, g, b))  # yellow highlight
        band = band_for(bench.viewer.l0_per_view_px())
        x, y, w, h = bench.viewer.l0_visible_rect()
        in_view = set(chunk_keys(band, x, y, x + w, y + h))
        selected_chunks = {k for k in layer.selection_cache.vectors if k[0] == band}
        assert selected_chunks == in_view  # no per-object work outside the view
    bench.collection.apply(Edit.remove(objs))  # forgets every chunk the objects touched
    for l0_per_px in (4.0, 0.5):
        zoom_to(bench.viewer, l0_per_px, *edge)
        assert (pixel(bench, render(bench), *edge) == empty[l0_per_px]).all()


def test_a_crowded_chunk_is_built_in_pieces_across_calls_and_comes_out_whole(qapp) -> None:
    import math

    from PySide6.QtGui import QTransform

    from ui.annotations.chunks import PIECE_OBJECTS, ChunkCache, DrawStyle, chunk_box

    tiles = [Annotation(box(x, y, x + 30, y + 30), path_class=RED)
             for x in range(0, 1024, 32) for y in range(0, 1024, 32)]  # fmt: skip
    assert len(tiles) > 3 * PIECE_OBJECTS  # a zoomed-out chunk of a tile grid

    def query(b: tuple[float, float, float, float]) -> list[Annotation]:
        return [o for o in tiles if o.geometry.intersects(box(*b))]

    key, t, style = (2, 0, 0), QTransform.fromScale(0.25, 0.25), DrawStyle()
    whole = ChunkCache(query, lambda o: True).image(key, t, style, False, float("inf"))
    pieces = ChunkCache(query, lambda o: True)
    calls, image = 0, None
    while image is None and calls < 100:  # a deadline already past: one step a call
        calls += 1
        image = pieces.image(key, t, style, False, 0.0)
    assert image is not None and whole is not None
    n_pieces = math.ceil(len(query(chunk_box(key))) / PIECE_OBJECTS)
    assert calls == 1 + 2 * n_pieces  # the query, then build and draw each piece once
    assert pieces.built == 1 and pieces.rendered == 1
    assert image == whole  # pixel for pixel


def test_a_build_tick_past_its_budget_leaves_the_next_chunk_for_the_next_tick(
    bench: Bench, monkeypatch
) -> None:
    import ui.annotations.layer as layer_module

    bench.collection.apply(Edit.add([Annotation(box(900, 900, 1100, 1100), path_class=RED)]))
    layer = bench.ann.layer
    layer.invalidate()
    monkeypatch.setattr(layer_module, "BUILD_BUDGET_S", 0.0)  # every step overruns it
    x, y, w, h = bench.viewer.l0_visible_rect()
    in_view = chunk_keys(band_for(bench.viewer.l0_per_view_px()), x, y, x + w, y + h)
    ticks = 0
    while layer.cache.rendered < len(in_view) and ticks < 10 * len(in_view):
        before = layer.cache.rendered
        layer._build_visible()  # one tick of the build timer
        assert layer.cache.rendered - before <= 1  # one step, then the deadline counts
        ticks += 1
    assert layer.cache.rendered == len(in_view)  # and the view fills in, tick by tick


def test_a_big_collection_leaves_the_garbage_collectors_reach(bench: Bench) -> None:
    import gc

    objs = [Annotation(box(x, 0, x + 8, 8)) for x in range(0, 2000 * 10, 10)]
    before = gc.get_freeze_count()
    try:
        bench.collection.apply(Edit.add(objs))  # an import: thousands of objects at once
        assert gc.get_freeze_count() >= before + len(objs)  # full collections skip them
    finally:
        gc.unfreeze()
