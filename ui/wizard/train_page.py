"""Page 6, Train: summary, "Copy as command", Start; live curves, saliency strip, ETA, Cancel."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

from ui.dialogs.folder_dialog import ask_output_folder
from ui.status import format_duration
from ui.wizard.choices import OBJECTIVE_LABELS, build_config
from ui.wizard.context import WizardContext, hint_label, problem_label
from ui.wizard.curves import REDRAW_MS, LiveCurves
from ui.wizard.run_controller import (
    PlannedRun,
    RunOutcome,
    TrainRunController,
    command_line,
    resume_plan,
    save_config,
)
from ui.wizard.run_store import RUN_CONFIG, RunFolder, baseline_folder, check_writable
from ui.wizard.scale_text import scale_text
from ui.wizard.strip_view import StripView


def default_models_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return (Path(base) if base else Path.home()) / "PathSCAAT models"


class TrainPage(QWizardPage):
    def __init__(self, ctx: WizardContext, controller: TrainRunController) -> None:
        super().__init__()
        self.ctx = ctx
        self.controller = controller
        self.outcome: RunOutcome | None = None
        self.setTitle("6 · Train")
        self.setSubTitle("Check the summary, then press Start. You can cancel at any time: "
                         "what was learnt so far is kept and can be resumed.")  # fmt: skip
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.out_edit = QLineEdit()
        self.out_edit.textChanged.connect(lambda _t: self._update())
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.copy_button = QPushButton("Copy as Command")
        self.copy_button.setToolTip("The same run as a `pathscaat train` command line")
        self.copy_button.clicked.connect(self.copy_command)
        self.start_button = QPushButton("Start Training")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self.start)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button = QPushButton("Cancel Training")
        self.cancel_button.clicked.connect(self.cancel)
        self.stage = QLabel()
        self.bar = QProgressBar()
        self.eta = hint_label()
        self.eta.setMinimumWidth(170)
        self.curves = LiveCurves()
        self._bar_value = (0, 0)
        self._bar_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._bar_timer.timeout.connect(self._show_bar)
        self.strip = StripView()
        self.problem = problem_label()
        self._layout(browse)
        self._connect()
        self._update()

    def _layout(self, browse: QPushButton) -> None:
        out_row = QHBoxLayout()
        out_row.addWidget(QLabel("Save the model in:"))
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.resume_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        progress = QHBoxLayout()
        progress.addWidget(self.stage)
        progress.addWidget(self.bar, 1)
        progress.addWidget(self.eta)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(out_row)
        layout.addLayout(buttons)
        layout.addLayout(progress)
        layout.addWidget(self.curves, 3)
        layout.addWidget(self.strip, 3)
        layout.addWidget(self.problem)

    def _connect(self) -> None:
        c = self.controller
        c.sigRunStarted.connect(self._run_started)
        c.sigBatch.connect(self._batch)
        c.sigEpoch.connect(self.curves.add_epoch)
        c.sigStrip.connect(lambda path, epoch: self.strip.show_strip(path, epoch))
        c.sigEta.connect(self._eta)
        c.sigOutcome.connect(self._ended)

    def initializePage(self) -> None:
        c = self.ctx.choices
        if not self.out_edit.text():
            name = f"{c.backbone}-{c.objective}"
            self.out_edit.setText(c.out_dir or str(default_models_dir() / name))
        self.summary.setText(self._summary_html())
        self._update()

    def _summary_html(self) -> str:
        c, scan = self.ctx.choices, self.ctx.scan
        n = sum(scan.counts_per_class.values()) if scan is not None else 0
        classes = ", ".join(scan.class_names) if scan is not None else ""
        baseline = " plus a plain ERM model for comparison" if c.train_baseline else ""
        scale = scale_text(c.target_mpp or None, getattr(scan, "patch_px", None), c.input_px,
                           from_project=bool(c.project) and not c.folders)  # fmt: skip
        mpp = f" at {scale.model_mpp:.3g} µm/px" if scale.model_mpp else ", µm/px unknown"
        rows = [
            ("Data", f"{n} patches in {len(c.folders)} folder(s); classes {classes}"),
            ("Split", f"{c.val_fraction:.0%} validation, {c.test_fraction:.0%} test"),
            ("Network", f"{c.backbone}, {c.input_px} px input{mpp}"
                        + (f", from {Path(c.weights).name or c.weights}" if c.weights else "")),
            ("Field of view", scale.line),
            ("Training", f"{OBJECTIVE_LABELS.get(c.objective, c.objective)}{baseline}, "
                         f"{c.epochs} epochs, batch {c.batch_size}, device {c.device}"),
        ]  # fmt: skip
        cells = [f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{escape(v)}</td></tr>" for k, v in rows]
        warnings = [f'<tr><td></td><td style="color:#8a5a00">⚠ {escape(w)}</td></tr>'
                    for w in scale.warnings]  # fmt: skip
        cells[4:4] = warnings  # under the field of view they are about
        return f"<table>{''.join(cells)}</table>"

    def out_dir(self) -> Path:
        return Path(self.out_edit.text().strip()).expanduser()

    def plan(self) -> list[PlannedRun]:
        """The runs Start makes: the chosen objective, then the ERM baseline if asked."""
        c = self.ctx.choices
        c.out_dir = str(self.out_dir())
        label = OBJECTIVE_LABELS.get(c.objective, c.objective)
        runs = [PlannedRun(f"Training the {label} model", build_config(c),
                           self.out_dir() / RUN_CONFIG)]  # fmt: skip
        if c.train_baseline:
            out = baseline_folder(self.out_dir())
            runs.append(PlannedRun("Training the ERM baseline", build_config(
                c, objective="erm", out=out), out / RUN_CONFIG))  # fmt: skip
        return runs

    def copy_command(self) -> None:
        """Save the run config and put the command that trains from it on the clipboard."""
        problem = check_writable(self.out_dir())
        if problem:
            self.problem.setText(problem)
            return
        run = self.plan()[0]
        try:
            save_config(run)
        except OSError as exc:
            self.problem.setText(f"Cannot save the run config {run.config_path}: {exc}")
            return
        QGuiApplication.clipboard().setText(command_line(run.config, run.config_path))
        self.stage.setText(f"Copied. The command trains from {run.config_path}.")

    def _browse(self) -> None:
        folder = ask_output_folder(self, "Save the model in", self.out_edit.text())
        if folder:
            self.out_edit.setText(folder)

    def start(self) -> None:
        problem = check_writable(self.out_dir())
        if problem:
            self.problem.setText(problem)
            return
        self._begin(self.plan())

    def resume(self) -> None:
        folder = RunFolder(self.out_dir())
        try:
            plan = resume_plan(folder, "Resuming the run")
        except Exception as exc:  # PathscaatError: an unreadable run config
            self.problem.setText(f"Cannot resume from {folder.out}: {exc}")
            return
        self._begin([plan])

    def _begin(self, runs: list[PlannedRun]) -> None:
        from ui.wizard.choices import save_choices

        self.problem.clear()
        self.outcome = None
        self.ctx.extra.pop("outcome", None)
        save_choices(self.ctx.settings, self.ctx.choices)
        self.curves.clear(runs[0].config.epochs if runs else None)
        self.strip.clear()
        try:
            self.controller.start(runs)
        except (OSError, RuntimeError) as exc:
            self.problem.setText(f"Cannot start the training: {exc}")
        self._update()

    def cancel(self) -> None:
        self.stage.setText("Stopping after the current batch; saving the checkpoint…")
        self.controller.cancel()

    def _run_started(self, label: str, _out: Path) -> None:
        run = self.controller.current
        if run is not None and self.curves.batch_x:  # the next run (the ERM baseline)
            self.curves.clear(run.config.epochs)
        self.stage.setText(f"{label}…")
        self._bar_timer.stop()
        self.bar.setRange(0, 0)
        self._update()

    def _batch(self, done: int, total: int, extra: dict[str, Any]) -> None:
        self.curves.add_batch(done, total, extra)
        if total > 0:  # shown with the curves' cadence: QProgressBar repaints on each value
            self._bar_value = (min(done, total), total)
            if not self._bar_timer.isActive():
                self._bar_timer.start()

    def _show_bar(self) -> None:
        done, total = self._bar_value
        self.bar.setRange(0, total)
        self.bar.setValue(done)

    def _eta(self, seconds: float | None) -> None:
        self.eta.setText(f"about {format_duration(seconds)} left" if seconds is not None else "")

    def _ended(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        self._bar_timer.stop()
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if outcome.kind == "done" else 0)
        self.eta.clear()
        self.curves.redraw()
        if outcome.kind == "done":
            self.stage.setText("Training finished. Press Next to see the results.")
        else:
            self.stage.clear()
            self.problem.setText(outcome.message)
        self._update()

    def _update(self) -> None:
        running = self.controller.is_running()
        text = self.out_edit.text().strip()
        self.start_button.setEnabled(not running and bool(text))
        self.resume_button.setEnabled(not running and bool(text)
                                      and RunFolder(self.out_dir()).is_unfinished())  # fmt: skip
        self.cancel_button.setEnabled(running)
        self.copy_button.setEnabled(bool(text) and self.ctx.scan is not None)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return (
            self.outcome is not None
            and self.outcome.kind == "done"
            and not (self.controller.is_running())
        )
