"""A spatial index over a changing set of annotations: a shapely STRtree plus a pending list.

An STRtree is immutable, so rebuilding it on every brush stroke would cost milliseconds per
edit. Instead the tree covers a snapshot; objects added or changed since then wait in a
small pending list (checked by bounding box), removed ones are masked out, and the tree is
rebuilt lazily on the next query once the pending list grows past ``REBUILD_PENDING`` (or
1% of the objects, so that a 100,000-object slide is not re-indexed every few strokes).
Results come back in the collection's drawing order (last on top).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import shapely
from shapely import STRtree

from pathscaat.annotations.model import Annotation

Box = tuple[float, float, float, float]

REBUILD_PENDING = 256


class SpatialIndex:
    """Bounding-box queries in level-0 px over the objects that ``source()`` returns."""

    def __init__(
        self, source: Callable[[], Sequence[Annotation]], order: Mapping[str, int]
    ) -> None:
        self._source = source
        self._order = order  # id -> insertion sequence number, owned by the collection
        self._tree: STRtree | None = None
        self._tree_objs: list[Annotation] = []
        self._slot: dict[str, int] = {}
        self._valid = np.zeros(0, dtype=bool)
        self._pending: dict[str, tuple[Annotation, Box]] = {}
        self._stale = True

    def invalidate(self) -> None:
        """Forget everything; the next query rebuilds from ``source()``."""
        self._tree = None
        self._tree_objs, self._slot, self._pending = [], {}, {}
        self._valid = np.zeros(0, dtype=bool)
        self._stale = True

    def add(self, obj: Annotation) -> None:
        if self._stale:
            return
        self._pending[obj.id] = (obj, obj.l0_bounds)

    def remove(self, obj_id: str) -> None:
        if self._stale:
            return
        self._pending.pop(obj_id, None)
        slot = self._slot.pop(obj_id, None)
        if slot is not None:
            self._valid[slot] = False

    def change(self, obj: Annotation) -> None:
        self.remove(obj.id)
        self.add(obj)

    def _ensure(self) -> None:
        limit = max(REBUILD_PENDING, len(self._tree_objs) // 100)
        if not self._stale and len(self._pending) <= limit:
            return
        objs = list(self._source())
        self._tree_objs = objs
        self._slot = {o.id: i for i, o in enumerate(objs)}
        self._valid = np.ones(len(objs), dtype=bool)
        self._tree = STRtree([o.geometry for o in objs]) if objs else None
        self._pending = {}
        self._stale = False

    def query(self, l0_box: Box) -> list[Annotation]:
        """Objects whose bounding box intersects ``l0_box`` (x0, y0, x1, y1), in order."""
        self._ensure()
        x0, y0, x1, y1 = l0_box
        hits: list[Annotation] = []
        if self._tree is not None:
            idx = self._tree.query(shapely.box(x0, y0, x1, y1))
            idx = np.sort(idx[self._valid[idx]])
            objs = self._tree_objs
            hits = [objs[i] for i in idx.tolist()]
        extra = [
            obj
            for obj, (bx0, by0, bx1, by1) in self._pending.values()
            if bx0 <= x1 and bx1 >= x0 and by0 <= y1 and by1 >= y0
        ]
        if extra:
            hits.extend(extra)
            order = self._order
            hits.sort(key=lambda o: order[o.id])
        return hits
