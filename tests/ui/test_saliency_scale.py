"""One threshold unit for the slide-level saliency map in the layers panel, Make Regions
and ``pathscaat regions``: a real inference run over CMU-1 (tiny random model), typed
thresholds kept as typed, the same defaults and the same regions in the app and the CLI,
and model classes mapped to the project's, remembered for the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pathscaat.inference.overlays import UNIT_PERCENTILE
from pathscaat.inference.saliency_layers import DISPLAY_THRESHOLD
from tests.ui.test_regions_dialog import overlay_window, wait_done
from ui.main_window import MainWindow


@pytest.fixture(scope="module")
def real_run(cmu_svs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pathscaat.inference.predict import predict_slide
    from tests.core.test_predict import make_checkpoint

    folder = tmp_path_factory.mktemp("run")
    ckpt = make_checkpoint(folder)
    predict_slide(cmu_svs, ckpt, folder / "out", device="cpu", batch_size=32, workers=1)
    return folder / "out"


@pytest.fixture
def window(qtbot, tmp_path: Path, cmu_svs: Path, real_run: Path):
    win = overlay_window(qtbot, tmp_path, cmu_svs, real_run)
    yield win
    win.close()


def cli_regions(cmu_svs: Path, run: Path, out: Path, *extra: str) -> int:
    from pathscaat.cli.main import main

    argv = ["regions", str(cmu_svs), "--overlays", str(run), "--layer", "saliency",
            "--out", str(out), "--progress", "none", *extra]  # fmt: skip
    assert main(argv) == 0
    return len(json.loads(out.read_text())["features"])


def test_panel_shows_the_slide_map_in_percentiles_and_keeps_typed_values(
    window: MainWindow,
) -> None:
    cards = window.layers_panel.cards
    card = cards["saliency"]
    layer = card.layer
    assert layer.unit == UNIT_PERCENTILE and layer.visible
    assert not cards["saliency_tile"].layer.visible and not cards["saliency_abs"].layer.visible
    assert layer.threshold == pytest.approx(DISPLAY_THRESHOLD)
    assert card.threshold_text.value() == pytest.approx(DISPLAY_THRESHOLD)
    assert "where in this slide the model looks most" in card.details.findChildren(
        type(card.opacity_text))[0].text()  # fmt: skip
    card.threshold_text.setValue(0.15)
    assert layer.threshold == 0.15  # not snapped to a slider step
    assert card.threshold_slider.value() == 39  # ceil(0.15 * 255)


def test_dialog_and_cli_share_the_unit_the_defaults_and_the_regions(
    qtbot, window: MainWindow, cmu_svs: Path, real_run: Path, tmp_path: Path
) -> None:
    window.layers_panel.cards["saliency"].regions_button.click()
    dlg = window.annotation_files.regions_dialog
    wait_done(qtbot, dlg)
    assert (dlg.threshold.value(), dlg.smooth.value(), dlg.min_area.value()) == (0.9, 20.0, 5000.0)
    hint = dlg.scale_hint.text()
    assert UNIT_PERCENTILE.capitalize() in hint and "most salient 10 %" in hint
    at_defaults = len(dlg.candidates)
    assert at_defaults == cli_regions(cmu_svs, real_run, tmp_path / "d.geojson")
    dlg.threshold.setValue(0.15)
    assert dlg.threshold.value() == 0.15 and dlg.slider.value() == 150
    dlg.threshold.setValue(0.85)
    dlg.min_area.setValue(0)
    dlg.smooth.setValue(5)
    wait_done(qtbot, dlg)
    n = len(dlg.candidates)
    assert n > 0
    args = ("--threshold", "0.85", "--min-area-um2", "0", "--smooth-um", "5")
    assert n == cli_regions(cmu_svs, real_run, tmp_path / "r.geojson", *args)


def test_model_classes_become_project_classes_and_are_remembered(
    qtbot, window: MainWindow
) -> None:
    assert "Tumour" in window.annotations.classes.names()  # a default class
    window.annotation_files.make_regions("saliency")
    dlg = window.annotation_files.regions_dialog
    wait_done(qtbot, dlg)
    dlg.threshold.setValue(0.7)
    dlg.min_area.setValue(0)
    wait_done(qtbot, dlg)
    assert dlg.candidates and set(dlg.class_boxes) == {"benign", "atypical", "inflamed"}
    for box in dlg.class_boxes.values():
        box.setCurrentText("Tumour")
    dlg.accept_all.click()
    coll = window.annotations.collection
    assert coll is not None and {o.class_name for o in coll.objects()} - {None} == {"Tumour"}
    window.annotation_files.make_regions("saliency")
    again = window.annotation_files.regions_dialog
    assert again is not dlg
    assert {b.currentText() for b in again.class_boxes.values()} == {"Tumour"}
    again.reject()


def test_the_typed_threshold_is_readable_under_the_apps_stylesheet(window: MainWindow) -> None:
    """Under the app's stylesheet a button-less spin box collapsed its text field to 1 px:
    the threshold boxes looked empty on screen."""
    from PySide6.QtWidgets import QApplication

    from resources import resource_path

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    old = app.styleSheet()
    app.setStyleSheet(resource_path("style.qss").read_text(encoding="utf-8"))
    try:
        box = window.layers_panel.cards["saliency"].threshold_text
        box.show()
        QApplication.processEvents()
        field = box.lineEdit()
        assert field.width() >= field.fontMetrics().horizontalAdvance(box.text())
    finally:
        app.setStyleSheet(old)
