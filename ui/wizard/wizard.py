"""Analysis > Train a Model…: the seven pages, one run controller, the remembered choices."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QWidget, QWizard

from ui.settings import Settings
from ui.wizard.background import Background
from ui.wizard.choices import load_choices, save_choices
from ui.wizard.compute_page import ComputePage
from ui.wizard.context import WizardContext
from ui.wizard.data_page import DataPage
from ui.wizard.done_page import DonePage
from ui.wizard.model_page import ModelPage
from ui.wizard.objective_page import ObjectivePage
from ui.wizard.run_controller import RunOutcome, TrainRunController
from ui.wizard.run_store import RunFolder
from ui.wizard.split_page import SplitPage
from ui.wizard.train_page import TrainPage


class TrainingWizard(QWizard):
    """From labelled patches to a trained model; training itself runs in a child process."""

    def __init__(
        self,
        settings: Settings,
        *,
        register_model: Callable[[Path], str] | None = None,
        run_on_slide: Callable[[Path], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a Model")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.resize(980, 760)
        self.ctx = WizardContext(
            settings=settings,
            background=Background(self),
            choices=load_choices(settings),
            register_model=register_model,
            run_on_slide=run_on_slide,
        )
        self.controller = TrainRunController(self)
        self.controller.sigOutcome.connect(self._outcome)
        self.data_page = DataPage(self.ctx)
        self.split_page = SplitPage(self.ctx)
        self.model_page = ModelPage(self.ctx)
        self.objective_page = ObjectivePage(self.ctx)
        self.compute_page = ComputePage(self.ctx)
        self.train_page = TrainPage(self.ctx, self.controller)
        self.done_page = DonePage(self.ctx, self.controller)
        for page in (self.data_page, self.split_page, self.model_page, self.objective_page,
                     self.compute_page, self.train_page, self.done_page):  # fmt: skip
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Close")
        self._offer_resume()

    def _offer_resume(self) -> None:
        """An earlier run that was cancelled or killed can be resumed from the first page."""
        out = self.ctx.choices.out_dir
        folder = RunFolder(Path(out)) if out else None
        if folder is None or not folder.is_unfinished():
            return
        self.data_page.offer_resume(
            f"An earlier run in {folder.out} stopped after {folder.epochs_done()} of "
            f"{folder.epochs_wanted()} epochs. It can continue from its last checkpoint."
        )
        self.data_page.resume_button.clicked.connect(lambda: self.resume_run(folder.out))

    def resume_run(self, out: Path) -> None:
        """Go to the Train page and resume the unfinished run in ``out``."""
        while self.currentPage() is not self.train_page and self.currentId() != -1:
            before = self.currentId()
            self.next()
            if self.currentId() == before:
                break
        self.train_page.out_edit.setText(str(out))
        self.train_page.resume()

    @property
    def outcome(self) -> RunOutcome | None:
        return self.ctx.extra.get("outcome")

    def _outcome(self, outcome: RunOutcome) -> None:
        self.ctx.extra["outcome"] = outcome

    def shutdown(self) -> None:
        """Stop a running training (it keeps its checkpoint) and wait for the workers."""
        save_choices(self.ctx.settings, self.ctx.choices)
        self.controller.shutdown()
        self.done_page.evaluator.shutdown()
        self.ctx.background.wait(10000)

    def reject(self) -> None:
        self.shutdown()
        super().reject()

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
