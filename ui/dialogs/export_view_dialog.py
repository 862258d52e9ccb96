"""File > Export View: what to export (view or whole slide), how large, and where."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pathscaat.inference.render import MAX_EXPORT_PX
from ui.export_view import ExportRequest


def default_export_path(slide: Path, last_dir: str = "") -> Path:
    """``<slide>-view.png`` in the last export folder, else the user's Pictures folder."""
    folder = last_dir or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.PicturesLocation
    )
    return Path(folder or Path.home()) / f"{slide.stem}-view.png"


VIEW_SCALES = ((1.0, "as on screen"), (2.0, "twice the screen size"), (4.0, "four times"))


class ExportViewDialog(QDialog):
    """A small form; ``request()`` gives the answer after ``Accepted``."""

    def __init__(
        self, default_path: Path, slide_longest_px: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export View")
        self.setMinimumWidth(520)
        self.view_radio = QRadioButton("Current view")
        self.slide_radio = QRadioButton("Whole slide")
        self.view_radio.setChecked(True)
        self.view_scale = QComboBox()
        for value, label in VIEW_SCALES:
            self.view_scale.addItem(label, value)
        self.longest = QSpinBox()
        self.longest.setRange(256, MAX_EXPORT_PX)
        self.longest.setSingleStep(500)
        self.longest.setSuffix(" px (longer side)")
        self.longest.setValue(min(4000, max(256, slide_longest_px)))
        self.scale_bar = QCheckBox("Scale bar")
        self.legends = QCheckBox("Legends of the visible overlays")
        self.scale_bar.setChecked(True)
        self.legends.setChecked(True)
        self.path_edit = QLineEdit(str(default_path))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow(self.view_radio, self.view_scale)
        form.addRow(self.slide_radio, self.longest)
        form.addRow("Include:", self.scale_bar)
        form.addRow("", self.legends)
        form.addRow("File:", row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.view_radio.toggled.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        self.view_scale.setEnabled(self.view_radio.isChecked())
        self.longest.setEnabled(not self.view_radio.isChecked())

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export view as", self.path_edit.text(), "PNG images (*.png)"
        )
        if path:
            self.path_edit.setText(path)

    def request(self) -> ExportRequest:
        return ExportRequest(
            path=Path(self.path_edit.text()).expanduser(),
            whole_slide=self.slide_radio.isChecked(),
            longest_px=self.longest.value(),
            view_scale=float(self.view_scale.currentData()),
            scale_bar=self.scale_bar.isChecked(),
            legends=self.legends.isChecked(),
        )
