"""Overlay layers: visibility, opacity, colormap, threshold, legend, value under the cursor.

The panel edits :class:`ui.viewer.overlay_layer.OverlayLayer` model objects and listens to
their ``sigChanged``; it never talks to the viewer, which restyles itself from the layers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.actions import icon

if TYPE_CHECKING:
    from ui.viewer.overlay_layer import OverlayLayer

KIND_LABELS = {
    "saliency": "saliency",
    "probability": "class probability",
    "classes": "predicted class (colour) and its probability (strength)",
    "tissue": "tissue",
}


REGION_KINDS = ("saliency", "probability")
"""Layers whose values can be thresholded into regions (Make regions…)."""


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def display_name(name: str, kind: str) -> str:
    """``prob_tumour`` reads as ``tumour`` (the card says it is a class probability)."""
    if kind == "probability" and name.startswith("prob_"):
        return name[len("prob_") :]
    return name


class LayerCard(QFrame):
    """Controls of one layer; kept in sync with the layer both ways."""

    sigRemove = Signal(str)
    sigMakeRegions = Signal(str)

    def __init__(self, layer: OverlayLayer, colormaps: tuple[str, ...], parent: QWidget) -> None:
        super().__init__(parent)
        self.layer = layer
        self.swatches: list[QLabel] = []
        self.setObjectName("layerCard")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 4, 4, 6)
        outer.setSpacing(2)
        outer.addLayout(self._header(layer, colormaps))
        self.details = self._details(layer)
        outer.addWidget(self.details)
        layer.sigChanged.connect(self.refresh)
        self.refresh()

    def _header(self, layer: OverlayLayer, colormaps: tuple[str, ...]) -> QHBoxLayout:
        """Visibility checkbox with the name, colormap, remove button."""
        self.visible_box = QCheckBox(display_name(layer.name, layer.kind))
        self.visible_box.setToolTip(f"Show or hide this {KIND_LABELS.get(layer.kind, layer.kind)}")
        self.visible_box.toggled.connect(lambda on: setattr(layer, "visible", on))
        self.colormap_combo = QComboBox()
        self.colormap_combo.addItems(list(colormaps))
        self.colormap_combo.setToolTip("Colour map")
        self.colormap_combo.currentTextChanged.connect(lambda n: setattr(layer, "colormap", n))
        self.colormap_combo.setVisible(not layer.legend_entries())  # classes have colours
        remove = QToolButton()
        remove.setIcon(icon("close"))
        remove.setAutoRaise(True)
        remove.setToolTip("Remove this layer")
        remove.clicked.connect(lambda: self.sigRemove.emit(layer.name))
        top = QHBoxLayout()
        top.addWidget(self.visible_box, 1)
        top.addWidget(self.colormap_combo)
        if layer.kind in REGION_KINDS:
            self.regions_button = QToolButton()
            self.regions_button.setText("Regions…")
            self.regions_button.setToolTip(
                "Make regions: outline where this layer is above a threshold, preview them "
                "on the slide, and keep them as annotations"
            )
            self.regions_button.clicked.connect(lambda: self.sigMakeRegions.emit(layer.name))
            top.addWidget(self.regions_button)
        top.addWidget(remove)
        return top

    def _details(self, layer: OverlayLayer) -> QWidget:
        """Kind, opacity, threshold and legend: shown while the layer is visible."""
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 4, 0)
        grid.setVerticalSpacing(4)
        self.opacity_slider = self._slider(0, 100, "Opacity of the layer over the slide")
        self.opacity_slider.valueChanged.connect(lambda v: setattr(layer, "opacity", v / 100))
        categorical = bool(layer.legend_entries())
        self.threshold_slider = self._slider(
            0, 255,
            "Tiles whose class probability is below this are not drawn" if categorical
            else "Values below this are not drawn",
        )  # fmt: skip
        self.threshold_slider.valueChanged.connect(
            lambda c: setattr(layer, "threshold", layer.code_to_value(c))
        )
        self.opacity_text = QLabel()
        self.threshold_text = self._threshold_box(layer)
        self.legend = QLabel()
        self.legend.setToolTip(f"{_fmt(layer.value_min)} … {_fmt(layer.value_max)}")
        self.legend.setScaledContents(True)
        self.legend.setFixedHeight(10)
        self.legend.setMinimumWidth(60)
        kind_text = KIND_LABELS.get(layer.kind, layer.kind)
        kind, lo, hi = (
            QLabel(kind_text),
            QLabel(_fmt(layer.value_min)),
            QLabel(_fmt(layer.value_max)),
        )
        for w in (kind, lo, hi, self.opacity_text):
            w.setObjectName("hint")
        kind.setVisible(kind_text != layer.name)
        if layer.meaning:  # what this layer says, in words (saliency layers of new runs)
            kind.setText(f"{kind_text}: {layer.meaning}")
            kind.setWordWrap(True)
            kind.setVisible(True)
        if layer.unit:
            hi.setText(f"{_fmt(layer.value_max)} ({layer.unit})")
            hi.setWordWrap(True)
        grid.addWidget(kind, 0, 0, 1, 3)
        for row, (text, slider, value) in enumerate(
            (("Opacity", self.opacity_slider, self.opacity_text),
             ("Min. prob." if categorical else "Threshold", self.threshold_slider,
              self.threshold_text)), start=1,
        ):  # fmt: skip
            grid.addWidget(QLabel(text), row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(value, row, 2)
        if categorical:
            grid.addWidget(self._swatches(layer), 3, 0, 1, 3)
        else:
            grid.addWidget(self.legend, 3, 0, 1, 3)
            ends = QHBoxLayout()
            ends.addWidget(lo)
            ends.addStretch(1)
            ends.addWidget(hi)
            grid.addLayout(ends, 4, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        return box

    def _swatches(self, layer: OverlayLayer) -> QWidget:
        """The class legend: a swatch and the name of each class, two columns.

        Each swatch is split: the upper left as a sure tile of the class looks over eosin,
        the lower right over haematoxylin, at the layer's opacity (:meth:`refresh` keeps
        them in step), so the legend matches the slide rather than the pure colour.
        """
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 2, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        for i, (name, _colour) in enumerate(layer.legend_entries()):
            swatch = QLabel()
            swatch.setFixedSize(22, 14)
            label = QLabel(name)
            label.setObjectName("hint")
            grid.addWidget(swatch, i // 2, 2 * (i % 2))
            grid.addWidget(label, i // 2, 2 * (i % 2) + 1)
            self.swatches.append(swatch)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return box

    def _paint_swatches(self) -> None:
        entries = dict(self.layer.legend_entries())
        for swatch, (name, eosin, haem) in zip(
            self.swatches, self.layer.legend_swatches(), strict=False
        ):
            e, h = (f"rgb({r},{g},{b})" for r, g, b in (eosin, haem))
            swatch.setStyleSheet(
                "border: 1px solid #555; background: qlineargradient(x1:0, y1:0, x2:1, "
                f"y2:1, stop:0 {e}, stop:0.5 {e}, stop:0.51 {h}, stop:1 {h});"
            )
            pure = "rgb({},{},{})".format(*entries.get(name, (0, 0, 0)))
            swatch.setToolTip(
                f"{name} ({pure}) at {self.layer.opacity * 100:.0f} % opacity: over eosin "
                "(upper left) and over haematoxylin (lower right), as a sure tile shows"
            )

    def _threshold_box(self, layer: OverlayLayer) -> QDoubleSpinBox:
        """The threshold typed in the layer's own unit (kept as typed, not snapped to a
        slider step); the slider beside it moves with it."""
        box = QDoubleSpinBox()
        box.setRange(min(layer.value_min, layer.value_max), max(layer.value_min, layer.value_max))
        span = abs(layer.value_max - layer.value_min) or 1.0
        box.setDecimals(max(3, 3 - math.floor(math.log10(span))))
        box.setSingleStep(span / 100)
        box.setKeyboardTracking(False)
        # (no NoButtons: under the app's stylesheet it collapses the text field to 1 px)
        box.setToolTip(f"Values below this are not drawn ({layer.unit or 'the layer’s units'})")
        box.valueChanged.connect(lambda v: setattr(layer, "threshold", float(v)))
        digits = box.fontMetrics().horizontalAdvance("0." + "0" * (box.decimals() + 1))
        box.setFixedWidth(digits + 40)  # padding and arrows: the value must stay readable
        return box

    def _slider(self, lo: int, hi: int, tip: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(lo, hi)
        slider.setToolTip(tip)
        return slider

    def refresh(self, *_: object) -> None:
        """Show the layer's current state without echoing it back to the layer."""
        layer = self.layer
        widgets = (
            self.visible_box,
            self.colormap_combo,
            self.opacity_slider,
            self.threshold_slider,
            self.threshold_text,
        )
        for w in widgets:
            w.blockSignals(True)
        self.visible_box.setChecked(layer.visible)
        self.colormap_combo.setCurrentText(layer.colormap)
        self.opacity_slider.setValue(round(layer.opacity * 100))
        self.threshold_slider.setValue(layer.threshold_code())
        for w in widgets:
            w.blockSignals(False)
        self.opacity_text.setText(f"{layer.opacity * 100:.0f} %")
        self.threshold_text.setValue(layer.threshold)
        self.legend.setPixmap(QPixmap.fromImage(layer.legend_image(220, 10)))
        self._paint_swatches()
        self.colormap_combo.setEnabled(layer.visible)
        self.details.setVisible(layer.visible)


