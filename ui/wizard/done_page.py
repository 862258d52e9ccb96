"""Page 7, Done: how well it does per class, the saliency report, where it is, run it on a slide."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWizardPage,
)

from ui.wizard.context import WizardContext, hint_label, problem_label
from ui.wizard.evaluate_run import EvaluateController, trained_data
from ui.wizard.models_list import remember_model
from ui.wizard.run_controller import TrainRunController

TEST_BUTTON = "Test on Held-out Patches"


def _checkpoint(result: dict[str, Any]) -> Path | None:
    best = result.get("best")
    return Path(str(best)).with_suffix(".json") if best else None


def _summary_html(metrics_path: Path) -> str:
    """The evaluation in plain sentences (``pathscaat.evaluation.summary``), as a list."""
    import html
    import json

    from pathscaat.evaluation.summary import plain_summary

    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"The evaluation's numbers ({metrics_path.name}) could not be read: {exc}"
    lines = plain_summary(metrics if isinstance(metrics, dict) else {})
    items = "".join(f"<li>{html.escape(line, quote=False)}</li>" for line in lines)
    return f"<b>On the test patches</b><ul style='margin-left:-20px'>{items}</ul>"


def _pct(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(number) else f"{number:.0%}"


class DonePage(QWizardPage):
    def __init__(self, ctx: WizardContext, controller: TrainRunController) -> None:
        super().__init__()
        self.ctx = ctx
        self.controller = controller
        self.checkpoint: Path | None = None
        self.baseline: Path | None = None
        self.setTitle("7 · Your model is ready")
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Class", "Recognised correctly (validation patches)"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.where = hint_label()
        self.run_button = QPushButton("Run on This Slide…")
        self.run_button.setObjectName("primary")
        self.run_button.clicked.connect(self._run_on_slide)
        self.eval_button = QPushButton(TEST_BUTTON)
        self.eval_button.setToolTip(
            "Runs `pathscaat evaluate` on the test patches the model never saw: accuracy per "
            "class, and how sparse and faithful its saliency maps are"
        )
        self.eval_button.clicked.connect(self.evaluate)
        self.eval_status = hint_label()
        self.summary = QLabel(
            f"Press “{TEST_BUTTON}”: how often the model is right on patches it never saw, "
            "for each class, and whether its saliency maps are sparser than the baseline's "
            "(when an ERM baseline was trained) appear here in a few sentences."
        )
        self.summary.setObjectName("evalSummary")
        self.summary.setWordWrap(True)
        self.details_button = QPushButton("Show All Measures")
        self.details_button.setCheckable(True)
        self.details_button.setEnabled(False)
        self.details_button.toggled.connect(self._show_details)
        self.report = QTextBrowser()
        self.report.setOpenExternalLinks(True)
        self.report.setVisible(False)  # the full table of 20 measures: folded until asked
        self.problem = problem_label()
        self.evaluator = EvaluateController(self)
        self.evaluator.sigProgress.connect(self.eval_status.setText)
        self.evaluator.sigDone.connect(self._report_ready)
        self.evaluator.sigFailed.connect(self._eval_failed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.eval_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.where)
        layout.addLayout(buttons)
        layout.addWidget(self.eval_status)
        layout.addWidget(self.summary)
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.report, 2)
        layout.addWidget(self.problem)

    def initializePage(self) -> None:
        results = self._results()
        result = results[0] if results else {}
        self.checkpoint = _checkpoint(result)
        self.baseline = _checkpoint(results[1]) if len(results) > 1 else None
        metrics = result.get("metrics")
        if not isinstance(metrics, dict):
            metrics = {}
        self.headline.setText(
            f"Best epoch {result.get('best_epoch', '?')}: {_pct(metrics.get('accuracy'))} of the "
            f"validation patches right, {_pct(metrics.get('balanced_accuracy'))} on average "
            "over the classes (balanced accuracy). The test patches are still unseen: "
            f"“{TEST_BUTTON}” measures the model on them."
        )
        self._fill(metrics.get("per_class", {}))
        self._register()
        can_run = self.ctx.run_on_slide is not None and self.checkpoint is not None
        self.run_button.setEnabled(can_run)
        self.run_button.setToolTip("" if can_run else "Open a slide in the main window first")

    def _results(self) -> list[dict[str, Any]]:
        outcome = self.ctx.extra.get("outcome")
        return list(outcome.results) if outcome is not None else []

    def _fill(self, per_class: dict[str, Any]) -> None:
        self.table.setRowCount(0)
        for row, (name, recall) in enumerate(sorted(per_class.items())):
            self.table.insertRow(row)
            self.table.setItem(row, 0, QTableWidgetItem(name))
            self.table.setItem(row, 1, QTableWidgetItem(_pct(recall)))

    def _register(self) -> None:
        if self.checkpoint is None:
            self.where.setText("No checkpoint was written; see the Train page's message.")
            return
        remember_model(self.ctx.settings, self.checkpoint)
        place = "It is listed in the Models panel."
        if self.ctx.register_model is not None:
            try:
                place = self.ctx.register_model(self.checkpoint)
            except Exception as exc:  # PathscaatError from the project store
                self.problem.setText(f"Could not add the model to the project: {exc}")
        self.where.setText(f"Saved as {self.checkpoint}. {place}")

    def _run_on_slide(self) -> None:
        if self.ctx.run_on_slide is not None and self.checkpoint is not None:
            self.ctx.run_on_slide(self.checkpoint)

    def evaluate(self) -> None:
        if self.checkpoint is None:
            return
        folders = [Path(f) for f in self.ctx.choices.folders]
        data, why = trained_data(self.checkpoint, folders if not self.ctx.choices.project else [])
        if data is None:
            self.problem.setText(why)
            return
        models = [self.checkpoint] + ([self.baseline] if self.baseline else [])
        out = self.checkpoint.parent / "evaluation"
        self.eval_button.setEnabled(False)
        self.eval_status.setText("Evaluating on the test patches…")
        try:
            self.evaluator.start(data, models, out,
                                 self.ctx.choices.device)  # fmt: skip
        except OSError as exc:
            self._eval_failed(f"Cannot write the evaluation into {out}: {exc}")

    def _report_ready(self, path: Path) -> None:
        self.eval_button.setEnabled(True)
        self.eval_status.setText(f"Report: {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            self._eval_failed(f"The report {path} could not be read: {exc}")
            return
        self.report.setSearchPaths([str(path.parent)])
        self.report.setMarkdown(text)
        self.summary.setText(_summary_html(path.parent / "metrics.json"))
        self.details_button.setEnabled(True)

    def _show_details(self, shown: bool) -> None:
        self.report.setVisible(shown)
        self.details_button.setText("Hide All Measures" if shown else "Show All Measures")

    def _eval_failed(self, message: str) -> None:
        self.eval_button.setEnabled(True)
        self.eval_status.clear()
        self.problem.setText(message)
