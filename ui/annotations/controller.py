"""The window's annotation part: one collection per open slide, its layer, tools and panels.

Without a project the annotations live in memory with the slide; closing the slide (or
opening another) with unsaved edits offers to save them as QuPath GeoJSON. The project
store, when there is one, persists each edit instead (built elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QWidget

from pathscaat.annotations.classes import ClassList, classify_edit
from pathscaat.annotations.collection import AnnotationCollection, CollectionEvent
from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import PathClass
from pathscaat.progress import PathscaatError
from ui.annotations.actions import AnnotationActions, build_annotation_actions
from ui.annotations.annotations_panel import AnnotationsPanel
from ui.annotations.classes_panel import ClassesPanel
from ui.annotations.layer import AnnotationLayer
from ui.annotations.measurer import AnnotationMeasurer
from ui.annotations.tools import ToolContext, ToolController
from ui.annotations.tools.base import Preview
from ui.viewer.slide_viewer import SlideViewer

GEOJSON_FILTER = "QuPath GeoJSON (*.geojson);;All files (*)"


class AnnotationController(QObject):
    """Owns the per-slide collection; wires tools, layer, panels and actions to it."""

    def __init__(self, win: QMainWindow, viewer: SlideViewer, message: Callable[[str], None],
                 report: Callable[[str], None]) -> None:  # fmt: skip
        super().__init__(win)
        self._win, self._viewer, self._message, self._report = win, viewer, message, report
        self.collection: AnnotationCollection | None = None
        self.slide: Any = None
        self.slide_path: Path | None = None
        self._dirty = False
        self.persisted = False  # the collection is a project's: its binding saves each edit
        self._unsubscribe: Callable[[], None] | None = None
        self.classes = ClassList()
        self.layer = AnnotationLayer(viewer)
        viewer.view_box.addItem(self.layer, ignoreBounds=True)
        self.classes_panel = ClassesPanel(self.classes, lambda: self.collection, message)
        self.ctx = ToolContext(viewer, self.layer, Preview(viewer), message,
                               self.classes_panel.current_class)  # fmt: skip
        self.tools = ToolController(self.ctx, self)
        self.measurer = AnnotationMeasurer(report, self)
        self.panel = AnnotationsPanel(self.layer, viewer.center_on, self._mpp, message,
                                      measurer=self.measurer)  # fmt: skip
        self.actions: AnnotationActions = build_annotation_actions(win)
        self._connect()
        self._update_actions()

    def _connect(self) -> None:
        a = self.actions
        for name, act in a.tools.items():
            act.triggered.connect(lambda _=False, n=name: self.tools.set_tool(n))
        self.tools.sigToolChanged.connect(self._tool_changed)
        a.delete.triggered.connect(self.delete_selected)
        a.undo.triggered.connect(self.undo)
        a.redo.triggered.connect(self.redo)
        a.save_as.triggered.connect(lambda: self.ask_save_as(self._win))
        for i, act in enumerate(a.classify):
            act.triggered.connect(lambda _=False, k=i: self.classify_by_key(k))
        if a.unclassify is not None:
            a.unclassify.triggered.connect(lambda: self.classify(None))
        self.classes.subscribe(lambda _e: self._update_actions())

    def _tool_changed(self, name: str) -> None:
        act = self.actions.tools[name]
        act.setChecked(True)
        self._message(f"{act.text().replace('&', '')}: {act.statusTip()}")

    def _mpp(self) -> float | None:
        mpp = self.slide.mpp if self.slide is not None else None
        return mpp.x if mpp is not None else None

    # -- slide lifecycle -----------------------------------------------------------------
    def set_slide(self, slide: Any, path: Path | None = None,
                  collection: AnnotationCollection | None = None, *,
                  persisted: bool = False) -> None:  # fmt: skip
        """Start an empty collection for ``slide`` (None: no slide, no annotations).

        ``collection`` (a project's, with ``persisted``: every edit is saved by its
        binding, so closing the slide never offers to save) replaces the empty one.
        """
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.tools.active.cancel()
        self.slide, self.slide_path = slide, path
        self.persisted = persisted
        if collection is None and slide is not None:
            collection = AnnotationCollection()
        self.collection = collection if slide is not None else None
        if self.collection is not None:
            self._unsubscribe = self.collection.subscribe(self._on_event)
            w, h = slide.dimensions
            self.layer.set_bounds(w, h)
        self.layer.set_collection(self.collection)
        self.measurer.set_collection(self.collection)
        self.panel.set_collection(self.collection)
        self._dirty = False
        self._update_actions()

    def is_dirty(self) -> bool:
        """True when the collection has edits that were not saved."""
        return (self._dirty and not self.persisted and self.collection is not None
                and len(self.collection) > 0)

    def _on_event(self, event: CollectionEvent) -> None:
        if event.kind in ("applied", "undone", "redone"):
            self._dirty = True
        self._update_actions()

    def _update_actions(self) -> None:
        a, c = self.actions, self.collection
        has = c is not None  # (an empty collection is falsy: it has a length)
        for act in a.tools.values():
            act.setEnabled(has)
        undo = c.undo_label if c is not None and c.can_undo else None
        redo = c.redo_label if c is not None and c.can_redo else None
        a.undo.setEnabled(undo is not None)
        a.redo.setEnabled(redo is not None)
        a.undo.setText(f"&Undo {undo}" if undo else "&Undo")
        a.redo.setText(f"&Redo {redo}" if redo else "&Redo")
        selected = c is not None and bool(c.selection)
        a.delete.setEnabled(selected)
        a.save_as.setEnabled(c is not None and len(c) > 0)
        for i, act in enumerate(a.classify):
            name = self.classes[i].name if i < len(self.classes) else None
            act.setText(f"&{i + 1}  {name}" if name else f"{i + 1}  (no class)")
            act.setEnabled(selected and name is not None)
        if a.unclassify is not None:
            a.unclassify.setEnabled(selected)

    # -- commands ----------------------------------------------------------------------------
    def classify_by_key(self, index: int) -> None:
        """Keys 1-9: give the selection the class at that position of the list."""
        if index < len(self.classes):
            self.classify(self.classes[index])

    def classify(self, path_class: PathClass | None) -> None:
        c = self.collection
        if c is None or not c.selection:
            return
        result = classify_edit([c.get(i) for i in c.selection if i in c], path_class)
        if result.edit is not None:
            self._apply(result.edit)
        if result.locked_skipped:
            n = result.locked_skipped
            self._message(f"{n} locked annotation{'s were' if n > 1 else ' was'} not "
                          "reclassified: unlock first.")  # fmt: skip

    def delete_selected(self) -> None:
        c = self.collection
        if c is None:
            return
        chosen = [c.get(i) for i in c.selection if i in c]
        free = [o for o in chosen if not o.locked]
        if len(free) < len(chosen):
            self.ctx.refuse_locked([o for o in chosen if o.locked])
        if free:
            n = len(free)
            self._apply(Edit.remove(free, f"Delete {n} object{'s' * (n > 1)}"))

    def undo(self) -> None:
        if self.collection is not None and self.collection.can_undo:
            self.tools.active.cancel()
            self.collection.undo()

    def redo(self) -> None:
        if self.collection is not None and self.collection.can_redo:
            self.collection.redo()

    def _apply(self, edit: Edit) -> None:
        assert self.collection is not None
        try:
            self.collection.apply(edit)
        except PathscaatError as exc:
            self._message(str(exc))

    # -- saving without a project ------------------------------------------------------
    def save_as(self, path: Path) -> bool:
        """Write every annotation to ``path`` (GeoJSON, in QuPath's frame for this slide)."""
        from pathscaat.annotations.io import qupath_l0_offset, write_annotations

        if self.collection is None:
            return False
        try:
            offset = qupath_l0_offset(self.slide) if self.slide is not None else (0.0, 0.0)
            write_annotations(path, self.collection.objects(), l0_offset=offset)
        except (OSError, PathscaatError) as exc:
            self._report(f"The annotations could not be saved to {path}: {exc}. Choose "
                         "another folder or file name.")  # fmt: skip
            return False
        self._dirty = False
        self._message(f"Saved {len(self.collection)} annotations to {path}")
        return True

    def default_save_path(self) -> Path:
        base = self.slide_path or Path.home() / "annotations"
        return base.with_suffix(".geojson")

    def ask_save_as(self, parent: QWidget) -> bool:
        path, _ = QFileDialog.getSaveFileName(parent, "Save Annotations",
                                              str(self.default_save_path()), GEOJSON_FILTER)
        return bool(path) and self.save_as(Path(path))

    def confirm_discard(self, parent: QWidget, interactive: bool) -> bool:
        """Before the slide goes: offer to save unsaved annotations. False: keep the slide."""
        if not self.is_dirty() or not interactive:
            return True
        assert self.collection is not None
        B = QMessageBox.StandardButton
        name = self.slide_path.name if self.slide_path else "this slide"
        answer = QMessageBox.question(
            parent, "Unsaved annotations",
            f"The {len(self.collection)} annotations on {name} are not saved.\n\n"
            "Save them as a QuPath GeoJSON file before closing the slide?",
            B.Save | B.Discard | B.Cancel, B.Save,
        )  # fmt: skip
        if answer == B.Save:
            return self.ask_save_as(parent)
        return answer == B.Discard
