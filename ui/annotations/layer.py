"""The annotation layer: draws a collection over the slide, fast at any zoom.

The layer owns no annotation state: it subscribes to the collection's events and drops
what they make stale. Drawing is cached in chunks: the level-0 plane is cut into squares
of ``CHUNK_VIEW_PX`` screen pixels at a power-of-two zoom band, and each chunk holds, per
class colour, one QPainterPath of every object that touches it, built in one numpy pass
(:mod:`ui.annotations.paths`, with level of detail for the band). Painting then is a few
``drawPath`` calls per visible chunk, clipped to the chunk, whatever the object count.
Chunks are built within a time budget per frame (the rest on the next frames, and a ring
around the view while idle), so panning never waits for them.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from pathscaat.annotations.collection import AnnotationCollection, CollectionEvent
from pathscaat.annotations.model import RGB, Annotation, ToolShape
from ui.annotations.paths import BatchPaths, batch_paths

ANNOTATION_Z = 1500.0
"""Above overlays (z 100 per overlay) and the tile grid (1000)."""
CHUNK_VIEW_PX = 512
BUILD_BUDGET_S = 0.004
"""Time spent building chunks in one frame; the rest waits for the next frame."""
PREFETCH_RING = 1
MAX_CHUNKS = 3000
UNCLASSIFIED: RGB = (255, 0, 0)
"""QuPath's colour for objects without a class."""
SELECTED = QColor(255, 230, 0)
HANDLE_VIEW_PX = 7.0
MAX_HANDLES = 400

ChunkKey = tuple[int, int, int]  # band, column, row


@dataclass(frozen=True)
class LayerStyle:
    """How objects are drawn: fill and/or outline, fill opacity, classes hidden."""

    fill: bool = True
    outline: bool = True
    opacity: float = 0.25
    hidden_classes: frozenset[str | None] = field(default_factory=frozenset)
    visible: bool = True

    def shows(self, obj: Annotation) -> bool:
        return obj.class_name not in self.hidden_classes


@dataclass
class _Chunk:
    groups: list[tuple[RGB, BatchPaths]]


class ViewInfo(Protocol):
    def l0_visible_rect(self) -> tuple[float, float, float, float]: ...
    def l0_per_view_px(self) -> float: ...


