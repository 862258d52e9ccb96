"""Make regions… from a saliency or class-probability layer: threshold (in the layer's
own unit: a probability, or for the slide-level saliency map a percentile of the slide's
tissue), smoothing in µm and minimum area, a live preview of the candidate outlines on
the slide, the model's classes mapped to the project's
(:mod:`ui.annotations.class_mapping_rows`), then accept all, the selected, or discard.
The defaults are the core's (:class:`~pathscaat.annotations.regions.RegionDefaults`), the
same ``pathscaat regions`` uses.

The outlines are the core's (:func:`pathscaat.annotations.regions.regions_from_overlay`)
computed in a worker thread; a result for settings the user has already changed is
dropped, and while one runs only the newest settings wait for the next. Accepted regions
become annotations in ONE edit (one undo), with their class and measurements.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from pathscaat.annotations.class_map import ClassMap, apply_class_map
from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation
from ui.annotations.class_mapping_rows import ClassMappingRows
from ui.annotations.region_preview import candidate_outline, outline_path, selection_outline

log = logging.getLogger(__name__)

AREA = "Area µm^2"
DEBOUNCE_MS = 150
SLIDER_STEPS = 1000


def compute_regions(
    cache: dict[str, Any], folder: Path, name: str, threshold: float, min_area_um2: float,
    mpp: float | None, smooth_um: float = 0.0,
) -> list[Annotation]:  # fmt: skip
    """Candidates for one setting (worker thread); the layer's raster is read once."""
    from pathscaat.annotations.regions import load_layer, regions_from_overlay

    if "layer" not in cache:
        cache["layer"] = load_layer(folder, name)
    return regions_from_overlay(cache["layer"], threshold, min_area_um2, mpp=mpp,
                                smooth_um=smooth_um)  # fmt: skip


def describe(i: int, region: Annotation, model_class: str | None = None) -> str:
    """One list line: number, class, area, and the class's mean probability (of
    ``model_class`` when the class was mapped from it) or the share of the slide's
    saliency inside."""
    m = region.measurements
    area = m.get(AREA, math.nan)
    parts = [f"{i + 1}. {region.class_name or 'no class'}",
             "area unknown" if math.isnan(area) else f"{area:,.0f} µm²"]
    source = model_class or region.class_name
    prob = m.get(f"Mean prob {source}") if source else None
    if prob is not None and not math.isnan(prob):
        parts.append(f"mean prob. {prob:.2f}")
    share = m.get("Saliency share")
    if share is not None and not math.isnan(share):
        parts.append(f"{share * 100:.1f} % of saliency")
    return " · ".join(parts)


