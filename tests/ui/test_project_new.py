"""New Project from the app: a folder with files gets a sub-folder, the open slide and its
annotations (with their undo) come along; Add Slides lists bad files in a dialog."""

from __future__ import annotations

from pathlib import Path

import shapely

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation
from pathscaat.project import DB_NAME, Project
from tests.ui.project_fixtures import make_window, open_and_wait, picture


def test_a_folder_with_files_gets_a_sub_folder(qtbot, tmp_path: Path) -> None:
    full = tmp_path / "Documents"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    win = make_window(qtbot, tmp_path / "settings.ini")
    assert win.projects.new_project(full)
    root = win.projects.session.root
    assert root == (full / "PathSCAAT project").resolve() and (root / DB_NAME).is_file()
    assert sorted(p.name for p in full.iterdir()) == ["PathSCAAT project", "notes.txt"]
    assert "sub-folder" in win.status.currentMessage()
    win.projects.close_project()
    assert win.projects.new_project(full)  # again: the next free name
    assert win.projects.session.root == (full / "PathSCAAT project 2").resolve()
    empty = tmp_path / "empty"
    empty.mkdir()
    win.projects.close_project()
    assert win.projects.new_project(empty)
    assert win.projects.session.root == empty.resolve()
    win.close()


def test_the_open_slide_and_its_annotations_come_into_the_new_project(qtbot,
                                                                       tmp_path: Path) -> None:
    slide = picture(tmp_path / "slides", "a.png")
    win = make_window(qtbot, tmp_path / "settings.ini")
    open_and_wait(qtbot, win, slide)
    coll = win.annotations.collection
    assert coll is not None
    objs = [Annotation(shapely.box(10 + 40 * i, 20, 40 + 40 * i, 60)) for i in range(3)]
    coll.apply(Edit.add(objs[:2], "Two boxes"))
    coll.apply(Edit.add(objs[2:], "One box"))
    coll.undo()  # one edit undone: the redo comes along too
    assert win.annotations.is_dirty()
    assert win.projects.new_project(tmp_path / "proj")  # not interactive: nothing asked
    qtbot.waitUntil(lambda: win.slide is not None and win.projects.binding is not None,
                    timeout=20000)  # fmt: skip
    assert win.slide_path == slide and win.projects.panel.list.count() == 1
    coll = win.annotations.collection
    assert coll is not None and sorted(o.id for o in coll) == sorted(o.id for o in objs[:2])
    assert coll.can_redo and coll.redo_label == "One box"
    assert not win.annotations.is_dirty()  # saved in the project, every edit from now on
    win.close()
    with Project.open(tmp_path / "proj", read_only=True) as project:
        (record,) = project.slides()
        assert record.path == slide.resolve()
        assert len(project.annotations(record.id)) == 2
        assert project.history_shape(record.id) == (2, 1)


def test_add_slides_lists_a_bad_file_in_a_dialog(qtbot, tmp_path: Path) -> None:
    good = picture(tmp_path / "slides", "good.png")
    bad = tmp_path / "slides" / "broken.svs"
    bad.write_bytes(b"not a slide")
    win = make_window(qtbot, tmp_path / "settings.ini")
    assert win.projects.new_project(tmp_path / "proj")
    win.projects.add_slides([good, bad])
    (report,) = win.errors.history
    assert not report.minor  # a dialog, not a status-bar line that is gone in seconds
    assert "1 file was not added" in report.message and "broken.svs" in report.message
    win.close()


def test_run_dialog_inside_a_project_shows_where_the_project_keeps_runs(qtbot,
                                                                         tmp_path: Path) -> None:
    """The Output folder was shown, editable, and then ignored for a project slide."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.dialogs.run_model_dialog import RunModelDialog

    slide = picture(tmp_path / "slides", "a.png")
    win = make_window(qtbot, tmp_path / "settings.ini")
    seen: dict[str, object] = {}

    def look() -> None:
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, RunModelDialog)
        seen["out_shown"] = dlg.out_edit.isVisible()
        seen["out"] = dlg.request().out
        dlg.reject()

    open_and_wait(qtbot, win, slide)  # outside a project: the Output folder is the user's
    QTimer.singleShot(300, look)
    win.run_model()
    assert seen["out_shown"] and seen["out"] != tmp_path / "proj" / "overlays" / "a"
    assert win.projects.new_project(tmp_path / "proj")  # the slide comes along
    qtbot.waitUntil(lambda: win.projects.binding is not None, timeout=20000)
    QTimer.singleShot(300, look)
    win.run_model()
    assert not seen["out_shown"]
    assert seen["out"] == (tmp_path / "proj" / "overlays" / "a").resolve()
    win.close()
