"""File > Export View in the window: ask (dialog), write the PNG, report where it went."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from ui.errors import ErrorSink
from ui.export_view import ExportRequest, export_view
from ui.settings import Settings
from ui.status import StatusBar
from ui.viewer.slide_viewer import SlideViewer


class ViewExporter(QObject):
    """Runs exports of ``viewer``; errors go to the sink, the saved path to the status bar."""

    def __init__(
        self, viewer: SlideViewer, settings: Settings, errors: ErrorSink, status: StatusBar,
        parent: QWidget,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self._viewer, self._settings = viewer, settings
        self._errors, self._status, self._parent = errors, status, parent

    def ask(self, slide_path: Path | None) -> Path | None:
        """Show the dialog for the slide at ``slide_path``, then export; the PNG or None."""
        from ui.dialogs.export_view_dialog import ExportViewDialog, default_export_path

        slide = self._viewer.slide
        if slide is None or slide_path is None:
            return None
        start = default_export_path(slide_path, self._settings.get("dialogs/export_dir"))
        dlg = ExportViewDialog(start, max(slide.dimensions), self._parent)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return self.export(dlg.request())

    def export(self, req: ExportRequest) -> Path | None:
        """Write ``req``; the path written, or None after reporting why not."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            path = export_view(self._viewer, req)
        except Exception as exc:
            self._errors.report_exception(exc, title="Cannot export the view")
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self._settings.set("dialogs/export_dir", str(path.parent))
        self._status.showMessage(f"Saved {path}", 10000)
        return path
