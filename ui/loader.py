"""Open slides off the UI thread so a slow or failing file never freezes the window.

Each request gets a generation number; a slide that finishes opening after a newer
request was made is stale: it is closed and dropped (the ndv habit), so only the file the
user asked for last ever reaches the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import FunctionWorker, create_worker

log = logging.getLogger(__name__)


def _open_slide(path: Path) -> Any:
    """Default opener; the import is here so importing ``ui`` stays light."""
    from pathscaat.slides import open_slide

    return open_slide(path)


class SlideLoader(QObject):
    """Opens one slide at a time in a worker thread of its own pool."""

    sigStarted = Signal(object)  # Path
    sigLoaded = Signal(object, object)  # Path, Slide
    sigFailed = Signal(object, object)  # Path, BaseException

    def __init__(
        self, parent: QObject | None = None, opener: Callable[[Path], Any] | None = None
    ) -> None:
        super().__init__(parent)
        self._opener = opener or _open_slide
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._generation = 0
        self._workers: set[FunctionWorker] = set()

    def is_busy(self) -> bool:
        return bool(self._workers)

    def open(self, path: str | Path) -> None:
        """Start opening ``path``; answers with ``sigLoaded`` or ``sigFailed`` later."""
        path = Path(path)
        self._generation += 1
        gen = self._generation
        worker = create_worker(self._opener, path, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda slide: self._returned(gen, path, slide))
        worker.errored.connect(lambda exc: self._errored(gen, path, exc))
        worker.finished.connect(lambda: self._workers.discard(worker))
        self._workers.add(worker)
        self.sigStarted.emit(path)
        self._pool.start(worker)

    def cancel_pending(self) -> None:
        """Make every request in flight stale (its slide is closed when it arrives)."""
        self._generation += 1

    def _returned(self, gen: int, path: Path, slide: Any) -> None:
        if gen != self._generation:
            log.info("dropping stale slide %s", path)
            slide.close()
            return
        self.sigLoaded.emit(path, slide)

    def _errored(self, gen: int, path: Path, exc: BaseException) -> None:
        if gen != self._generation:
            log.info("ignoring error of a stale open of %s: %s", path, exc)
            return
        self.sigFailed.emit(path, exc)

    def shutdown(self, msecs: int = 10000) -> bool:
        """Drop pending results and wait for the worker threads (window teardown)."""
        self.cancel_pending()
        return bool(self._pool.waitForDone(msecs))
