"""File ▸ Export Annotations…: choose formats, which objects and where; the export runs in
a worker thread with a progress bar and a Stop button, and the dialog says what it wrote.

The work is :func:`ui.annotations.export_job.run_export` (the core's writers); this
dialog only asks and reports. A second export into the same folder resumes crops and
patches and rewrites the single files.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from pathscaat.annotations.model import Annotation
from pathscaat.progress import JobCancelled, PathscaatError, ProgressRecord
from ui.annotations.export_job import (
    DEFAULT_OUTPUTS,
    OUTPUT_LABELS,
    OUTPUTS,
    ExportOutcome,
    ExportRequest,
    run_export,
)
from ui.dialogs.folder_dialog import ask_output_folder

log = logging.getLogger(__name__)


class _Bridge(QObject):
    """Carries progress from the worker thread to the dialog (a queued signal)."""

    sigProgress = Signal(object)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


class ExportDialog(QDialog):
    """Export the slide's annotations; ``sigDone(outcome or None)`` when a run ends."""

    sigDone = Signal(object)

    def __init__(
        self, slide: Any, slide_path: Path, objects: list[Annotation], selected: set[str],
        out_dir: Path, overlays_dir: Path | None = None, parent: QWidget | None = None,
        measure_dirs: tuple[Path, ...] = (),
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle(f"Export Annotations — {slide_path.name}")
        self.slide, self.slide_path, self.objects = slide, slide_path, objects
        self.selected = selected
        self.overlays_dir = overlays_dir
        self.measure_dirs = measure_dirs
        self._stop = threading.Event()
        self._worker: Any = None
        self._bridge = _Bridge(self)
        self._bridge.sigProgress.connect(self._progress)
        self.outcome: ExportOutcome | None = None
        self.error = ""
        layout = QVBoxLayout(self)
        layout.addWidget(self._formats_box())
        layout.addWidget(self._scope_box())
        layout.addWidget(self._options_box(out_dir))
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(self._buttons())
        self._update()

    # -- building ---------------------------------------------------------------------
    def _formats_box(self) -> QGroupBox:
        box = QGroupBox("Write")
        grid = QGridLayout(box)
        self.format_boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate(OUTPUTS):
            check = QCheckBox(OUTPUT_LABELS[name])
            check.setChecked(name in DEFAULT_OUTPUTS)
            check.toggled.connect(self._update)
            self.format_boxes[name] = check
            grid.addWidget(check, i // 2, i % 2)
        return box

    def _scope_box(self) -> QGroupBox:
        box = QGroupBox("Objects")
        row = QHBoxLayout(box)
        self.scope = QButtonGroup(self)
        self.all_radio = QRadioButton(f"All ({len(self.objects)})")
        self.selected_radio = QRadioButton(f"Selected ({len(self.selected)})")
        self.class_radio = QRadioButton("Of class")
        self.class_combo = QComboBox()
        names = sorted({o.class_name for o in self.objects if o.class_name})
        self.class_combo.addItems(names)
        self.class_radio.setEnabled(bool(names))
        self.selected_radio.setEnabled(bool(self.selected))
        for i, radio in enumerate((self.all_radio, self.selected_radio, self.class_radio)):
            self.scope.addButton(radio, i)
            row.addWidget(radio)
        row.addWidget(self.class_combo, 1)
        self.all_radio.setChecked(True)  # an export is of the slide; Selected is a choice
        self.scope.idToggled.connect(lambda *_: self._update())
        self.class_combo.currentTextChanged.connect(lambda *_: self._update())
        return box

    def _options_box(self, out_dir: Path) -> QGroupBox:
        box = QGroupBox("Where and how")
        form = QFormLayout(box)
        self.dest = QLineEdit(str(out_dir))
        self.dest.setToolTip("Created if absent; a second export here resumes crops and "
                             "patches")
        self.dest.setMinimumWidth(320)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        dest_row = QHBoxLayout()
        dest_row.addWidget(self.dest, 1)
        dest_row.addWidget(browse)
        form.addRow("Folder:", dest_row)
        self.mpp = QDoubleSpinBox()
        self.mpp.setRange(0.05, 32.0)
        self.mpp.setDecimals(2)
        self.mpp.setValue(0.5)
        self.mpp.setSuffix(" µm/px")
        self.mpp.setToolTip("Scale of crops and patches (0.5 µm/px is about 20×)")
        form.addRow("Crops and patches at:", self.mpp)
        self.patch_px = QSpinBox()
        self.patch_px.setRange(16, 2048)
        self.patch_px.setValue(224)
        self.patch_px.setSuffix(" px")
        form.addRow("Patch side:", self.patch_px)
        self.saliency = QCheckBox("Blend the model's saliency into crops and report"
                                  if self.overlays_dir else "No model run on this slide")
        self.saliency.setChecked(self.overlays_dir is not None)
        self.saliency.setEnabled(self.overlays_dir is not None)
        self.saliency.setToolTip(f"Saliency of the run in {self.overlays_dir}"
                                 if self.overlays_dir else "Run a model to add saliency")
        form.addRow("Overlays:", self.saliency)
        return box

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.show_button = QPushButton("Show Folder")
        self.show_button.setVisible(False)
        self.show_button.clicked.connect(self._show_folder)
        row.insertWidget(0, self.show_button)
        for b in (self.export_button, self.stop_button, self.close_button):
            row.addWidget(b)
        return row

    # -- state ------------------------------------------------------------------------
    def chosen(self) -> list[Annotation]:
        """The objects the scope picks."""
        if self.selected_radio.isChecked():
            return [o for o in self.objects if o.id in self.selected]
        if self.class_radio.isChecked():
            name = self.class_combo.currentText()
            return [o for o in self.objects if o.class_name == name]
        return list(self.objects)

    def outputs(self) -> tuple[str, ...]:
        return tuple(n for n, c in self.format_boxes.items() if c.isChecked())

    def _update(self) -> None:
        n, outputs = len(self.chosen()), self.outputs()
        running = self._worker is not None
        self.export_button.setEnabled(not running and n > 0 and bool(outputs))
        self.export_button.setText(f"Export {_plural(n, 'object')}")
        needs_scale = any(o in ("crops", "patches") for o in outputs)
        self.mpp.setEnabled(needs_scale)
        self.patch_px.setEnabled("patches" in outputs)
        if not running and not outputs:
            self.status.setText("Tick at least one format.")
        elif not running and not self.outcome and not self.error:
            self.status.setText("")

    def _browse(self) -> None:
        folder = ask_output_folder(self, "Export to folder", self.dest.text())
        if folder:
            self.dest.setText(folder)

    def request(self) -> ExportRequest:
        return ExportRequest(
            out_dir=Path(self.dest.text()).expanduser(), outputs=self.outputs(),
            annotations=tuple(self.chosen()), slide_path=self.slide_path,
            mpp=self.mpp.value(), patch_px=self.patch_px.value(),
            overlays_dir=self.overlays_dir if self.saliency.isChecked() else None,
            measure_dirs=self.measure_dirs,
        )  # fmt: skip

    # -- running ----------------------------------------------------------------------
    def start(self) -> None:
        """Run the export in a worker thread; the dialog stays responsive."""
        req = self.request()
        self.outcome, self.error = None, ""
        self._stop.clear()
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText(f"Exporting {_plural(len(req.annotations), 'object')} to "
                            f"{req.out_dir}…")
        worker = create_worker(run_export, req, self.slide, on_progress=self._bridge.sigProgress
                               .emit, should_stop=self._stop.is_set, _start_thread=False,
                               _ignore_errors=True)  # fmt: skip
        worker.returned.connect(self._returned)
        worker.errored.connect(self._errored)
        worker.finished.connect(self._finished)
        self._worker = worker
        self.stop_button.setEnabled(True)
        self._update()
        worker.start()

    def _show_folder(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.request().out_dir)))

    def stop(self) -> None:
        if self._worker is not None:
            self._stop.set()
            self.status.setText("Stopping after the current file…")

    def _progress(self, rec: ProgressRecord) -> None:
        if rec.total > 0:
            self.progress.setRange(0, rec.total)
            self.progress.setValue(rec.done)
        label = {"export": "Writing", "measure": "Measuring"}.get(rec.stage,
                                                                  rec.stage.capitalize())
        if rec.message:
            self.progress.setFormat(f"{label}: {rec.message} (%v/%m)")

    def _returned(self, outcome: ExportOutcome) -> None:
        self.outcome = outcome
        lines = [f"Wrote {_plural(len(outcome.written), 'output')} to "
                 f"{self.request().out_dir}:"]
        self.show_button.setVisible(True)
        lines += [f"• {OUTPUT_LABELS[k].split(' (')[0]}: {Path(v).name}"
                  for k, v in outcome.written.items()]  # fmt: skip
        if outcome.skipped:
            shown = outcome.skipped[:6]
            lines.append(f"Skipped {len(outcome.skipped)}: " + "; ".join(shown)
                         + ("…" if len(outcome.skipped) > 6 else ""))
        self.status.setText("\n".join(lines))
        self.adjustSize()

    def _errored(self, exc: BaseException) -> None:
        if isinstance(exc, JobCancelled):
            self.error = "Stopped. Files already written were kept; export again to finish."
        elif isinstance(exc, (PathscaatError, OSError)):
            self.error = f"The export stopped: {exc}. Fix that and export again."
        else:
            log.error("export failed", exc_info=exc)
            self.error = (f"The export failed unexpectedly ({type(exc).__name__}: {exc}); "
                          "the log file has the details.")
        self.status.setText(self.error)
        self.adjustSize()

    def _finished(self, *_: object) -> None:
        self._worker = None
        self.progress.setVisible(False)
        self.stop_button.setEnabled(False)
        self._update()
        self.sigDone.emit(self.outcome)

    def is_running(self) -> bool:
        return self._worker is not None

    def reject(self) -> None:
        """Close; a running export is stopped first (its finished files stay)."""
        if self._worker is not None:
            self.stop()
            return
        super().reject()
