"""The Model page's starting weights: a list of starting points and a file/folder row.

The list comes from the core (``pathscaat.models.starting_weights.list_starting_points``,
loaded off the UI thread): the bundled ImageNet weights first, then the ones added with
``pathscaat weights add``, then the timm models in the Hugging Face cache, then random weights
(a research setting), then "a weights file or model folder" with its path row.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pathscaat.starting_names import IMAGENET_PREFIX, RANDOM

OTHER = ""  # the item whose spec is the path row's text
KIND_LABELS = {"imagenet": "bundled", "hf-cache": "Hugging Face cache", "random": ""}


def point_label(point: Any) -> str:
    """How the list names a starting point, with its architecture and native input."""
    if point.kind == RANDOM:
        return "Random weights (a research setting)"
    name = point.name.removeprefix(IMAGENET_PREFIX) if point.kind == "imagenet" else point.name
    if point.kind == "imagenet":
        name = "ImageNet " + name.replace("efficientnet_lite", "EfficientNet-Lite")
    where = KIND_LABELS.get(point.kind, "added")
    px = f", {point.input_px} px" if point.input_px else ""
    return f"{name} ({where}) · {point.architecture or 'any backbone'}{px}"


class StartChoice(QWidget):
    """A combo of starting points and, for "a file or folder", a path with Browse buttons."""

    sigChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setObjectName("startingPoint")
        self.path = QLineEdit()
        self.path.setPlaceholderText(".safetensors/.pth file or a model folder (config.json)")
        file_button = QPushButton("File…")
        file_button.clicked.connect(self._browse_file)
        folder_button = QPushButton("Folder…")
        folder_button.clicked.connect(self._browse_folder)
        self.path_row = QWidget()
        row = QHBoxLayout(self.path_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(file_button)
        row.addWidget(folder_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.path_row)
        self.points: dict[str, Any] = {}
        self._fill([])
        self.combo.currentIndexChanged.connect(self._combo_changed)
        self.path.editingFinished.connect(self.sigChanged.emit)

    def _fill(self, points: list[Any]) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        for point in points:
            self.combo.addItem(point_label(point), point.name)
        if not points:
            self.combo.addItem("Loading the starting points…", None)
        self.combo.addItem("A weights file or model folder…", OTHER)
        self.combo.blockSignals(False)

    def set_points(self, points: list[Any], spec: str) -> None:
        """Fill the list from the core's points and select ``spec``."""
        self.points = {p.name: p for p in points}
        self._fill(points)
        self.set_spec(spec)

    def set_spec(self, spec: str) -> None:
        index = self.combo.findData(spec) if spec else self.combo.findData(RANDOM)
        self.combo.blockSignals(True)
        if index >= 0 and spec != OTHER:
            self.combo.setCurrentIndex(index)
            self.path.clear()
        else:
            self.combo.setCurrentIndex(self.combo.findData(OTHER))
            self.path.setText(spec)
        self.combo.blockSignals(False)
        self.path_row.setVisible(self.combo.currentData() == OTHER)

    def spec(self) -> str:
        """The weights spec chosen: a point's name, or the path row's text."""
        data = self.combo.currentData()
        if data is None:  # still loading: the remembered choice
            return self.path.text().strip()
        return self.path.text().strip() if data == OTHER else str(data)

    def point(self) -> Any:
        return self.points.get(self.spec())

    def _combo_changed(self) -> None:
        self.path_row.setVisible(self.combo.currentData() == OTHER)
        self.sigChanged.emit()

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Starting weights", self.path.text(), "Weights (*.safetensors *.pth *.bin)"
        )
        if path:
            self.path.setText(path)
            self.sigChanged.emit()

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Model folder (config.json)", self.path.text()
        )
        if path:
            self.path.setText(path)
            self.sigChanged.emit()
