"""Analysis > Run model on slide: the dialog, the child process, the progress, the result.

The run is ``pathscaat infer ... --progress json`` in a child process (ui.jobs); when it
succeeds the window is told where the overlays are, when it fails the child's own
``pathscaat: error:`` line reaches the error sink, and the app stays up either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

from ui.dialogs.run_model_dialog import RunModelDialog, RunRequest
from ui.errors import ErrorSink
from ui.jobs import JobProgress, JobRunner, cli_command, infer_arguments
from ui.settings import Settings
from ui.status import StatusBar, format_duration

log = logging.getLogger(__name__)


class ModelRunController(QObject):
    """Owns the job runner of model runs and reports to the status bar and error sink."""

    sigOverlaysReady = Signal(object, object)  # output folder, slide it was run on
    sigRunningChanged = Signal(bool)

    def __init__(
        self, parent: QWidget, settings: Settings, errors: ErrorSink, status: StatusBar
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._settings = settings
        self._errors = errors
        self._status = status
        self.runner = JobRunner(self, cancel_grace_ms=settings.get("jobs/cancel_grace_ms"))
        self.runner.sigProgress.connect(self._progress)
        self.runner.sigResult.connect(self._result)
        self.runner.sigFailed.connect(self._failed)
        self.runner.sigCancelled.connect(self._cancelled)
        self.runner.sigFinished.connect(self._finished)
        status.sigCancelClicked.connect(self.cancel)
        self.request: RunRequest | None = None
        self._t0 = 0.0

    def is_running(self) -> bool:
        return self.runner.is_running()

    def ask(
        self, slide: Path, slide_mpp: Callable[[], Any] | None = None,
        ask_mpp: Callable[[str], Any] | None = None, project_output: Path | None = None,
    ) -> RunRequest | None:  # fmt: skip
        """Show the dialog (modal); remember the choices; the request, or None if cancelled.

        ``slide_mpp()`` gives the open slide's ``Mpp`` now (None: unknown) and ``ask_mpp``
        asks the user for it (the Set µm/px prompt); a µm/px the user or the project set
        reaches the run as ``--slide-mpp`` with its source.
        """
        current = slide_mpp or (lambda: None)
        dlg = RunModelDialog(
            slide,
            checkpoint=self._settings.get("jobs/checkpoint"),
            device=self._settings.get("jobs/device"),
            saliency=self._settings.get("jobs/saliency"),
            output_root=self._settings.get("jobs/output_root"),
            slide_mpp=current(),
            ask_mpp=ask_mpp,
            min_tissue=self._settings.get("jobs/min_tissue"),
            project_output=project_output,
            parent=self._parent,
        )
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        req = dlg.request()
        mpp = current()  # the dialog may have asked for it
        if mpp is not None and mpp.source in ("user", "project"):
            req = replace(req, slide_mpp=mpp.x, slide_mpp_source=mpp.source)
        self._settings.set("jobs/checkpoint", str(req.checkpoint))
        self._settings.set("jobs/device", req.device)
        self._settings.set("jobs/saliency", req.saliency)
        self._settings.set("jobs/min_tissue", req.min_tissue)
        return req

    def start(self, req: RunRequest) -> None:
        """Start ``pathscaat infer`` for ``req`` in a child process."""
        if self.is_running():
            self._errors.report(
                "A model run is already in progress. Wait for it or cancel it first.",
                title="Model run", minor=True,
            )  # fmt: skip
            return
        try:
            req.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._errors.report(
                f"Cannot create the output folder {req.out} ({exc.strerror or exc}). "
                "Choose another folder.",
                title="Model run",
            )
            return
        self.request = req
        self._t0 = time.monotonic()
        program, *lead = cli_command()
        args = lead + infer_arguments(
            req.slide, req.checkpoint, req.out,
            saliency=req.saliency, device=req.device, slide_mpp=req.slide_mpp,
            slide_mpp_source=req.slide_mpp_source, min_tissue=req.min_tissue,
        )  # fmt: skip
        self._status.set_job(JobProgress("starting", 0, 0, "", None))
        self.runner.start(program, args, cwd=req.out)
        self.sigRunningChanged.emit(self.is_running())

    def cancel(self) -> None:
        if self.is_running():
            self._status.showMessage("Cancelling the model run…")
            self.runner.cancel()

    def _progress(self, progress: JobProgress) -> None:
        if progress.stage == "scale":  # a fact, not a stage of work: said, not shown as one
            self._status.showMessage(f"Scale: {progress.message}", 15000)
            return
        self._status.set_job(progress)
        if progress.warning:
            self._errors.report(progress.warning, title="Model run", minor=True)

    def _result(self, result: dict[str, Any]) -> None:
        assert self.request is not None
        took = format_duration(time.monotonic() - self._t0)
        self._status.showMessage(f"Model run finished in {took}.", 10000)
        self.sigOverlaysReady.emit(self.request.out, self.request.slide)

    def _failed(self, message: str) -> None:
        name = self.request.slide.name if self.request else "the slide"
        self._errors.report(
            f"The model run on {name} failed: {message}",
            title="Model run failed",
            details=self.runner.stderr_tail(),
        )

    def _cancelled(self) -> None:
        self._status.showMessage("Model run cancelled; partial results were kept.", 10000)

    def _finished(self, _code: int) -> None:
        self._status.set_job(None)
        self.sigRunningChanged.emit(False)

    def shutdown(self) -> None:
        """Stop a running child on window close (SIGTERM, then kill after the grace)."""
        self.runner.stop_and_wait()