class RegionsDialog(QDialog):
    """Non-modal: the slide stays pannable while the user tunes the threshold."""

    sigAccepted = Signal(int)  # number of regions kept

    def __init__(
        self, viewer: Any, folder: Path, layer_name: str, kind: str, *, mpp: float | None,
        start_threshold: float | None = None, apply: Callable[[Edit], bool],
        parent: QWidget | None = None, project_classes: list[str] | None = None,
        class_map: ClassMap | None = None,
        on_class_map: Callable[[ClassMap], None] | None = None,
    ) -> None:  # fmt: skip
        """``start_threshold`` None starts at the layer's default; ``project_classes`` and
        ``class_map`` (remembered for this model) fill the class mapping, and
        ``on_class_map`` is told the map the user accepted with."""
        from pathscaat.annotations.regions import RegionDefaults
        from pathscaat.inference.overlays import OverlaySet

        super().__init__(parent)
        overlays = OverlaySet.load(folder)
        self.defaults = RegionDefaults.for_layer(overlays.get(layer_name))
        self.class_mapping = ClassMappingRows(list(overlays.classes), list(project_classes or []),
                                              class_map or {}, on_class_map)
        if start_threshold is None:
            start_threshold = self.defaults.threshold
        what = "saliency" if kind == "saliency" else f"probability of {layer_name[5:]}"
        self.setWindowTitle(f"Make Regions — {layer_name}")
        self.folder, self.layer_name, self.mpp, self._apply = folder, layer_name, mpp, apply
        self.candidates: list[Annotation] = []
        self._cache: dict[str, Any] = {}
        self._generation = 0
        self._busy = False
        self._pending = False
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._compute)
        self.preview = candidate_outline(viewer.view_box)
        self.highlight = selection_outline(viewer.view_box)
        self._build(what, start_threshold)
        self.schedule()

    def _build(self, what: str, start_threshold: float) -> None:
        intro = QLabel(f"Outline the tissue where the <b>{what}</b> is at least the "
                       "threshold. Candidates are dashed magenta on the slide, the ones "
                       "selected below cyan; nothing is kept until you accept.")
        intro.setWordWrap(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(1, SLIDER_STEPS - 1)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.001, 0.999)
        self.threshold.setSingleStep(0.01)
        self.threshold.setDecimals(3)  # typed values stay as typed: 0.15 is 0.15
        self.threshold.setKeyboardTracking(False)
        self.threshold.setToolTip(f"In the layer's unit: {self.defaults.unit}")
        self.threshold.setValue(min(0.999, max(0.001, start_threshold)))
        self.slider.setValue(round(self.threshold.value() * SLIDER_STEPS))
        self.slider.valueChanged.connect(self._slid)
        self.threshold.valueChanged.connect(self._typed)
        self.smooth = self._um_box(500.0, 1, 5.0, " µm", self.defaults.smooth_um)
        self.smooth.setToolTip("Smooth the layer by a Gaussian of this radius (sigma) before "
                               "tracing, so a speckled map gives whole regions; 0: none")
        self.smooth.valueChanged.connect(self.schedule)
        self.min_area = self._um_box(1e9, 0, 1000.0, " µm²", self.defaults.min_area_um2)
        self.min_area.setToolTip("Smaller regions, and holes smaller than this, are dropped"
                                 if self.mpp else "The slide has no µm/px: set it in the "
                                 "Slide panel to filter by area")
        self.min_area.valueChanged.connect(self.schedule)
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.threshold)
        form = QFormLayout()
        form.addRow("Threshold:", row)
        self.scale_hint = QLabel()
        self.scale_hint.setObjectName("hint")
        self.scale_hint.setWordWrap(True)
        form.addRow(self.scale_hint)  # a full row: the form gives a wrapped field no room
        form.addRow("Smoothing:", self.smooth)
        form.addRow("Minimum area:", self.min_area)
        self.class_boxes = self.class_mapping.add_rows(form, self._remap)
        self._describe_threshold()
        self.status = QLabel("Computing…")
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(self._centre_on)
        self.accept_all = QPushButton("Accept All")
        self.accept_all.clicked.connect(lambda: self.keep(self.candidates))
        self.accept_selected = QPushButton("Accept Selected")
        self.accept_selected.clicked.connect(lambda: self.keep(self.selected()))
        discard = QPushButton("Discard")
        discard.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.accept_all, self.accept_selected, discard):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.resize(460, 460)
        self._viewer_centre: Callable[[float, float], None] | None = None
        self._update_buttons()

    def _slid(self, value: int) -> None:
        self.threshold.blockSignals(True)
        self.threshold.setValue(value / SLIDER_STEPS)
        self.threshold.blockSignals(False)
        self._describe_threshold()
        self.schedule()

    def _typed(self, value: float) -> None:
        self.slider.blockSignals(True)  # the slider follows; it never rounds the value back
        self.slider.setValue(round(value * SLIDER_STEPS))
        self.slider.blockSignals(False)
        self._describe_threshold()
        self.schedule()

    def _describe_threshold(self) -> None:
        value = self.threshold.value()
        self.scale_hint.setText(f"{self.defaults.unit.capitalize()}: {value:g} keeps "
                                f"{self.defaults.describe(value)}")  # fmt: skip

    def class_map(self) -> ClassMap:
        """The map the class choices say (model class -> project class)."""
        return self.class_mapping.class_map()

    def _remap(self, *_: object) -> None:
        self._fill_list()

    # -- computing --------------------------------------------------------------------
    def _um_box(self, top: float, decimals: int, step: float, suffix: str,
                value: float) -> QDoubleSpinBox:  # fmt: skip
        """A box in µm units, applied when typing ends; off (0) when the slide has no µm/px."""
        box = QDoubleSpinBox()
        box.setRange(0.0, top)
        box.setDecimals(decimals)
        box.setSingleStep(step)
        box.setSuffix(suffix)
        box.setKeyboardTracking(False)
        box.setValue(value if self.mpp else 0.0)
        box.setEnabled(self.mpp is not None)
        return box

    def schedule(self, *_: object) -> None:
        """Recompute shortly (typing or dragging the slider waits for a pause)."""
        self._generation += 1
        self.status.setText("Computing…")
        self._timer.start()

    def _compute(self) -> None:
        if self._busy:
            self._pending = True  # the newest settings run when the current one ends
            return
        self._busy, self._pending = True, False
        gen = self._generation
        worker = create_worker(
            compute_regions, self._cache, self.folder, self.layer_name,
            self.threshold.value(), self.min_area.value(), self.mpp, self.smooth.value(),
            _start_thread=False, _ignore_errors=True,
        )  # fmt: skip
        worker.returned.connect(lambda regions: self._returned(gen, regions))
        worker.errored.connect(lambda exc: self._errored(gen, exc))
        worker.finished.connect(self._finished)
        worker.start()

    def _finished(self, *_: object) -> None:
        self._busy = False
        if self._pending:
            self._compute()

    def is_computing(self) -> bool:
        return self._busy or self._timer.isActive() or self._pending

    def _returned(self, gen: int, regions: list[Annotation]) -> None:
        if gen != self._generation:
            return  # settings changed meanwhile: a newer result is on its way
        self.candidates = regions
        self._fill_list()
        self.preview.show(outline_path([r.geometry for r in regions]))
        self.highlight.show(QPainterPath())
        total = sum(r.measurements.get(AREA, 0.0) for r in regions)
        area = f", {total:,.0f} µm² in all" if self.mpp and regions else ""
        self.status.setText(f"{len(regions)} candidate region{'s' * (len(regions) != 1)}"
                            f"{area}. Select in the list to see one; double-click to go "
                            "there." if regions else "No region at this threshold and "
                            "area: lower either.")
        self._update_buttons()

    def _fill_list(self) -> None:
        """The candidates as they will be kept (classes mapped)."""
        self.list.clear()
        mapped = apply_class_map(self.candidates, self.class_map())
        for i, (region, cand) in enumerate(zip(mapped, self.candidates, strict=True)):
            item = QListWidgetItem(describe(i, region, cand.class_name))
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.list.addItem(item)

    def _errored(self, gen: int, exc: BaseException) -> None:
        if gen == self._generation:
            log.info("regions failed: %s", exc)
            self.status.setText(f"No regions: {exc}")
            self.candidates = []
            self.list.clear()
            self.preview.show(QPainterPath())
            self._update_buttons()

    # -- choosing ---------------------------------------------------------------------
    def selected(self) -> list[Annotation]:
        rows = sorted(int(i.data(Qt.ItemDataRole.UserRole)) for i in self.list.selectedItems())
        return [self.candidates[i] for i in rows]

    def _selection_changed(self) -> None:
        self.highlight.show(outline_path([r.geometry for r in self.selected()]))
        self._update_buttons()

    def set_centre_callback(self, centre: Callable[[float, float], None]) -> None:
        self._viewer_centre = centre

    def _centre_on(self, item: QListWidgetItem) -> None:
        region = self.candidates[int(item.data(Qt.ItemDataRole.UserRole))]
        if self._viewer_centre is not None:
            c = region.geometry.centroid
            self._viewer_centre(c.x, c.y)

    def _update_buttons(self) -> None:
        n, k = len(self.candidates), len(self.list.selectedItems())
        self.accept_all.setEnabled(n > 0)
        self.accept_all.setText(f"Accept All ({n})" if n else "Accept All")
        self.accept_selected.setEnabled(k > 0)
        self.accept_selected.setText(f"Accept Selected ({k})" if k else "Accept Selected")

    def keep(self, regions: list[Annotation]) -> None:
        """Add ``regions`` as annotations (one edit) and close."""
        if not regions:
            return
        n = len(regions)
        label = f"Make {n} region{'s' * (n != 1)} from {self.layer_name}"
        mapping = self.class_map()
        if self._apply(Edit.add(apply_class_map(regions, mapping), label)):
            self.class_mapping.remember(mapping)
            self.sigAccepted.emit(n)
            self.accept()

    def done(self, result: int) -> None:
        """Closing in any way removes the preview from the slide."""
        self._generation += 1
        self._timer.stop()
        self.preview.remove()
        self.highlight.remove()
        super().done(result)
