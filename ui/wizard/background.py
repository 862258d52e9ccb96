"""Work off the UI thread for the wizard's pages: scans, weight checks, probes.

Each job has a key; starting a job again makes the earlier one's answer stale, and a stale
answer is dropped (ndv's generation counter), so a slow scan of a folder the user has
since removed never overwrites the scan of the folders now listed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool
from superqt.utils import create_worker

from ui.errors import describe_exception

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str:
    """A ``PathscaatError``'s own message; anything else named in one line."""
    from pathscaat.progress import PathscaatError

    if isinstance(exc, PathscaatError):
        return str(exc)
    log.error("wizard worker failed", exc_info=(type(exc), exc, exc.__traceback__))
    return describe_exception(exc)


class Background(QObject):
    """Runs ``fn()`` in a thread; calls back on the UI thread unless a newer job replaced it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation: dict[str, int] = {}
        self._running: dict[int, Any] = {}

    def run(
        self,
        key: str,
        fn: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> None:
        gen = self._generation.get(key, 0) + 1
        self._generation[key] = gen

        def fresh() -> bool:
            return self._generation.get(key) == gen

        worker = create_worker(fn, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda value: on_result(value) if fresh() else None)
        worker.errored.connect(lambda exc: on_error(user_message(exc)) if fresh() else None)
        ident = id(worker)
        self._running[ident] = worker
        worker.finished.connect(lambda: self._running.pop(ident, None))
        worker.start()

    def busy(self) -> bool:
        return bool(self._running)

    def forget(self, key: str) -> None:
        """Drop the answer of ``key``'s running job (the page no longer wants it)."""
        self._generation[key] = self._generation.get(key, 0) + 1

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every job ended (teardown and tests)."""
        return bool(QThreadPool.globalInstance().waitForDone(msecs))
