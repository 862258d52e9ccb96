"""The data page's "Slide id" choice: how a tile's slide is read, and the groups it makes.

A thin face over :mod:`pathscaat.data.slide_id`: a choice of rule, the separator, pattern
or manifest column it needs, and a line that previews the slides the rule finds.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ui.wizard.context import hint_label

#: (rule kind, label, what the text box holds: None = no text box, placeholder)
KINDS: tuple[tuple[str, str, str | None], ...] = (
    ("auto", "Automatic (a manifest.csv slide column, or a known data set's names)", None),
    ("tcga", "TCGA barcode in the name (TCGA-XX-XXXX)", None),
    ("case", "Case number in the name (Case-12, case_012)", None),
    ("prefix", "File name up to a separator", "separator, e.g. _"),
    ("regex", "A pattern (regular expression) in the name", r"e.g. ^(H\d+)_  (group 1 is the id)"),
    ("column", "A column of the folder's manifest.csv", "column name, e.g. patient"),
)  # fmt: skip


class _ValueEdit(QLineEdit):
    """Enter applies the pattern here; it does not press the wizard's Next."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


def _placeholder(kind: str) -> str | None:
    return next(p for k, _label, p in KINDS if k == kind)


class SlideIdRow(QWidget):
    """Emits ``sigRuleChanged(rule)`` with a valid ``SlideIdRule``; says why when invalid."""

    sigRuleChanged = Signal(object)

    def __init__(self, text: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from pathscaat.data.slide_id import SlideIdRule

        self.combo = QComboBox()
        for kind, label, _ in KINDS:
            self.combo.addItem(label, kind)
        self.value = _ValueEdit()
        self.value.setMaximumWidth(260)
        self.preview = hint_label()
        self.preview.setObjectName("slideIdPreview")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Slide id:"))
        row.addWidget(self.combo, 1)
        row.addWidget(self.value)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.preview)
        self.setToolTip(
            "Tiles of one slide (or patient) must stay together in train, validation or test, "
            "or the test score flatters the model. Choose how your file names or manifest "
            "say which slide a tile came from."
        )
        try:
            rule = SlideIdRule.parse(text)
        except Exception:  # a remembered rule that no longer parses: start from auto
            rule = SlideIdRule()
        self.combo.setCurrentIndex(max(0, self.combo.findData(rule.kind)))
        self.value.setText(rule.value)
        self._show_value_box()
        self.combo.currentIndexChanged.connect(self._kind_changed)
        self.value.editingFinished.connect(self._emit)

    def rule(self) -> Any:
        """The rule shown (``PathscaatError`` when its pattern or column is not valid)."""
        from pathscaat.data.slide_id import SlideIdRule

        kind = str(self.combo.currentData())
        value = self.value.text().strip() if _placeholder(kind) is not None else ""
        return SlideIdRule.parse(f"{kind}:{value}" if value else kind)

    def _show_value_box(self) -> None:
        placeholder = _placeholder(str(self.combo.currentData()))
        self.value.setVisible(placeholder is not None)
        self.value.setPlaceholderText(placeholder or "")

    def _kind_changed(self) -> None:
        self._show_value_box()
        kind = str(self.combo.currentData())
        if kind in ("regex", "column") and not self.value.text().strip():
            what = "pattern" if kind == "regex" else "column name"
            self.preview.setText(f"Type the {what}, then press Enter.")
            self.value.setFocus()
            return
        self._emit()

    def _emit(self) -> None:
        from pathscaat.progress import PathscaatError

        try:
            rule = self.rule()
        except PathscaatError as exc:
            self.preview.setText(f"⚠ {exc}")
            return
        self.sigRuleChanged.emit(rule)

    def show_groups(self, scan: Any) -> None:
        """The preview line: the slides ``scan``'s rule found, and the tiles without one."""
        from pathscaat.data.slide_id import preview_groups

        if scan is None:
            self.preview.clear()
            return
        tiles = [(i.path.name, dict(i.manifest_row)) for i in scan.items]
        self.preview.setText(preview_groups(tiles, scan.slide_id).summary())
