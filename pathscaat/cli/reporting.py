"""Map core progress records to a tqdm bar or to JSON lines on stdout (``--progress``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from pathscaat.progress import OnProgress, ProgressRecord


class ProgressPrinter:
    """Callable ``on_progress`` that renders records as bars (``bar``) or JSON lines (``json``).

    JSON lines go to stdout, one object per line with ``"type": "progress"``; the app
    reads them from a child process.
    """

    def __init__(self, mode: str = "bar") -> None:
        self.mode = mode
        self._bars: dict[str, tqdm[Any]] = {}

    def __call__(self, rec: ProgressRecord) -> None:
        if self.mode == "json":
            print(json.dumps({"type": "progress", **rec.to_dict()}), flush=True)
            return
        if self.mode == "none":
            return
        bar = self._bars.get(rec.stage)
        if bar is None:
            bar = tqdm(total=rec.total or None, desc=rec.stage, unit="it", file=sys.stderr)
            self._bars[rec.stage] = bar
        if rec.total and bar.total != rec.total:
            bar.total = rec.total
        bar.n = rec.done
        if rec.message:
            bar.set_postfix_str(rec.message, refresh=False)
        bar.refresh()
        if rec.total and rec.done >= rec.total:
            bar.close()

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


def add_progress_arg(parser: Any) -> None:
    parser.add_argument(
        "--progress",
        choices=("bar", "json", "none"),
        default="bar",
        help="progress as a bar on stderr, JSON lines on stdout (for the app), or nothing",
    )


def make_progress(mode: str) -> OnProgress:
    return ProgressPrinter(mode)
