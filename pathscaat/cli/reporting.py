"""Map core progress records to a tqdm bar or to JSON lines on stdout (``--progress``)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from pathscaat.progress import OnProgress, ProgressRecord

LINE_EVERY_S = 30.0
"""A log or pipe gets a progress line at most this often (plus every 10% and the end)."""


class ProgressPrinter:
    """Callable ``on_progress`` that renders records as bars (``bar``) or JSON lines (``json``).

    JSON lines go to stdout, one object per line with ``"type": "progress"``; the app
    reads them from a child process. ``bar`` draws tqdm bars on a terminal; written to a log
    or a pipe it prints plain lines instead (``stage: done/total (pct%) message``) without
    rates, which a redrawn bar in a file only garbles (resumed work counted as done in a
    millisecond gave "174762.67it/s").
    """

    def __init__(self, mode: str = "bar", *, tty: bool | None = None) -> None:
        self.mode = mode
        self.tty = sys.stderr.isatty() if tty is None else tty
        self._bars: dict[str, tqdm[Any]] = {}
        self._lines: dict[str, tuple[float, int]] = {}  # stage -> (time, percent) last printed

    def __call__(self, rec: ProgressRecord) -> None:
        if self.mode == "json":
            print(json.dumps({"type": "progress", **rec.to_dict()}), flush=True)
        elif self.mode == "bar" and self.tty:
            self._bar(rec)
        elif self.mode == "bar":
            self._line(rec)

    def _bar(self, rec: ProgressRecord) -> None:
        bar = self._bars.get(rec.stage)
        if bar is None:  # work done before the bar (a resumed job) is not part of its rate
            bar = tqdm(
                total=rec.total or None,
                desc=rec.stage,
                unit="it",
                file=sys.stderr,
                initial=rec.done,
            )
            self._bars[rec.stage] = bar
        if rec.total and bar.total != rec.total:
            bar.total = rec.total
        if rec.message:
            bar.set_postfix_str(rec.message, refresh=False)
        if rec.done >= bar.n:
            bar.update(rec.done - bar.n)  # through update, so tqdm's rate is a true average
        else:
            bar.n = rec.done  # a stage that restarts (a new epoch) counts from its new value
            bar.refresh()
        if rec.total and rec.done >= rec.total:
            bar.close()

    def _line(self, rec: ProgressRecord) -> None:
        now = time.monotonic()
        pct = int(100 * rec.done / rec.total) if rec.total else -1
        last = self._lines.get(rec.stage)
        finished = bool(rec.total) and rec.done >= rec.total
        quiet = last is not None and pct // 10 == last[1] // 10 and now - last[0] < LINE_EVERY_S
        if quiet and not finished:
            return
        self._lines[rec.stage] = (now, pct)
        count = f"{rec.done}/{rec.total} ({pct}%)" if rec.total else str(rec.done or "")
        text = " ".join(part for part in (count, rec.message) if part)
        print(f"{rec.stage}: {text}", file=sys.stderr, flush=True)

    def event(self, kind: str, **data: Any) -> None:
        """Emit a non-progress event (``result``, ``log``...) in JSON mode; print in others."""
        if self.mode == "json":
            print(json.dumps({"type": kind, **data}, default=str), flush=True)
        elif kind == "log":
            print(data.get("message", ""), file=sys.stderr)

    def result(self, lines: Sequence[str] = (), **data: Any) -> None:
        """The job's ``result`` event in JSON mode; in the others ``lines`` on stdout."""
        self.event("result", **data)
        if self.mode != "json":
            for line in lines:
                print(line)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
        self._lines.clear()


def add_progress_arg(parser: Any) -> None:
    parser.add_argument(
        "--progress",
        choices=("bar", "json", "none"),
        default="bar",
        help="progress as a bar on stderr, JSON lines on stdout (for the app), or nothing",
    )


def make_progress(mode: str) -> OnProgress:
    return ProgressPrinter(mode)
