"""Read grid tiles on a pool of threads, ahead of the model, in batches.

Slide decoders (OpenSlide, libtiff codecs, PIL resizes) release the GIL, so threads
overlap reading with the model's forward and backward passes without the start-up cost
and pickling of worker processes. Each thread opens its own ``Slide`` handle so reads
never queue on one handle's lock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pathscaat.slides import open_slide
from pathscaat.slides.base import Slide
from pathscaat.tiling.grid import read_tile

Batch = tuple[NDArray[np.int64], NDArray[np.uint8]]
"""Grid indices of a batch and its tiles, B x H x W x 3 uint8."""


class TileBatches:
    """Iterate batches of tiles ``indices`` (grid order) of ``grid``, read ahead.

    ``workers`` threads read tiles; at most ``prefetch`` batches are in flight beyond
    the one being consumed. ``workers=0`` reads in the calling thread (for debugging).
    Use as a context manager so the threads and slide handles are released.
    """

    def __init__(
        self,
        slide_path: str | Path,
        grid: Any,
        indices: NDArray[np.int64],
        *,
        batch_size: int,
        workers: int = 2,
        prefetch: int = 2,
        mpp_override: float | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.slide_path = Path(slide_path)
        self.grid = grid
        self.indices = np.asarray(indices, dtype=np.int64)
        self.batch_size = batch_size
        self.workers = max(0, workers)
        self.prefetch = max(1, prefetch)
        self.mpp_override = mpp_override
        self._local = threading.local()
        self._handles: list[Slide] = []
        self._handles_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(self.workers, "tile-reader") if self.workers else None

    def _slide(self) -> Slide:
        slide = getattr(self._local, "slide", None)
        if slide is None:
            slide = open_slide(self.slide_path, mpp_override=self.mpp_override)
            self._local.slide = slide
            with self._handles_lock:
                self._handles.append(slide)
        return slide

    def _read(self, i: int) -> NDArray[np.uint8]:
        return read_tile(self._slide(), self.grid, int(i))

    def _submit(self, idx: NDArray[np.int64]) -> list[Future[NDArray[np.uint8]]]:
        assert self._pool is not None
        return [self._pool.submit(self._read, int(i)) for i in idx]

    def __iter__(self) -> Iterator[Batch]:
        chunks = [
            self.indices[s : s + self.batch_size]
            for s in range(0, len(self.indices), self.batch_size)
        ]
        if self._pool is None:
            for idx in chunks:
                yield idx, np.stack([self._read(int(i)) for i in idx])
            return
        pending: deque[tuple[NDArray[np.int64], list[Future[NDArray[np.uint8]]]]] = deque()
        next_chunk = 0
        while pending or next_chunk < len(chunks):
            while next_chunk < len(chunks) and len(pending) <= self.prefetch:
                pending.append((chunks[next_chunk], self._submit(chunks[next_chunk])))
                next_chunk += 1
            idx, futures = pending.popleft()
            yield idx, np.stack([f.result() for f in futures])

    def close(self) -> None:
        """Stop the readers (queued reads are dropped) and close every slide handle."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        with self._handles_lock:
            for slide in self._handles:
                slide.close()
            self._handles.clear()

    def __enter__(self) -> TileBatches:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
