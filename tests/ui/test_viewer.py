"""SlideViewer on real slides: fit, zoom, pan, overlays, errors and clean shutdown."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QThreadPool
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from pathscaat.inference.overlays import OverlayInfo, OverlaySet
from pathscaat.inference.pyramid_writer import write_pyramid
from pathscaat.slides import open_slide
from tests.ui.viewer_slides import ArraySlide, BrokenSlide, gradient_rgb
from ui.viewer import OverlayLayer, SlideViewer, layers_from_overlay_set
from ui.viewer.scale_bar import NO_SCALE_NOTE

SLIDES = ["CMU-1-Small-Region.svs", "test3-DAPI-2-(387).ndpi"]


def to_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=stride * h)
    return data.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def slide_pixels(viewer: SlideViewer) -> np.ndarray:
    """The rendered slide area (widget px) cropped from a render."""
    assert viewer.slide is not None
    w, h = viewer.slide.dimensions
    vb = viewer.view_box
    top_left = vb.mapViewToScene(QPointF(0, 0))
    bottom_right = vb.mapViewToScene(QPointF(w, h))
    img = to_array(viewer.render_to_qimage())
    x0, y0 = math.ceil(top_left.x()), math.ceil(top_left.y())
    x1, y1 = math.floor(bottom_right.x()), math.floor(bottom_right.y())
    return img[y0:y1, x0:x1]


def downscale(rgb: np.ndarray, n: int = 16) -> np.ndarray:
    """Block-mean grey image of n x n (rows and columns split evenly)."""
    grey = rgb.astype(np.float64).mean(axis=2)
    rows = np.array_split(np.arange(grey.shape[0]), n)
    cols = np.array_split(np.arange(grey.shape[1]), n)
    return np.array([[grey[np.ix_(r, c)].mean() for c in cols] for r in rows])


@pytest.fixture
def viewer(qtbot):
    v = SlideViewer(synchronous=True)
    qtbot.addWidget(v)
    v.resize(640, 480)
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.shutdown()


@pytest.fixture(params=SLIDES)
def real_slide(request, shared_data: Path):
    slide = open_slide(shared_data / "slides" / request.param)
    yield slide
    slide.close()


def test_fit_shows_whole_slide_like_thumbnail(viewer: SlideViewer, real_slide) -> None:
    viewer.set_slide(real_slide)
    x, y, w, h = viewer.l0_visible_rect()
    slide_w, slide_h = real_slide.dimensions
    assert x <= 0 and y <= 0 and x + w >= slide_w and y + h >= slide_h
    assert min(w / slide_w, h / slide_h) < 1.1  # fitted, not lost in the distance
    shown = slide_pixels(viewer)
    assert shown.std() > 5, "render is blank"
    corr = np.corrcoef(downscale(shown).ravel(), downscale(real_slide.thumbnail(256)).ravel())
    assert corr[0, 1] > 0.95


def test_zoom_picks_sharp_level_and_covers_view(viewer: SlideViewer, shared_data: Path) -> None:
    with open_slide(shared_data / "slides" / SLIDES[1]) as slide:
        viewer.set_slide(slide)
        base = viewer.tile_layers()[0]
        fit_level = base.level
        viewer.zoom_by(8.0)
        viewer.flush()
        view_ds = viewer.l0_per_view_px()
        assert base.level == slide.best_level_for(view_ds) < fit_level
        assert slide.level_downsamples[base.level] <= view_ds
        x, y, w, h = viewer.l0_visible_rect()
        current = [r for r in base.items if r in base.current]
        assert current and len(current) == len(base.current)
        rects = [base.source.l0_rect(r) for r in current]
        assert min(r[0] for r in rects) <= max(0, x) and min(r[1] for r in rects) <= max(0, y)
        assert max(r[0] + r[2] for r in rects) >= min(slide.dimensions[0], x + w)
        assert max(r[1] + r[3] for r in rects) >= min(slide.dimensions[1], y + h)
        assert viewer.zoom_to_magnification(20.0)
        assert viewer.magnification() == pytest.approx(20.0, rel=0.01)
        assert viewer.scale_bar.text().endswith(("µm", "mm"))


def test_pan_center_and_keys(viewer: SlideViewer, qtbot, shared_data: Path) -> None:
    with open_slide(shared_data / "slides" / SLIDES[0]) as slide:
        viewer.set_slide(slide)
        viewer.zoom_by(4.0)
        x0, y0, _, _ = viewer.l0_visible_rect()
        px = viewer.l0_per_view_px()
        viewer.pan_by(50, -20)
        x1, y1, _, _ = viewer.l0_visible_rect()
        assert (x1 - x0, y1 - y0) == (pytest.approx(50 * px), pytest.approx(-20 * px))
        viewer.center_on(1000, 1500)
        x, y, w, h = viewer.l0_visible_rect()
        assert (x + w / 2, y + h / 2) == (pytest.approx(1000), pytest.approx(1500))
        mag = viewer.magnification()
        assert mag is not None
        qtbot.keyClick(viewer._gv, Qt.Key.Key_Plus)
        assert viewer.magnification() == pytest.approx(mag * 1.5, rel=0.01)
        qtbot.keyClick(viewer._gv, Qt.Key.Key_Right)
        assert viewer.l0_visible_rect()[0] > x
        qtbot.keyClick(viewer._gv, Qt.Key.Key_F)
        assert viewer.l0_visible_rect()[2] >= slide.dimensions[0]


def test_cursor_reports_l0_or_nan(viewer: SlideViewer, shared_data: Path) -> None:
    with open_slide(shared_data / "slides" / SLIDES[0]) as slide:
        viewer.set_slide(slide)
        got: list[tuple[float, float]] = []
        viewer.sigCursorMoved.connect(lambda x, y: got.append((x, y)))
        scene = viewer.view_box.mapViewToScene(QPointF(100, 200))
        viewer._gv.scene().sigMouseMoved.emit(scene)
        viewer._gv.scene().sigMouseMoved.emit(viewer.view_box.mapViewToScene(QPointF(-50, 5)))
        assert got[0] == (pytest.approx(100, abs=1), pytest.approx(200, abs=1))
        assert math.isnan(got[1][0]) and math.isnan(got[1][1])


def make_overlay(tmp_path: Path, slide_dims: tuple[int, int], l0_per_px: float) -> OverlaySet:
    """A left-to-right ramp raster written as a real pyramidal TIFF + manifest."""
    w, h = math.ceil(slide_dims[0] / l0_per_px), math.ceil(slide_dims[1] / l0_per_px)
    ramp = np.tile(np.linspace(0, 255, w).round().astype(np.uint8), (h, 1))
    write_pyramid(tmp_path / "saliency.tif", ramp, l0_per_px=l0_per_px, min_level_px=64)
    info = OverlayInfo("saliency", "saliency", "saliency.tif", l0_per_px)
    overlay_set = OverlaySet(tmp_path, "slide", slide_dims, ["a"], [info])
    overlay_set.save()
    return OverlaySet.load(tmp_path)


def test_overlay_toggle_opacity_colormap_without_rereading(
    viewer: SlideViewer, tmp_path: Path, shared_data: Path
) -> None:
    with open_slide(shared_data / "slides" / SLIDES[0]) as slide:
        viewer.set_slide(slide)
        plain = slide_pixels(viewer).astype(int)
        (layer,) = layers_from_overlay_set(make_overlay(tmp_path, slide.dimensions, 8.0))
        viewer.add_overlay(layer)
        assert viewer.overlays() == [layer]
        half = slide_pixels(viewer).astype(int)
        assert np.abs(half - plain).mean() > 10
        misses = viewer.cache.misses
        layer.opacity = 1.0
        full = slide_pixels(viewer).astype(int)
        assert np.abs(full - plain).mean() > np.abs(half - plain).mean()
        layer.colormap = "magma"
        assert np.abs(slide_pixels(viewer).astype(int) - full).mean() > 3
        layer.visible = False
        assert np.abs(slide_pixels(viewer).astype(int) - plain).mean() < 1
        layer.visible = True
        layer.threshold = 2.0  # above value_max: everything transparent
        assert np.abs(slide_pixels(viewer).astype(int) - plain).mean() < 1
        assert viewer.cache.misses == misses, "restyling re-read tiles"
        value = layer.value_at(1000.0, 100.0)
        assert value == pytest.approx(1000 / slide.dimensions[0], abs=0.02)
        viewer.remove_overlay("saliency")
        assert viewer.overlays() == [] and layer.value_at(1000.0, 100.0) is None
        layer.close()


def test_overlay_aligned_at_zoom(viewer: SlideViewer, tmp_path: Path) -> None:
    slide = ArraySlide(np.full((2048, 3072, 3), 255, np.uint8), levels=4)
    viewer.set_slide(slide)
    overlay = make_overlay(tmp_path, slide.dimensions, 16.0)
    layer = OverlayLayer("ramp", open_slide(overlay.path_of(overlay.overlays[0])), 16.0, opacity=1)
    layer.colormap = "greens"
    viewer.add_overlay(layer)
    for factor in (1.0, 6.0):
        viewer.zoom_by(factor)
        viewer.center_on(1536, 1024)
        shown = slide_pixels(viewer) if factor == 1.0 else to_array(viewer.render_to_qimage())
        green = shown[shown.shape[0] // 2, :, 1].astype(int)
        assert np.all(np.diff(green[10:-10]) <= 2), "ramp must darken left to right"
    layer.close()


def test_read_errors_reach_sig_error_and_widget_survives(viewer: SlideViewer, qtbot) -> None:
    broken = BrokenSlide(gradient_rgb(1024, 768), levels=2)
    errors: list[str] = []
    viewer.sigError.connect(errors.append)
    viewer.set_slide(broken)
    assert len(errors) == 1 and "cannot be decoded" in errors[0]  # one message, not one per tile
    assert not viewer.render_to_qimage().isNull()
    good = ArraySlide(gradient_rgb(4096, 3072), levels=3)
    viewer.set_slide(good)
    good.close()  # closed underneath the viewer
    with qtbot.waitSignal(viewer.sigError, timeout=2000) as blocker:
        viewer.zoom_by(3.0)
        viewer.flush()
    assert "closed" in blocker.args[0]
    viewer.pan_by(30, 30)
    assert not viewer.render_to_qimage().isNull()


def test_slide_without_scale(viewer: SlideViewer) -> None:
    viewer.set_slide(ArraySlide(gradient_rgb(800, 600), levels=2))
    assert viewer.magnification() is None
    assert not viewer.can_zoom_to_magnification()
    assert viewer.zoom_to_magnification(20.0) is False
    assert viewer.scale_bar.text() == NO_SCALE_NOTE and viewer.scale_bar.isVisible()


def test_async_loading_then_no_threads_left(qtbot, shared_data: Path) -> None:
    threads_before = set(threading.enumerate())  # a thread an earlier test left may end meanwhile
    v = SlideViewer(synchronous=False)
    qtbot.addWidget(v)
    v.resize(640, 480)
    v.show()
    with open_slide(shared_data / "slides" / SLIDES[1]) as slide:
        v.set_slide(slide)
        qtbot.waitUntil(lambda: v.loader.pending == 0, timeout=10000)
        for _ in range(5):  # a burst of zooms: most requests go stale
            v.zoom_by(1.6)
            v.flush()
        v.scale_bar.hide()
        early = to_array(v.render_to_qimage()).astype(int)  # tiles still on their way
        background = np.abs(early - [58, 58, 62]).sum(axis=2) < 6
        assert not background.any(), "placeholders must cover the view while tiles load"
        qtbot.waitUntil(lambda: v.loader.pending == 0, timeout=10000)
        base = v.tile_layers()[0]
        assert base.current and base.current <= set(base.items)
        v.close()
    assert v.loader.closed
    assert set(threading.enumerate()) <= threads_before, "the viewer left a thread running"
    assert QThreadPool.globalInstance().activeThreadCount() == 0


@pytest.mark.parametrize("factor", [1.0, 1.37, 2.71, 5.17, 13.1])
def test_no_seams_between_tiles(viewer: SlideViewer, factor: float) -> None:
    """A white slide must render white everywhere at any zoom (no gaps or dark seams)."""
    viewer.set_slide(ArraySlide(np.full((3000, 4100, 3), 255, np.uint8), levels=4))
    viewer.zoom_by(factor, QPointF(211, 157))
    viewer.flush()
    viewer.scale_bar.hide()
    shown = slide_pixels(viewer) if factor < 1.5 else to_array(viewer.render_to_qimage())
    assert shown.min() == 255


def test_wheel_zooms_about_the_cursor(viewer: SlideViewer, shared_data: Path) -> None:
    with open_slide(shared_data / "slides" / SLIDES[1]) as slide:
        viewer.set_slide(slide)
        view_pt = QPointF(200, 150)
        l0_before = viewer.view_box.mapSceneToView(viewer._gv.mapToScene(view_pt.toPoint()))
        mag = viewer.magnification()
        assert mag is not None
        wheel = QWheelEvent(
            view_pt,
            viewer._gv.viewport().mapToGlobal(view_pt),
            QPoint(0, 0),
            QPoint(0, 240),  # two notches towards the user's screen: zoom in
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewer._gv.viewport(), wheel)
        l0_after = viewer.view_box.mapSceneToView(viewer._gv.mapToScene(view_pt.toPoint()))
        zoomed = viewer.magnification()
        assert zoomed is not None and zoomed > mag * 1.2
        assert (l0_after.x(), l0_after.y()) == (
            pytest.approx(l0_before.x(), abs=2 * viewer.l0_per_view_px()),
            pytest.approx(l0_before.y(), abs=2 * viewer.l0_per_view_px()),
        )


@pytest.mark.parametrize("factor", [1.0, 3.0, 12.0])
def test_overlay_edge_lands_on_its_l0_position(
    viewer: SlideViewer, tmp_path: Path, factor: float
) -> None:
    """A raster edge at l0 x = 1536 appears at the screen column of l0 x = 1536."""
    slide = ArraySlide(np.full((2048, 3072, 3), 255, np.uint8), levels=4)
    viewer.set_slide(slide)
    raster = np.zeros((128, 192), np.uint8)
    raster[:, 96:] = 255  # l0_per_px 16: edge at l0 x = 1536
    write_pyramid(tmp_path / "edge.tif", raster, l0_per_px=16.0, min_level_px=32)
    layer = OverlayLayer("edge", open_slide(tmp_path / "edge.tif"), 16.0, opacity=1.0)
    layer.threshold = 0.5
    viewer.zoom_by(factor)
    viewer.center_on(1536, 1024)
    viewer.scale_bar.hide()
    plain = to_array(viewer.render_to_qimage()).astype(int)
    viewer.add_overlay(layer)
    image = to_array(viewer.render_to_qimage()).astype(int)
    mid = image.shape[0] // 2
    diff = np.abs(image[mid] - plain[mid]).sum(axis=1)
    half_x = np.flatnonzero(diff >= diff.max() / 2).min()  # half-covered column
    edge = viewer._gv.mapFromScene(viewer.view_box.mapViewToScene(QPointF(1536, 1024)))
    assert abs(half_x - edge.x()) <= 1.5
    layer.close()


def test_overlay_order_and_stacking(viewer: SlideViewer, tmp_path: Path) -> None:
    slide = ArraySlide(np.full((1024, 1024, 3), 255, np.uint8), levels=2)
    viewer.set_slide(slide)
    layers = []
    for name, code in (("low", 60), ("high", 200)):
        write_pyramid(tmp_path / f"{name}.tif", np.full((64, 64), code, np.uint8), l0_per_px=16.0)
        layers.append(OverlayLayer(name, open_slide(tmp_path / f"{name}.tif"), 16.0, opacity=1))
        viewer.add_overlay(layers[-1])
    centre = to_array(viewer.render_to_qimage())[240, 320].copy()
    viewer.set_overlay_order(["high", "low"])
    assert [layer.name for layer in viewer.overlays()] == ["high", "low"]
    swapped = to_array(viewer.render_to_qimage())[240, 320]
    assert np.abs(centre.astype(int) - swapped.astype(int)).sum() > 30
    with pytest.raises(ValueError):
        viewer.set_overlay_order(["high"])
    for layer in layers:
        layer.close()


@pytest.mark.parametrize("levels", [1, 4])  # 1: virtual levels; 4: a real pyramid
@pytest.mark.parametrize("factor", [1.0, 4.0, 20.0])
def test_slide_edge_lands_on_its_l0_position(viewer: SlideViewer, levels: int, factor: float):
    l0 = np.full((3000, 4000, 3), 255, np.uint8)
    l0[:, 1000:] = 0  # edge at l0 x = 1000
    viewer.set_slide(ArraySlide(l0, levels=levels))
    viewer.zoom_by(factor)
    viewer.center_on(1000, 1500)
    viewer.scale_bar.hide()
    row = to_array(viewer.render_to_qimage())[240].astype(int).sum(axis=1)
    inside = np.flatnonzero(row < 90)  # half way from black to the grey background (178)
    edge = viewer._gv.mapFromScene(viewer.view_box.mapViewToScene(QPointF(1000, 1500)))
    assert abs(inside.min() - edge.x()) <= 1.5


def test_refresh_after_user_sets_mpp(viewer: SlideViewer) -> None:
    slide = ArraySlide(gradient_rgb(800, 600), levels=2)
    viewer.set_slide(slide)
    assert viewer.scale_bar.text() == NO_SCALE_NOTE
    slide.set_mpp(0.5)
    views: list[object] = []
    viewer.sigViewChanged.connect(views.append)
    viewer.refresh()
    viewer.flush()
    assert views and viewer.scale_bar.text().endswith("µm")
    assert viewer.magnification() == pytest.approx(10 / (0.5 * viewer.l0_per_view_px()))


def test_tile_grid_outlines_and_hides_when_tiny(viewer: SlideViewer) -> None:
    viewer.set_slide(ArraySlide(np.full((2048, 2048, 3), 255, np.uint8), levels=3))
    l0_xy = np.array([[512, 512], [576, 512]], np.int64)
    viewer.set_tile_grid(l0_xy, 64.0)
    assert not viewer.decorations.is_shown("grid")  # off until the user switches it on
    viewer.set_decoration_visible("grid", True)
    viewer.zoom_by(2.0)
    viewer.center_on(576, 544)
    viewer.scale_bar.hide()
    image = to_array(viewer.render_to_qimage()).astype(int)
    edge = viewer._gv.mapFromScene(viewer.view_box.mapViewToScene(QPointF(512, 544)))
    column = image[edge.y(), edge.x() - 1 : edge.x() + 2]
    assert (np.abs(column - 255).sum(axis=1) > 60).any(), "left tile edge is outlined"
    assert np.abs(image[edge.y(), edge.x() + 10] - 255).sum() < 10, "tile inside is clear"
    viewer.zoom_by(1 / 100)  # as far out as allowed: tiles of 5 screen px, outlines hidden
    viewer.flush()
    assert viewer.decorations.grid is not None and not viewer.decorations.is_shown("grid")
    viewer.set_tile_grid(None)
    assert viewer.decorations.grid is None
