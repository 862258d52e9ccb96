"""The window's annotation files and regions: File ▸ Import Annotations… (and drop),
File ▸ Export Annotations…, and Make Regions… from an overlay layer.

Each works on the open slide's collection (``win.annotations``); imported and accepted
objects bring their classes into the class list. In a project the binding saves them at
once; without one the window offers to save them as GeoJSON when the slide closes.

Import reads the files in a worker thread, one after the other, with a progress dialog
and a Cancel button; each file's objects are added on the UI thread as it arrives (one
undoable edit per file). Cancel keeps the files already added and drops the rest (a
file being read is read to its end in the background, then forgotten).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QProgressDialog
from superqt.utils import create_worker

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import PathClass
from pathscaat.progress import PathscaatError
from ui.actions import find_menu, icon
from ui.annotations.export_dialog import ExportDialog
from ui.annotations.import_drop import (
    IMPORT_FILTER,
    ImportOutcome,
    add_outcome,
    is_annotation_file,
    read_each,
)
from ui.annotations.regions_dialog import RegionsDialog

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)


class AnnotationFiles(QObject):
    """Import, export and make-regions for one window; ``sigImported(n)`` when an import
    ends (objects added, cancelled or not)."""

    sigImported = Signal(int)

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self._import: dict[str, Any] = {}  # the running import: worker, paths, stop, ...
        self._import_gen = 0
        self.import_progress: QProgressDialog | None = None
        self._spent_progress: QProgressDialog | None = None  # deleted at the next import
        self.regions_dialog: RegionsDialog | None = None
        self.export_dialog: ExportDialog | None = None
        self.import_action = QAction("&Import Annotations…", win)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.setStatusTip("Add annotations from QuPath GeoJSON, ASAP/ImageScope "
                                        "XML, HALO or vertex CSV files (or drop the files)")
        self.export_action = QAction(icon("export"), "E&xport Annotations…", win)
        self.export_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.export_action.setStatusTip("Write the annotations as GeoJSON, XML, a table, "
                                        "crops, a report or training patches")
        file_menu = find_menu(win, "File")
        if file_menu is not None:
            after = next((a for a in file_menu.actions() if a.text() == "Open O&verlays…"), None)
            index = file_menu.actions().index(after) + 1 if after else 0
            before = file_menu.actions()[index] if index < len(file_menu.actions()) else None
            for act in (self.import_action, self.export_action):
                file_menu.insertAction(before, act)  # type: ignore[arg-type]
        self.import_action.triggered.connect(self.ask_import)
        self.export_action.triggered.connect(lambda: self.export_annotations())
        win.layers_panel.sigMakeRegionsRequested.connect(self.make_regions)

    def update_actions(self) -> None:
        has = self.win.annotations.collection is not None
        self.import_action.setEnabled(has)
        self.export_action.setEnabled(has)  # with no objects yet, it says so

    def apply(self, edit: Edit) -> bool:
        """Apply ``edit`` to the slide's collection and adopt its classes; False on refusal."""
        coll = self.win.annotations.collection
        if coll is None:
            return False
        try:
            coll.apply(edit)
        except PathscaatError as exc:
            self.win.errors.report(f"{exc}", title="Annotations")
            return False
        self.win.annotations.classes.merge_from(edit.added)
        self.update_actions()
        return True

    def _in_known_colours(self, edit: Edit) -> Edit:
        """Regions take their class's colour from the class list, else from the class
        map's legend, so a kept region looks like the overlay it came from."""
        known = {c.name: c.colour for c in self.win.annotations.classes}
        for layer in self.win.viewer.overlays():
            for label, rgb in layer.legend_entries():
                known.setdefault(label, tuple(int(v) for v in rgb))  # type: ignore[arg-type]
        added = []
        for o in edit.added:
            cls = o.path_class
            if cls is not None and cls.name in known:
                o = dataclasses.replace(o, path_class=PathClass(cls.name, known[cls.name]))
            added.append(o)
        return Edit.add(added, edit.label)

    # -- import ------------------------------------------------------------------------
    def ask_import(self) -> None:
        start = str(self.win.slide_path.parent) if self.win.slide_path else ""
        paths, _ = QFileDialog.getOpenFileNames(self.win, "Import Annotations", start,
                                                IMPORT_FILTER)
        self.import_files([Path(p) for p in paths])

    def import_files(self, paths: list[Path]) -> bool:
        """Import each file onto the open slide in a worker (see the module docstring);
        False (reported) when it cannot start."""
        coll, slide = self.win.annotations.collection, self.win.slide
        if coll is None or slide is None:
            self.win.errors.report("Open a slide first, then import its annotations.",
                                   title="Import annotations")  # fmt: skip
            return False
        if self.importing():
            self.win.errors.report("An import is running; wait for it or cancel it first.",
                                   title="Import annotations", minor=True)  # fmt: skip
            return False
        self._import_gen += 1
        gen, stop = self._import_gen, threading.Event()
        worker = create_worker(read_each, list(paths), slide, stop.is_set,
                               _start_thread=False, _ignore_errors=True)  # fmt: skip
        worker.yielded.connect(lambda item: self._imported_one(gen, item))
        worker.errored.connect(lambda exc: self._import_failed(gen, exc))
        worker.finished.connect(lambda *_: self._import_finished(gen))
        self._import = {"worker": worker, "paths": list(paths), "stop": stop, "added": 0,
                        "coll": coll}  # fmt: skip
        if self._spent_progress is not None:  # outside any nested loop of its own setValue
            self._spent_progress.deleteLater()
            self._spent_progress = None
        self.import_progress = self._progress_dialog(paths)
        worker.start()
        return True

    def importing(self) -> bool:
        """True while an import's files are being read."""
        return bool(self._import)

    def cancel_import(self) -> None:
        """Keep the files added so far; forget the rest (see the module docstring)."""
        if self._import:
            self._import["stop"].set()
            self._import_finished(self._import_gen, cancelled=True)

    def _progress_dialog(self, paths: list[Path]) -> QProgressDialog:
        dlg = QProgressDialog(f"Reading {paths[0].name}…" if paths else "", "Cancel", 0,
                              len(paths), self.win)  # fmt: skip
        dlg.setWindowTitle("Import Annotations")
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.setMinimumDuration(400)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setMinimumWidth(420)
        dlg.setValue(0)
        dlg.canceled.connect(self.cancel_import)
        return dlg

    def _imported_one(self, gen: int, item: tuple[int, ImportOutcome]) -> None:
        """One file read: add its objects (UI thread), say what happened."""
        if gen != self._import_gen or not self._import:
            return
        index, outcome = item
        state, coll = self._import, self.win.annotations.collection
        if coll is None or coll is not state["coll"]:  # the slide changed meanwhile
            return
        if not outcome.error:
            outcome = add_outcome(coll, outcome)
        if outcome.error:
            self.win.errors.report(f"Nothing was imported from {outcome.path.name}: "
                                   f"{outcome.error}", title="Import annotations")  # fmt: skip
        else:
            self.win.annotations.classes.merge_from(outcome.added)
            state["added"] += len(outcome.added)
            if outcome.warning:  # another slide's file imports "fine" and draws nowhere
                self.win.errors.report(f"{outcome.path.name}: {outcome.warning}.",
                                       title="Import annotations")  # fmt: skip
            self.win.status.showMessage(outcome.summary(), 10000)  # after: the count stays
            if outcome.skipped or outcome.repaired:
                self.win.errors.report(outcome.skipped_text(), title="Import annotations",
                                       minor=True)  # fmt: skip
            self.update_actions()
        self._advance(index, state["paths"])

    def _advance(self, index: int, paths: list[Path]) -> None:
        """Show file ``index`` done (last: a modal dialog's setValue runs the event loop)."""
        dlg = self.import_progress
        if dlg is None:
            return
        if index + 1 < len(paths):
            dlg.setLabelText(f"Reading {paths[index + 1].name} ({index + 2} of {len(paths)})…")
        dlg.setValue(index + 1)

    def _import_failed(self, gen: int, exc: BaseException) -> None:
        if gen == self._import_gen:
            self.win.errors.report_exception(exc, title="Import annotations")

    def _import_finished(self, gen: int, cancelled: bool = False) -> None:
        if gen != self._import_gen or not self._import:
            return
        added = self._import["added"]
        self._import = {}
        self._import_gen += 1  # what a cancelled worker still yields is dropped
        if self.import_progress is not None:
            # closed, not deleted: this may run inside the dialog's own setValue (a modal
            # progress dialog processes events there), and deleting it then crashes Qt
            self.import_progress.close()
            self._spent_progress, self.import_progress = self.import_progress, None
        if cancelled:
            self.win.status.showMessage(f"Import cancelled; {added} object"
                                        f"{'s' * (added != 1)} were added before.", 10000)
        self.update_actions()
        self.sigImported.emit(added)

    def wants_drop(self, path: Path) -> bool:
        """A dropped file for the importer (a slide must be open)."""
        return self.win.slide is not None and is_annotation_file(path)

    # -- export ------------------------------------------------------------------------
    def export_folder(self) -> Path:
        path = self.win.slide_path
        assert path is not None
        root = self.win.projects.session.root
        base = root / "exports" if root is not None else path.parent
        return base / f"{path.stem}-export"

    def export_annotations(self, *, show: bool = True) -> ExportDialog | None:
        coll, slide, path = self.win.annotations.collection, self.win.slide, self.win.slide_path
        if coll is None or slide is None or path is None or len(coll) == 0:
            self.win.errors.report("There are no annotations on this slide to export. Draw, "
                                   "import or make regions first.", title="Export", minor=True)
            return None
        folders = self.win.overlays.folders
        overlays = folders.get("saliency") or next(iter(folders.values()), None)
        dlg = ExportDialog(slide, path, coll.objects(), set(coll.selection),
                           self.export_folder(), overlays, self.win,
                           measure_dirs=tuple(self.win.overlays.sets()))  # fmt: skip
        self.export_dialog = dlg
        if show:
            dlg.show()
        return dlg

    # -- regions -----------------------------------------------------------------------
    @staticmethod
    def _start_threshold(layer: Any) -> float | None:
        """Where Make Regions starts: the layer's default for the slide-level saliency map
        (its display threshold shows more than a handful of regions should cover), else
        what the layer shows (a layer drawn from 0 starts at half)."""
        from pathscaat.inference.overlays import UNIT_PERCENTILE

        if getattr(layer, "unit", "") == UNIT_PERCENTILE:
            return None
        span = layer.value_max - layer.value_min
        start = (layer.threshold - layer.value_min) / span if span > 0 else 0.5
        return start if start >= 0.05 else 0.5

    @staticmethod
    def _model_key(folder: Path) -> str:
        """The model an overlay set came from (its checkpoint path), for remembered maps."""
        from pathscaat.inference.overlays import OverlaySet

        try:
            return OverlaySet.load(folder).checkpoint or str(folder)
        except PathscaatError:
            return str(folder)

    def _class_maps(self) -> dict[str, dict[str, str]]:
        from pathscaat.annotations.class_map import load_maps

        return load_maps(str(self.win.settings.get("regions/class_maps")))

    def _remember_class_map(self, model: str, mapping: dict[str, str]) -> None:
        from pathscaat.annotations.class_map import dump_maps

        maps = self._class_maps()
        maps[model] = dict(mapping)
        self.win.settings.set("regions/class_maps", dump_maps(maps))

    def make_regions(self, name: str) -> RegionsDialog | None:
        """Open Make Regions for the overlay layer ``name``."""
        layer = {o.name: o for o in self.win.viewer.overlays()}.get(name)
        folder = self.win.overlays.folders.get(name)
        if layer is None or folder is None or self.win.annotations.collection is None:
            return None
        if self.regions_dialog is not None and self.regions_dialog.isVisible():
            self.regions_dialog.reject()
        mpp = self.win.slide.mpp.x if self.win.slide is not None and self.win.slide.mpp else None
        model = self._model_key(folder)
        dlg = RegionsDialog(self.win.viewer, folder, name, layer.kind, mpp=mpp,
                            start_threshold=self._start_threshold(layer),
                            apply=lambda edit: self.apply(self._in_known_colours(edit)),
                            parent=self.win,
                            project_classes=self.win.annotations.classes.names(),
                            class_map=self._class_maps().get(model, {}),
                            on_class_map=lambda m: self._remember_class_map(model, m),
                            )  # fmt: skip
        dlg.set_centre_callback(self.win.viewer.center_on)
        dlg.sigAccepted.connect(lambda n: self.win.status.showMessage(
            f"Kept {n} region{'s' * (n != 1)} from {name} as annotations", 10000))
        self.regions_dialog = dlg
        dlg.show()
        return dlg
