"""The wizard on the open project's annotated slides: the Data page offers them, scans them
into classes, and the run config trains on the project source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import box

from pathscaat.annotations.model import Annotation, PathClass
from pathscaat.data.synthetic_slide import write_synthetic_slide
from tests.ui.project_fixtures import make_window
from ui.main_window import MainWindow
from ui.wizard.choices import build_config
from ui.wizard.models_list import remember_model


def project_with_two_classes(qtbot, tmp_path: Path) -> MainWindow:
    """A window with a new project holding one small synthetic slide and two classes."""
    slide, _regions = write_synthetic_slide(tmp_path / "slide.tif", width=1536, height=1024,
                                            tile=256, mpp=0.5)  # fmt: skip
    win = make_window(qtbot, tmp_path / "settings.ini")
    assert win.projects.new_project(tmp_path / "proj")
    win.projects.add_slides([slide])
    project = win.projects.session.project
    record = project.slides()[0]
    tumour, stroma = PathClass("Tumour", (200, 0, 0)), PathClass("Stroma", (0, 150, 0))
    regions = [Annotation(box(100, 100, 700, 500), path_class=tumour),
               Annotation(box(800, 100, 1400, 500), path_class=stroma),
               Annotation(box(100, 600, 500, 900), path_class=stroma)]  # fmt: skip
    project.replace_annotations(record.id, regions)
    return win


@pytest.mark.slow  # writes a slide and exports its patches (~14 s on 2 shared cores)
def test_wizard_trains_on_the_open_projects_annotated_slides(qtbot, tmp_path: Path) -> None:
    win = project_with_two_classes(qtbot, tmp_path)
    wiz = win.training.open_wizard()
    page = wiz.data_page
    assert page.add_project.isEnabled()
    page.project_tile_px.setValue(112)
    page.add_project.click()
    qtbot.waitUntil(lambda: not page.scanning, timeout=60000)
    assert page.isComplete(), page.problem.text()
    assert page.folder_list.count() == 1 and "proj" in page.folder_list.item(0).text()
    counts = {page.table.item(r, 0).text(): int(page.table.item(r, 1).text())
              for r in range(page.table.rowCount())}  # fmt: skip
    assert set(counts) == {"Tumour", "Stroma"}
    assert counts["Stroma"] > counts["Tumour"] > 0  # two regions against one
    config = build_config(wiz.ctx.choices, out=tmp_path / "run")
    (source,) = config.sources
    assert source.kind == "project" and source.path == (tmp_path / "proj").resolve()
    assert source.tile_px == 112 and source.mpp == 0.5
    page.folder_list.item(0).setSelected(True)
    page._remove_selected()
    assert wiz.ctx.choices.project == "" and not page.isComplete()
    wiz.shutdown()
    win.close()


def test_without_a_project_the_button_is_off(qtbot, tmp_path: Path) -> None:
    win = make_window(qtbot, tmp_path / "settings.ini")
    wiz = win.training.open_wizard()
    assert not wiz.data_page.add_project.isEnabled()
    wiz.shutdown()
    win.close()


def test_evaluation_data_is_the_view_the_run_trained_on(tmp_path: Path) -> None:
    from pathscaat.data.source_view import MARKER
    from ui.wizard.evaluate_run import trained_data

    run = tmp_path / "run"
    run.mkdir()
    checkpoint = run / "best.pt"
    data, why = trained_data(checkpoint, [])  # a project run whose view is gone
    assert data is None and "Evaluation skipped" in why and "best.pt" in why
    assert trained_data(checkpoint, [tmp_path]) == (tmp_path, "")  # one folder, in place
    (run / "dataset").mkdir()
    (run / "dataset" / MARKER).write_text("view\n")
    assert trained_data(checkpoint, [tmp_path]) == (run / "dataset", "")


def sidecar(folder: Path, accuracy: float) -> Path:
    """The JSON sidecar ``pathscaat train`` writes beside a checkpoint (all the list reads)."""
    folder.mkdir(parents=True)
    path = folder / "best.json"
    meta = {"backbone": "resnet18", "objective": "scaat", "class_names": ["a", "b"],
            "metrics": {"accuracy": accuracy}}  # fmt: skip
    path.write_text(json.dumps(meta))
    return path


def test_models_panel_lists_and_removes_project_models(qtbot, tmp_path: Path) -> None:
    win = make_window(qtbot, tmp_path / "settings.ini")
    assert win.projects.new_project(tmp_path / "proj")
    project = win.projects.session.project
    in_project, remembered = sidecar(tmp_path / "p-run", 0.8), sidecar(tmp_path / "r-run", 0.6)
    project.add_model(in_project)
    remember_model(win.settings, remembered)
    panel = win.models_panel
    panel.refresh()
    names = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert len(names) == 2 and panel.rows[0].project_id is not None
    assert panel.table.item(0, 4).text() == "80%" and panel.table.item(1, 4).text() == "60%"
    asked: list[str] = []
    panel.confirm = lambda text: asked.append(text) or False
    panel.table.selectRow(0)
    panel.buttons["remove"].click()
    assert len(asked) == 1 and "proj" in asked[0] and len(project.models()) == 1  # said no
    panel.confirm = lambda text: True
    panel.buttons["remove"].click()
    assert project.models() == [] and in_project.is_file()  # unregistered, files kept
    assert [r.checkpoint.name for r in panel.rows] == ["best.json"] and panel.rows[
        0
    ].project_id is None
    win.projects.close_project()
    assert panel.table.rowCount() == 1
    win.close()
