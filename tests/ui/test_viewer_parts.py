"""Viewer parts on their own: tile cache, loader generations, overlay model, scale bar, minimap."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from pathscaat.inference.overlays import OverlayInfo, OverlaySet
from pathscaat.slides.errors import SlideError
from pathscaat.slides.region import Region
from tests.ui.viewer_slides import ArraySlide, BrokenSlide, GatedSlide, gradient_rgb
from ui.viewer import COLORMAPS, Minimap, OverlayLayer, SlideViewer, TileCache, TileLoader
from ui.viewer.overlay_layer import layers_from_overlay_set
from ui.viewer.scale_bar import format_um, nice_length_um
from ui.viewer.tile_grid import Source
from ui.viewer.virtual_levels import with_virtual_levels


def region(i: int, slide_id: str = "s") -> Region:
    return Region(slide_id, 0, i * 256, 0, 256, 256)


def test_cache_evicts_least_recently_used_within_budget() -> None:
    tile = np.zeros((10, 10, 3), np.uint8)  # 300 bytes
    cache = TileCache(max_bytes=1000)
    for i in range(3):
        cache.put(region(i), tile)
    assert cache.get(region(0)) is not None  # 0 is now the most recent
    cache.put(region(3), tile)
    assert region(1) not in cache and region(0) in cache and len(cache) == 3
    assert cache.nbytes == 900
    cache.put(region(9), np.zeros((100, 100, 3), np.uint8))  # larger than the budget
    assert region(9) not in cache
    assert cache.discard_slide("s") == 3 and cache.nbytes == 0


def test_synchronous_loader_delivers_and_caches(qtbot) -> None:
    slide = ArraySlide(gradient_rgb(1024, 512), levels=2)
    loader = TileLoader(synchronous=True)
    loader.register("a", slide)
    got: list[Region] = []
    loader.sigTileReady.connect(lambda r, t: got.append(r))
    regions = Source(slide, "a").tiles(0, (0, 0, 1024, 512), 256)
    loader.request(regions)
    assert got == regions and slide.reads == len(regions)
    loader.request(regions)  # second time from the cache
    assert slide.reads == len(regions) and len(got) == 2 * len(regions)
    corner = next(r for r in regions if (r.l0_x, r.l0_y) == (0, 0))
    np.testing.assert_array_equal(loader.cache.get(corner), slide.levels[0][:256, :256])
    loader.close()


def test_stale_requests_dropped_before_read(qtbot) -> None:
    slide = ArraySlide(gradient_rgb(4096, 256), levels=1, delay_s=0.05)
    loader = TileLoader(max_workers=1)
    loader.register("s", slide)
    got: list[Region] = []
    loader.sigTileReady.connect(lambda r, t: got.append(r))
    first = [region(i) for i in range(8)]
    second = [region(i) for i in range(8, 12)]
    loader.request(first)
    gen = loader.request(second)
    assert gen == loader.generation == 2
    qtbot.waitUntil(lambda: loader.pending == 0, timeout=5000)
    assert set(got) == set(second), "only tiles still wanted are delivered"
    assert loader.dropped_before_read >= 6 and slide.reads <= 6
    assert loader.dropped_before_read + loader.dropped_late >= 7
    loader.close()


def test_loader_errors_are_signalled_once_and_not_retried(qtbot) -> None:
    slide = BrokenSlide(gradient_rgb(512, 512), levels=1)
    loader = TileLoader()
    loader.register("b", slide)
    errors: list[str] = []
    loader.sigError.connect(lambda r, msg: errors.append(msg))
    loader.request([region(0, "b")])
    qtbot.waitUntil(lambda: loader.pending == 0 and len(errors) == 1, timeout=5000)
    loader.request([region(0, "b")])
    assert loader.pending == 0 and len(errors) == 1
    loader.forget_failures()
    loader.request([region(0, "b")])
    qtbot.waitUntil(lambda: len(errors) == 2, timeout=5000)
    assert "cannot be decoded" in errors[0]
    loader.close()


def test_read_in_flight_when_its_source_closes_is_dropped_not_reported(qtbot) -> None:
    """Switching slides closes the old overlays while a worker may be inside a read; that
    read's "the slide is closed" is stale, never a "Slide display problem"."""
    old = GatedSlide(gradient_rgb(512, 256))
    loader = TileLoader(max_workers=1)
    loader.register("o", old)
    errors: list[str] = []
    tiles: list[np.ndarray] = []
    loader.sigError.connect(lambda r, msg: errors.append(msg))
    loader.sigTileReady.connect(lambda r, t: tiles.append(t))
    loader.request([region(0, "o")])
    assert old.reading.wait(5)
    loader.unregister("o")
    old.close()
    old.gate.set()
    qtbot.waitUntil(lambda: loader.dropped_late == 1, timeout=5000)
    assert errors == [] and tiles == [] and loader.pending == 0
    # a new source under the same id that wants the region while the stale read runs
    stale, fresh = GatedSlide(gradient_rgb(512, 256)), ArraySlide(gradient_rgb(512, 256), 1)
    loader.register("o", stale)
    loader.request([region(0, "o")])
    assert stale.reading.wait(5)
    loader.register("o", fresh)
    stale.close()
    stale.gate.set()
    qtbot.waitUntil(lambda: len(tiles) == 1, timeout=5000)
    assert errors == [] and fresh.reads == 1
    loader.close()


