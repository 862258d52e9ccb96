"""Page 5, Compute: where it runs, how much at once, how long; a timed probe estimates the run."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from ui.status import format_duration
from ui.wizard.choices import build_config
from ui.wizard.context import WizardContext, hint_label, problem_label


def describe_device(info: Any) -> str:
    """``NVIDIA H200 (139 GB)``, ``Apple GPU (MPS)``, ``CPU (16 threads)``."""
    if info.kind == "cuda":
        memory = f" ({info.memory_bytes / 1e9:.0f} GB)" if info.memory_bytes else ""
        return f"GPU: {info.name}{memory}"
    if info.kind == "mps":
        return "Apple GPU (MPS)"
    threads = f" ({info.threads} threads)" if info.threads else ""
    return f"CPU{threads}"


def device_argument(info: Any, index: int) -> str:
    """The ``--device`` name of a listed device."""
    if getattr(info, "device", None):
        return str(info.device)
    if info.kind == "cuda":
        return info.name if str(info.name).startswith("cuda") else f"cuda:{index}"
    return str(info.kind)


class ComputePage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("5 · Computer and run length")
        self.setSubTitle(
            "A GPU trains many times faster than a CPU. One epoch is one pass over every "
            "training patch; more epochs usually help until the validation score stops rising."
        )
        self.device = QComboBox()
        self.device.addItem("Automatic (the best one found)", "auto")
        self.batch = QSpinBox()
        self.batch.setRange(1, 4096)
        self.batch.setToolTip("Patches processed together; larger is faster if memory allows")
        self.fit_batch = QPushButton("Find the Largest That Fits")
        self.fit_batch.clicked.connect(self._probe_batch)
        batch_row = QWidget()
        row = QHBoxLayout(batch_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.batch)
        row.addWidget(self.fit_batch)
        row.addStretch(1)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        for spin in (self.batch, self.epochs):
            spin.setMaximumWidth(110)
        self.amp = QCheckBox("Mixed precision on the GPU (faster, same accuracy)")
        self.workers = QSpinBox()
        self.workers.setRange(0, 32)
        self.workers.setMaximumWidth(110)
        self.workers.setToolTip("Processes that read and prepare patches while the GPU works")
        self.estimate_button = QPushButton("Estimate the Time")
        self.estimate_button.clicked.connect(self.estimate)
        self.estimate_text = hint_label("Press “Estimate the Time”: a few real training steps "
                                        "are timed on the chosen device.")  # fmt: skip
        form = QFormLayout()
        form.addRow("Device:", self.device)
        form.addRow("Batch size:", batch_row)
        form.addRow("Epochs:", self.epochs)
        form.addRow("", self.amp)
        form.addRow("Loader processes:", self.workers)
        self.problem = problem_label()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        estimate_row = QHBoxLayout()
        estimate_row.addWidget(self.estimate_button)
        estimate_row.addStretch(1)
        layout.addLayout(estimate_row)
        layout.addWidget(self.estimate_text)
        layout.addStretch(1)
        layout.addWidget(self.problem)
        self.device.currentIndexChanged.connect(lambda _i: self._enable())
        self._devices: list[Any] = []
        self.estimate_seconds: float | None = None

    def initializePage(self) -> None:
        c = self.ctx.choices
        self.batch.setValue(c.batch_size)
        self.epochs.setValue(c.epochs)
        self.amp.setChecked(c.amp)
        self.workers.setValue(c.workers)
        if not self._devices:
            self.ctx.background.run("devices", _list_devices, self._devices_found, self._failed)
        self._enable()

    def _devices_found(self, devices: list[Any]) -> None:
        self._devices = devices
        wanted = self.ctx.choices.device
        for i, info in enumerate(devices):
            self.device.addItem(describe_device(info), device_argument(info, i))
        self.device.setCurrentIndex(max(0, self.device.findData(wanted)))
        self._enable()

    def _enable(self) -> None:
        key = str(self.device.currentData())
        has_gpu = any(d.kind == "cuda" for d in self._devices)
        on_gpu = key.startswith("cuda") or (key == "auto" and has_gpu)
        self.fit_batch.setEnabled(on_gpu)
        self.amp.setEnabled(on_gpu)

    def _store(self) -> None:
        c = self.ctx.choices
        c.device, c.batch_size = str(self.device.currentData()), self.batch.value()
        c.epochs, c.amp, c.workers = self.epochs.value(), self.amp.isChecked(), self.workers.value()

    def _probe_config(self) -> Any:
        self._store()
        return build_config(self.ctx.choices, out=Path(tempfile.mkdtemp(prefix="pathscaat-probe-")))

    def _probe_batch(self) -> None:
        from_config = self._probe_config()
        self.fit_batch.setEnabled(False)
        self.estimate_text.setText("Trying larger batches on the GPU…")

        def probe() -> int:
            from pathscaat.training.estimate import largest_batch

            return int(largest_batch(from_config))

        def done(size: int) -> None:
            self.batch.setValue(size)
            self.estimate_text.setText(f"A batch of {size} patches fits in the GPU's memory.")
            self._enable()

        self.ctx.background.run("batch", probe, done, self._failed)

    def estimate(self) -> None:
        config = self._probe_config()
        self.estimate_button.setEnabled(False)
        self.estimate_text.setText("Timing a few training steps…")

        def probe() -> Any:
            from pathscaat.training.estimate import estimate_run

            return estimate_run(config)

        self.ctx.background.run("estimate", probe, self._estimated, self._failed)

    def _estimated(self, est: Any) -> None:
        self.estimate_button.setEnabled(True)
        self.estimate_seconds = float(est.total_seconds)
        self.estimate_text.setText(
            f"About {format_duration(est.total_seconds)} for {self.epochs.value()} epochs "
            f"on {est.device} ({est.steps_per_epoch} steps of {est.batch_size} patches per "
            f"epoch, {est.seconds_per_step:.2f} s a step)."
        )

    def _failed(self, message: str) -> None:
        self.estimate_button.setEnabled(True)
        self.estimate_text.clear()
        self.problem.setText(message)
        self._enable()

    def validatePage(self) -> bool:
        self._store()
        return True


def _list_devices() -> list[Any]:
    from pathscaat.models.device import list_devices

    return list(list_devices())
