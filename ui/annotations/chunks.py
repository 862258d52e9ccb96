"""The layer's caches: vector paths per chunk and zoom band, and their rendered images.

The level-0 plane is cut into square chunks of ``CHUNK_VIEW_PX`` screen pixels at a
power-of-two zoom band. A *vector chunk* holds, per class colour, one QPainterPath of every
object touching the chunk (built in one numpy pass with level of detail for the band). A
*chunk image* is that vector chunk rendered at the exact current scale: painting a frame
is then one unscaled ``drawImage`` per visible chunk, whatever the number of objects, and
panning re-renders only the chunks that come into view. While a zoom step's images are
being made, the previous scale's image of a chunk is drawn stretched.

A chunk is built and rendered in pieces of ``PIECE_OBJECTS`` objects, with the caller's
deadline checked between pieces: zoomed out over 100,000 tiles a chunk holds thousands,
and one piece is the most work done past a deadline (a millisecond or two, not ten).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QTransform

from pathscaat.annotations.model import RGB, Annotation
from ui.annotations.paths import BatchPaths, batch_paths

CHUNK_VIEW_PX = 256
PIECE_OBJECTS = 300
"""Objects built or rendered between two deadline checks."""
MAX_PARTIAL = 64
MAX_VECTOR_CHUNKS = 4000
MAX_IMAGES = 400
"""At most ~256 KB each: about 100 MB of chunk images at worst."""
UNCLASSIFIED: RGB = (255, 0, 0)
"""QuPath's colour for objects without a class."""
OUTLINE_VIEW_PX = 1.0
"""Zoomed out: cosmetic 1 px outlines render ten times faster than wider ones."""
OUTLINE_NEAR_VIEW_PX = 2.0
"""Zoomed in (antialiased), where few objects share a chunk: easier to see on tissue."""
POINT_EDGE = QColor(30, 30, 30)

ChunkKey = tuple[int, int, int]  # band, column, row
ScaleKey = tuple[float, float]
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class DrawStyle:
    fill: bool = True
    outline: bool = True
    opacity: float = 0.25


@dataclass
class VectorChunk:
    """The objects shown in a chunk (drawing order) and the paths of those built so far,
    one list of (colour, paths) per piece of ``PIECE_OBJECTS`` objects."""

    objects: list[Annotation]
    pieces: list[list[tuple[RGB, BatchPaths]]]

    @property
    def complete(self) -> bool:
        return len(self.pieces) * PIECE_OBJECTS >= len(self.objects)

    @property
    def groups(self) -> list[tuple[RGB, BatchPaths]]:
        return [group for piece in self.pieces for group in piece]


@dataclass
class PartialImage:
    """A chunk image being rendered: ``drawn`` pieces of ``vector`` are in ``image``."""

    vector: VectorChunk
    image: QImage
    drawn: int = 0


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


def chunk_box(key: ChunkKey) -> Box:
    side = chunk_l0_px(key[0])
    return key[1] * side, key[2] * side, (key[1] + 1) * side, (key[2] + 1) * side


def chunk_rect(key: ChunkKey) -> QRectF:
    x0, y0, x1, y1 = chunk_box(key)
    return QRectF(x0, y0, x1 - x0, y1 - y0)


def scale_key(t: QTransform) -> ScaleKey:
    """The scale part of a level-0 to device transform, to 5 significant digits."""
    return (float(f"{t.m11():.5g}"), float(f"{t.m22():.5g}"))


def colour_of(obj: Annotation) -> RGB:
    return obj.path_class.colour if obj.path_class is not None else UNCLASSIFIED


