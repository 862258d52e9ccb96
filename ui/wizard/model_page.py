"""Page 3, Model: the backbone, its starting weights (a list of starting points, checked at
once, with the input size and normalisation they imply), input size, µm/px, and the field of
view and µm/px the model will have (:mod:`ui.wizard.scale_text`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWizardPage,
)

from pathscaat.starting_names import RANDOM
from ui.wizard.context import WizardContext, hint_label, problem_label
from ui.wizard.scale_text import scale_text
from ui.wizard.start_choice import StartChoice

CAUTION_STYLE = "color: #8a5a00;"


def _catalog() -> list[Any]:
    from pathscaat.models.catalog import CATALOG

    return list(CATALOG)


def _starting_points() -> list[Any]:
    from pathscaat.models.starting_weights import list_starting_points

    return list_starting_points()


def describe(info: Any) -> str:
    return (
        f"{info.name}: {info.params_m:g} million parameters, sees {info.native_px} px patches. "
        f"{info.note}"
    )


class ModelPage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("3 · The network to fine-tune")
        self.setSubTitle(
            "Pick where training starts: the bundled ImageNet EfficientNet-Lite0 suits most "
            "data; weights you added or downloaded (a pathology foundation model, say) are "
            "listed too. Random weights are a research setting. The network is the one the "
            "weights were made for, or any timm model for a plain weights file."
        )
        self.catalog: dict[str, Any] = {}
        self.backbone = QComboBox()
        self.backbone.setEditable(True)
        self.about = hint_label()
        self.start = StartChoice()
        self.weights = self.start.path  # the file/folder row
        self.weights_note = hint_label()
        self.input_px = QSpinBox()
        self.input_px.setRange(32, 1024)
        self.input_px.setSingleStep(16)
        self.input_px.setSuffix(" px")
        self.mpp = QDoubleSpinBox()
        self.mpp.setRange(0.0, 20.0)
        self.mpp.setDecimals(3)
        self.mpp.setSingleStep(0.25)
        self.mpp.setSpecialValueText("not known")
        self.mpp.setSuffix(" µm/px")
        self.mpp_note = hint_label()
        self.scale_line = QLabel()
        self.scale_line.setObjectName("modelScale")
        self.scale_line.setWordWrap(True)
        self.scale_warning = QLabel()
        self.scale_warning.setObjectName("scaleWarning")
        self.scale_warning.setWordWrap(True)
        self.scale_warning.setStyleSheet(CAUTION_STYLE)
        self.input_px.valueChanged.connect(self._show_scale)
        self.mpp.valueChanged.connect(self._show_scale)
        form = QFormLayout()
        form.addRow("Starting weights:", self.start)
        form.addRow("", self.weights_note)
        form.addRow("Network:", self.backbone)
        form.addRow("", self.about)
        form.addRow("Input size:", self.input_px)
        form.addRow("Patch resolution:", self.mpp)
        form.addRow("", self.mpp_note)
        form.addRow("Model sees:", self.scale_line)
        form.addRow("", self.scale_warning)
        self.problem = problem_label()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(self.problem)
        self._backbone_problem: str | None = None  # None: being checked
        self._weights_problem: str | None = ""
        self.backbone.currentTextChanged.connect(self._backbone_changed)
        self.start.sigChanged.connect(self._start_changed)
        ctx.background.run("catalog", _catalog, self._catalog_loaded, self._backbone_failed)

    def _points_loaded(self, points: list[Any]) -> None:
        """The list arrived: the network shown stays (the user may have typed it meanwhile);
        weights made for another network give way as when the network changes."""
        self.start.set_points(points, self.start.spec() or self.ctx.choices.weights)
        self._follow_network(self.backbone.currentText().strip())
        self._check_weights()

    def _start_changed(self) -> None:
        """A starting point that says its architecture sets the network (then checks)."""
        point = self.start.point()
        arch = getattr(point, "architecture", None)
        if arch and arch != self.backbone.currentText().strip():
            self.backbone.setCurrentText(arch)  # checks the weights once the name is known
        else:
            self._check_weights()

    def _catalog_loaded(self, catalog: list[Any]) -> None:
        """Fill the list (loaded in a worker: the core's models package imports torch)."""
        current = self.backbone.currentText()
        self.catalog = {info.name: info for info in catalog}
        self.backbone.blockSignals(True)
        self.backbone.clear()
        for info in catalog:
            self.backbone.addItem(info.name)
        self.backbone.setCurrentText(current or self.ctx.choices.backbone)
        self.backbone.blockSignals(False)
        self._backbone_changed(self.backbone.currentText())
        self._load_points()

    def _load_points(self) -> None:
        """List the starting points (again: weights may have been added meanwhile). After the
        catalog, not beside it, so the pool's other thread stays free for the data scan."""
        self.ctx.background.run(
            "starts", _starting_points, self._points_loaded, self._weights_failed
        )

    def initializePage(self) -> None:
        c, scan = self.ctx.choices, self.ctx.scan
        self.backbone.setCurrentText(c.backbone)
        self.start.set_spec(c.weights)
        if self.catalog:
            self._load_points()
        patch_px = getattr(scan, "patch_px", None)
        self.input_px.setValue(c.input_px or patch_px or 224)
        patch_mpp = getattr(scan, "patch_mpp", None)
        self.mpp.setValue(patch_mpp or c.target_mpp or 0.0)
        self.mpp_note.setText(
            f"Read from the data: {patch_mpp:g} µm/px." if patch_mpp else
            "The data does not say its µm/px. Enter it if you know it (0.5 µm/px is a 20× "
            "scan): the model then runs on slides at the same magnification."
        )  # fmt: skip
        self._backbone_changed(self.backbone.currentText())
        self._check_weights()
        self._show_scale()

    def _show_scale(self) -> None:
        """The model's field of view and µm/px for the patches and input size shown."""
        c, scan = self.ctx.choices, self.ctx.scan
        text = scale_text(
            self.mpp.value() or None, getattr(scan, "patch_px", None), self.input_px.value(),
            from_project=bool(c.project) and not c.folders,
        )  # fmt: skip
        self.scale_line.setText(text.line)
        self.scale_warning.setText("\n".join(f"⚠ {w}" for w in text.warnings))
        self.scale_warning.setVisible(bool(text.warnings))

    def _backbone_changed(self, name: str) -> None:
        name = name.strip()
        info = self.catalog.get(name)
        self.about.setText(describe(info) if info else "Checking the name with timm…")
        if info is not None and self.input_px.value() == 0:
            self.input_px.setValue(info.native_px)
        self._backbone_problem = None
        self._update()
        from_catalog = info is not None

        def check() -> str:
            from pathscaat.models.catalog import validate_backbone

            validate_backbone(name)
            return name

        def ok(_name: str) -> None:
            self._backbone_problem = ""
            if not from_catalog:
                self.about.setText(f"{name}: a timm model (not in the tested list).")
            self._follow_network(name)
            self._check_weights()

        self.ctx.background.run("backbone", check, ok, self._backbone_failed)

    def _follow_network(self, name: str) -> None:
        """Weights made for another network give way to ``name``'s bundled ImageNet weights,
        or to random weights when it has none (as ``pathscaat train --backbone`` does)."""
        arch = getattr(self.start.point(), "architecture", None)
        if not arch or arch == name:
            return
        bundled = [p for p in self.start.points.values() if p.kind == "imagenet"]
        fits = [p.name for p in bundled if p.architecture == name]
        self.start.set_spec(fits[0] if fits else RANDOM)

    def _backbone_failed(self, message: str) -> None:
        self._backbone_problem = message
        self.about.clear()
        self._update()

    def _check_weights(self) -> None:
        text = self.start.spec()
        self.ctx.background.forget("weights")
        if not text:
            self._weights_problem = "Choose the starting weights, or give a file or folder."
            self.weights_note.clear()
            self._update()
            return
        self._weights_problem = None
        self.weights_note.setText("Checking the weights file…")
        self._update()
        backbone = self.backbone.currentText().strip()
        classes = len(self.ctx.scan.class_names) if self.ctx.scan is not None else 2

        def check() -> Any:
            from pathscaat.models.weights_check import check_weights

            return check_weights(backbone, classes, Path(text))

        self.ctx.background.run("weights", check, self._weights_ok, self._weights_failed)

    def _weights_ok(self, report: Any) -> None:
        self._weights_problem = ""
        self.weights_note.setText(f"✓ {report.message}")
        self._update()

    def _weights_failed(self, message: str) -> None:
        self._weights_problem = message
        self.weights_note.clear()
        self._update()

    def _update(self) -> None:
        problems = [p for p in (self._backbone_problem, self._weights_problem) if p]
        self.problem.setText("\n".join(problems))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._backbone_problem == "" and self._weights_problem == ""

    def validatePage(self) -> bool:
        c = self.ctx.choices
        c.backbone = self.backbone.currentText().strip()
        c.weights = self.start.spec()
        c.input_px = self.input_px.value()
        c.target_mpp = self.mpp.value()
        return True
