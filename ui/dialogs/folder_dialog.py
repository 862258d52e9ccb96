"""A folder chooser for places the app writes to (a new project, a model, an export).

Qt's own folder dialog refuses a folder that does not exist yet ("Directory not found"),
yet typing a new name is what people do when they want a new folder. This dialog makes a
typed folder (one level, in a folder that exists) before accepting it. Native dialogs
(Windows, macOS) have their own New Folder button and never reach ``accept`` here.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

log = logging.getLogger(__name__)


class NewFolderDialog(QFileDialog):
    """``QFileDialog`` in folder mode that creates the typed folder when it is new."""

    def __init__(self, parent: QWidget | None, title: str, start: str | None = "") -> None:
        super().__init__(parent, title, start or "")
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.made: Path | None = None

    def accept(self) -> None:
        chosen = self.selectedFiles()
        if chosen:
            path = Path(chosen[0])
            if not path.exists() and path.parent.is_dir():
                try:
                    path.mkdir()
                except OSError as exc:
                    QMessageBox.warning(
                        self, self.windowTitle(),
                        f"Cannot make the folder {path}: {exc.strerror or exc}. "
                        "Choose another place, or one you may write to.",
                    )  # fmt: skip
                    return
                self.made = path
                log.info("made the folder %s", path)
        super().accept()


def ask_output_folder(parent: QWidget | None, title: str, start: str | None = "") -> str:
    """The chosen (or newly typed, now made) folder, or "" when cancelled."""
    dialog = NewFolderDialog(parent, title, start)
    if dialog.exec() != QFileDialog.DialogCode.Accepted:
        return ""
    chosen = dialog.selectedFiles()
    return chosen[0] if chosen else ""