def draw_paths(painter: QPainter, paths: BatchPaths, colour: QColor, style: DrawStyle,
               width: float = OUTLINE_VIEW_PX) -> None:  # fmt: skip
    """Fill and/or outline ``paths`` in ``colour`` (points always solid)."""
    pen = QPen(colour, width) if style.outline or not style.fill else QPen(Qt.PenStyle.NoPen)
    pen.setCosmetic(True)
    painter.setPen(pen)
    if style.fill:
        faded = QColor(colour)
        faded.setAlphaF(max(0.0, min(1.0, style.opacity)))
        painter.setBrush(QBrush(faded))
    else:
        painter.setBrush(Qt.BrushStyle.NoBrush)
    if not paths.area.isEmpty():
        painter.drawPath(paths.area)
    if not paths.points.isEmpty():
        edge = QPen(POINT_EDGE, 1.0)
        edge.setCosmetic(True)
        painter.setPen(edge)
        painter.setBrush(QBrush(colour))
        painter.drawPath(paths.points)
    if not paths.lines.isEmpty():
        painter.setBrush(Qt.BrushStyle.NoBrush)
        line_pen = QPen(colour, max(width, 1.5))
        line_pen.setCosmetic(True)
        painter.setPen(line_pen)
        painter.drawPath(paths.lines)


