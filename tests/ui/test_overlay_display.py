"""What a pathologist sees of a run on the real CMU-1 slide: class map, saliency peaks,
grid and outline switches, digital zoom, and File > Export View's PNG."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF

from pathscaat.inference.overlay_style import class_palette
from pathscaat.inference.overlays import OverlayInfo, OverlaySet
from pathscaat.inference.pyramid_writer import write_pyramid
from pathscaat.inference.tiles_csv import write_tiles_csv
from pathscaat.slides import open_slide
from pathscaat.tiling import detect_tissue, make_grid
from tests.ui.test_viewer import to_array
from tests.ui.viewer_slides import ArraySlide
from ui.export_view import ExportRequest
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.viewer import SlideViewer, layers_from_overlay_set

CLASSES = ["tumour", "stroma", "other"]
TILE_L0 = 256
HOT_L0 = (600, 900, 400, 300)
"""x, y, w, h of a saliency block at the top code (on tissue of CMU-1)."""


def true_class(l0_x: int, l0_y: int) -> int:
    return (l0_x // TILE_L0 + 2 * (l0_y // TILE_L0)) % len(CLASSES)


@pytest.fixture(scope="module")
def cmu_run(cmu_svs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An inference-shaped output for CMU-1: real tissue mask and grid, known classes."""
    out = tmp_path_factory.mktemp("run")
    with open_slide(cmu_svs) as slide:
        dims = slide.dimensions
        tissue = detect_tissue(slide)
        grid = make_grid(slide, tile_px=TILE_L0, downsample=1.0, tissue=tissue)
    probs = np.full((len(grid.l0_xy), 3), 0.05, np.float32)
    for i, (x, y) in enumerate(grid.l0_xy.tolist()):
        probs[i, true_class(x, y)] = 0.9
    per_px = TILE_L0 / 8
    shape = (math.ceil(dims[1] / per_px), math.ceil(dims[0] / per_px))
    infos = []
    for c, name in enumerate(CLASSES):
        raster = np.zeros(shape, np.uint8)
        for (x, y), p in zip(grid.l0_xy.tolist(), probs[:, c], strict=True):
            raster[y // 32 : y // 32 + 8, x // 32 : x // 32 + 8] = round(p * 255)
        write_pyramid(out / f"prob_{name}.tif", raster, l0_per_px=per_px)
        infos.append(OverlayInfo(f"prob_{name}", "probability", f"prob_{name}.tif", per_px, name))
    sal = np.zeros((math.ceil(dims[1] / 4), math.ceil(dims[0] / 4)), np.uint8)
    x, y, w, h = HOT_L0
    sal[y // 4 : (y + h) // 4, x // 4 : (x + w) // 4] = 255
    write_pyramid(out / "saliency.tif", sal, l0_per_px=4.0, reduce="max", min_level_px=128)
    infos.insert(0, OverlayInfo("saliency", "saliency", "saliency.tif", 4.0))
    mask = tissue.mask.astype(np.uint8) * np.uint8(255)
    write_pyramid(out / "tissue.tif", mask, l0_per_px=tissue.l0_per_px)
    infos.append(OverlayInfo("tissue", "tissue", "tissue.tif", tissue.l0_per_px))
    write_tiles_csv(out / "tiles.csv", grid.l0_xy, TILE_L0, probs, CLASSES)
    OverlaySet(out, str(cmu_svs), dims, CLASSES, infos, tiles_csv="tiles.csv").save()
    return out


@pytest.fixture
def window(qtbot, tmp_path: Path, cmu_svs: Path, cmu_run: Path):
    settings = Settings(tmp_path / "settings.ini")
    win = MainWindow(settings, interactive=False, synchronous_viewer=True)
    qtbot.addWidget(win)
    win.resize(1100, 800)
    win.show()
    win.open_slide(cmu_svs)
    qtbot.waitUntil(lambda: win.slide is not None, timeout=20000)
    win.load_overlays(cmu_run)
    yield win
    win.close()


def layer(win: MainWindow, name: str):
    return {o.name: o for o in win.viewer.overlays()}[name]


def view_px(viewer: SlideViewer, l0_x: float, l0_y: float) -> tuple[int, int]:
    pt = viewer._gv.mapFromScene(viewer.view_box.mapViewToScene(QPointF(l0_x, l0_y)))
    return pt.x(), pt.y()


def test_class_map_draws_each_tile_in_its_argmax_colour(window: MainWindow) -> None:
    viewer = window.viewer
    classes = layer(window, "classes")
    assert classes.visible and layer(window, "saliency").visible  # the first view
    assert classes.class_names == CLASSES and classes.colours == class_palette(CLASSES)
    layer(window, "saliency").visible = False
    viewer.center_on(1100, 1500)
    viewer.zoom_by(viewer.l0_per_view_px() / 2.0)  # 2 level-0 px per screen px
    classes.visible = False
    plain = to_array(viewer.render_to_qimage()).astype(float)
    classes.visible = True
    shown = to_array(viewer.render_to_qimage()).astype(float)
    alpha = classes.lut()[:, 3].max() / 255 * classes.opacity
    _, grid = window.viewer.decorations.outline, window.viewer.decorations.grid
    assert grid is not None
    checked = 0
    for l0_x, l0_y in grid.l0_xy.tolist():
        x, y = view_px(viewer, l0_x + TILE_L0 / 2, l0_y + TILE_L0 / 2)
        if not (0 <= x < shown.shape[1] and 0 <= y < shown.shape[0]):
            continue
        want = [plain[y, x] * (1 - alpha) + np.array(c) * alpha for c in classes.colours]
        errors = [np.abs(shown[y, x] - w).max() for w in want]
        assert int(np.argmin(errors)) == true_class(l0_x, l0_y) and min(errors) < 25
        checked += 1
    assert checked >= 10
    readout = classes.describe_at(grid.l0_xy[0][0] + 10.0, grid.l0_xy[0][1] + 10.0)
    assert readout is not None and readout.startswith(CLASSES[true_class(*grid.l0_xy[0])])


def test_a_lone_saliency_peak_stays_visible_zoomed_out(qtbot, tmp_path: Path) -> None:
    raster = np.zeros((2048, 2048), np.uint8)
    raster[1000, 1000] = 255  # one 4 x 4 µm-ish spot on an 8192 px slide
    write_pyramid(tmp_path / "saliency.tif", raster, l0_per_px=4.0, reduce="max")
    info = OverlayInfo("saliency", "saliency", "saliency.tif", 4.0)
    OverlaySet(tmp_path, "s", (8192, 8192), ["a"], [info]).save()
    viewer = SlideViewer(synchronous=True)
    qtbot.addWidget(viewer)
    viewer.resize(640, 480)
    viewer.show()
    viewer.set_slide(ArraySlide(np.full((8192, 8192, 3), 255, np.uint8), levels=6))
    (sal,) = layers_from_overlay_set(OverlaySet.load(tmp_path))
    viewer.add_overlay(sal)
    viewer.scale_bar.hide()
    image = to_array(viewer.render_to_qimage()).astype(int)
    strong = (np.abs(image - 255).sum(axis=2) > 150).sum()
    assert strong >= 4, f"the peak is {strong} strong screen px at fit zoom"
    viewer.shutdown()


def test_grid_and_outline_switches_hide_their_lines(window: MainWindow) -> None:
    a, viewer = window.actions_, window.viewer
    assert a.show_grid.isEnabled() and a.show_outline.isEnabled()
    assert a.show_outline.isChecked() and not a.show_grid.isChecked()
    for o in viewer.overlays():
        o.visible = False
    viewer.center_on(1100, 1500)
    viewer.zoom_by(viewer.l0_per_view_px() / 2.0)
    with_outline = to_array(viewer.render_to_qimage()).astype(int)
    a.show_outline.trigger()
    assert not viewer.decorations.is_shown("outline")
    bare = to_array(viewer.render_to_qimage()).astype(int)
    assert (np.abs(with_outline - bare).sum(axis=2) > 100).sum() > 50
    a.show_grid.trigger()
    assert viewer.decorations.is_shown("grid")
    gridded = to_array(viewer.render_to_qimage()).astype(int)
    assert (np.abs(gridded - bare).sum(axis=2) > 60).sum() > 200
    window.close_slide()
    assert not a.show_grid.isEnabled() and not a.show_outline.isEnabled()


def test_zoom_past_the_scan_is_labelled_digital(window: MainWindow) -> None:
    viewer = window.viewer
    viewer.fit()
    viewer.flush()
    assert viewer.digital_zoom() is None and "digital" not in window.status.magnification.text()
    viewer.zoom_by(viewer.l0_per_view_px() / 0.5)  # 2 screen px per scanned px
    viewer.flush()
    assert viewer.digital_zoom() == pytest.approx(2.0, rel=0.02)
    assert window.status.magnification.text() == "40× (digital)"  # a 20x scan shown at 40x
    assert "digital ×2" in viewer.scale_bar.text()


def test_export_png_shows_the_overlays_over_the_tissue(
    window: MainWindow, tmp_path: Path, cmu_svs: Path
) -> None:
    classes = layer(window, "classes")
    classes.visible = False
    out = window.exporter.export(
        ExportRequest(tmp_path / "slide", whole_slide=True, longest_px=800, legends=False)
    )
    assert out == tmp_path / "slide.png" and window.errors.history == []
    png = np.asarray(Image.open(out).convert("RGB")).astype(float)
    with open_slide(cmu_svs) as slide:
        w, h = slide.dimensions
    assert png.shape[:2] == (800, round(w * 800 / h))
    scale = 800 / h
    x, y, bw, bh = HOT_L0
    sal = layer(window, "saliency")
    top = np.array(sal.lut()[255, :3], float)
    inside = png[round((y + bh / 2) * scale), round((x + bw / 2) * scale)]
    sal.visible = False
    plain_path = window.exporter.export(
        ExportRequest(tmp_path / "plain.png", whole_slide=True, longest_px=800, legends=False)
    )
    assert plain_path is not None
    plain = np.asarray(Image.open(plain_path).convert("RGB")).astype(float)
    base = plain[round((y + bh / 2) * scale), round((x + bw / 2) * scale)]
    want = base * (1 - sal.opacity) + top * sal.opacity
    assert np.abs(inside - want).max() <= 3  # the saliency colour over that tissue
    far = (slice(round(2400 * scale), round(2800 * scale)), slice(0, round(400 * scale)))
    assert np.abs(png[far] - plain[far]).max() <= 1  # no overlay there: tissue untouched


def test_export_of_the_view_has_legends_and_reports_bad_folders(
    window: MainWindow, tmp_path: Path
) -> None:
    viewer = window.viewer
    out = window.exporter.export(ExportRequest(tmp_path / "view.png", view_scale=2.0))
    assert out is not None
    png = np.asarray(Image.open(out).convert("RGB"))
    assert max(png.shape[:2]) == round(2 * max(viewer.view_box.width(), viewer.view_box.height()))
    rows, cols = png.shape[:2]
    corner = {tuple(px) for px in png[-rows // 4 :, -cols // 3 :].reshape(-1, 3)}  # legend
    classes = layer(window, "classes")
    for _name, over_eosin, over_haem in classes.legend_swatches():  # as the slide shows them
        assert over_eosin in corner and over_haem in corner
    assert not {tuple(c) for c in classes.colours} & corner  # not the pure colours
    blocker = tmp_path / "file.txt"
    blocker.write_text("")
    assert window.exporter.export(ExportRequest(blocker / "x.png")) is None
    assert "Cannot create the folder" in window.errors.history[-1].message


def test_export_draws_the_annotations_as_the_layer_does(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:
    from shapely.geometry import box

    from pathscaat.annotations.edits import Edit
    from pathscaat.annotations.model import Annotation, PathClass

    for lay in window.viewer.overlays():
        lay.visible = False
    coll = window.annotations.collection
    assert coll is not None
    shown = Annotation(box(300, 400, 900, 1000), path_class=PathClass("Tumour", (0, 0, 255)))
    hidden = Annotation(box(1200, 1500, 1800, 2100), path_class=PathClass("Other", (255, 0, 0)))
    coll.apply(Edit.add([shown, hidden], "draw"))
    window.annotations.panel.set_class_visible("Other", False)  # hidden classes stay out
    req = ExportRequest(tmp_path / "a.png", whole_slide=True, longest_px=1000, legends=False,
                        scale_bar=False)  # fmt: skip
    assert window.exporter.start(req)  # in a worker: the window goes on
    with qtbot.waitSignal(window.exporter.sigDone, timeout=30000) as done:
        pass
    assert done.args == [tmp_path / "a.png"] and not window.exporter.running()
    png = np.asarray(Image.open(tmp_path / "a.png").convert("RGB")).astype(float)
    window.annotations.layer.set_style(visible=False)
    plain = np.asarray(
        Image.open(
            window.exporter.export(dataclasses.replace(req, path=tmp_path / "b.png"))
        ).convert("RGB")
    ).astype(float)
    scale = 1000 / 2967
    inside = (
        slice(round(500 * scale), round(800 * scale)),
        slice(round(400 * scale), round(800 * scale)),
    )
    opacity = window.annotations.layer.style.opacity
    want = plain[inside] * (1 - opacity) + np.array([0, 0, 255]) * opacity
    assert np.abs(png[inside] - want).mean() < 4  # the fill, in the class colour
    edge = png[round(400 * scale), round(600 * scale)]
    assert np.abs(edge - [0, 0, 255]).max() < 60  # the outline on the box's top edge
    other = (
        slice(round(1600 * scale), round(2000 * scale)),
        slice(round(1300 * scale), round(1700 * scale)),
    )
    assert np.abs(png[other] - plain[other]).max() <= 1  # the hidden class is not drawn
    coll.undo()
    window.annotations._dirty = False


def test_export_view_can_be_cancelled_and_writes_nothing(
    window: MainWindow, tmp_path: Path, qtbot
) -> None:
    req = ExportRequest(tmp_path / "big.png", whole_slide=True, longest_px=8000)
    assert window.exporter.start(req)
    assert not window.exporter.start(req)  # one at a time
    window.exporter.cancel()
    with qtbot.waitSignal(window.exporter.sigDone, timeout=60000) as done:
        pass
    assert done.args == [None] and not (tmp_path / "big.png").exists()
    assert "cancelled" in window.status.currentMessage() and window.errors.history == []
