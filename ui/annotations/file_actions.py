"""The window's annotation files and regions: File ▸ Import Annotations… (and drop),
File ▸ Export Annotations…, and Make Regions… from an overlay layer.

Each works on the open slide's collection (``win.annotations``); imported and accepted
objects bring their classes into the class list. In a project the binding saves them at
once; without one the window offers to save them as GeoJSON when the slide closes.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import PathClass
from pathscaat.progress import PathscaatError
from ui.actions import find_menu, icon
from ui.annotations.export_dialog import ExportDialog
from ui.annotations.import_drop import IMPORT_FILTER, import_file, is_annotation_file
from ui.annotations.regions_dialog import RegionsDialog

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)


class AnnotationFiles(QObject):
    """Import, export and make-regions for one window."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
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

    def import_files(self, paths: list[Path]) -> int:
        """Import each file onto the open slide; returns how many objects arrived."""
        coll, slide = self.win.annotations.collection, self.win.slide
        if coll is None or slide is None:
            self.win.errors.report("Open a slide first, then import its annotations.",
                                   title="Import annotations")
            return 0
        total = 0
        for path in paths:
            outcome = import_file(coll, path, slide)
            if outcome.error:
                self.win.errors.report(f"Nothing was imported from {path.name}: "
                                       f"{outcome.error}", title="Import annotations")
                continue
            self.win.annotations.classes.merge_from(outcome.added)
            total += len(outcome.added)
            self.win.status.showMessage(outcome.summary(), 10000)
            if outcome.skipped:
                self.win.errors.report(outcome.skipped_text(), title="Import annotations",
                                       minor=True)
        self.update_actions()
        return total

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
                           self.export_folder(), overlays, self.win)  # fmt: skip
        self.export_dialog = dlg
        if show:
            dlg.show()
        return dlg

    # -- regions -----------------------------------------------------------------------
    def make_regions(self, name: str) -> RegionsDialog | None:
        """Open Make Regions for the overlay layer ``name``."""
        layer = {o.name: o for o in self.win.viewer.overlays()}.get(name)
        folder = self.win.overlays.folders.get(name)
        if layer is None or folder is None or self.win.annotations.collection is None:
            return None
        if self.regions_dialog is not None and self.regions_dialog.isVisible():
            self.regions_dialog.reject()
        span = layer.value_max - layer.value_min
        start = (layer.threshold - layer.value_min) / span if span > 0 else 0.5
        # what the layer shows is what becomes regions; a layer drawn from 0 starts at half
        mpp = self.win.slide.mpp.x if self.win.slide is not None and self.win.slide.mpp else None
        dlg = RegionsDialog(self.win.viewer, folder, name, layer.kind, mpp=mpp,
                            start_threshold=start if start >= 0.05 else 0.5,
                            apply=lambda edit: self.apply(self._in_known_colours(edit)),
                            parent=self.win)  # fmt: skip
        dlg.set_centre_callback(self.win.viewer.center_on)
        dlg.sigAccepted.connect(lambda n: self.win.status.showMessage(
            f"Kept {n} region{'s' * (n != 1)} from {name} as annotations", 10000))
        self.regions_dialog = dlg
        dlg.show()
        return dlg
