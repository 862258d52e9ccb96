"""Questions the window asks before it closes."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm_stop_run(parent: QWidget) -> bool:
    """Ask whether to stop the running model and quit (tiles scored so far are kept)."""
    answer = QMessageBox.question(
        parent,
        "Quit PathSCAAT",
        "A model run is still in progress. Stop it and quit?\n\n"
        "Tiles already scored are kept; running the same model again resumes the run.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
