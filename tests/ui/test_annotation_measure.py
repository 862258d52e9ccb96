"""Every annotation measured from the slide's overlays in a worker: a hand-drawn box gets
its class probability and saliency in the Annotations panel, again after an edit, none
once the overlays go, and the same numbers in the CSV the Export dialog writes."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation
from tests.ui.project_fixtures import make_window, open_and_wait, overlays_for, picture
from ui.annotations.annotations_panel import BASE_COLUMNS, PENDING
from ui.main_window import MainWindow

RAMP = np.linspace(0, 255, 50).round()  # overlays_for: saliency rises along x, prob_a falls


def expected(l0_x0: int, l0_x1: int) -> tuple[float, float]:
    """Mean prob a and mean saliency over the 8-px raster columns whose centres are inside."""
    cols = [c for c in range(50) if l0_x0 <= (c + 0.5) * 8 <= l0_x1]
    return float(RAMP[::-1][cols].mean() / 255), float(RAMP[cols].mean() / 255)


def cell(win: MainWindow, row: int, name: str) -> str:
    model = win.annotations.panel.model
    col = len(BASE_COLUMNS) + model.measurements.index(name)
    return str(model.data(model.index(row, col)))


@pytest.fixture
def win(qtbot, tmp_path: Path):
    window = make_window(qtbot, tmp_path / "settings.ini")
    slide = picture(tmp_path, "p.png")
    open_and_wait(qtbot, window, slide)
    window.load_overlays(overlays_for(slide, tmp_path / "run"))
    yield window
    window.annotations._dirty = False
    window.close()


def test_a_drawn_box_is_measured_and_measured_again_after_an_edit(qtbot, win) -> None:
    coll, measurer = win.annotations.collection, win.annotations.measurer
    drawn = Annotation(box(40, 40, 120, 200))
    coll.apply(Edit.add([drawn], "draw"))
    coll.select([drawn.id])
    assert measurer.pending()
    qtbot.waitUntil(lambda: measurer.measured(drawn) is not None, timeout=20000)
    prob, sal = expected(40, 120)
    got = measurer.measured(drawn)
    assert got["Mean prob a"] == pytest.approx(prob, abs=1e-6)
    assert got["Mean saliency"] == pytest.approx(sal, abs=1e-6)
    model = win.annotations.panel.model
    assert model.measurements[:2] == ["Mean saliency", "Saliency share"]  # saliency first
    assert cell(win, 0, "Mean prob a") == f"{prob:.2f}"
    assert cell(win, 0, "Saliency share").endswith("%")
    details = win.annotations.panel.details
    assert details.isVisible() and f"a: mean {prob:.2f}" in details.text()
    moved = drawn.with_changes(geometry=box(240, 40, 320, 200))
    coll.apply(Edit.change([drawn], [moved], "move"))
    assert measurer.measured(moved) is None  # the old value is for the old place
    assert cell(win, 0, "Mean prob a") == PENDING
    qtbot.waitUntil(lambda: measurer.measured(moved) is not None, timeout=20000)
    assert measurer.measured(moved)["Mean prob a"] == pytest.approx(expected(240, 320)[0])
    win.overlays.close_all()  # no overlays: no overlay columns
    qtbot.waitUntil(lambda: "Mean prob a" not in model.measurements, timeout=5000)
    qtbot.waitUntil(lambda: not measurer.pending(), timeout=5000)  # a job in flight ends


def test_the_export_dialog_writes_the_measurements(qtbot, win, tmp_path: Path) -> None:
    coll = win.annotations.collection
    coll.apply(Edit.add([Annotation(box(40, 40, 120, 200), name="drawn")], "draw"))
    dlg = win.annotation_files.export_annotations(show=False)
    assert dlg is not None and dlg.measure_dirs == (tmp_path / "run",)
    qtbot.addWidget(dlg)
    for name, check in dlg.format_boxes.items():
        check.setChecked(name == "csv")
    dlg.dest.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(dlg.sigDone, timeout=30000):
        dlg.export_button.click()
    with (tmp_path / "out" / "p.csv").open(newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert float(row["Mean prob a"]) == pytest.approx(expected(40, 120)[0], abs=1e-3)
    assert row["name"] == "drawn" and row["number"] == "1"
