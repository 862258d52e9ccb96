"""Progress and cancel callbacks shared by every long job (no Qt, no tqdm here).

A long job is a plain function taking ``on_progress`` and ``should_stop``; the CLI maps
records to a progress bar or JSON lines, the app to Qt signals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ProgressRecord:
    """One step of a job: ``done`` of ``total`` units of ``stage`` (total 0 = unknown)."""

    stage: str
    done: int
    total: int
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


OnProgress = Callable[[ProgressRecord], None]
ShouldStop = Callable[[], bool]


def no_progress(_: ProgressRecord) -> None:
    """Default ``on_progress``: ignore."""


def never_stop() -> bool:
    """Default ``should_stop``: run to the end."""
    return False


class PathscaatError(Exception):
    """A user-facing error: the message says what happened and what to do; no traceback."""


class JobCancelled(PathscaatError):
    """The job stopped because ``should_stop`` returned True; partial results are kept."""
