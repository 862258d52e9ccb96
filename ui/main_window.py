"""The main window: viewer in the middle, info and layers panels, menus, toolbar, status bar.

The window wires parts that do the work elsewhere: slides open in ``ui.loader`` (off the UI
thread), model runs in ``ui.model_run`` (a child process), every error goes to
``ui.errors.ErrorSink``, every preference through ``ui.settings.Settings``. Which action
and signal reaches which handler, and when actions are enabled, is ``ui.window_wiring``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QUrl
from PySide6.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QWidget,
)

from ui.actions import build_actions, build_menus, build_toolbar, fill_recent_menu, icon
from ui.annotations.actions import build_annotation_menu, build_annotation_toolbar
from ui.annotations.controller import AnnotationController
from ui.annotations.file_actions import AnnotationFiles
from ui.dialogs.about import show_about
from ui.dialogs.confirm import confirm_stop_run
from ui.errors import ErrorSink, describe_exception, user_log_dir
from ui.export_controller import ViewExporter
from ui.loader import SlideLoader
from ui.model_run import ModelRunController
from ui.overlays import OverlayController
from ui.panels.empty_page import EmptyPage
from ui.panels.info_panel import InfoPanel
from ui.panels.layers_panel import LayersPanel
from ui.panels.models_panel import ModelsPanel
from ui.project.controller import ProjectController
from ui.settings import Settings
from ui.status import StatusBar
from ui.viewer import Minimap, SlideViewer
from ui.window_docks import add_dock, build_annotation_docks, build_docks
from ui.window_wiring import connect_window, update_actions
from ui.wizard.window_hooks import TrainingHooks

log = logging.getLogger(__name__)

SLIDE_FILTER = (
    "Slides (*.svs *.tif *.tiff *.ndpi *.vms *.vmu *.scn *.mrxs *.svslide *.bif *.dcm "
    "*.png *.jpg *.jpeg);;All files (*)"
)


class MainWindow(QMainWindow):
    """PathSCAAT's window.

    ``interactive=False`` (tests, batch screenshots) keeps errors in the sink and the status
    bar instead of dialogs, and never asks before closing.
    """

    # panels, made by ui.window_docks
    minimap: Minimap
    overview: QStackedWidget
    info_panel: InfoPanel
    layers_panel: LayersPanel
    models_panel: ModelsPanel
    annotations: AnnotationController
    overview_dock: QDockWidget
    info_dock: QDockWidget
    layers_dock: QDockWidget
    models_dock: QDockWidget
    classes_dock: QDockWidget
    annotations_dock: QDockWidget

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        interactive: bool = True,
        synchronous_viewer: bool = False,
    ) -> None:
        super().__init__()
        self.setWindowTitle("PathSCAAT")
        self.setWindowIcon(icon("app"))
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.interactive = interactive
        self.errors = ErrorSink(self, show_dialogs=interactive, status=self._flash)
        self.settings = settings if settings is not None else Settings()
        for problem in self.settings.problems:
            self.errors.report(f"Settings were reset: {problem}", title="Settings", minor=True)
        if not self.settings.get("errors/show_dialogs"):
            self.errors.show_dialogs = False
        self.slide: Any = None
        self.slide_path: Path | None = None
        self.viewer = SlideViewer(synchronous=synchronous_viewer)
        self._build_central()
        build_docks(self)
        build_annotation_docks(self)
        self.actions_ = build_actions(self)
        self.recent_menu = QMenu(self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        docks = (self.overview_dock, self.info_dock, self.layers_dock, self.classes_dock,
                 self.annotations_dock, self.models_dock)  # fmt: skip
        panels = [d.toggleViewAction() for d in docks]
        build_menus(self, self.actions_, self.recent_menu, panels)
        self.toolbar = build_toolbar(self, self.actions_, panels)
        build_annotation_menu(self, self.annotations.actions)
        self.annotation_toolbar = build_annotation_toolbar(self, self.annotations.actions)
        self.loader = SlideLoader(self)
        self.overlays = OverlayController(self.viewer, self.layers_panel, self.errors, self)
        self.runs = ModelRunController(self, self.settings, self.errors, self.status)
        self.exporter = ViewExporter(self.viewer, self.settings, self.errors, self.status, self,
                                     annotations=self.annotations.layer)  # fmt: skip
        self.projects = ProjectController(self)
        self.annotation_files = AnnotationFiles(self)
        self.training = TrainingHooks(self, self.models_panel)
        connect_window(self)
        self.setAcceptDrops(True)
        self._restore_state()
        update_actions(self)
        self.projects.reopen_last()

    def _build_central(self) -> None:
        """The empty page (with recent slides) and the viewer, one shown at a time."""
        self.stack = QStackedWidget()
        self.empty_page = EmptyPage()
        self.empty_page.sigOpen.connect(self.open_slide)
        self.empty_page.set_recent(self.settings.recent_files())
        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(self.viewer)
        self.setCentralWidget(self.stack)

    def _dock(self, title: str, name: str, widget: QWidget, icon_name: str) -> QDockWidget:
        return add_dock(self, title, name, widget, icon_name)

    def _flash(self, text: str) -> None:
        self.status.showMessage(text, 15000)

    # -- settings and window state --------------------------------------------------
    def _restore_state(self) -> None:
        geometry: QByteArray = self.settings.get("window/geometry")
        state: QByteArray = self.settings.get("window/state")
        if not geometry.isEmpty() and not self.restoreGeometry(geometry):
            self.errors.report("The saved window size was unusable; reset.", minor=True)
        if not state.isEmpty() and not self.restoreState(state):
            self.errors.report("The saved panel layout was unusable; reset.", minor=True)

    def _save_state(self) -> None:
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.set("window/state", self.saveState())
        self.settings.sync()

    # -- slides -----------------------------------------------------------------------
    def choose_slide(self) -> None:
        start = self.settings.get("dialogs/last_dir")
        path, _ = QFileDialog.getOpenFileName(self, "Open Slide", start, SLIDE_FILTER)
        if path:
            self.settings.set("dialogs/last_dir", str(Path(path).parent))
            self.open_slide(path)

    def open_slide(self, path: str | Path) -> None:
        """Open ``path`` in the background; the current slide stays until it arrives."""
        path = Path(path)
        self.status.showMessage(f"Opening {path.name}…")
        self.loader.open(path)

    def _slide_loaded(self, path: Path, slide: Any) -> None:
        if not self.annotations.confirm_discard(self, self.interactive):
            slide.close()  # the user kept the current slide and its unsaved annotations
            self.status.clearMessage()
            return
        self._drop_slide()
        self.slide, self.slide_path = slide, path
        self.viewer.set_slide(slide)
        self.annotations.set_slide(slide, path)
        self.stack.setCurrentWidget(self.viewer)
        self.overview.setCurrentWidget(self.minimap)
        self.info_panel.set_slide(slide)
        self.layers_panel.set_layers([])
        self.settings.add_recent(path)
        self.setWindowTitle(f"{path.name} — PathSCAAT")
        self.status.showMessage(f"Opened {path.name}", 5000)
        update_actions(self)
        self._view_changed(None)
        self.projects.slide_opened(path)

    def _slide_failed(self, path: Path, exc: BaseException) -> None:
        from pathscaat.slides.errors import SlideError, SlideNotFoundError

        self.status.clearMessage()
        if isinstance(exc, SlideNotFoundError):
            self.settings.remove_recent(path)
            self.empty_page.set_recent(self.settings.recent_files())
        if isinstance(exc, SlideError):  # says what happened and what to do: no traceback
            text = f"PathSCAAT could not open “{path.name}”: {exc.what.rstrip('.')}.\n\n{exc.todo}"
            self.errors.report(text, title="Cannot open slide", details=str(path))
            return
        text = (
            f"PathSCAAT could not open “{path.name}”: {describe_exception(exc)}\n\n"
            "Check that the file is a whole-slide image or picture and is complete."
        )
        self.errors.report(text, title="Cannot open slide", exc=exc)

    def _drop_slide(self) -> None:
        """Forget the current slide and its overlays, closing their files."""
        self.exporter.shutdown()  # an export still reading them stops first
        self.overlays.close_all()
        self.projects.slide_closed()
        self.annotations.set_slide(None)
        self.viewer.set_slide(None)
        if self.slide is not None:
            self.slide.close()
        self.slide, self.slide_path = None, None

    def close_slide(self, *, ask: bool = True) -> None:
        """Close the slide; ``ask``: offer to save unsaved annotations first (not when the
        caller keeps them, as New Project does)."""
        if ask and not self.annotations.confirm_discard(self, self.interactive):
            return
        self.loader.cancel_pending()
        self._drop_slide()
        self.info_panel.set_slide(None)
        self.empty_page.set_recent(self.settings.recent_files())
        self.stack.setCurrentWidget(self.empty_page)
        self.overview.setCurrentIndex(0)
        self.setWindowTitle("PathSCAAT")
        self.status.clear_cursor()
        self.status.clearMessage()
        self.status.set_magnification(None)
        update_actions(self)

    def _mpp_changed(self) -> None:
        self.projects.mpp_changed()  # a project keeps it for the next time the slide opens
        update_actions(self)
        self.viewer.refresh()  # re-emits the view: scale bar and status use the new µm/px
        self._view_changed(None)

    def _fill_recent_menu(self) -> None:
        fill_recent_menu(
            self.recent_menu, self.settings.recent_files(), self.open_slide,
            self.settings.clear_recent,
        )  # fmt: skip

    # -- overlays ---------------------------------------------------------------------
    def choose_overlays(self) -> None:
        start = str(self.slide_path.parent) if self.slide_path else ""
        folder = QFileDialog.getExistingDirectory(self, "Open Overlays (inference output)", start)
        if folder:
            self.load_overlays(Path(folder))

    def load_overlays(self, folder: Path) -> None:
        """Show the rasters of an inference output folder over the current slide."""
        if self.overlays.load(Path(folder), self.slide):
            self.layers_dock.show()
            self.layers_dock.raise_()

    def _overlays_loaded(self, folder: Path, n: int) -> None:
        self.status.showMessage(f"Loaded {n} overlays from {folder}", 8000)
        update_actions(self)

    # -- model runs -------------------------------------------------------------------
    def run_model(self) -> None:
        if self.slide_path is None:
            return
        req = self.runs.ask(self.slide_path, self._slide_mpp, self._ask_mpp,
                            self.projects.runs_folder(self.slide_path))  # fmt: skip
        if req is not None:
            self.runs.start(self.projects.run_request(req))

    def _slide_mpp(self) -> Any:
        return self.slide.mpp if self.slide is not None else None

    def _ask_mpp(self, reason: str) -> Any:
        """The Set µm/px prompt with ``reason`` first; the slide's new ``Mpp`` or None."""
        return self._slide_mpp() if self.info_panel.request_mpp(reason) else None

    def _run_succeeded(self, folder: Path, slide: Path) -> None:
        """Show a finished run's overlays, unless the user moved on to another slide."""
        if self.slide_path is not None and self.slide_path.resolve() == slide.resolve():
            self.load_overlays(folder)
            return
        self.errors.report(
            f"The model run on {slide.name} finished; its overlays are in {folder}. Open "
            "that slide, then File ▸ Open Overlays… to see them.",
            title="Model run", minor=True,
        )  # fmt: skip

    # -- viewer feedback --------------------------------------------------------------
    def _cursor_moved(self, l0_x: float, l0_y: float) -> None:
        if math.isnan(l0_x) or self.slide is None:
            self.status.clear_cursor()
            return
        mpp = self.slide.mpp
        self.status.set_cursor(l0_x, l0_y, mpp.x if mpp else None, mpp.y if mpp else None)
        self.layers_panel.show_values_at(l0_x, l0_y)

    def _view_changed(self, _rect: object) -> None:
        if self.slide is None:
            return
        v = self.viewer
        self.status.set_magnification(v.magnification(), v.l0_per_view_px(), v.digital_zoom())

    # -- drag and drop, about, close --------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        target = paths[0]
        if self.annotation_files.wants_drop(target):
            self.annotation_files.import_files(paths)
        elif target.is_dir() or target.name == "overlays.json":
            self.load_overlays(target)
        else:
            self.open_slide(target)

    def show_about(self) -> None:
        show_about(self, self.settings.path)

    def show_logs(self) -> None:
        folder = user_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.errors.report(f"The log files are in {folder}.", title="Log folder", minor=True)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop jobs and workers, close files, save the window state, then close."""
        if self.interactive and self.runs.is_running() and not confirm_stop_run(self):
            event.ignore()
            return
        if not self.annotations.confirm_discard(self, self.interactive):
            event.ignore()
            return
        self.runs.shutdown()
        self.training.shutdown()
        self.projects.shutdown()
        self.annotations.measurer.shutdown()
        self.loader.shutdown()
        self.viewer.shutdown()
        self._drop_slide()
        self._save_state()
        self.errors.close_dialog()
        super().closeEvent(event)
