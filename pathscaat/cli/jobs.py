"""Run a long job from a command: SIGINT/SIGTERM as a cooperative stop, progress printed.

The job keeps its partial results and raises ``JobCancelled`` once ``should_stop`` is true;
``main`` turns that into exit code 130.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from types import FrameType

from pathscaat.cli.reporting import ProgressPrinter
from pathscaat.progress import ShouldStop

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signal_flag(abort_on_repeat: Collection[int] = ()) -> Iterator[list[bool]]:
    """Yield ``[stopped]``, set True by SIGINT or SIGTERM; handlers restored after.

    A repeat of a signal in ``abort_on_repeat`` raises ``KeyboardInterrupt`` at once (for a
    user who will not wait for the current batch). Off the main thread no handler can be
    installed, so the flag stays False.
    """
    flag = [False]

    def handler(signum: int, frame: FrameType | None) -> None:
        if flag[0] and signum in abort_on_repeat:
            raise KeyboardInterrupt
        flag[0] = True

    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    old = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextmanager
def stop_on_signals(abort_on_repeat: Collection[int] = ()) -> Iterator[ShouldStop]:
    """:func:`signal_flag` as a ``should_stop`` callable."""
    with signal_flag(abort_on_repeat) as flag:
        yield lambda: flag[0]


@contextmanager
def progress_job(
    mode: str, abort_on_repeat: Collection[int] = ()
) -> Iterator[tuple[ProgressPrinter, ShouldStop]]:
    """``(on_progress, should_stop)`` for one job; the bars are closed after it.

    The printer stays usable afterwards for the ``result`` event.
    """
    printer = ProgressPrinter(mode)
    try:
        with stop_on_signals(abort_on_repeat) as should_stop:
            yield printer, should_stop
    finally:
        printer.close()
