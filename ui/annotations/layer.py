"""The annotation layer: draws a collection over the slide, fast at any zoom.

The layer owns no annotation state: it subscribes to the collection's events and drops
what they make stale. It draws only what is in view, from the caches of
:mod:`ui.annotations.chunks` (vector paths with level of detail per zoom band, rendered
into one image per chunk at the current scale). A paint only composes cached images (one
``drawImage`` per chunk, whatever the number of objects); what is missing is built by a
timer, within a time budget per tick, and shown by one repaint when ready, then a ring
around the view while idle: panning never waits for it, and building never repaints the
slide for nothing. The selection is drawn the same way from a second cache (any number of
selected objects cost one image per chunk in view), with the vertex handles of a single
selected polygon drawn on top as vectors.
"""

from __future__ import annotations

import gc
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
)

__all__ = ["AnnotationLayer", "LayerStyle", "band_for", "chunk_keys", "colour_of"]

ANNOTATION_Z = 1500.0
"""Above overlays (z 100 per overlay) and the tile grid (1000)."""
BUILD_BUDGET_S = 0.002
"""UI-thread CPU time spent building chunks in one timer tick; the rest waits for the next
ticks (a piece of a chunk started before the deadline is finished: a millisecond more).
CPU time, not wall time: on a loaded machine a wall-clock budget is spent waiting for a
core, and the view would fill in slower the busier the machine."""
PREFETCH_RING = 1
SELECTED = QColor(255, 230, 0)
SELECTED_RGB = (255, 230, 0)
SELECTED_VIEW_PX = 2.5
HANDLE_VIEW_PX = 7.0
MAX_HANDLES = 400
ANTIALIAS_BELOW_L0_PER_PX = 4.0
FREEZE_FROM_OBJECTS = 1000
"""A collection or an edit of this many objects is moved out of the garbage collector's
reach (``gc.freeze``): with 100,000 objects alive, each full collection walked them all,
10-90 ms on the UI thread at random moments of a pan."""


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
        self._selection: frozenset[str] = frozenset()
        self.selection_cache = ChunkCache(self._query, lambda o: o.id in self._selection,
                                          lambda _o: SELECTED_RGB, SELECTED_VIEW_PX)  # fmt: skip
        self._bounds = QRectF(0, 0, 1, 1)
        self._last_transform = QTransform()
        self.show_handles = False
        """Draw the vertex handles of a single selected polygon (the move tool sets it)."""
        self._paints, self._paint_s, self._paint_max_s = 0, 0.0, 0.0
        self._ticks, self._build_s, self._build_max_s = 0, 0.0, 0.0
        self._build = QTimer(self, singleShot=True, interval=0)
        self._build.timeout.connect(self._build_visible)
        self._idle = QTimer(self, singleShot=True, interval=30)
        self._idle.timeout.connect(self._prefetch)
        self.set_collection(collection)

    @property
    def stats(self) -> dict[str, float]:
        """Work done so far (for the benchmark): chunks built and rendered, paint CPU time."""
        return {"chunks_built": self.cache.built + self.selection_cache.built,
                "images_rendered": self.cache.rendered + self.selection_cache.rendered,
                "paints": self._paints, "paint_s": self._paint_s, "paint_max_s": self._paint_max_s,
                "build_ticks": self._ticks, "build_s": self._build_s,
                "build_max_s": self._build_max_s}  # fmt: skip

    def reset_stats(self) -> None:
        """Start counting paint time afresh (the benchmark skips its set-up frames)."""
        self._paints, self._paint_s, self._paint_max_s = 0, 0.0, 0.0
        self._ticks, self._build_s, self._build_max_s = 0, 0.0, 0.0

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
        self._selection = collection.selection if collection is not None else frozenset()
        if collection is not None:
            self._unsubscribe = collection.subscribe(self._on_event)
            _freeze_if_many(len(collection))
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
        self.selection_cache.clear()
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
            for cache, style, antialias in self._caches():
                cache.image(key, t, style, antialias, float("inf"))
        self.update()
        return self.cache.built - before

    def _on_event(self, event: CollectionEvent) -> None:
        if event.kind == "reset":
            self._selection = event.selection
            _freeze_if_many(len(self._collection) if self._collection is not None else 0)
            self.invalidate()
            return
        if event.edit is not None:
            edit = event.edit
            _freeze_if_many(len(edit.added) + len(edit.changed))
            touched = [*edit.added, *edit.removed, *(o for pair in edit.changed for o in pair)]
            self._forget(touched)
        if event.selection != self._selection:
            self._selection = event.selection
            self.selection_cache.clear()
        self.update()

    def _forget(self, objects: Iterable[Annotation]) -> None:
        """Drop the chunks (both caches) that show any of ``objects``."""
        boxes = [obj.l0_bounds for obj in objects]
        self.cache.forget(boxes)
        self.selection_cache.forget(boxes)

    def _caches(self) -> list[tuple[ChunkCache, DrawStyle, bool]]:
        """The class cache, then the selection's (drawn on top) if anything is selected."""
        caches = [(self.cache, self.style.draw(), self._antialias())]
        if self._selection:
            caches.append((self.selection_cache, DrawStyle(fill=False, outline=True), True))
        return caches

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
        """Compose the cached chunk images in view; build nothing (see _build_visible)."""
        t = painter.worldTransform()
        self._last_transform = QTransform(t)
        x, y, w, h = self._view.l0_visible_rect()  # an exposed rect can be the whole item
        exposed = option.exposedRect.intersected(QRectF(x, y, w, h))  # type: ignore[attr-defined]
        if exposed.isEmpty():
            return
        band = band_for(self._view.l0_per_view_px())
        keys = chunk_keys(band, exposed.left(), exposed.top(), exposed.right(), exposed.bottom())
        missing = False
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for cache, _style, _aa in self._caches():
            for key in keys:
                image = cache.cached_image(key, t)
                target = t.mapRect(chunk_rect(key))
                if image is None:
                    missing = True
                    image = cache.stale_image(key)
                    if image is not None and not image.isNull():  # stretched until re-rendered
                        painter.drawImage(target, image)
                elif not image.isNull():
                    painter.drawImage(QPointF(round(target.left()), round(target.top())), image)
        painter.restore()
        if self.show_handles and len(self._selection) == 1:
            self._draw_handles(painter)
        if missing:
            self._build.start()
        else:
            self._idle.start()

    def _build_visible(self) -> None:
        """Render the chunks in view that are missing, within one budget; repaint once."""
        if self._collection is None or not len(self._collection) or not self.isVisible():
            return
        start = time.thread_time()
        deadline = start + BUILD_BUDGET_S
        t = self._device_transform()
        done, missing = QRectF(), False
        for cache, style, antialias in self._caches():
            for key in self._visible_keys(0.0):
                if cache.has_image(key, t):
                    continue
                # a call always takes one step: past the deadline, leave the next chunk be
                if not done.isEmpty() and time.thread_time() > deadline:
                    missing = True
                    break
                if cache.image(key, t, style, antialias, deadline) is None:
                    missing = True
                    break
                done = done.united(chunk_rect(key))
            if missing:
                break
        if not done.isEmpty():
            self.update(done)  # only where images are new: the slide under them repaints too
        if missing:
            self._build.start()
        spent = time.thread_time() - start
        self._ticks += 1
        self._build_s += spent
        self._build_max_s = max(self._build_max_s, spent)

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

    def _draw_handles(self, painter: QPainter) -> None:
        assert self._collection is not None
        (obj_id,) = self._selection
        if obj_id not in self._collection:
            return
        vertices = editable_vertices(self._collection.get(obj_id))
        if not vertices or len(vertices) > MAX_HANDLES:
            return
        half = HANDLE_VIEW_PX * self._view.l0_per_view_px() / 2
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
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
        if self._build.isActive():  # the view's own chunks first, one budget per tick
            self._idle.start()
            return
        deadline = time.thread_time() + BUILD_BUDGET_S
        t = self._device_transform()
        for cache, style, antialias in self._caches():
            for key in self._visible_keys(PREFETCH_RING):
                if cache.has_image(key, t):
                    continue
                if time.thread_time() > deadline or (
                    cache.image(key, t, style, antialias, deadline) is None
                ):
                    self._idle.start()
                    return


def _freeze_if_many(n_objects: int) -> None:
    """Long-lived objects out of the collector's generations when many arrived at once
    (they are values that hold no cycles; reference counting still frees them)."""
    if n_objects >= FREEZE_FROM_OBJECTS:
        gc.freeze()


def editable_vertices(obj: Annotation) -> list[tuple[float, float]]:
    """Exterior vertices of a single polygon (no closing repeat); none for ellipses."""
    geom = obj.geometry
    if geom.geom_type != "Polygon" or obj.tool == ToolShape.ELLIPSE:
        return []
    coords = list(geom.exterior.coords)[:-1]  # type: ignore[attr-defined]
    return [(float(x), float(y)) for x, y in coords]
