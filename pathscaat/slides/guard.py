"""Let reads run in parallel but never overlap ``close()``: closing a native handle while
another thread reads from it would crash the process rather than raise."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pathscaat.slides.errors import SlideClosedError, SlideError


class ReadGuard:
    """Counts reads in flight; ``close`` waits for them and then refuses new ones.

    Also remembers a fatal error (a native handle that failed once is unusable) so that every
    later read raises the same typed error instead of touching the handle again.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._cond = threading.Condition()
        self._active = 0
        self._closed = False
        self.failure: SlideError | None = None

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            if self._closed:
                raise SlideClosedError(self._path, "the slide is closed", "Open it again.")
            if self.failure is not None:
                raise self.failure
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def close(self) -> bool:
        """Mark closed and wait for reads in flight; True the first time only."""
        with self._cond:
            if self._closed:
                return False
            self._closed = True
            self._cond.wait_for(lambda: self._active == 0)
            return True
