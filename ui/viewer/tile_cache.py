"""LRU cache of decoded tiles keyed by :class:`~pathscaat.slides.region.Region`.

Decoding a JPEG tile costs far more than keeping it, so the viewer keeps recently seen
tiles under a byte budget and evicts the least recently used first. The cache is shared
by the loader's worker threads and the UI thread, hence the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from pathscaat.slides.region import Region

DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024


class TileCache:
    """Thread-safe LRU map ``Region -> ndarray`` bounded by ``max_bytes``.

    A tile larger than the whole budget is not stored (it would evict everything).
    """

    def __init__(self, max_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Region, NDArray[np.uint8]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, region: Region) -> NDArray[np.uint8] | None:
        """The tile for ``region`` (marking it recently used), or None."""
        with self._lock:
            tile = self._items.get(region)
            if tile is None:
                self.misses += 1
                return None
            self._items.move_to_end(region)
            self.hits += 1
            return tile

    def peek(self, region: Region) -> NDArray[np.uint8] | None:
        """Like :meth:`get` without touching recency or statistics."""
        with self._lock:
            return self._items.get(region)

    def put(self, region: Region, tile: NDArray[np.uint8]) -> None:
        """Store ``tile``; evict least recently used tiles until within budget."""
        size = int(tile.nbytes)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(region, None)
            if old is not None:
                self._bytes -= int(old.nbytes)
            self._items[region] = tile
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= int(evicted.nbytes)

    def __contains__(self, region: object) -> bool:
        with self._lock:
            return region in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def nbytes(self) -> int:
        """Bytes currently held."""
        with self._lock:
            return self._bytes

    def regions(self, slide_id: str | None = None) -> Iterator[Region]:
        """Snapshot of cached regions, optionally of one slide only."""
        with self._lock:
            keys = list(self._items)
        return (r for r in keys if slide_id is None or r.slide_id == slide_id)

    def discard_slide(self, slide_id: str) -> int:
        """Drop every tile of ``slide_id`` (after it is closed); returns how many."""
        with self._lock:
            doomed = [r for r in self._items if r.slide_id == slide_id]
            for region in doomed:
                self._bytes -= int(self._items.pop(region).nbytes)
            return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
