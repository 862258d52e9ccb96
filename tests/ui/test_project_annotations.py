"""Annotations with and without a project: import by drop (QuPath frame, fresh ids, one
undo, one report), a reopened project shows the same annotations and overlays."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from shapely.geometry import box

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.io import write_annotations
from pathscaat.annotations.model import Annotation, PathClass
from pathscaat.slides import open_slide
from tests.ui.project_fixtures import make_window, open_and_wait, overlays_for, picture
from ui.annotations.import_drop import read_file
from ui.main_window import MainWindow

QUPATH05 = "annotations/qupath05.geojson"


def drop(win: MainWindow, *paths: Path, qtbot=None) -> None:
    """Drop ``paths`` on the window; with ``qtbot``, wait until the import ended (the
    files are read in a worker)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    if qtbot is None:
        win.dropEvent(event)
        return
    with qtbot.waitSignal(win.annotation_files.sigImported, timeout=20000):
        win.dropEvent(event)


def test_drop_qupath_geojson_onto_an_open_slide(
    qtbot, tmp_path: Path, shared_data: Path, cmu_svs: Path
) -> None:
    win = make_window(qtbot, tmp_path / "settings.ini")
    open_and_wait(qtbot, win, cmu_svs)
    source = shared_data / QUPATH05
    drop(win, source, qtbot=qtbot)
    coll = win.annotations.collection
    assert coll is not None and len(coll) == 3
    names = {f["properties"]["name"] for f in json.loads(source.read_text())["features"]}
    assert {o.name for o in coll} == names
    assert coll.undo_label == "Import qupath05.geojson"
    drop(win, source, qtbot=qtbot)  # again: new ids, nothing overwritten
    assert len(coll) == 6 and len({o.id for o in coll}) == 6
    assert "given new ids" in win.status.currentMessage()
    coll.undo()
    assert len(coll) == 3
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    drop(win, bad, qtbot=qtbot)
    assert len(coll) == 3 and win.slide_path == cmu_svs  # not opened as a slide
    errors = [r for r in win.errors.history if "bad.geojson" in r.message]
    assert len(errors) == 1 and "Traceback" not in errors[0].message
    win.annotations._dirty = False
    win.close()


def test_qupath_frame_follows_the_slide_bounds(tmp_path: Path) -> None:
    objs = [Annotation(box(10, 20, 110, 220), path_class=PathClass("Tumour", (200, 0, 0)))]
    path = tmp_path / "a.geojson"
    write_annotations(path, objs)  # QuPath frame, no offset
    slide_props = {"openslide.bounds-x": "1000", "openslide.bounds-y": "500"}
    outcome = read_file(path, slide_props)
    assert outcome.added[0].geometry.bounds == (1010, 520, 1110, 720)
    xml = tmp_path / "a.xml"
    write_annotations(xml, objs)  # ASAP: the full level-0 frame, never shifted
    assert read_file(xml, slide_props).added[0].geometry.bounds == (10, 20, 110, 220)


def test_skipped_items_are_reported_once(qtbot, tmp_path: Path) -> None:
    win = make_window(qtbot, tmp_path / "settings.ini")
    slide = picture(tmp_path, "p.png")
    open_and_wait(qtbot, win, slide)
    good = {"type": "Feature", "id": "3b1f8e4e-8a5e-4a4b-9a60-1c2d3e4f5a6b",
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [50, 0], [50, 50], [0, 0]]]},
            "properties": {"objectType": "annotation"}}  # fmt: skip
    odd = {"type": "Feature", "geometry": {"type": "Circle", "coordinates": [1, 2]},
           "properties": {"objectType": "annotation"}}  # fmt: skip
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, odd, odd]}))
    with qtbot.waitSignal(win.annotation_files.sigImported, timeout=20000):
        assert win.annotation_files.import_files([path])
    assert len(win.annotations.collection) == 1
    reports = [r for r in win.errors.history if "mixed.geojson" in r.message]
    assert len(reports) == 1 and "2 item(s)" in reports[0].message
    win.annotations._dirty = False
    win.close()


