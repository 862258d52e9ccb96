"""Make regions… on the real CMU-1 slide with an inference-shaped overlay set: the preview
follows the threshold (stale results dropped), accepted regions are one edit with their
class and measurements, discard leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.test_overlay_display import CLASSES, HOT_L0, cmu_run  # noqa: F401 (fixture)
from ui.annotations.class_mapping_rows import KEEP_MODEL_NAME
from ui.main_window import MainWindow
from ui.settings import Settings

MPP = 0.499


def overlay_window(qtbot, tmp_path: Path, slide: Path, run: Path) -> MainWindow:
    """The app on ``slide`` with the overlay set ``run`` open (close it after)."""
    win = MainWindow(Settings(tmp_path / "settings.ini"), interactive=False,
                     synchronous_viewer=True)  # fmt: skip
    qtbot.addWidget(win)
    win.resize(1100, 800)
    win.show()
    win.open_slide(slide)
    qtbot.waitUntil(lambda: win.slide is not None, timeout=20000)
    win.load_overlays(run)
    return win


@pytest.fixture
def window(qtbot, tmp_path: Path, cmu_svs: Path, cmu_run: Path):  # noqa: F811
    win = overlay_window(qtbot, tmp_path, cmu_svs, cmu_run)
    yield win
    win.close()


def wait_done(qtbot, dlg) -> None:
    qtbot.waitUntil(lambda: not dlg.is_computing(), timeout=30000)


def test_saliency_block_becomes_one_region_of_its_area(qtbot, window: MainWindow) -> None:
    card = window.layers_panel.cards["saliency"]
    card.regions_button.click()
    dlg = window.annotation_files.regions_dialog
    assert dlg is not None and dlg.isVisible()
    wait_done(qtbot, dlg)
    assert len(dlg.candidates) == 1
    x, y, w, h = HOT_L0
    region = dlg.candidates[0]
    assert region.geometry.bounds == pytest.approx((x, y, x + w, y + h), abs=8)
    assert region.measurements["Area µm^2"] == pytest.approx(w * h * MPP * MPP, rel=0.03)
    assert not dlg.preview.items[1].path().isEmpty()  # the outline is on the slide
    assert dlg.accept_all.text() == "Accept All (1)"
    assert dlg.class_map()["tumour"] == "Tumour"  # suggested: the project's own class
    for box in dlg.class_boxes.values():
        box.setCurrentText(KEEP_MODEL_NAME)  # keep the model's names this time
    dlg.accept_all.click()
    coll = window.annotations.collection
    assert coll is not None and len(coll) == 1
    kept = coll.objects()[0]
    assert kept.class_name in CLASSES and "Saliency share" in kept.measurements
    legend = dict(window.layers_panel.cards["classes"].layer.legend_entries())
    assert kept.path_class.colour == tuple(legend[kept.class_name])  # looks like the map
    assert coll.undo_label and coll.undo_label.startswith("Make 1 region")
    assert dlg.preview.items[1].scene() is None  # preview gone with the dialog
    window.annotations.undo()
    assert len(coll) == 0


def test_threshold_and_area_drive_the_candidates(qtbot, window: MainWindow) -> None:
    window.annotation_files.make_regions("prob_tumour")
    dlg = window.annotation_files.regions_dialog
    wait_done(qtbot, dlg)
    many = len(dlg.candidates)
    assert many >= 1 and all(r.class_name == "tumour" for r in dlg.candidates)
    assert all(r.measurements["Mean prob tumour"] > 0.5 for r in dlg.candidates)
    for value in (0.2, 0.4, 0.95):  # typed quickly: only the last one counts
        dlg.threshold.setValue(value)
    wait_done(qtbot, dlg)
    assert dlg.candidates == [] and "No region" in dlg.status.text()
    dlg.threshold.setValue(0.5)
    dlg.min_area.setValue(1e8)
    wait_done(qtbot, dlg)
    assert dlg.candidates == []
    dlg.min_area.setValue(0)
    wait_done(qtbot, dlg)
    assert len(dlg.candidates) == many
    dlg.list.item(0).setSelected(True)
    dlg.list.item(2).setSelected(True)
    assert not dlg.highlight.items[1].path().isEmpty()
    assert dlg.accept_selected.text() == "Accept Selected (2)"
    dlg.accept_selected.click()
    assert len(window.annotations.collection) == 2


def test_discard_keeps_nothing(qtbot, window: MainWindow) -> None:
    window.annotation_files.make_regions("saliency")
    dlg = window.annotation_files.regions_dialog
    wait_done(qtbot, dlg)
    dlg.reject()
    assert len(window.annotations.collection) == 0
    assert dlg.preview.items[0].scene() is None
