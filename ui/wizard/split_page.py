"""Page 2, Split: which patches train, which choose the best epoch, which are kept for the test."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from ui.wizard.context import WizardContext, hint_label, problem_label

SPLITS = (("train", "Training"), ("val", "Validation"), ("test", "Test"))

BY_GROUP = (
    "Patches are split by slide: all patches of one slide go to the same part, so the test "
    "measures how the model does on slides it has never seen."
)
BY_FILE = (
    "No slide ids were found, so patches are split one by one, each class in proportion "
    "(see the warning below). Go Back to choose how a slide id is read from your file names "
    "or manifest (“Slide id”)."
)


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """``obj.name`` or ``obj[name]`` (the preview may be a dataclass or a mapping)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


class SplitPage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("2 · Training, validation and test patches")
        self.setSubTitle(
            "The model learns from the training patches, the validation patches pick its best "
            "epoch, and the test patches are kept aside to measure it honestly at the end."
        )
        self.val_spin = self._percent_spin()
        self.test_spin = self._percent_spin()
        form = QFormLayout()
        form.addRow("Validation share:", self.val_spin)
        form.addRow("Test share:", self.test_spin)
        self.how = hint_label()
        self.table = QTableWidget(0, 4)
        self.table.verticalHeader().setVisible(False)
        self.warnings = hint_label()
        self.problem = problem_label()
        layout = QVBoxLayout(self)
        layout.addWidget(self.how)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.warnings)
        layout.addWidget(self.problem)
        self.val_spin.valueChanged.connect(self.refresh)
        self.test_spin.valueChanged.connect(self.refresh)
        self._ok = False

    def _percent_spin(self) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 60.0)
        spin.setSingleStep(5.0)
        spin.setDecimals(0)
        spin.setSuffix(" %")
        spin.setMaximumWidth(110)
        return spin

    def initializePage(self) -> None:
        c = self.ctx.choices
        for spin, value in ((self.val_spin, c.val_fraction), (self.test_spin, c.test_fraction)):
            spin.blockSignals(True)
            spin.setValue(round(value * 100))
            spin.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        from pathscaat.data.split import preview_split

        c, scan = self.ctx.choices, self.ctx.scan
        c.val_fraction, c.test_fraction = self.val_spin.value() / 100, self.test_spin.value() / 100
        self.problem.clear()
        self._ok = False
        if scan is None:
            return
        has_groups = any(scan.groups.values()) if scan.groups else False
        if c.val_fraction + c.test_fraction >= 0.9:
            self.problem.setText(
                "Validation and test together take nearly every patch; lower them so that "
                "at least 10 % remain for training."
            )
            self.table.setRowCount(0)
            self.completeChanged.emit()
            return
        self.how.setText(BY_GROUP if has_groups else BY_FILE)
        try:
            preview = preview_split(scan, c.val_fraction, c.test_fraction, c.seed, has_groups)
        except Exception as exc:  # PathscaatError: fractions that leave nothing to train on
            self.problem.setText(str(exc))
            self.table.setRowCount(0)
            self.completeChanged.emit()
            return
        self._fill(scan.class_names, field_of(preview, "counts", {}))
        self.warnings.setText("\n".join(f"⚠ {w}" for w in field_of(preview, "warnings", [])))
        self._ok = True
        self.completeChanged.emit()

    def _fill(self, classes: list[str], counts: dict[str, dict[str, int]]) -> None:
        self.table.setRowCount(0)
        self.table.setHorizontalHeaderLabels(["Class"] + [label for _k, label in SPLITS])
        for row, name in enumerate([*classes, "All"]):
            self.table.insertRow(row)
            self.table.setItem(row, 0, QTableWidgetItem(name))
            for col, (key, _label) in enumerate(SPLITS, start=1):
                part = counts.get(key, {})
                n = sum(part.values()) if name == "All" else part.get(name, 0)
                self.table.setItem(row, col, QTableWidgetItem(str(n)))
        self.table.resizeColumnsToContents()

    def isComplete(self) -> bool:
        return self._ok