def test_reopened_project_shows_the_same_annotations_and_overlays(
    qtbot, tmp_path: Path
) -> None:
    slide = picture(tmp_path / "slides", "a.png")
    win = make_window(qtbot, tmp_path / "settings.ini")
    win.projects.new_project(tmp_path / "proj")
    win.projects.add_slides([slide])
    win.projects.session.record_run(overlays_for(slide, tmp_path / "proj" / "overlays" / "a"))
    open_and_wait(qtbot, win, slide)
    coll = win.annotations.collection
    objs = [Annotation(box(50, 60, 150, 160), path_class=PathClass("Tumour", (200, 0, 0)),
                       name="first"),
            Annotation(box(200, 100, 260, 180))]  # fmt: skip
    coll.apply(Edit.add(objs[:1], "Rectangle"))
    coll.apply(Edit.add(objs[1:], "Rectangle"))
    assert "2 annotations" in win.projects.panel.list.item(0).text()  # counts follow edits
    coll.undo()  # the undo log survives too
    assert win.projects.panel.list.item(0).text().splitlines()[1].startswith("1 annotation ·")
    assert not win.annotations.is_dirty()  # saved as it happened: no offer on close
    win.annotations.classes.add("Invasive front", (90, 90, 90))
    win.close()

    win = make_window(qtbot, tmp_path / "settings.ini")
    assert "1 annotation" in win.projects.panel.list.item(0).text()
    win.projects.panel.list.itemActivated.emit(win.projects.panel.list.item(0))
    qtbot.waitUntil(lambda: win.slide is not None, timeout=20000)
    coll = win.annotations.collection
    assert [(o.id, o.name, o.geometry.bounds) for o in coll] == [
        (objs[0].id, "first", (50, 60, 150, 160))
    ]
    assert coll.can_redo and coll.redo_label == "Rectangle"
    coll.redo()
    assert len(coll) == 2
    assert sorted(o.name for o in win.viewer.overlays()) == ["prob_a", "saliency"]
    assert "Invasive front" in win.annotations.classes.names()
    win.close()


def test_import_reads_in_a_worker_and_can_be_cancelled(
    qtbot, tmp_path: Path, shared_data: Path
) -> None:
    win = make_window(qtbot, tmp_path / "settings.ini")
    open_and_wait(qtbot, win, picture(tmp_path, "p.png"))
    files = win.annotation_files
    source = shared_data / QUPATH05
    with qtbot.waitSignal(files.sigImported, timeout=20000) as done:
        assert files.import_files([source, source, source])
        assert files.importing() and len(win.annotations.collection) == 0  # not read yet
    assert done.args == [9] and len(win.annotations.collection) == 9
    assert win.annotations.collection.undo_label == "Import qupath05.geojson"  # one per file
    with qtbot.waitSignal(files.sigImported, timeout=20000) as done:
        assert files.import_files([source] * 50)
        files.cancel_import()  # before any file arrived: nothing is added
    assert done.args == [0] and not files.importing()
    qtbot.wait(300)  # what the worker still reads is dropped
    assert len(win.annotations.collection) == 9 and "cancelled" in win.status.currentMessage()
    win.annotations._dirty = False
    win.close()


def test_annotations_of_another_slide_import_with_a_warning(
    qtbot, tmp_path: Path, cmu_svs: Path
) -> None:
    """An ASAP file whose 50 polygons lie at x ~ 28,000 on the 2,220 px wide CMU slide."""
    far = [Annotation(box(28_000 + 40 * i, 500, 28_030 + 40 * i, 530)) for i in range(50)]
    path = tmp_path / "other_slide.xml"
    write_annotations(path, far)
    win = make_window(qtbot, tmp_path / "settings.ini")
    open_and_wait(qtbot, win, cmu_svs)
    with qtbot.waitSignal(win.annotation_files.sigImported, timeout=20000):
        assert win.annotation_files.import_files([path])
    assert len(win.annotations.collection) == 50
    warnings = [r for r in win.errors.history if "outside the slide" in r.message]
    assert len(warnings) == 1 and not warnings[0].minor
    assert "50 of 50 objects lie outside the slide (2220 x 2967 px" in warnings[0].message
    assert "another slide" in warnings[0].message
    assert "by about -28000, +0 px" in warnings[0].message
    with open_slide(cmu_svs) as slide:
        assert "50 of them outside the slide" in read_file(path, slide).summary()
    win.annotations._dirty = False
    win.close()


def test_a_damaged_project_is_offered_read_only(qtbot, tmp_path: Path, cmu_svs: Path,
                                                 monkeypatch) -> None:  # fmt: skip
    from PySide6.QtWidgets import QMessageBox

    from pathscaat.project import Project

    root = tmp_path / "proj"
    with Project.create(root) as project:
        project.add_slide(cmu_svs)
    db = root / "project.sqlite"
    data = bytearray(db.read_bytes())
    for k in range(len(data) - 8192, len(data) - 4096):  # garbage over the last pages
        data[k] = (k * 131) % 256
    db.write_bytes(bytes(data))
    asked: list[str] = []

    def answer(button: QMessageBox.StandardButton):
        def ask(_parent, _title, text, *_a, **_k):
            asked.append(text)
            return button
        return ask

    win = make_window(qtbot, tmp_path / "settings.ini")
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    assert not win.projects.open_project(root)
    assert len(asked) == 1 and "is damaged" in asked[0] and "read-only" in asked[0]
    assert win.projects.session.project is None
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Open))
    assert win.projects.open_project(root)
    assert win.projects.session.project is not None and win.projects.session.project.read_only
    assert "is damaged" in (win.projects.session.notice or "")
    assert db.read_bytes() == bytes(data)  # nothing written
    win.close()
