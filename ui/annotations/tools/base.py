"""What every annotation tool shares: the context it edits through, and a preview outline.

A tool turns mouse events (already in level-0 px, the scene frame) into
:class:`~pathscaat.annotations.edits.Edit` values applied to the collection. It keeps
only the gesture in progress (the drag start, the vertices clicked so far); the objects
live in the collection, and the layer redraws from its events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem
from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.collection import AnnotationCollection
from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass, ToolShape
from pathscaat.progress import PathscaatError
from ui.annotations.layer import ANNOTATION_Z, AnnotationLayer
from ui.annotations.paths import batch_paths
from ui.viewer.slide_viewer import SlideViewer

HIT_VIEW_PX = 4.0
"""A click this close (screen px) to an object's edge picks it."""
MIN_DRAG_VIEW_PX = 3.0
"""A drag shorter than this is a click, not a shape."""


class Preview:
    """The dashed outline of the shape being drawn (one cosmetic-pen path item)."""

    def __init__(self, viewer: SlideViewer) -> None:
        self._viewer = viewer
        self.halo = QGraphicsPathItem()  # white under dark dashes: seen on tissue and glass
        self.item = QGraphicsPathItem()
        for item, pen in ((self.halo, QPen(QColor(255, 255, 255, 230), 3.5)),
                          (self.item, QPen(QColor(20, 20, 20), 1.5, Qt.PenStyle.DashLine))):
            pen.setCosmetic(True)
            item.setPen(pen)
            item.setZValue(ANNOTATION_Z + 10)
            viewer.view_box.addItem(item, ignoreBounds=True)
        self.item.setZValue(ANNOTATION_Z + 11)
        self.geometry: BaseGeometry | None = None

    def show(self, geometry: BaseGeometry | None) -> None:
        """Outline ``geometry`` (level-0 px); None hides the preview."""
        self.geometry = geometry
        if geometry is None or geometry.is_empty:
            self.item.setPath(QPainterPath())
            self.halo.setPath(QPainterPath())
            return
        paths = batch_paths([geometry], self._viewer.l0_per_view_px())
        path = QPainterPath(paths.area)
        path.addPath(paths.lines)
        path.addPath(paths.points)
        self.item.setPath(path)
        self.halo.setPath(path)

    def clear(self) -> None:
        self.show(None)


@dataclass
class ToolContext:
    """The viewer, layer and preview a tool works with, and how it reports to the user."""

    viewer: SlideViewer
    layer: AnnotationLayer
    preview: Preview
    message: Callable[[str], None]
    current_class: Callable[[], PathClass | None] = field(default=lambda: None)
    brush_um: float = 40.0
    """Brush diameter in µm (converted with the slide's µm/px)."""

    @property
    def collection(self) -> AnnotationCollection | None:
        return self.layer.collection

    def l0_per_view_px(self) -> float:
        return self.viewer.l0_per_view_px()

    def hit(self, l0_x: float, l0_y: float) -> Annotation | None:
        """The topmost visible object under the pointer (within a few screen px)."""
        if self.collection is None:
            return None
        found = self.collection.hit(l0_x, l0_y, HIT_VIEW_PX * self.l0_per_view_px())
        return found if found is not None and self.layer.style.shows(found) else None

    def selected(self) -> list[Annotation]:
        c = self.collection
        return [c.get(i) for i in c.selection if i in c] if c is not None else []

    def apply(self, edit: Edit) -> bool:
        """Apply ``edit``; a refusal (a locked object...) goes to the status bar."""
        if self.collection is None or edit.is_empty:
            return False
        try:
            self.collection.apply(edit)
        except PathscaatError as exc:
            self.message(str(exc))
            return False
        return True

    def add(self, geometry: BaseGeometry, tool: ToolShape, label: str) -> Annotation | None:
        """Add a new annotation of the current class and select it."""
        obj = Annotation(geometry, tool=tool, path_class=self.current_class())
        if not self.apply(Edit.add([obj], label)):
            return None
        assert self.collection is not None
        self.collection.select([obj.id])
        return obj

    def refuse_locked(self, objects: list[Annotation]) -> bool:
        """True (and a status message) when any of ``objects`` is locked."""
        locked = [o for o in objects if o.locked]
        if not locked:
            return False
        what = f"“{locked[0].name}”" if locked[0].name else "This annotation"
        if len(locked) > 1:
            what = f"{len(locked)} of the selected annotations"
        self.message(f"{what} is locked and cannot be edited: unlock it in the annotations "
                     "panel first.")  # fmt: skip
        return True


class Tool:
    """Base tool: ignores everything (the viewer pans). Handlers return True to consume."""

    name = "tool"
    shape: ToolShape | None = None
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx

    def activate(self) -> None:
        """Called when the tool becomes the active one."""

    def deactivate(self) -> None:
        """Called when another tool takes over: drop the gesture in progress."""
        self.cancel()

    def cancel(self) -> bool:
        """Esc: abandon the gesture in progress; True if there was one."""
        had = self.ctx.preview.geometry is not None
        self.ctx.preview.clear()
        return had

    def finish(self) -> bool:
        """Enter: complete the gesture in progress (the polygon tool closes its shape)."""
        return False

    def press(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        return False

    def move(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        return False

    def release(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        return False

    def double(self, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        return False


def is_left(event: QMouseEvent) -> bool:
    return event.button() == Qt.MouseButton.LeftButton


def has_alt(event: QMouseEvent) -> bool:
    return bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)


def has_shift(event: QMouseEvent) -> bool:
    mods = event.modifiers()
    return bool(mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier))
