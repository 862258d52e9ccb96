"""The annotation layer: draws a collection over the slide, fast at any zoom.

The layer owns no annotation state: it subscribes to the collection's events and drops
what they make stale. It draws only what is in view, from the caches of
:mod:`ui.annotations.chunks` (vector paths with level of detail per zoom band, rendered
into one image per chunk at the current scale), within a time budget per frame: what is
not ready is finished on the next frames and in a ring around the view while idle, so
panning never waits for it. The selection (and the vertex handles of a single selected
polygon) is drawn on top as vectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

from PySide6.QtCore import QPointF, QRectF, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from pathscaat.annotations.collection import AnnotationCollection, CollectionEvent
from pathscaat.annotations.model import Annotation, ToolShape
from ui.annotations.chunks import (
    ChunkCache,
    ChunkKey,
    DrawStyle,
    band_for,
    chunk_keys,
    chunk_l0_px,
    chunk_rect,
    colour_of,
    draw_paths,
)
from ui.annotations.paths import BatchPaths, batch_paths

__all__ = ["AnnotationLayer", "LayerStyle", "band_for", "chunk_keys", "colour_of"]

ANNOTATION_Z = 1500.0
"""Above overlays (z 100 per overlay) and the tile grid (1000)."""
BUILD_BUDGET_S = 0.003
"""Time spent building chunks in one frame; the rest waits for the next frames."""
PREFETCH_RING = 1
SELECTED = QColor(255, 230, 0)
HANDLE_VIEW_PX = 7.0
MAX_HANDLES = 400
ANTIALIAS_BELOW_L0_PER_PX = 4.0


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

    def draw(self) -> DrawStyle:
        return DrawStyle(self.fill, self.outline, self.opacity)


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
        self.style = LayerStyle()
        self.cache = ChunkCache(self._query, lambda o: self.style.shows(o))
        self._object_paths: dict[tuple[str, int], BatchPaths] = {}
        self._bounds = QRectF(0, 0, 1, 1)
        self._last_transform = QTransform()
        self.show_handles = False
        """Draw the vertex handles of a single selected polygon (the move tool sets it)."""
        self._paints, self._paint_s, self._paint_max_s = 0, 0.0, 0.0
        self._idle = QTimer(self, singleShot=True, interval=30)
        self._idle.timeout.connect(self._prefetch)
        self.set_collection(collection)

    @property
    def stats(self) -> dict[str, float]:
        """Work done so far (for the benchmark): chunks built and rendered, paint CPU time."""
        return {"chunks_built": self.cache.built, "images_rendered": self.cache.rendered,
                "paints": self._paints, "paint_s": self._paint_s, "paint_max_s": self._paint_max_s}

    def reset_stats(self) -> None:
        """Start counting paint time afresh (the benchmark skips its set-up frames)."""
        self._paints, self._paint_s, self._paint_max_s = 0, 0.0, 0.0

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

    def _query(self, box: tuple[float, float, float, float]) -> list[Annotation]:
        return self._collection.query(box) if self._collection is not None else []

    def set_bounds(self, l0_w: float, l0_h: float) -> None:
        """The slide's size: the item covers it with a margin for shapes drawn past its edge."""
        self.prepareGeometryChange()
        self._bounds = QRectF(-l0_w, -l0_h, 3 * l0_w, 3 * l0_h)

    def set_style(self, **changes: object) -> None:
        """Change fill, outline, opacity, hidden_classes or visible; redraws."""
        before = self.style
        self.style = replace(self.style, **changes)  # type: ignore[arg-type]
        self.setVisible(self.style.visible)
        if self.style.hidden_classes != before.hidden_classes:
            self.invalidate()
        elif self.style.draw() != before.draw():
            self.cache.clear(images_only=True)
            self.update()

    def invalidate(self) -> None:
        """Forget every cached path and image and redraw."""
        self.cache.clear()
        self._object_paths.clear()
        self.update()

    def ensure_built(self) -> int:
        """Build every chunk the view shows now, without a time budget (tests, screenshots).

        Returns how many vector chunks were built.
        """
        before = self.cache.built
        if self._collection is None or not len(self._collection):
            return 0
        t = self._device_transform()
        for key in self._visible_keys(0.0):
            self.cache.image(key, t, self.style.draw(), self._antialias(), float("inf"))
        self.update()
        return self.cache.built - before

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
        self.cache.forget(boxes)

    # -- painting -----------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._collection is None or not len(self._collection):
            return
        start = time.thread_time()  # CPU time: a loaded machine's waits are not our work
        self._paint(painter, option)
        spent = time.thread_time() - start
        self._paints += 1
        self._paint_s += spent
        self._paint_max_s = max(self._paint_max_s, spent)

    def _paint(self, painter: QPainter, option: QStyleOptionGraphicsItem) -> None:
        assert self._collection is not None
        t = painter.worldTransform()
        self._last_transform = QTransform(t)
        x, y, w, h = self._view.l0_visible_rect()  # an exposed rect can be the whole item
        exposed = option.exposedRect.intersected(QRectF(x, y, w, h))  # type: ignore[attr-defined]
        if exposed.isEmpty():
            return
        band = band_for(self._view.l0_per_view_px())
        keys = chunk_keys(band, exposed.left(), exposed.top(), exposed.right(), exposed.bottom())
        deadline = time.perf_counter() + BUILD_BUDGET_S
        style, antialias = self.style.draw(), self._antialias()
        missing = False
        painter.save()
        painter.resetTransform()
        for key in keys:
            image = self.cache.image(key, t, style, antialias, deadline)
            target = t.mapRect(chunk_rect(key))
            if image is None:
                missing = True
                image = self.cache.stale_image(key)
                if image is not None and not image.isNull():  # stretched until re-rendered
                    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
                    painter.drawImage(target, image)
            elif not image.isNull():
                painter.drawImage(QPointF(round(target.left()), round(target.top())), image)
        painter.restore()
        self._draw_selection(painter, band)
        if missing:
            QTimer.singleShot(0, self.update)
        else:
            self._idle.start()

    def _device_transform(self) -> QTransform:
        """Level-0 to viewport pixels, as the next paint will see it."""
        scene = self.scene()
        views = scene.views() if scene is not None else []
        if not views:
            return self._last_transform
        return self.deviceTransform(views[0].viewportTransform())

    def _antialias(self) -> bool:
        return self._view.l0_per_view_px() < ANTIALIAS_BELOW_L0_PER_PX

    def _visible_keys(self, margin_chunks: float) -> list[ChunkKey]:
        x, y, w, h = self._view.l0_visible_rect()
        band = band_for(self._view.l0_per_view_px())
        m = chunk_l0_px(band) * margin_chunks
        return chunk_keys(band, x - m, y - m, x + w + m, y + h + m)

    def _draw_selection(self, painter: QPainter, band: int) -> None:
        assert self._collection is not None
        selection = self._collection.selection
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        highlight = DrawStyle(fill=False, outline=True)
        for obj_id in selection:
            if obj_id not in self._collection:
                continue
            obj = self._collection.get(obj_id)
            paths = self._object_paths.get((obj_id, band))
            if paths is None:
                paths = self._object_paths[(obj_id, band)] = batch_paths([obj.geometry], 2.0**band)
            draw_paths(painter, paths, SELECTED, highlight, width=2.5)
            if self.show_handles and len(selection) == 1:
                self._draw_handles(painter, obj)

    def _draw_handles(self, painter: QPainter, obj: Annotation) -> None:
        vertices = editable_vertices(obj)
        if not vertices or len(vertices) > MAX_HANDLES:
            return
        half = HANDLE_VIEW_PX * self._view.l0_per_view_px() / 2
        pen = QPen(QColor(40, 40, 40), 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(QBrush(SELECTED))
        path = QPainterPath()
        for x, y in vertices:
            path.addRect(QRectF(QPointF(x - half, y - half), QPointF(x + half, y + half)))
        painter.drawPath(path)

    def _prefetch(self) -> None:
        """While idle, render the chunks in a ring around the view (one budget per tick)."""
        if self._collection is None or not len(self._collection) or not self.isVisible():
            return
        deadline = time.perf_counter() + BUILD_BUDGET_S
        style, antialias = self.style.draw(), self._antialias()
        t = self._device_transform()
        for key in self._visible_keys(PREFETCH_RING):
            if self.cache.image(key, t, style, antialias, deadline) is None:
                self._idle.start()
                return


def editable_vertices(obj: Annotation) -> list[tuple[float, float]]:
    """Exterior vertices of a single polygon (no closing repeat); none for ellipses."""
    geom = obj.geometry
    if geom.geom_type != "Polygon" or obj.tool == ToolShape.ELLIPSE:
        return []
    coords = list(geom.exterior.coords)[:-1]  # type: ignore[attr-defined]
    return [(float(x), float(y)) for x, y in coords]
