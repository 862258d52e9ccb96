"""Set µm/px: the pixel size of a slide that does not record it (or records it wrongly).

No value is filled in when the slide has none: a pre-filled guess would be one Enter away
from being the scale a model reads the slide at. Buttons give the usual scanner values.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

USUAL = ((0.25, "40×"), (0.5, "20×"), (1.0, "10×"))
"""Common level-0 pixel sizes of slide scanners, with their objective."""


class MppDialog(QDialog):
    """Asks for a slide's level-0 µm/px; :meth:`value` after ``Accepted``."""

    def __init__(
        self, slide_name: str, current: float | None, reason: str = "",
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle("Set µm/px")
        self.setMinimumWidth(460)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(0.0, 100.0)
        self.spin.setDecimals(4)
        self.spin.setSingleStep(0.05)
        self.spin.setSuffix(" µm/px")
        self.spin.setSpecialValueText("enter the pixel size")
        self.spin.setValue(current or 0.0)
        self.spin.valueChanged.connect(self._update)
        layout = QVBoxLayout(self)
        if reason:
            why = QLabel(reason)
            why.setWordWrap(True)
            why.setObjectName("mppReason")
            layout.addWidget(why)
        ask = QLabel(f"Pixel size of {slide_name} at full resolution (µm per pixel). The "
                     "scanner's report or the file's metadata may say it.")  # fmt: skip
        ask.setWordWrap(True)
        layout.addWidget(ask)
        layout.addWidget(self.spin)
        layout.addLayout(self._usual())
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update()

    def _usual(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Usual:"))
        for um, objective in USUAL:
            button = QPushButton(f"{um:g} ({objective})")
            button.setToolTip(f"A {objective} scan is about {um:g} µm per pixel")
            button.clicked.connect(lambda _c=False, v=um: self.spin.setValue(v))
            row.addWidget(button)
        row.addStretch(1)
        return row

    def _update(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.spin.value() > 0)

    def value(self) -> float:
        return float(self.spin.value())
