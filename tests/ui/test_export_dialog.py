"""The Export dialog on the real CMU-1 slide: every format written by a worker, the scope
(all / selected / class) decides what is written, stop keeps finished files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from shapely.geometry import box

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass
from ui.annotations.export_dialog import ExportDialog
from ui.annotations.export_job import OUTPUTS

TUMOUR = PathClass("Tumor", (200, 0, 0))
STROMA = PathClass("Stroma", (0, 150, 0))


def regions() -> list[Annotation]:
    """Three rectangles on CMU-1's tissue, two classes."""
    return [
        Annotation(box(600, 900, 1000, 1200), path_class=TUMOUR, name="hot"),
        Annotation(box(1200, 1400, 1500, 1700), path_class=TUMOUR),
        Annotation(box(1600, 600, 1800, 900), path_class=STROMA),
    ]


@pytest.fixture
def slide(cmu_svs: Path):
    from pathscaat.slides import open_slide

    with open_slide(cmu_svs) as s:
        yield s


def run_dialog(qtbot, dlg: ExportDialog) -> None:
    with qtbot.waitSignal(dlg.sigDone, timeout=60000):
        dlg.export_button.click()
        assert dlg.is_running() and not dlg.export_button.isEnabled()


def test_every_format_is_written(qtbot, tmp_path: Path, slide, cmu_svs: Path) -> None:
    objs = regions()
    dlg = ExportDialog(slide, cmu_svs, objs, set(), tmp_path / "out")
    qtbot.addWidget(dlg)
    for check in dlg.format_boxes.values():
        check.setChecked(True)
    dlg.mpp.setValue(2.0)
    dlg.patch_px.setValue(32)
    assert dlg.export_button.text() == "Export 3 objects"
    run_dialog(qtbot, dlg)
    assert dlg.outcome is not None, dlg.status.text()
    assert set(dlg.outcome.written) == set(OUTPUTS)
    out, stem = tmp_path / "out", cmu_svs.stem
    features = json.loads((out / f"{stem}.geojson").read_text())["features"]
    assert {f["id"] for f in features} == {o.id for o in objs}
    assert "<ASAP_Annotations" in (out / f"{stem}.xml").read_text()
    with (out / f"{stem}.csv").open(newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 3
    assert len(list((out / "crops").glob("*.png"))) >= 3
    assert "<html" in (out / f"{stem}.html").read_text().lower()
    classes = {p.name for p in (out / "patches").iterdir() if p.is_dir()}
    assert classes == {"Tumor", "Stroma"} and (out / "patches" / "manifest.csv").is_file()
    assert "Wrote 6 outputs" in dlg.status.text()


def test_scope_selected_and_by_class(qtbot, tmp_path: Path, slide, cmu_svs: Path) -> None:
    objs = regions()
    dlg = ExportDialog(slide, cmu_svs, objs, {objs[2].id}, tmp_path / "sel")
    qtbot.addWidget(dlg)
    assert dlg.all_radio.isChecked() and dlg.export_button.text() == "Export 3 objects"
    dlg.selected_radio.setChecked(True)  # all by default, even with one object selected
    assert dlg.export_button.text() == "Export 1 object"
    for name, check in dlg.format_boxes.items():
        check.setChecked(name == "geojson")
    run_dialog(qtbot, dlg)
    features = json.loads((tmp_path / "sel" / f"{cmu_svs.stem}.geojson").read_text())["features"]
    assert [f["id"] for f in features] == [objs[2].id]
    dlg.class_radio.setChecked(True)
    dlg.class_combo.setCurrentText("Tumor")
    assert [o.id for o in dlg.chosen()] == [objs[0].id, objs[1].id]
    dlg.all_radio.setChecked(True)
    assert len(dlg.chosen()) == 3
    for check in dlg.format_boxes.values():
        check.setChecked(False)
    assert not dlg.export_button.isEnabled() and "Tick at least one" in dlg.status.text()


def test_an_unwritable_folder_is_one_clear_line(qtbot, tmp_path: Path, slide, cmu_svs) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    dlg = ExportDialog(slide, cmu_svs, regions(), set(), blocker / "out")
    qtbot.addWidget(dlg)
    run_dialog(qtbot, dlg)
    assert dlg.outcome is None
    assert dlg.error.startswith("The export stopped") and "Traceback" not in dlg.error


def test_export_from_the_window_uses_the_slide_and_its_objects(
    qtbot, tmp_path: Path, cmu_svs: Path
) -> None:
    from tests.ui.project_fixtures import make_window, open_and_wait

    win = make_window(qtbot, tmp_path / "settings.ini")
    open_and_wait(qtbot, win, cmu_svs)
    coll = win.annotations.collection
    coll.apply(Edit.add(regions()))
    dlg = win.annotation_files.export_annotations(show=False)
    assert dlg is not None and len(dlg.chosen()) == 3
    assert Path(dlg.dest.text()).name == f"{cmu_svs.stem}-export"
    dlg.close()
    win.annotations._dirty = False  # nothing to offer to save on close in this test
    win.close()
