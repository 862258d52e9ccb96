"""Page 4, Objective: how the network is trained; SCAAT is the default and recommended."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from ui.wizard.context import WizardContext, hint_label

PRESETS = (
    ("scaat", "SCAAT (recommended)",
     "Trains the network to give the same answer when the pixels it does not rely on are "
     "disturbed, at no cost in accuracy in our benchmarks. From random weights its saliency "
     "maps came out sparser than with plain training; fine-tuning pretrained weights (the "
     "default) they were not measurably sparser, and robust training below does as well."),
    ("erm", "Plain training (ERM)",
     "Ordinary fine-tuning on the labels only. Fast, but its saliency maps are often noisy."),
    ("sgt", "Saliency-guided training (SGT)",
     "Hides the least salient pixels during training; an earlier method, for comparison."),
    ("trades", "Robust training (TRADES)",
     "Disturbs every pixel, not only the unimportant ones; robust, but strong settings "
     "cost accuracy."),
)  # fmt: skip

MASKS = (
    ("soft", "soft: less disturbance where saliency is high"),
    ("adaptive", "adaptive: disturb the pixels holding the lowest half of the saliency"),
    ("fraction", "fraction: disturb the least salient half of the pixels"),
    ("random", "random: same area at random places (a control)"),
    ("none", "none: disturb everywhere"),
)


class ObjectivePage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("4 · How to train")
        self.setSubTitle("Each choice trains the same network; they differ in what it is "
                         "rewarded for.")  # fmt: skip
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        self.buttons: dict[str, QRadioButton] = {}
        for key, title, sentence in PRESETS:
            button = QRadioButton(title)
            self.group.addButton(button)
            self.buttons[key] = button
            layout.addWidget(button)
            note = hint_label(sentence)
            note.setContentsMargins(24, 0, 0, 6)
            layout.addWidget(note)
        self.baseline = QCheckBox(
            "Also train a plain (ERM) model on the same patches, to compare the saliency"
        )
        layout.addWidget(self.baseline)
        layout.addWidget(self._advanced())
        layout.addStretch(1)
        self.group.buttonToggled.connect(lambda *_a: self._enable_knobs())

    def _advanced(self) -> QGroupBox:
        box = QGroupBox("Advanced settings (the defaults suit most data)")
        box.setCheckable(True)
        box.setChecked(False)
        self.knobs = QWidget()
        form = QFormLayout(self.knobs)
        self.eps = QDoubleSpinBox()
        self.eps.setRange(0.0, 64.0)
        self.eps.setSuffix(" / 255")
        self.eps.setToolTip("How strongly the unimportant pixels are disturbed")
        self.gamma = QDoubleSpinBox()
        self.gamma.setRange(0.0, 8.0)
        self.gamma.setSingleStep(0.5)
        self.lam = QDoubleSpinBox()
        self.lam.setRange(0.0, 50.0)
        self.lam.setSingleStep(0.5)
        self.lam.setToolTip("Weight of the SCAAT term against the cross-entropy")
        self.steps = QSpinBox()
        self.steps.setRange(0, 10)
        self.mask_combo = QComboBox()
        for key, label in MASKS:
            self.mask_combo.addItem(label, key)
        form.addRow("Disturbance (eps):", self.eps)
        form.addRow("Saliency sharpness (gamma):", self.gamma)
        form.addRow("Weight of the SCAAT term (lam):", self.lam)
        form.addRow("Attack steps:", self.steps)
        form.addRow("Where to disturb (mask):", self.mask_combo)
        inner = QVBoxLayout(box)
        inner.addWidget(self.knobs)
        self.knobs.setVisible(False)
        box.toggled.connect(self.knobs.setVisible)
        self.advanced_box = box
        return box

    def initializePage(self) -> None:
        c = self.ctx.choices
        self.buttons.get(c.objective, self.buttons["scaat"]).setChecked(True)
        self.baseline.setChecked(c.train_baseline)
        self.eps.setValue(c.eps_255)
        self.gamma.setValue(c.gamma)
        self.lam.setValue(c.lam)
        self.steps.setValue(c.steps)
        self.mask_combo.setCurrentIndex(max(0, self.mask_combo.findData(c.mask)))
        self._enable_knobs()

    def objective(self) -> str:
        for key, button in self.buttons.items():
            if button.isChecked():
                return key
        return "scaat"

    def _enable_knobs(self) -> None:
        name = self.objective()
        attack = name in ("scaat", "trades")
        self.eps.setEnabled(attack)
        self.steps.setEnabled(attack)
        self.gamma.setEnabled(name == "scaat")
        self.mask_combo.setEnabled(name == "scaat")
        self.lam.setEnabled(name != "erm")
        self.baseline.setEnabled(name != "erm")

    def validatePage(self) -> bool:
        c = self.ctx.choices
        c.objective = self.objective()
        c.train_baseline = self.baseline.isChecked() and c.objective != "erm"
        c.eps_255, c.gamma, c.lam = self.eps.value(), self.gamma.value(), self.lam.value()
        c.steps, c.mask = self.steps.value(), str(self.mask_combo.currentData())
        return True
