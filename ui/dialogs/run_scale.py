"""The Run dialog's Scale row: the scale the model will read the slide at, before it runs.

A model knows one field of view; a slide read at another scale gives confident wrong
answers. The row says the model's µm/px and tile size and the slide's µm/px with its
source, and when the model records a µm/px that the slide lacks, it asks for the slide's
(the run is refused otherwise: ``pathscaat.inference.scale``). It reads the checkpoint's
JSON only (no torch), so it updates as the user types a path.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.panels.info_panel import mpp_source_text

PROBLEM = "#b00020"
CAUTION = "#8a5a00"


class ScaleRow(QWidget):
    """Text about the run's scale and, when the slide's µm/px is needed, a Set button."""

    sigSetMpp = Signal()

    def __init__(self, slide_name: str, slide_mpp: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slide_name = slide_name
        self._slide_mpp = slide_mpp
        self._model: Any = None  # pathscaat.inference.scale.ModelScale, None: unreadable
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setObjectName("scaleText")
        self.set_button = QPushButton("Set µm/px…")
        self.set_button.setObjectName("primary")
        self.set_button.setToolTip("Enter the slide's pixel size at full resolution")
        self.set_button.clicked.connect(self.sigSetMpp)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.set_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self._refresh()

    def set_checkpoint(self, path_text: str) -> None:
        from pathscaat.inference.scale import checkpoint_scale

        self._model = checkpoint_scale(path_text) if path_text.strip() else None
        self._refresh()

    def set_slide_mpp(self, slide_mpp: Any) -> None:
        self._slide_mpp = slide_mpp
        self._refresh()

    @property
    def needs_mpp(self) -> bool:
        """True when the model records a µm/px and the slide does not: the run would fail."""
        return self._model is not None and self._model.mpp is not None and self._slide_mpp is None

    def reason(self) -> str:
        """Why the slide's µm/px is asked for (the Set µm/px prompt's first lines)."""
        if self._model is None or self._model.mpp is None:
            return ""
        return (f"{self._slide_name} does not record its pixel size, and the model was trained "
                f"at {self._model.mpp:.3g} µm/px ({self._model.describe_field()}). Read at "
                "another scale it would answer with the same confidence, but wrongly.")  # fmt: skip

    def _refresh(self) -> None:
        self.set_button.setVisible(self.needs_mpp)
        self.text.setText(self._html())

    def _html(self) -> str:
        from pathscaat.inference.scale import scale_warnings

        model, slide = self._model, self._slide_mpp
        if model is None:
            return ""
        if self.needs_mpp:
            return _colour(PROBLEM, f"{self.reason()} Set the slide's µm/px to run it.")
        slide_text = (f"this slide is {slide.x:.4g} µm/px, {mpp_source_text(slide.source)}"
                      if slide is not None else "this slide records no µm/px")  # fmt: skip
        if model.mpp is None:
            read = f", {model.input_px * slide.x:.0f} µm each" if slide is not None else ""
            return _colour(CAUTION, (
                f"The model records no µm/px: its {model.input_px} px tiles are read at level "
                f"0{read}; {slide_text}. If it was trained at another scale, its answers are "
                "wrong."))  # fmt: skip
        lines = [escape(f"The model reads {model.field_um:.0f} µm tiles ({model.input_px} px at "
                        f"{model.mpp:.3g} µm/px); {slide_text}.")]  # fmt: skip
        for kind, text in scale_warnings(model):
            remedy = " If none is found, lower Minimum tissue below." if kind == "large" else ""
            lines.append(_colour(CAUTION, f"⚠ {text}{remedy}"))
        return "<br>".join(lines)


def _colour(colour: str, text: str) -> str:
    return f'<span style="color:{colour}">{escape(text)}</span>'