class AnnotationLayer(QGraphicsObject):
    """A graphics item in the viewer's view box that paints a collection (see module doc)."""

    def __init__(self, view: ViewInfo, collection: AnnotationCollection | None = None) -> None:
        super().__init__()
        self.setZValue(ANNOTATION_Z)
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._view = view
        self._collection: AnnotationCollection | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._chunks: OrderedDict[ChunkKey, _Chunk] = OrderedDict()
        self._object_paths: dict[tuple[str, int], BatchPaths] = {}
        self._bounds = QRectF(0, 0, 1, 1)
        self.style = LayerStyle()
        self.show_handles = False
        """Draw the vertex handles of a single selected polygon (the move tool sets it)."""
        self._idle = QTimer(self, singleShot=True, interval=30)
        self._idle.timeout.connect(self._prefetch)
        self.stats = {"chunks_built": 0}
        self.set_collection(collection)

    # -- model --------------------------------------------------------------------
    @property
    def collection(self) -> AnnotationCollection | None:
        return self._collection

    def set_collection(self, collection: AnnotationCollection | None) -> None:
        """Draw ``collection`` (None: nothing); listens to its events until replaced."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._collection = collection
        if collection is not None:
            self._unsubscribe = collection.subscribe(self._on_event)
        self.invalidate()

    def set_bounds(self, l0_w: float, l0_h: float) -> None:
        """The slide's size: the item covers it with a margin for shapes drawn past its edge."""
        self.prepareGeometryChange()
        self._bounds = QRectF(-l0_w, -l0_h, 3 * l0_w, 3 * l0_h)

    def set_style(self, **changes: object) -> None:
        """Change fill, outline, opacity, hidden_classes or visible; redraws."""
        self.style = replace(self.style, **changes)  # type: ignore[arg-type]
        self.setVisible(self.style.visible)
        self.invalidate()

    def invalidate(self) -> None:
        """Forget every cached path and redraw."""
        self._chunks.clear()
        self._object_paths.clear()
        self.update()

    def ensure_built(self) -> int:
        """Build every chunk the view shows now, without a time budget (tests, screenshots).

        Returns how many were built.
        """
        if self._collection is None:
            return 0
        x, y, w, h = self._view.l0_visible_rect()
        band = band_for(self._view.l0_per_view_px())
        missing = [k for k in chunk_keys(band, x, y, x + w, y + h) if k not in self._chunks]
        for key in missing:
            self._build(key)
        self.update()
        return len(missing)

    def _on_event(self, event: CollectionEvent) -> None:
        if event.kind == "reset":
            self.invalidate()
            return
        if event.edit is not None:
            edit = event.edit
            touched = [*edit.added, *edit.removed, *(o for pair in edit.changed for o in pair)]
            self._forget(touched)
        self.update()

    def _forget(self, objects: Iterable[Annotation]) -> None:
        """Drop the chunks and object paths that show any of ``objects``."""
        boxes = []
        for obj in objects:
            boxes.append(obj.l0_bounds)
            for path_key in [k for k in self._object_paths if k[0] == obj.id]:
                del self._object_paths[path_key]
        for key in list(self._chunks):
            x0, y0, x1, y1 = _chunk_box(key)
            if any(b[0] <= x1 and b[2] >= x0 and b[1] <= y1 and b[3] >= y0 for b in boxes):
                del self._chunks[key]

    # -- painting -----------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._collection is None or not len(self._collection):
            return
        l0_per_px = self._view.l0_per_view_px()
        band = band_for(l0_per_px)
        exposed = option.exposedRect  # type: ignore[attr-defined]
        deadline = time.perf_counter() + BUILD_BUDGET_S
        missing = False
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, l0_per_px < 4.0)
        for key in chunk_keys(band, exposed.left(), exposed.top(), exposed.right(),
                              exposed.bottom()):  # fmt: skip
            chunk = self._chunk(key, deadline)
            if chunk is None:
                missing = True
                continue
            self._draw_chunk(painter, key, chunk)
        painter.setClipping(False)
        self._draw_selection(painter, band, l0_per_px)
        if missing:
            QTimer.singleShot(0, self.update)
        else:
            self._idle.start()

    def _chunk(self, key: ChunkKey, deadline: float) -> _Chunk | None:
        chunk = self._chunks.get(key)
        if chunk is not None:
            self._chunks.move_to_end(key)
            return chunk
        if time.perf_counter() > deadline:
            return None
        return self._build(key)

    def _build(self, key: ChunkKey) -> _Chunk:
        assert self._collection is not None
        objs = [o for o in self._collection.query(_chunk_box(key)) if self.style.shows(o)]
        by_colour: dict[RGB, list[Annotation]] = {}
        for obj in objs:
            by_colour.setdefault(colour_of(obj), []).append(obj)
        l0_per_px = 2.0 ** key[0]
        groups = [(c, batch_paths([o.geometry for o in group], l0_per_px))
                  for c, group in by_colour.items()]  # fmt: skip
        chunk = _Chunk([(c, p) for c, p in groups if not p.is_empty()])
        self._chunks[key] = chunk
        self.stats["chunks_built"] += 1
        while len(self._chunks) > MAX_CHUNKS:
            self._chunks.popitem(last=False)
        return chunk

    def _draw_chunk(self, painter: QPainter, key: ChunkKey, chunk: _Chunk) -> None:
        if not chunk.groups:
            return
        x0, y0, x1, y1 = _chunk_box(key)
        painter.setClipRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        for colour, paths in chunk.groups:
            self._draw_paths(painter, paths, QColor(*colour), 1.5)

    def _draw_paths(self, painter: QPainter, paths: BatchPaths, colour: QColor, width: float,
                    fill: bool | None = None) -> None:  # fmt: skip
        style = self.style
        fill = style.fill if fill is None else fill
        pen = QPen(colour, width) if style.outline or not fill else QPen(Qt.PenStyle.NoPen)
        pen.setCosmetic(True)
        brush = QBrush(Qt.BrushStyle.NoBrush)
        if fill:
            faded = QColor(colour)
            faded.setAlphaF(max(0.0, min(1.0, style.opacity)))
            brush = QBrush(faded)
        painter.setPen(pen)
        painter.setBrush(brush)
        if not paths.area.isEmpty():
            painter.drawPath(paths.area)
        painter.setBrush(QBrush(colour))
        if not paths.points.isEmpty():
            painter.drawPath(paths.points)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if not paths.lines.isEmpty():
            pen.setStyle(Qt.PenStyle.SolidLine)
            painter.setPen(pen)
            painter.drawPath(paths.lines)

    def _draw_selection(self, painter: QPainter, band: int, l0_per_px: float) -> None:
        assert self._collection is not None
        for obj_id in self._collection.selection:
            if obj_id not in self._collection:
                continue
            obj = self._collection.get(obj_id)
            key = (obj_id, band)
            paths = self._object_paths.get(key)
            if paths is None:
                paths = self._object_paths[key] = batch_paths([obj.geometry], 2.0**band)
            saved = self.style
            self.style = replace(saved, outline=True)
            self._draw_paths(painter, paths, SELECTED, 2.5, fill=False)
            self.style = saved
            if self.show_handles and len(self._collection.selection) == 1:
                self._draw_handles(painter, obj, l0_per_px)

    def _draw_handles(self, painter: QPainter, obj: Annotation, l0_per_px: float) -> None:
        vertices = editable_vertices(obj)
        if not vertices or len(vertices) > MAX_HANDLES:
            return
        half = HANDLE_VIEW_PX * l0_per_px / 2
        pen = QPen(QColor(40, 40, 40), 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(QBrush(SELECTED))
        path = QPainterPath()
        for x, y in vertices:
            path.addRect(QRectF(QPointF(x - half, y - half), QPointF(x + half, y + half)))
        painter.drawPath(path)

    def _prefetch(self) -> None:
        """While idle, build the chunks in a ring around the view (one budget per tick)."""
        if self._collection is None or not len(self._collection) or not self.isVisible():
            return
        x, y, w, h = self._view.l0_visible_rect()
        band = band_for(self._view.l0_per_view_px())
        size = chunk_l0_px(band) * PREFETCH_RING
        deadline = time.perf_counter() + BUILD_BUDGET_S
        for key in chunk_keys(band, x - size, y - size, x + w + size, y + h + size):
            if key not in self._chunks:
                if time.perf_counter() > deadline:
                    self._idle.start()
                    return
                self._build(key)


def band_for(l0_per_view_px: float) -> int:
    """The power-of-two zoom band whose cached paths serve this zoom."""
    return math.floor(math.log2(max(l0_per_view_px, 1e-6)))


def chunk_l0_px(band: int) -> float:
    return CHUNK_VIEW_PX * 2.0**band


def chunk_keys(band: int, l0_x0: float, l0_y0: float, l0_x1: float, l0_y1: float
               ) -> list[ChunkKey]:  # fmt: skip
    """Chunks of ``band`` covering a level-0 rectangle."""
    side = chunk_l0_px(band)
    cols = range(math.floor(l0_x0 / side), math.floor(l0_x1 / side) + 1)
    rows = range(math.floor(l0_y0 / side), math.floor(l0_y1 / side) + 1)
    return [(band, c, r) for r in rows for c in cols]


def _chunk_box(key: ChunkKey) -> tuple[float, float, float, float]:
    side = chunk_l0_px(key[0])
    return key[1] * side, key[2] * side, (key[1] + 1) * side, (key[2] + 1) * side


def colour_of(obj: Annotation) -> RGB:
    return obj.path_class.colour if obj.path_class is not None else UNCLASSIFIED


def editable_vertices(obj: Annotation) -> list[tuple[float, float]]:
    """Exterior vertices of a single polygon (no closing repeat); none for ellipses."""
    geom = obj.geometry
    if geom.geom_type != "Polygon" or obj.tool == ToolShape.ELLIPSE:
        return []
    coords = list(geom.exterior.coords)[:-1]  # type: ignore[attr-defined]
    return [(float(x), float(y)) for x, y in coords]