def test_task_runs_off_thread_and_close_joins(qtbot) -> None:
    before = set(threading.enumerate())  # a thread an earlier test left may end meanwhile
    loader = TileLoader()
    seen: list[object] = []
    loader.submit_task(lambda: threading.current_thread().name, seen.append)
    loader.submit_task(lambda: 1 / 0, seen.append, lambda msg: seen.append(msg))
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert any(str(s).startswith("tiles") for s in seen)
    assert any("ZeroDivisionError" in str(s) for s in seen)
    loader.close()
    assert set(threading.enumerate()) <= before, "the loader left a thread running"


def test_overlay_lut_threshold_and_values() -> None:
    layer = OverlayLayer("p", ArraySlide(gradient_rgb(64, 64), levels=1), 4.0, kind="probability")
    assert layer.colormap == "blues"
    assert layer.lut()[0, 3] == 0 and layer.lut()[1, 3] > 0  # code 0 is "no data"
    changes: list[object] = []
    layer.sigChanged.connect(changes.append)
    layer.threshold = 0.5
    lut = layer.lut()
    assert layer.threshold_code() == 128 and lut[127, 3] == 0
    assert 0 < lut[128, 3] < lut[200, 3] < lut[255, 3] == 255  # alpha rises with the value
    layer.opacity = 7  # clamped
    assert layer.opacity == 1.0 and len(changes) == 2
    layer.opacity = 1.0  # no change, no signal
    assert len(changes) == 2
    with pytest.raises(ValueError):
        layer.colormap = "jet"
    for name in COLORMAPS:
        layer.colormap = name
        assert layer.lut().shape == (256, 4)
    legend = layer.legend_image(100, 10)
    assert (legend.width(), legend.height()) == (100, 10)
    assert layer.value_at(10, 10) is None  # nothing cached: no read on the UI thread
    assert layer.code_to_value(255) == 1.0


def test_layers_from_overlay_set_reports_missing_file(tmp_path) -> None:
    info = OverlayInfo("tissue", "tissue", "missing.tif", 16.0)
    overlay_set = OverlaySet(tmp_path, "slide.svs", (100, 100), [], [info])
    with pytest.raises(SlideError, match=r"missing\.tif"):
        layers_from_overlay_set(overlay_set)


def test_nice_scale_lengths() -> None:
    assert nice_length_um(0.5) == 50  # 50 µm = 100 px at 0.5 µm/px
    assert nice_length_um(10.0) == 1000
    assert format_um(1000) == "1 mm" and format_um(20) == "20 µm"


def test_minimap_thumbnail_and_click_recenters(qtbot) -> None:
    viewer = SlideViewer(synchronous=True)
    qtbot.addWidget(viewer)
    viewer.resize(400, 300)
    minimap = Minimap(viewer)
    qtbot.addWidget(minimap)
    minimap.resize(200, 150)
    minimap.show()
    viewer.show()
    viewer.set_slide(ArraySlide(gradient_rgb(2000, 1500), levels=3))
    assert minimap.has_thumbnail
    viewer.zoom_by(4.0)
    qtbot.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=QPoint(150, 75))
    x, y, w, h = viewer.l0_visible_rect()
    assert (x + w / 2, y + h / 2) == (pytest.approx(1500, abs=20), pytest.approx(750, abs=20))
    assert not minimap.grab().isNull()
    viewer.set_slide(None)
    assert not minimap.has_thumbnail
    viewer.shutdown()


def test_many_emits_do_not_exhaust_bool_refcounts(qtbot) -> None:
    """PySide6 6.12.0 over-releases True on every emit (pinned out in pyproject.toml)."""
    before = sys.getrefcount(True)
    loader = TileLoader(synchronous=True)
    for i in range(20000):  # more than True's whole refcount in a fresh interpreter
        loader.sigPending.emit(i)
    assert abs(sys.getrefcount(True) - before) < 100
    loader.close()


def test_virtual_levels_box_filter_single_level_slides() -> None:
    l0 = gradient_rgb(4000, 3000)
    slide = ArraySlide(l0, levels=1)
    virtual = with_virtual_levels(slide)
    assert virtual is not slide and virtual.level_downsamples == (1.0, 2.0, 4.0)
    assert virtual.level_dimensions[2] == (1000, 750)
    tile = virtual.read_region((512, 256), 2, (64, 32))
    expected = l0[256 : 256 + 128, 512 : 512 + 256].reshape(32, 4, 64, 4, 3).mean(axis=(1, 3))
    assert np.abs(tile.astype(float) - expected).max() <= 1.0
    np.testing.assert_array_equal(virtual.read_region((5, 7), 0, (9, 4)), l0[7:11, 5:14])
    small = ArraySlide(gradient_rgb(600, 400), levels=1)
    assert with_virtual_levels(small) is small
    slide.close()
    assert virtual.closed
