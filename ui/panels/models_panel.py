"""The Models panel: trained models with backbone, objective, date, accuracy, and actions.

Rows come from the open project's models when one is given (``set_project_models``), else
from the checkpoints the wizard remembered and the runs under the chosen models folder.
Actions: run on the open slide, evaluate, show the evaluation report, reveal the folder,
remove from the list (the files stay on disk).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Signal, SignalInstance
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.settings import Settings
from ui.wizard.models_list import MODELS_DIR_KEY, ModelRow, forget_model, known_models

COLUMNS = ("Model", "Backbone", "Objective", "Date", "Accuracy")
EMPTY_TEXT = "No trained models yet. Analysis ▸ Train a Model… makes one."


def report_path(checkpoint: Path) -> Path:
    """Where the wizard's evaluation of ``checkpoint`` writes its report."""
    return checkpoint.parent / "evaluation" / "report.md"


class ModelsPanel(QWidget):
    """``sigRunOnSlide(checkpoint)`` and ``sigEvaluate(checkpoint)`` go to the window."""

    sigRunOnSlide = Signal(object)
    sigEvaluate = Signal(object)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.rows: list[ModelRow] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _i: self._run())
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setObjectName("hint")
        self.empty.setWordWrap(True)
        self.buttons = {
            "run": self._button("Run on Slide", "Run the model over the open slide", self._run),
            "evaluate": self._button("Evaluate", "Test patches and saliency quality",
                                     lambda: self._emit(self.sigEvaluate)),
            "report": self._button("Report", "Open the evaluation report", self._report),
            "reveal": self._button("Reveal", "Show the model's folder", self._reveal),
            "remove": self._button("Remove", "Remove from this list (files are kept)",
                                   self._remove),
        }  # fmt: skip
        folder = QPushButton("Models Folder…")
        folder.setToolTip("List every run found in a folder of trained models")
        folder.clicked.connect(self._choose_folder)
        row = QHBoxLayout()
        for button in self.buttons.values():
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(row)
        layout.addWidget(folder)
        self.slide_open = False
        self.refresh()

    def _button(self, text: str, tip: str, slot: object) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def refresh(self) -> None:
        """Read the list again (after a training run, a removal, a new folder)."""
        self.rows = known_models(self.settings)
        self.table.setRowCount(0)
        for r, row in enumerate(self.rows):
            self.table.insertRow(r)
            acc = f"{row.accuracy:.0%}" if row.accuracy is not None else "—"
            for c, text in enumerate((row.name, row.backbone, row.objective, row.date, acc)):
                item = QTableWidgetItem(text)
                item.setToolTip(str(row.checkpoint))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.empty.setVisible(not self.rows)
        self._update_buttons()

    def set_slide_open(self, is_open: bool) -> None:
        self.slide_open = is_open
        self._update_buttons()

    def selected(self) -> ModelRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows and rows[0].row() < len(self.rows) else None

    def _update_buttons(self) -> None:
        row = self.selected()
        for button in self.buttons.values():
            button.setEnabled(row is not None)
        self.buttons["run"].setEnabled(row is not None and self.slide_open)
        has_report = row is not None and report_path(row.checkpoint).is_file()
        self.buttons["report"].setEnabled(has_report)

    def _emit(self, signal: SignalInstance) -> None:
        row = self.selected()
        if row is not None:
            signal.emit(row.checkpoint)

    def _run(self) -> None:
        if self.slide_open:
            self._emit(self.sigRunOnSlide)

    def _report(self) -> None:
        row = self.selected()
        if row is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(report_path(row.checkpoint))))

    def _reveal(self) -> None:
        row = self.selected()
        if row is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(row.checkpoint.parent)))

    def _remove(self) -> None:
        row = self.selected()
        if row is not None:
            forget_model(self.settings, row.checkpoint)
            self.refresh()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Folder of trained models", self.settings.get(MODELS_DIR_KEY)
        )
        if folder:
            self.settings.set(MODELS_DIR_KEY, folder)
            self.refresh()
