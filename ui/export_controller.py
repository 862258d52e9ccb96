"""File > Export View in the window: ask (dialog), render in a worker with progress and a
Cancel button, write the PNG, report where it went.

The export is planned on the UI thread (what is on screen now) and rendered and saved
in a worker thread (:func:`ui.export_view.run_job`), so the window keeps repainting and
the user can cancel; closing the slide cancels a running export first. :meth:`export`
does the same on the calling thread (tests, scripts).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QApplication, QDialog, QProgressDialog, QWidget
from superqt.utils import create_worker

from pathscaat.progress import JobCancelled, ProgressRecord
from ui.errors import ErrorSink
from ui.export_view import ExportRequest, export_view, plan_export, run_job
from ui.settings import Settings
from ui.status import StatusBar
from ui.viewer.slide_viewer import SlideViewer

if TYPE_CHECKING:
    from ui.annotations.layer import AnnotationLayer

log = logging.getLogger(__name__)
STAGES = {"render": "Reading the slide and overlays", "draw": "Drawing annotations and "
          "legends", "save": "Writing the PNG"}  # fmt: skip


class _Bridge(QObject):
    """Carries progress from the worker thread to the UI thread (a queued signal)."""

    sigProgress = Signal(object)


class ViewExporter(QObject):
    """Runs exports of ``viewer`` (and the annotations ``annotations`` draws); errors go to
    the sink, the saved path to the status bar; ``sigDone(path or None)`` when one ends."""

    sigDone = Signal(object)

    def __init__(
        self, viewer: SlideViewer, settings: Settings, errors: ErrorSink, status: StatusBar,
        parent: QWidget, annotations: AnnotationLayer | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self._viewer, self._settings = viewer, settings
        self._errors, self._status, self._parent = errors, status, parent
        self._annotations = annotations
        self._worker: Any = None
        self._stop = threading.Event()
        self._bridge = _Bridge(self)
        self._bridge.sigProgress.connect(self._progress)
        self.progress: QProgressDialog | None = None

    def ask(self, slide_path: Path | None) -> Path | None:
        """Show the dialog for the slide at ``slide_path``, then start the export; returns
        the PNG it will write, or None."""
        from ui.dialogs.export_view_dialog import ExportViewDialog, default_export_path

        slide = self._viewer.slide
        if slide is None or slide_path is None or self.running():
            return None
        start = default_export_path(slide_path, self._settings.get("dialogs/export_dir"))
        dlg = ExportViewDialog(start, max(slide.dimensions), self._parent)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        req = dlg.request()
        return req.path if self.start(req) else None

    # -- in a worker ---------------------------------------------------------------------
    def running(self) -> bool:
        return self._worker is not None

    def start(self, req: ExportRequest) -> bool:
        """Plan ``req`` now and render it in a worker; False (reported) if it cannot start."""
        if self.running():
            return False
        try:
            job = plan_export(self._viewer, req, self._annotations)
        except Exception as exc:
            self._errors.report_exception(exc, title="Cannot export the view")
            return False
        self._stop = threading.Event()
        self._result: Path | None = None
        self.progress = self._progress_dialog(job.path.name)
        worker = create_worker(run_job, job, on_progress=self._bridge.sigProgress.emit,
                               should_stop=self._stop.is_set, _start_thread=False,
                               _ignore_errors=True)  # fmt: skip
        worker.returned.connect(self._saved)
        worker.errored.connect(self._failed)
        worker.finished.connect(self._finished)
        self._worker = worker
        self._status.showMessage(f"Exporting the view to {job.path.name}…")
        worker.start()
        return True

    def _progress_dialog(self, name: str) -> QProgressDialog:
        dlg = QProgressDialog(f"Exporting {name}…", "Cancel", 0, 0, self._parent)
        dlg.setWindowTitle("Export View")
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.setMinimumDuration(300)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setMinimumWidth(420)
        dlg.canceled.connect(self.cancel)
        return dlg

    def _progress(self, rec: ProgressRecord) -> None:
        dlg = self.progress
        if dlg is None:
            return
        dlg.setLabelText(STAGES.get(rec.stage, rec.stage.capitalize()) + "…")
        if rec.total > 0:  # last: a modal dialog's setValue runs the event loop
            dlg.setRange(0, rec.total)
            dlg.setValue(rec.done)

    def cancel(self) -> None:
        """Stop the running export after the band being read (nothing is written)."""
        if self._worker is not None:
            self._stop.set()
            self._status.showMessage("Stopping the export…")

    def _saved(self, path: Path) -> None:
        self._settings.set("dialogs/export_dir", str(path.parent))
        self._status.showMessage(f"Saved {path}", 10000)
        self._result = path

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, JobCancelled):
            self._status.showMessage("Export cancelled; nothing was written.", 10000)
        else:
            self._errors.report_exception(exc, title="Cannot export the view")
        self._result = None

    def _finished(self, *_: object) -> None:
        self._worker = None
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self.sigDone.emit(self._result)

    def shutdown(self, msecs: int = 10000) -> None:
        """Cancel a running export and wait for it (before the slide closes)."""
        if self._worker is not None:
            self._stop.set()
            QThreadPool.globalInstance().waitForDone(msecs)

    # -- on the calling thread -----------------------------------------------------------
    def export(self, req: ExportRequest) -> Path | None:
        """Write ``req`` now; the path written, or None after reporting why not."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            path = export_view(self._viewer, req, self._annotations)
        except Exception as exc:
            self._errors.report_exception(exc, title="Cannot export the view")
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self._settings.set("dialogs/export_dir", str(path.parent))
        self._status.showMessage(f"Saved {path}", 10000)
        return path
