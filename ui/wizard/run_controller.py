"""Starts ``pathscaat train --config FILE --progress json`` in a child process, and reports.

The wizard writes one run config per run (``OUT/run_config.json``, the core's format) and
runs the very command "Copy as command" shows, so wizard and CLI make the same call into
``pathscaat.training``. With an ERM baseline the two runs go one after the other. Cancel
is SIGTERM: the trainer saves ``last`` and exits 130; a resumed run continues from it.
"""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ui.jobs import JobProgress, JobRunner, cli_command
from ui.wizard.run_store import RunFolder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedRun:
    """One child run: its label for the user, its config and where that config is saved."""

    label: str
    config: Any  # pathscaat.training.config.TrainConfig
    config_path: Path


@dataclass(frozen=True)
class RunOutcome:
    """How the runs ended: ``done``, ``failed`` or ``cancelled``; results of finished runs."""

    kind: str
    message: str
    results: list[dict[str, Any]]
    folders: list[Path]


def child_arguments(config: Any, config_path: Path) -> list[str]:
    """The core's exact ``pathscaat train`` argv without its program name, with JSON progress."""
    from pathscaat.training.run_config import train_command

    argv = list(train_command(config, config_path))
    if argv and Path(argv[0]).name.startswith("pathscaat"):
        argv = argv[1:]
    if "--progress" not in argv:
        argv += ["--progress", "json"]
    return argv


def command_line(config: Any, config_path: Path) -> str:
    """The line a user pastes in a terminal (what "Copy as command" puts on the clipboard)."""
    from pathscaat.training.run_config import train_command

    return shlex.join(train_command(config, config_path))


def save_config(run: PlannedRun) -> None:
    from pathscaat.training.run_config import save_run_config

    run.config_path.parent.mkdir(parents=True, exist_ok=True)
    save_run_config(run.config, run.config_path)


def resume_plan(folder: RunFolder, label: str) -> PlannedRun:
    """The saved config of an unfinished run, set to resume from its ``last`` checkpoint."""
    from pathscaat.training.run_config import load_run_config

    config = load_run_config(folder.config_path)
    return PlannedRun(label, replace(config, resume=folder.out / "last"), folder.config_path)


class TrainRunController(QObject):
    """Runs planned runs in order; one child at a time through :class:`ui.jobs.JobRunner`."""

    sigRunStarted = Signal(str, object)  # label, out folder
    sigBatch = Signal(int, int, dict)  # done, total, extra
    sigEpoch = Signal(dict)  # extra of the epoch record
    sigStrip = Signal(object, int)  # PNG path, epoch
    sigEta = Signal(object)  # seconds left in this run, or None
    sigOutcome = Signal(object)  # RunOutcome

    def __init__(self, parent: QObject | None = None, *, cancel_grace_ms: int = 20000) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self, cancel_grace_ms=cancel_grace_ms)
        self.runner.sigProgress.connect(self._progress)
        self.runner.sigResult.connect(self._result)
        self.runner.sigFailed.connect(self._failed)
        self.runner.sigCancelled.connect(self._cancelled)
        self._queue: list[PlannedRun] = []
        self._current: PlannedRun | None = None
        self._results: list[dict[str, Any]] = []
        self._folders: list[Path] = []

    def is_running(self) -> bool:
        return self.runner.is_running()

    @property
    def current(self) -> PlannedRun | None:
        return self._current

    def start(self, runs: list[PlannedRun]) -> None:
        """Save each run's config, then start the first; raises RuntimeError when busy."""
        if self.is_running():
            raise RuntimeError("a training run is already in progress")
        for run in runs:
            save_config(run)
        self._queue, self._results, self._folders = list(runs), [], []
        self._next()

    def _next(self) -> None:
        run = self._queue.pop(0)
        self._current = run
        self._folders.append(run.config.out)
        program, *lead = cli_command()
        args = lead + child_arguments(run.config, run.config_path)
        self.sigRunStarted.emit(run.label, run.config.out)
        self.runner.start(program, args, cwd=run.config.out)

    def cancel(self) -> None:
        self._queue = []
        self.runner.cancel()

    def shutdown(self) -> None:
        """Stop the child on close (it saves ``last``); kill it after the grace."""
        if self.is_running():
            self.cancel()
            if not self.runner.wait(self.runner.cancel_grace_ms):
                self.runner.kill()
                self.runner.wait(2000)

    def _progress(self, progress: JobProgress) -> None:
        extra = progress.extra
        if progress.stage == "train":
            self.sigBatch.emit(progress.done, progress.total, extra)
            self.sigEta.emit(progress.eta_s)
        elif progress.stage == "epoch":
            self.sigEpoch.emit(extra)
            if isinstance(extra.get("eta_s"), int | float):
                self.sigEta.emit(float(extra["eta_s"]))
            strip = extra.get("strip")
            if strip:
                self.sigStrip.emit(Path(str(strip)), int(extra.get("epoch", progress.done)))

    def _result(self, result: dict[str, Any]) -> None:
        self._results.append(result)
        if self._queue:
            self._next()
            return
        self._end("done", "Training finished.")

    def _where(self) -> str:
        return str(self._current.config.out) if self._current else "the run folder"

    def _failed(self, message: str) -> None:
        self._queue = []
        if message.startswith("The job crashed"):  # SIGKILL, out of memory, a crash
            message = (
                "the training process ended abruptly (it was killed, crashed or ran out of "
                "memory; the log file has its last output)."
            )
        folder = RunFolder(Path(self._where()))
        kept = (
            f" The checkpoint of the last finished epoch is kept in {folder.out}; "
            "“Resume” continues from it."
            if folder.last.is_file() else ""
        )  # fmt: skip
        self._end("failed", f"Training stopped: {message}{kept}")

    def _cancelled(self) -> None:
        self._end(
            "cancelled",
            f"Training cancelled. The last checkpoint is kept in {self._where()}; "
            "“Resume” continues from it.",
        )

    def _end(self, kind: str, message: str) -> None:
        log.info("wizard run %s: %s", kind, message)
        self.sigOutcome.emit(RunOutcome(kind, message, list(self._results), list(self._folders)))
