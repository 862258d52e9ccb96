"""File ▸ New Project…: ask for a folder, make the project there (in a new sub-folder when
the folder has files in it, asked first), and bring the open slide into it with its
annotations, their undo and a µm/px the user set, so starting a project loses no work.
Split from :mod:`ui.project.controller`, which opens, closes and restores projects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation
from pathscaat.progress import PathscaatError
from ui.dialogs.folder_dialog import ask_output_folder

if TYPE_CHECKING:
    from ui.project.controller import ProjectController


@dataclass(frozen=True)
class _Carried:
    """What New Project brings from the open slide into the new project."""

    path: Path
    objects: list[Annotation]
    history: list[Edit]
    history_pos: int
    mpp: float | None


def ask_new_project(projects: ProjectController) -> None:
    """Ask for the folder, then make the project there (:func:`make_new_project`)."""
    win = projects.win
    start = win.settings.get("dialogs/last_dir")
    folder = ask_output_folder(  # one with files in it: a sub-folder, asked; a new name is made
        win, "New Project: choose an empty folder or type a new one", start
    )
    if folder:
        projects.new_project(Path(folder))


def make_new_project(projects: ProjectController, folder: Path) -> bool:
    """Make a project in ``folder`` (a new sub-folder of a folder with files in it) and
    bring the open slide and its annotations (with their undo) into it."""
    from pathscaat.project import Project, new_project_folder

    win = projects.win
    target = new_project_folder(folder)
    if target != folder and not _confirm_subfolder(projects, folder, target):
        return False
    carried = _carried_slide(projects)
    try:
        Project.create(target).close()  # before the slide goes: a refusal keeps it
    except PathscaatError as exc:
        win.errors.report(f"{exc}.", title="New project")
        return False
    if not projects.enter(lambda: projects.session.open(target), target, "New project",
                          ask=carried is None):  # fmt: skip
        return False
    if target != folder:
        win.status.showMessage(f"{folder.name} has files in it: the project is in "
                               f"its new sub-folder {target.name}.", 10000)
    if carried is not None:
        _bring_in(projects, carried)
    return True


def _confirm_subfolder(projects: ProjectController, folder: Path, target: Path) -> bool:
    win = projects.win
    if not win.interactive:
        return True
    B = QMessageBox.StandardButton
    answer = QMessageBox.question(
        win, "New project",
        f"{folder} already has files in it.\n\nMake the project in a new sub-folder, "
        f"\u201c{target.name}\u201d?", B.Ok | B.Cancel, B.Ok,
    )  # fmt: skip
    return answer == B.Ok


def _carried_slide(projects: ProjectController) -> _Carried | None:
    """The open slide, its annotations, their undo log and a µm/px the user set."""
    win = projects.win
    coll = win.annotations.collection
    if win.slide is None or win.slide_path is None or coll is None:
        return None
    mpp = win.slide.mpp
    user_mpp = mpp.x if mpp is not None and mpp.source in ("user", "project") else None
    return _Carried(win.slide_path, coll.objects(), coll.history, coll.history_pos, user_mpp)


def _bring_in(projects: ProjectController, carried: _Carried) -> None:
    win, project = projects.win, projects.session.project
    assert project is not None
    try:
        record, _new = project.add_slide(carried.path, mpp_override=carried.mpp)
        project.replace_annotations(record.id, carried.objects, carried.history,
                                    carried.history_pos)  # fmt: skip
        project.set_classes(list(win.annotations.classes))
    except PathscaatError as exc:
        win.errors.report(f"{carried.path.name} could not be added to the new "
                          f"project: {exc}.", title="New project")  # fmt: skip
        return
    projects.session.sigSlidesChanged.emit()
    win.open_slide(carried.path)