class ChunkCache:
    """Vector chunks and chunk images, built on demand within a caller's deadline (in the
    UI thread's CPU time, ``time.thread_time``)."""

    def __init__(self, query: Callable[[Box], list[Annotation]],
                 shows: Callable[[Annotation], bool],
                 colour: Callable[[Annotation], RGB] | None = None,
                 outline_px: float | None = None) -> None:  # fmt: skip
        self._query = query
        self._shows = shows
        self._colour = colour or colour_of
        self._outline_px = outline_px
        """Outline width in screen px (None: thinner when zoomed out, see _render)."""
        self.vectors: OrderedDict[ChunkKey, VectorChunk] = OrderedDict()
        self.images: OrderedDict[tuple[ChunkKey, ScaleKey], QImage] = OrderedDict()
        self._partial: OrderedDict[tuple[ChunkKey, ScaleKey], PartialImage] = OrderedDict()
        self._scales: dict[ChunkKey, set[ScaleKey]] = {}
        self.built = 0
        self.rendered = 0

    def clear(self, images_only: bool = False) -> None:
        self.images.clear()
        self._partial.clear()
        self._scales.clear()
        if not images_only:
            self.vectors.clear()

    def forget(self, boxes: list[Box]) -> None:
        """Drop every chunk (vector and image) that overlaps one of ``boxes``."""
        if not boxes:
            return
        for key in _touching(list(self.vectors), boxes):
            del self.vectors[key]
        for key in _touching(list(self._scales), boxes):
            for scale in self._scales.pop(key):
                self.images.pop((key, scale), None)
        for key, scale in _touching_scaled(list(self._partial), boxes):
            del self._partial[(key, scale)]

    def has_image(self, key: ChunkKey, t: QTransform) -> bool:
        """Whether ``key`` is rendered at the scale of ``t`` (nothing is built)."""
        return (key, scale_key(t)) in self.images

    def cached_image(self, key: ChunkKey, t: QTransform) -> QImage | None:
        """The image of ``key`` at the scale of ``t`` if there is one (nothing is built)."""
        return self.images.get((key, scale_key(t)))

    def vector(self, key: ChunkKey) -> VectorChunk:
        """The chunk's objects (queried now if not cached) and the pieces built so far."""
        chunk = self.vectors.get(key)
        if chunk is not None:
            self.vectors.move_to_end(key)
            return chunk
        chunk = VectorChunk([o for o in self._query(chunk_box(key)) if self._shows(o)], [])
        self.vectors[key] = chunk
        self.built += 1
        while len(self.vectors) > MAX_VECTOR_CHUNKS:
            self.vectors.popitem(last=False)
        return chunk

    def _build_piece(self, key: ChunkKey, chunk: VectorChunk) -> None:
        start = len(chunk.pieces) * PIECE_OBJECTS
        by_colour: dict[RGB, list[Annotation]] = {}
        colour = self._colour
        for obj in chunk.objects[start : start + PIECE_OBJECTS]:
            by_colour.setdefault(colour(obj), []).append(obj)
        l0_per_px = 2.0 ** key[0]
        groups = [(c, batch_paths([o.geometry for o in group], l0_per_px))
                  for c, group in by_colour.items()]  # fmt: skip
        chunk.pieces.append([(c, p) for c, p in groups if not p.is_empty()])

    def image(self, key: ChunkKey, t: QTransform, style: DrawStyle, antialias: bool,
              deadline: float) -> QImage | None:  # fmt: skip
        """The chunk rendered at the scale of ``t``, or None: not yet, the deadline came
        first. Each call does at least one step (the query, or building or drawing one
        piece), then more while the deadline allows; what is done is kept for the next."""
        scale = scale_key(t)
        image = self.images.get((key, scale))
        if image is not None:
            self.images.move_to_end((key, scale))
            return image
        worked = key not in self.vectors
        vector = self.vector(key)
        partial = self._partial.get((key, scale))
        if partial is None or partial.vector is not vector:
            if not vector.objects:
                return self._store(key, scale, QImage())  # a null image: nothing to draw
            partial = PartialImage(vector, self._blank(key, t))
            self._partial[(key, scale)] = partial
            while len(self._partial) > MAX_PARTIAL:
                self._partial.popitem(last=False)
        while True:
            if partial.drawn == len(vector.pieces) and vector.complete:
                del self._partial[(key, scale)]
                drawn = any(vector.pieces)  # else a null image: nothing to compose
                return self._store(key, scale, partial.image if drawn else QImage())
            if worked and time.thread_time() > deadline:
                return None
            worked = True
            if partial.drawn == len(vector.pieces):
                self._build_piece(key, vector)
                continue
            self._render(key, vector.pieces[partial.drawn], t, partial.image, style, antialias)
            partial.drawn += 1

    def _store(self, key: ChunkKey, scale: ScaleKey, image: QImage) -> QImage:
        self.images[(key, scale)] = image
        self._scales.setdefault(key, set()).add(scale)
        self.rendered += 1
        while len(self.images) > MAX_IMAGES:
            (old_key, old_scale), _ = self.images.popitem(last=False)
            self._scales.get(old_key, set()).discard(old_scale)
        return image

    def stale_image(self, key: ChunkKey) -> QImage | None:
        """Any image of ``key`` at another scale (drawn stretched while a zoom settles)."""
        for scale in self._scales.get(key, ()):
            return self.images.get((key, scale))
        return None

    @staticmethod
    def _blank(key: ChunkKey, t: QTransform) -> QImage:
        device = _scale_only(t).mapRect(chunk_rect(key))
        w, h = max(1, math.ceil(device.width())), max(1, math.ceil(device.height()))
        image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        return image

    def _render(self, key: ChunkKey, piece: list[tuple[RGB, BatchPaths]], t: QTransform,
                image: QImage, style: DrawStyle, antialias: bool) -> None:  # fmt: skip
        """Draw one piece's paths into the chunk's image."""
        if not piece:
            return
        scale = _scale_only(t)
        device = scale.mapRect(chunk_rect(key))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
        painter.setTransform(scale * QTransform.fromTranslate(-device.left(), -device.top()))
        width = self._outline_px or (OUTLINE_NEAR_VIEW_PX if antialias else OUTLINE_VIEW_PX)
        for colour, paths in piece:
            draw_paths(painter, paths, QColor(*colour), style, width)
        painter.end()


def _scale_only(t: QTransform) -> QTransform:
    return QTransform(t.m11(), 0, 0, t.m22(), 0, 0)


def _touching_scaled(
    keys: list[tuple[ChunkKey, ScaleKey]], boxes: list[Box]
) -> list[tuple[ChunkKey, ScaleKey]]:
    hit = set(_touching(list({k for k, _ in keys}), boxes))
    return [(k, s) for k, s in keys if k in hit]


def _touching(keys: list[ChunkKey], boxes: list[Box]) -> list[ChunkKey]:
    """The chunks of ``keys`` that overlap one of ``boxes`` (one spatial query for all:
    deleting 10,000 objects must not test every chunk against every object)."""
    if not keys or not boxes:
        return []
    chunks = np.array([chunk_box(k) for k in keys], dtype=float)
    tree = shapely.STRtree(shapely.box(*np.asarray(boxes, dtype=float).T))
    hit = tree.query(shapely.box(*chunks.T))[0]  # envelopes: box against box
    return [keys[i] for i in np.unique(hit).tolist()]
