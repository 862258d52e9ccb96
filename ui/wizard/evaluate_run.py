"""``pathscaat evaluate`` of trained models in a child process: test metrics and saliency quality.

Used by the Done page and the Models panel; the report is the core's ``report.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ui.jobs import JobProgress, JobRunner, cli_command

EVAL_METHODS = ("vanilla",)
EVAL_MAX_IMAGES = 64


def evaluate_arguments(data: Path, checkpoints: list[Path], out: Path, device: str) -> list[str]:
    return [
        "evaluate", "--data", str(data), "--models", *[str(c) for c in checkpoints],
        "--methods", *EVAL_METHODS, "--max-images", str(EVAL_MAX_IMAGES),
        "--device", device, "--out", str(out), "--progress", "json",
    ]  # fmt: skip


class EvaluateController(QObject):
    """One evaluation at a time; ``sigDone(report path)`` or ``sigFailed(message)``."""

    sigProgress = Signal(str)
    sigDone = Signal(object)
    sigFailed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self)
        self.runner.sigProgress.connect(self._progress)
        self.runner.sigResult.connect(self._result)
        self.runner.sigFailed.connect(lambda m: self.sigFailed.emit(f"The evaluation failed: {m}"))
        self.runner.sigCancelled.connect(lambda: self.sigFailed.emit("The evaluation was stopped."))
        self._out: Path | None = None

    def is_running(self) -> bool:
        return self.runner.is_running()

    def start(self, data: Path, checkpoints: list[Path], out: Path, device: str = "auto") -> None:
        out.mkdir(parents=True, exist_ok=True)
        self._out = out
        program, *lead = cli_command()
        self.runner.start(program, lead + evaluate_arguments(data, checkpoints, out, device), out)

    def _progress(self, progress: JobProgress) -> None:
        share = f" {progress.fraction:.0%}" if progress.fraction is not None else ""
        self.sigProgress.emit(f"Evaluating: {progress.stage}{share}")

    def _result(self, result: dict[str, Any]) -> None:
        report = result.get("report")
        path = Path(str(report)) if report else (self._out or Path(".")) / "report.md"
        self.sigDone.emit(path)

    def shutdown(self) -> None:
        if self.is_running():
            self.runner.cancel()
            if not self.runner.wait(5000):
                self.runner.kill()
                self.runner.wait(2000)
