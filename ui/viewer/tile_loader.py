"""Background tile loading: the UI thread never reads a slide.

``TileLoader.request(regions)`` states *the whole set* of tiles the view wants now. Cache
hits are delivered at once; misses are read by worker threads. Every request bumps a
generation counter: queued reads that the new request no longer wants are cancelled
before they touch the slide, reads already running finish into the cache but are not
delivered (they arrived late). Read errors arrive at ``sigError`` once per region and are
not retried until :meth:`forget_failures`, so a broken file cannot start a retry storm.

The workers are Python threads (``concurrent.futures``), not a ``QThreadPool``: Python
registers a permanent ``_DummyThread`` for every foreign thread that runs Python code, so
only Python-owned threads let ``close()`` return ``threading.active_count()`` to where it
was. Results cross to the UI thread through a queued Qt signal.

``synchronous=True`` reads in the calling thread (tests, scripts): every signal has fired
when ``request`` returns.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Signal

from pathscaat.slides.base import Slide
from pathscaat.slides.errors import SlideError
from pathscaat.slides.region import Region
from ui.viewer.tile_cache import TileCache


@dataclass
class _Result:
    """What a worker hands back to the UI thread."""

    region: Region | None = None
    slide: Slide | None = None  # the source read; stale when no longer registered
    tile: NDArray[np.uint8] | None = None
    error: str | None = None
    skipped: bool = False
    value: Any = None
    callback: Callable[[Any], None] | None = None
    on_error: Callable[[str], None] | None = None


def _describe(exc: BaseException) -> str:
    """SlideError messages already say what to do; other errors get their type name."""
    if isinstance(exc, SlideError) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class TileLoader(QObject):
    """Reads tiles of registered slides off the UI thread into a shared :class:`TileCache`.

    Signals: ``sigTileReady(Region, ndarray)``, ``sigError(Region | None, str)``,
    ``sigPending(int)`` (reads queued or running).
    """

    sigTileReady = Signal(object, object)
    sigError = Signal(object, str)
    sigPending = Signal(int)
    _sigFinished = Signal(object)

    def __init__(
        self,
        cache: TileCache | None = None,
        *,
        synchronous: bool = False,
        max_workers: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cache = cache if cache is not None else TileCache()
        self.synchronous = synchronous
        self.max_workers = max_workers or max(2, min(4, os.cpu_count() or 2))
        self.generation = 0
        self.dropped_before_read = 0
        self.dropped_late = 0
        self._slides: dict[str, Slide] = {}
        self._wanted: set[Region] = set()
        self._jobs: dict[Region, Future[None]] = {}
        self._failed: set[Region] = set()
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False
        self._sigFinished.connect(self._on_finished)

    # -- sources -------------------------------------------------------------
    def register(self, slide_id: str, slide: Slide) -> None:
        """Make ``slide`` readable under ``slide_id`` (the ``Region.slide_id`` of its tiles)."""
        self._slides[slide_id] = slide

    def unregister(self, slide_id: str) -> None:
        """Forget a source: cancel its reads, drop its cached tiles and failures."""
        self._slides.pop(slide_id, None)
        with self._lock:
            self._wanted = {r for r in self._wanted if r.slide_id != slide_id}
        for region in [r for r in self._jobs if r.slide_id == slide_id]:
            if self._jobs[region].cancel():
                del self._jobs[region]
        self._failed = {r for r in self._failed if r.slide_id != slide_id}
        self.cache.discard_slide(slide_id)
        self.sigPending.emit(len(self._jobs))

    def forget_failures(self) -> None:
        """Allow failed regions to be read again (e.g. after the user fixed the file)."""
        self._failed.clear()

    @property
    def pending(self) -> int:
        return len(self._jobs)

    # -- requests ------------------------------------------------------------
    def request(self, regions: Sequence[Region]) -> int:
        """Want exactly ``regions`` now (first = most urgent); returns the new generation."""
        if self._closed:
            return self.generation
        self.generation += 1
        with self._lock:
            self._wanted = set(regions)
        self._cancel_unwanted()
        for region in regions:
            tile = self.cache.get(region)
            if tile is not None:
                self.sigTileReady.emit(region, tile)
            elif region not in self._jobs and region not in self._failed:
                self._start(region)
        self.sigPending.emit(len(self._jobs))
        return self.generation

    def submit_task(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Run ``fn`` on a worker; ``on_done(value)`` / ``on_error(msg)`` run on the UI thread."""
        if self._closed:
            return
        if self.synchronous:
            self._on_finished(self._call(fn, on_done, on_error))
        else:
            self._pool().submit(lambda: self._sigFinished.emit(self._call(fn, on_done, on_error)))

    def close(self) -> None:
        """Cancel queued reads and wait for running ones: no worker thread survives this."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._wanted.clear()
        for future in self._jobs.values():
            future.cancel()
        self._jobs.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    @property
    def closed(self) -> bool:
        return self._closed

    # -- internals -----------------------------------------------------------
    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="tiles")
        return self._executor

    def _start(self, region: Region) -> None:
        slide = self._slides.get(region.slide_id)
        if slide is None:
            self._failed.add(region)
            self.sigError.emit(region, f"no slide registered as {region.slide_id!r}")
            return
        if self.synchronous:
            self._on_finished(self._read(region, slide))
            return
        self._jobs[region] = self._pool().submit(self._work, region, slide)

    def _cancel_unwanted(self) -> None:
        for region in [r for r in self._jobs if r not in self._wanted]:
            if self._jobs[region].cancel():
                del self._jobs[region]
                self.dropped_before_read += 1

    def _work(self, region: Region, slide: Slide) -> None:
        self._sigFinished.emit(self._read(region, slide))

    def _read(self, region: Region, slide: Slide) -> _Result:
        with self._lock:
            if self._closed or region not in self._wanted:
                return _Result(region, slide, skipped=True)
        try:
            tile = slide.read_region(
                (region.l0_x, region.l0_y), region.level, (region.lvl_w, region.lvl_h)
            )
        except Exception as exc:  # every read error is reported, none is fatal
            return _Result(region, slide, error=_describe(exc))
        tile = np.ascontiguousarray(tile)
        if self._slides.get(region.slide_id) is slide:
            self.cache.put(region, tile)
        return _Result(region, slide, tile)

    @staticmethod
    def _call(
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None,
    ) -> _Result:
        try:
            return _Result(value=fn(), callback=on_done, on_error=on_error)
        except Exception as exc:
            return _Result(error=_describe(exc), on_error=on_error)

    def _on_finished(self, result: _Result) -> None:
        if self._closed:
            return
        if result.region is None:
            self._deliver_task(result)
            return
        region = result.region
        self._jobs.pop(region, None)
        if self._slides.get(region.slide_id) is not result.slide:
            # The source was unregistered (closed) or replaced while this read ran: its
            # result, even "the slide is closed", answers a question nobody asks now;
            # a replacement source that wants the region is read afresh.
            self.dropped_late += 1
            if region in self._wanted and region.slide_id in self._slides:
                self._start(region)
            self.sigPending.emit(len(self._jobs))
            return
        if result.skipped:
            self.dropped_before_read += 1
        elif result.error is not None:
            self._failed.add(region)
            self.sigError.emit(region, result.error)
        elif region in self._wanted:
            self.sigTileReady.emit(region, result.tile)
        else:
            self.dropped_late += 1
        self.sigPending.emit(len(self._jobs))

    def _deliver_task(self, result: _Result) -> None:
        if result.error is not None:
            if result.on_error is not None:
                result.on_error(result.error)
            else:
                self.sigError.emit(None, result.error)
        elif result.callback is not None:
            result.callback(result.value)
