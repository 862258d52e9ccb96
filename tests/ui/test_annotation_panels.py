"""Classes and annotations panels, keys 1-9 and Del, and saving without a project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from shapely.geometry import Point, box

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.io import read_annotations
from pathscaat.annotations.model import Annotation, PathClass
from tests.ui.annotation_helpers import SLIDE_MPP, Bench, drag, zoom_to


@pytest.fixture
def bench(qtbot):
    b = Bench(qtbot)
    zoom_to(b.viewer, 2.0, 1000, 1000)
    yield b
    b.close()


def _add(bench: Bench, *objs: Annotation) -> None:
    bench.collection.apply(Edit.add(objs))


def test_key_1_classifies_the_selection_in_one_undoable_edit(bench: Bench) -> None:
    a, b = Annotation(box(900, 900, 950, 950)), Annotation(box(1000, 1000, 1100, 1100))
    _add(bench, a, b)
    bench.collection.select([a.id, b.id])
    QTest.keyClick(bench.viewer, Qt.Key.Key_1)
    first = bench.ann.classes[0]
    assert [o.path_class for o in bench.collection] == [first, first]
    assert bench.collection.undo_label == f"Classify 2 objects as {first.name}"
    QTest.keyClick(bench.viewer, Qt.Key.Key_3)
    assert {o.class_name for o in bench.collection} == {bench.ann.classes[2].name}
    bench.ann.undo()
    assert {o.class_name for o in bench.collection} == {first.name}


def test_delete_key_removes_the_selection_but_not_locked_ones(bench: Bench) -> None:
    a = Annotation(box(900, 900, 950, 950))
    keep = Annotation(box(1000, 1000, 1100, 1100), locked=True)
    _add(bench, a, keep)
    bench.collection.select([a.id, keep.id])
    QTest.keyClick(bench.viewer, Qt.Key.Key_Delete)
    assert [o.id for o in bench.collection] == [keep.id]
    assert "locked" in bench.messages[-1]
    bench.ann.undo()
    assert len(bench.collection) == 2


def test_panel_lists_objects_with_area_and_centres_on_click(bench: Bench, qtbot) -> None:
    tumour = PathClass("Tumour", (200, 0, 0))
    objs = [Annotation(box(100, 100, 300, 200), path_class=tumour, name="T1",
                       measurements={"prob": 0.75}),
            Annotation(Point(1500, 1500).buffer(50), name="ring")]  # fmt: skip
    _add(bench, *objs)
    panel = bench.ann.panel
    model = panel.model
    assert model.rowCount() == 2
    header = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert header == ["Class", "Name", "Kind", "Area µm²", "Locked", "prob"]
    cells = [[model.data(model.index(r, c)) for c in range(6)] for r in range(2)]
    area = f"{200 * 100 * SLIDE_MPP**2:,.0f}"
    assert cells[0] == ["Tumour", "T1", "annotation", area, "", "0.75"]
    assert cells[1][0] == "Unclassified" and cells[1][5] == "—"
    rect = panel.table.visualRect(model.index(0, 1))
    QTest.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert bench.collection.selection == {objs[0].id}
    x, y, w, h = bench.viewer.l0_visible_rect()
    tol = 2 * bench.viewer.l0_per_view_px()
    assert (x + w / 2, y + h / 2) == pytest.approx((200, 150), abs=tol)
    panel.filter.setText("ring")
    assert [o.name for o in model.rows] == ["ring"]
    assert "1 of 2" in panel.count.text()


def test_tool_selection_is_mirrored_in_the_table(bench: Bench) -> None:
    bench.tool("rectangle")
    drag(bench.viewer, [(900, 900), (1000, 1000)])
    rows = bench.ann.panel.table.selectionModel().selectedRows()
    listed = [bench.ann.panel.model.rows[i.row()].id for i in rows]
    assert listed == list(bench.collection.selection)


def test_hidden_class_is_neither_drawn_nor_picked(bench: Bench) -> None:
    stroma = PathClass("Stroma", (150, 200, 150))
    obj = Annotation(box(900, 900, 1100, 1100), path_class=stroma)
    _add(bench, obj)
    assert bench.ann.ctx.hit(1000, 1000) == obj
    bench.ann.panel.set_class_visible("Stroma", False)
    assert bench.ann.layer.style.hidden_classes == {"Stroma"}
    assert bench.ann.ctx.hit(1000, 1000) is None
    assert "1 class hidden" in bench.ann.panel.count.text()


def test_lock_and_unlock_from_the_panel(bench: Bench) -> None:
    obj = Annotation(box(900, 900, 1100, 1100))
    _add(bench, obj)
    bench.collection.select([obj.id])
    bench.ann.panel.set_locked(True)
    assert bench.collection.get(obj.id).locked
    assert bench.ann.panel.model.data(bench.ann.panel.model.index(0, 4)) == "🔒"
    bench.ann.panel.set_locked(False)
    assert not bench.collection.get(obj.id).locked


def test_classes_panel_rename_follows_through_objects(bench: Bench) -> None:
    panel = bench.ann.classes_panel
    first = bench.ann.classes[0]
    obj = Annotation(box(900, 900, 1100, 1100), path_class=first)
    _add(bench, obj)
    panel.rename(first.name, "Carcinoma")
    assert bench.collection.get(obj.id).class_name == "Carcinoma"
    assert panel.list.item(0).text().split() == ["1", "Carcinoma"]
    assert panel.current_class() is not None and panel.current_class().name == "Carcinoma"
    panel.rename("Carcinoma", "Stroma")  # taken: one clear message, nothing changes
    assert "already a class named “Stroma”" in bench.messages[-1]
    assert bench.ann.actions.classify[0].text() == "&1  Carcinoma"


def test_new_shapes_get_the_highlighted_class(bench: Bench) -> None:
    bench.ann.classes_panel.list.setCurrentRow(1)
    bench.tool("rectangle")
    drag(bench.viewer, [(900, 900), (1000, 1000)])
    assert bench.collection.objects()[0].path_class == bench.ann.classes[1]


def test_save_as_geojson_and_the_offer_on_close(bench: Bench, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    obj = Annotation(box(900, 900, 1100, 1000), path_class=bench.ann.classes[0], name="A")
    _add(bench, obj)
    assert bench.ann.is_dirty()
    assert bench.ann.confirm_discard(bench.win, interactive=False)  # tests and batch: no ask
    B = QMessageBox.StandardButton
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: B.Cancel)
    assert not bench.ann.confirm_discard(bench.win, interactive=True)
    out = tmp_path / "slide.geojson"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: B.Save)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    assert bench.ann.confirm_discard(bench.win, interactive=True)
    assert not bench.ann.is_dirty()
    back = read_annotations(out).annotations
    assert [(o.id, o.name, o.class_name) for o in back] == [(obj.id, "A", obj.class_name)]
    assert back[0].geometry.equals(obj.geometry)
    assert json.loads(out.read_text())["type"] == "FeatureCollection"


def test_save_to_an_unwritable_place_says_so(bench: Bench, tmp_path: Path) -> None:
    _add(bench, Annotation(box(0, 0, 10, 10)))
    target = tmp_path / "missing-folder" / "a.geojson"
    assert not bench.ann.save_as(target)
    assert bench.errors and str(target) in bench.errors[-1] and bench.ann.is_dirty()
