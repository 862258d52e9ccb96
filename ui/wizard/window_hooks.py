"""The wizard in the main window: Analysis > Train a Model…, the Models panel's actions.

Kept out of ``ui.main_window`` so the window only creates this object; "Run on this slide"
reuses the window's own run dialog with the new model chosen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices

from ui.panels.models_panel import ModelsPanel
from ui.wizard.evaluate_run import EvaluateController
from ui.wizard.run_store import RUN_CONFIG
from ui.wizard.wizard import TrainingWizard


def run_data_folder(checkpoint: Path) -> Path | None:
    """The first patch folder of the run that wrote ``checkpoint`` (its run config)."""
    try:
        data = json.loads((checkpoint.parent / RUN_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sources = data.get("sources") or []
    if sources and isinstance(sources[0], dict) and sources[0].get("path"):
        return Path(str(sources[0]["path"]))
    return Path(str(data["data"])) if data.get("data") else None


class TrainingHooks(QObject):
    """Owns the wizard window and the Models panel's jobs for one main window."""

    def __init__(self, window: Any, panel: ModelsPanel) -> None:
        super().__init__(window)
        self.window = window
        self.panel = panel
        self.wizard: TrainingWizard | None = None
        self.evaluator = EvaluateController(self)
        self.evaluator.sigProgress.connect(lambda text: window.status.showMessage(text, 5000))
        self.evaluator.sigDone.connect(self._report_ready)
        self.evaluator.sigFailed.connect(
            lambda msg: window.errors.report(msg, title="Evaluate model")
        )
        panel.sigRunOnSlide.connect(self.run_on_slide)
        panel.sigEvaluate.connect(self.evaluate)

    def open_wizard(self) -> TrainingWizard:
        """Show the wizard (one at a time; a running one is brought to the front)."""
        if self.wizard is None:
            self.wizard = TrainingWizard(
                self.window.settings, register_model=self.register_model,
                run_on_slide=self.run_on_slide, parent=self.window,
            )  # fmt: skip
            self.wizard.finished.connect(self._wizard_closed)
            self.wizard.controller.sigOutcome.connect(lambda _o: self.panel.refresh())
        self.wizard.ctx.run_on_slide = self.run_on_slide if self.window.slide_path else None
        self.wizard.show()
        self.wizard.raise_()
        return self.wizard

    def _wizard_closed(self, _result: int) -> None:
        self.panel.refresh()
        if self.wizard is not None:
            self.wizard.deleteLater()
        self.wizard = None

    def register_model(self, checkpoint: Path) -> str:
        """Add ``checkpoint`` to the open project, if any; says where the model is listed."""
        projects = getattr(self.window, "projects", None)
        project = projects.session.project if projects is not None else None
        if project is None:
            return "It is listed in the Models panel (open a project to register it there too)."
        project.add_model(checkpoint)
        return f"It is registered in the project {project.root.name} and in the Models panel."

    def run_on_slide(self, checkpoint: Path) -> None:
        """The window's run dialog, with ``checkpoint`` chosen."""
        if self.window.slide_path is None:
            self.window.errors.report(
                "Open a slide first (File ▸ Open Slide…), then run the model on it.",
                title="Run model", minor=True,
            )  # fmt: skip
            return
        self.window.settings.set("jobs/checkpoint", str(checkpoint))
        self.window.run_model()

    def evaluate(self, checkpoint: Path) -> None:
        data = run_data_folder(checkpoint)
        if data is None or not data.is_dir():
            self.window.errors.report(
                f"The patches {checkpoint.name} was trained on are not found (no "
                f"{RUN_CONFIG} next to it, or its folder moved). Evaluate it with "
                "`pathscaat evaluate --data FOLDER --models ...` instead.",
                title="Evaluate model",
            )
            return
        if self.evaluator.is_running():
            self.window.errors.report("An evaluation is already running.", minor=True)
            return
        self.evaluator.start(data, [checkpoint], checkpoint.parent / "evaluation")

    def _report_ready(self, path: Path) -> None:
        self.panel.refresh()
        self.window.status.showMessage(f"Evaluation report: {path}", 10000)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def slide_changed(self, is_open: bool) -> None:
        self.panel.set_slide_open(is_open)
        if self.wizard is not None:
            self.wizard.ctx.run_on_slide = self.run_on_slide if is_open else None

    def shutdown(self) -> None:
        if self.wizard is not None:
            self.wizard.shutdown()
        self.evaluator.shutdown()