class LayersPanel(QWidget):
    """One card per overlay layer, and the values of the visible layers under the cursor."""

    sigRemoveRequested = Signal(str)
    sigMakeRegionsRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards: dict[str, LayerCard] = {}
        self._body = QWidget()
        self._body.setObjectName("panelBody")
        self._cards_layout = QVBoxLayout(self._body)
        self._cards_layout.setContentsMargins(8, 8, 8, 8)
        self._cards_layout.setSpacing(8)
        self.empty_hint = QLabel(
            "No overlays yet.\n\nRun a model on the slide (Analysis menu) or open the "
            "output folder of an earlier run (File ▸ Open Overlays…)."
        )
        self.empty_hint.setObjectName("hint")
        self.empty_hint.setWordWrap(True)
        self._cards_layout.addWidget(self.empty_hint)
        self._cards_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._body)
        self.readout = QLabel("")
        self.readout.setObjectName("valueReadout")
        self.readout.setToolTip("Values of the visible layers under the cursor")
        self.readout.setVisible(False)
        self.scale_note = QLabel("")
        self.scale_note.setObjectName("hint")
        self.scale_note.setWordWrap(True)
        self.scale_note.setContentsMargins(8, 2, 8, 2)
        self.scale_note.setToolTip("The scale the model read the slide at, and where the "
                                   "slide's µm/px came from")
        self.scale_note.setVisible(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        outer.addWidget(self.scale_note)
        outer.addWidget(self.readout)

    def set_layers(self, layers: list[OverlayLayer]) -> None:
        """Show ``layers`` (replacing the cards shown before)."""
        from ui.viewer.overlay_layer import COLORMAPS

        for card in self.cards.values():
            card.layer.sigChanged.disconnect(card.refresh)
            card.setParent(None)
            card.deleteLater()
        self.cards = {}
        for layer in layers:
            card = LayerCard(layer, COLORMAPS, self._body)
            card.sigRemove.connect(self.sigRemoveRequested)
            card.sigMakeRegions.connect(self.sigMakeRegionsRequested)
            self._cards_layout.insertWidget(self._cards_layout.count() - 1, card)
            self.cards[layer.name] = card
        self.empty_hint.setVisible(not layers)
        scales = list(dict.fromkeys(layer.scale_text for layer in layers if layer.scale_text))
        self.scale_note.setText("\n".join(f"Scale: {text}" for text in scales))
        self.scale_note.setVisible(bool(scales))
        self.readout.setVisible(bool(layers))
        self.readout.setText("Move the cursor over the slide to read values.")

    def show_values_at(self, l0_x: float, l0_y: float) -> None:
        """Read each visible layer at a slide point (from tiles already loaded)."""
        lines = []
        for card in self.cards.values():
            layer = card.layer
            if not layer.visible:
                continue
            text = layer.describe_at(l0_x, l0_y)
            name = display_name(layer.name, layer.kind)
            lines.append(f"{name}: {'–' if text is None else text}")
        if lines:
            self.readout.setText("\n".join(lines))
        elif self.cards:
            self.readout.setText("No visible layer.")
