"""Choosing a folder to write to: a typed new name is made, not refused."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QLineEdit

from ui.dialogs.folder_dialog import NewFolderDialog


def _type_and_accept(dialog: NewFolderDialog, text: str) -> None:
    edit = dialog.findChild(QLineEdit, "fileNameEdit")
    assert edit is not None, "Qt's own folder dialog (not a native one) is expected here"
    edit.setText(text)
    dialog.accept()


def test_a_typed_new_folder_is_made_and_chosen(qtbot, tmp_path: Path) -> None:
    dialog = NewFolderDialog(None, "New Project", str(tmp_path))
    qtbot.addWidget(dialog)
    QTimer.singleShot(100, lambda: _type_and_accept(dialog, "my project"))
    QTimer.singleShot(5000, dialog.reject)  # a refusal would leave a modal box open
    assert dialog.exec() == QDialog.DialogCode.Accepted
    assert (tmp_path / "my project").is_dir()
    assert dialog.made == tmp_path / "my project"
    assert Path(dialog.selectedFiles()[0]) == tmp_path / "my project"


def test_an_existing_folder_is_chosen_as_it_is(qtbot, tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "keep.txt").write_text("x")
    dialog = NewFolderDialog(None, "Export to folder", str(tmp_path))
    qtbot.addWidget(dialog)
    QTimer.singleShot(100, lambda: _type_and_accept(dialog, "old"))
    QTimer.singleShot(5000, dialog.reject)
    assert dialog.exec() == QDialog.DialogCode.Accepted
    assert dialog.made is None and (tmp_path / "old" / "keep.txt").is_file()
