"""The window's project part: File ▸ New/Open Project and Add Slides, the Project panel,
Analysis ▸ Run Model on Project Slides, and what opening a slide of the project restores.
New Project's steps are :mod:`ui.project.new_project_flow`'s.

Opening a slide that is in the project binds its annotations to the store (every edit is
committed at once) and loads the overlays of its recorded runs; a model run started on
it writes under ``<project>/overlays/`` and is recorded. The last project reopens at start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMessageBox

from pathscaat.progress import PathscaatError
from ui.actions import find_menu, icon
from ui.project.cohort_run import CohortRunController
from ui.project.new_project_flow import ask_new_project, make_new_project
from ui.project.panel import ProjectPanel
from ui.project.session import ProjectSession

if TYPE_CHECKING:
    from pathscaat.project.binding import ProjectBinding
    from ui.dialogs.run_model_dialog import RunRequest
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

PANEL_WIDTH = 210
CHECKPOINT_FILTER = "PathSCAAT checkpoints (*.json *.safetensors);;All files (*)"


class ProjectController(QObject):
    """Owns the session, panel, cohort runner and project actions of one window."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.session = ProjectSession(self)
        self.panel = ProjectPanel(self.session)
        self.cohort = CohortRunController(
            self.session, win.errors, win.status, self,
            cancel_grace_ms=win.settings.get("jobs/cancel_grace_ms"),
        )  # fmt: skip
        self.binding: ProjectBinding | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.dock = win._dock("Project", "projectDock", self.panel, "open")
        win.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.dock.setMinimumWidth(PANEL_WIDTH)
        self.dock.hide()  # shown when a project opens: the slide keeps the room until then
        self._build_actions()
        self._connect()
        self.update_actions()

    def _build_actions(self) -> None:
        win = self.win

        def action(text: str, tip: str, icon_name: str | None = None) -> QAction:
            act = QAction(icon(icon_name), text, win) if icon_name else QAction(text, win)
            act.setStatusTip(tip)
            act.setToolTip(f"{text.replace('&', '').rstrip('.…')}\n{tip}")
            return act

        self.new_action = action("&New Project…", "Make a project folder for slides, their "
                                 "annotations and model runs")
        self.open_action = action("Open &Project…", "Open a project folder", "open")
        self.add_action = action("&Add Slides…", "Add whole-slide images to the project")
        self.close_action = action("Close Projec&t", "Close the project (slides stay on disk)")
        self.cohort_action = action(
            "Run Model on &Project Slides…",
            "Run a trained model over every slide of the project, one after another",
            "run-model",
        )  # fmt: skip
        file_menu = find_menu(win, "File")
        if file_menu is not None:
            first = file_menu.actions()[0]
            for act in (self.new_action, self.open_action, self.add_action, self.close_action):
                file_menu.insertAction(first, act)
            file_menu.insertSeparator(first)
        analysis = find_menu(win, "Analysis")
        if analysis is not None:
            analysis.addAction(self.cohort_action)
        view = find_menu(win, "View")
        toggle = self.dock.toggleViewAction()
        if view is not None:
            view.addAction(toggle)

    def _connect(self) -> None:
        self.new_action.triggered.connect(self.ask_new)
        self.open_action.triggered.connect(self.ask_open)
        self.add_action.triggered.connect(self.ask_add_slides)
        self.close_action.triggered.connect(self.close_project)
        self.cohort_action.triggered.connect(self.ask_cohort)
        self.panel.sigAddSlides.connect(self.ask_add_slides)
        self.panel.sigNewProject.connect(self.ask_new)
        self.panel.sigOpenProject.connect(self.ask_open)
        self.panel.sigOpenSlide.connect(self.win.open_slide)
        self.session.sigChanged.connect(self.update_actions)
        self.session.sigChanged.connect(self._title)
        self.session.sigChanged.connect(self._load_classes)
        self.win.annotations.classes.subscribe(self._classes_changed)
        self.cohort.sigRunningChanged.connect(lambda _r: self.update_actions())
        self.cohort.sigSlideDone.connect(self._cohort_slide_done)
        self.win.runs.sigOverlaysReady.connect(lambda out, _slide: self.session.record_run(out))

    def update_actions(self) -> None:
        has = self.session.project is not None
        writable = has and not self.session.notice
        self.add_action.setEnabled(writable)
        self.close_action.setEnabled(has)
        self.cohort_action.setEnabled(writable and not self.cohort.is_running())

    def _title(self) -> None:
        root = self.session.root
        self.dock.setWindowTitle(f"Project: {root.name}" if root else "Project")

    # -- opening and closing ------------------------------------------------------------
    def ask_new(self) -> None:
        ask_new_project(self)

    def new_project(self, folder: Path) -> bool:
        """Make a project in ``folder`` and bring the open slide into it
        (:mod:`ui.project.new_project_flow`)."""
        return make_new_project(self, folder)

    def ask_open(self) -> None:
        start = str(self.session.root or self.win.settings.get("project/last") or "")
        folder = QFileDialog.getExistingDirectory(self.win, "Open Project", start)
        if folder:
            self.open_project(Path(folder))

    def open_project(self, folder: Path) -> bool:
        return self.enter(lambda: self.session.open(folder), folder, "Open project")

    def enter(self, how: Any, folder: Path, title: str, *, ask: bool = True) -> bool:
        """Close the slide (``ask``: offer to save its annotations), open the project by
        ``how`` (offering read-only when it is damaged) and show it."""
        self.win.close_slide(ask=ask)  # the current slide's annotations belong elsewhere
        if self.win.slide is not None:
            return False  # the user kept the slide (unsaved annotations)
        try:
            how()
        except PathscaatError as exc:
            if not self._offer_read_only(exc, folder):
                self.win.errors.report(f"{exc}.", title=title)
                return False
        root = self.session.root
        assert root is not None
        self.win.settings.set("project/last", str(root))
        if self.session.notice:
            self.win.errors.report(self.session.notice, title="Project opened read-only",
                                   minor=True)
        self.dock.show()
        self.dock.raise_()
        n = len(self.session.slides())
        self.win.status.showMessage(f"Project {root.name}: {n} slide{'s' * (n != 1)}", 8000)
        return True

    def _offer_read_only(self, exc: PathscaatError, folder: Path) -> bool:
        """A damaged project: offer to open it read-only (to copy out what is left)."""
        from pathscaat.project import ProjectDamagedError

        db = folder / "project.sqlite"
        if not isinstance(exc, ProjectDamagedError) or not db.is_file() or not db.stat().st_size:
            return False  # an empty file has nothing to look at
        B = QMessageBox.StandardButton
        text = f"{str(exc).split('; restore')[0]}.\n\nOpen it read-only to look at and export " \
            "what is left? Nothing will be written to it. Restore the file from a backup to " \
            "work in it again."  # fmt: skip
        answer = QMessageBox.question(self.win, "Damaged project", text, B.Open | B.Cancel,
                                      B.Cancel)  # fmt: skip
        if answer != B.Open:
            return False
        try:
            self.session.open(folder, read_only=True)
        except PathscaatError as again:
            self.win.errors.report(f"{again}.", title="Open project read-only")
            return False
        return True

    def close_project(self) -> None:
        self.win.close_slide()
        if self.win.slide is None:
            self.session.close()
            self.win.settings.set("project/last", "")

    def reopen_last(self) -> None:
        """At start: open the project of last time, quietly skipping one that is gone."""
        last = self.win.settings.get("project/last")
        if last and Path(last, "project.sqlite").is_file():
            self.open_project(Path(last))

    # -- slides ----------------------------------------------------------------------------
    def ask_add_slides(self) -> None:
        from ui.main_window import SLIDE_FILTER

        start = self.win.settings.get("dialogs/last_dir")
        paths, _ = QFileDialog.getOpenFileNames(self.win, "Add Slides to Project", start,
                                                SLIDE_FILTER)
        if paths:
            self.win.settings.set("dialogs/last_dir", str(Path(paths[0]).parent))
            self.add_slides([Path(p) for p in paths])

    def add_slides(self, paths: list[Path]) -> None:
        result = self.session.add_slides(paths)
        n = len(result.added)
        text = f"Added {n} slide{'s' * (n != 1)} to the project"
        if result.known:
            text += f"; {len(result.known)} already in it"
        self.win.status.showMessage(text, 8000)
        if result.problems:  # a dialog that lists them: the status bar is gone in seconds
            k = len(result.problems)
            self.win.errors.report(
                f"{k} file{'s were' if k != 1 else ' was'} not added to the project:\n\n"
                + "\n".join(f"\u2022 {p}" for p in result.problems),
                title="Add slides",
            )  # fmt: skip

    def slide_opened(self, path: Path) -> None:
        """Restore what the project keeps for ``path``: its annotations, bound to the store
        (every edit committed at once), and its runs' overlays."""
        self.slide_closed()
        self.panel.mark_current(path)
        record = self.session.record_for(path)
        if record is None:
            return
        if record.mpp_override is not None and self.win.slide is not None:
            self.win.info_panel.apply_mpp(record.mpp_override, source="project")
        try:
            collection, self.binding = self.session.open_collection(record)
        except PathscaatError as exc:
            self.win.errors.report(f"The annotations of {path.name} could not be read from "
                                   f"the project: {exc}.", title="Project")
        else:
            ann = self.win.annotations
            ann.set_slide(self.win.slide, path, collection, persisted=self.binding is not None)
            ann.classes.merge_from(collection.objects())
            self._unsubscribe = collection.subscribe(self._collection_changed)
        for folder in self.session.overlay_folders(record):
            self.win.load_overlays(folder)

    def mpp_changed(self) -> None:
        """Save the µm/px the user set (or reset) on a project slide as its override; the
        slide then says the project keeps it."""
        slide, path, project = self.win.slide, self.win.slide_path, self.session.project
        record = self.session.record_for(path) if path is not None else None
        if slide is None or record is None or project is None or project.read_only:
            return
        mpp = slide.mpp
        value = mpp.x if mpp is not None and mpp.source in ("user", "project") else None
        if value != record.mpp_override:
            try:
                project.set_mpp_override(record.id, value)
            except PathscaatError as exc:
                self.win.errors.report(f"The µm/px of {record.name} was not saved in the "
                                       f"project: {exc}.", title="Project", minor=True)
                return
            saved = f"saved {value:g} µm/px" if value is not None else "forgot the µm/px"
            self.win.status.showMessage(f"The project {saved} for {record.name}.", 8000)
        if mpp is not None and mpp.source == "user":
            slide.set_mpp(mpp.x, mpp.y, source="project")
            self.win.info_panel.set_slide(slide)

    def _collection_changed(self, event: Any) -> None:
        if event.kind != "selection":  # the binding has committed it: counts are current
            self.panel.refresh_counts()

    def slide_closed(self) -> None:
        """Stop saving the previous slide's collection (its edits are all committed)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.binding is not None:
            self.binding.close()
            self.binding = None
        self.panel.mark_current(None)
        self.panel.refresh_counts()

    def _classes_changed(self, _event: object) -> None:
        """The class list is the project's: saved with every change."""
        project = self.session.project
        if project is not None and not project.read_only:
            try:
                project.set_classes(list(self.win.annotations.classes))
            except PathscaatError as exc:
                self.win.errors.report(f"{exc}.", title="Project", minor=True)

    def _load_classes(self) -> None:
        project = self.session.project
        classes = self.win.annotations.classes
        for c in project.classes() if project is not None else []:
            if c.name not in classes:
                classes.add(c.name, c.colour)

    def runs_folder(self, slide: Path) -> Path | None:
        """Where a run on ``slide`` goes when the project keeps it (None: not a project
        slide, or the project is read-only: the dialog's Output folder is used)."""
        if self.session.record_for(slide) is None or self.session.notice:
            return None
        return self.session.runs_folder(slide)

    def run_request(self, req: RunRequest) -> RunRequest:
        """A run on a project slide writes under the project's overlays/."""
        folder = self.runs_folder(req.slide)
        return req if folder is None else replace(req, out=folder)

    # -- cohort --------------------------------------------------------------------------
    def ask_cohort(self) -> None:
        start = self.win.settings.get("jobs/checkpoint")
        path, _ = QFileDialog.getOpenFileName(self.win, "Model to run on every project slide",
                                              start, CHECKPOINT_FILTER)
        if path:
            self.win.settings.set("jobs/checkpoint", path)
            self.start_cohort(Path(path))

    def start_cohort(self, checkpoint: Path) -> bool:
        s = self.win.settings
        return self.cohort.start(checkpoint, saliency=s.get("jobs/saliency"),
                                 device=s.get("jobs/device"), min_tissue=s.get("jobs/min_tissue"))

    def _cohort_slide_done(self, folder: Path) -> None:
        """Show a finished slide's overlays at once when it is the slide on screen."""
        path = self.win.slide_path
        record = self.session.record_for(path) if path is not None else None
        if record is not None and folder in self.session.overlay_folders(record):
            self.win.load_overlays(folder)

    def shutdown(self) -> None:
        self.slide_closed()
        self.cohort.shutdown()
        self.panel.shutdown()
        self.session.close()

    @property
    def docks(self) -> list[QDockWidget]:
        return [self.dock]
