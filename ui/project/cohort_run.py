"""Analysis > Run Model on Project Slides: ``pathscaat infer-cohort`` as a child job.

The child reads the project's slides and their saved µm/px overrides itself (``--slides
project:<root>``, opened read-only) and writes each slide's overlays under
``<project>/overlays/cohort-<model>/<slide-stem>/``, resuming a cohort run before it. A
slide moved away is a failed row that says so (relink it), as is a slide without µm/px under
a model that records one (set it in the Slide panel). Each slide's output is recorded as a
run in the project as soon as the child reports the slide finished, so opening that slide
shows its overlays even while the rest of the cohort is still running. A failed slide is a
line in the summary, not a stop (the child goes on with the others).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ui.errors import ErrorSink
from ui.jobs import JobProgress, JobRunner, cli_command
from ui.project.session import RUNS_FOLDER, ProjectSession
from ui.status import StatusBar, format_duration

log = logging.getLogger(__name__)


def cohort_folder(project_root: Path, checkpoint: Path) -> Path:
    """Where the cohort of ``checkpoint`` over the project writes (one per model)."""
    stem = checkpoint.with_suffix("") if checkpoint.suffix in (".json", ".safetensors") \
        else checkpoint
    return project_root / RUNS_FOLDER / f"cohort-{stem.name}"


def cohort_arguments(
    slides: str, checkpoint: Path, out: Path, *, saliency: str, device: str,
    min_tissue: float = 0.5,
) -> list[str]:  # fmt: skip
    """Arguments of ``pathscaat infer-cohort`` with JSON-lines progress (``slides``: a
    folder, a list file or ``project:<root>``)."""
    args = [
        "infer-cohort", "--slides", slides, "--model", str(checkpoint),
        "--out", str(out), "--saliency", saliency, "--device", device, "--progress", "json",
    ]  # fmt: skip
    return args + (["--min-tissue", f"{min_tissue:g}"] if min_tissue != 0.5 else [])


class CohortRunController(QObject):
    """Runs one cohort at a time and records each finished slide as a project run."""

    sigRunningChanged = Signal(bool)
    sigSlideDone = Signal(object)  # the slide's output folder, once recorded
    sigFinished = Signal(str)  # summary line

    def __init__(
        self, session: ProjectSession, errors: ErrorSink, status: StatusBar,
        parent: QObject | None = None, *, cancel_grace_ms: int = 5000,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.session, self._errors, self._status = session, errors, status
        self.runner = JobRunner(self, cancel_grace_ms=cancel_grace_ms)
        self.runner.sigProgress.connect(self._progress)
        self.runner.sigResult.connect(self._result)
        self.runner.sigFailed.connect(self._failed)
        self.runner.sigCancelled.connect(self._cancelled)
        self.runner.sigFinished.connect(self._finished)
        status.sigCancelClicked.connect(self.cancel)
        self.out: Path | None = None
        self.failed: list[str] = []
        self._slides = (0, 0)
        self._t0 = 0.0

    def is_running(self) -> bool:
        return self.runner.is_running()

    def start(
        self, checkpoint: Path, *, saliency: str = "vanilla", device: str = "auto",
        min_tissue: float = 0.5,
    ) -> bool:  # fmt: skip
        """Start the cohort over the project's slides; False if not started (none on disk)."""
        project = self.session.project
        if project is None or self.is_running():
            return False
        if not any(s.found for s in self.session.slides()):
            self._errors.report("The project has no slides on disk to run the model on. Add "
                                "slides with File ▸ Add Slides… first.", title="Cohort run")
            return False
        out = cohort_folder(project.root, Path(checkpoint))
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._errors.report(f"Cannot make the cohort's folder {out} "
                                f"({exc.strerror or exc}). Check the project folder.",
                                title="Cohort run")
            return False
        self.out, self.failed, self._slides = out, [], (0, len(self.session.slides()))
        self._t0 = time.monotonic()
        program, *lead = cli_command()
        args = lead + cohort_arguments(f"project:{project.root}", Path(checkpoint), out,
                                       saliency=saliency, device=device, min_tissue=min_tissue)
        self._status.set_job(JobProgress("starting", 0, 0, "", None), title="Cohort run")
        self.runner.start(program, args, cwd=out)
        self.sigRunningChanged.emit(True)
        return True

    def cancel(self) -> None:
        if self.is_running():
            self._status.showMessage("Cancelling the cohort run…")
            self.runner.cancel()

    def _progress(self, p: JobProgress) -> None:
        if p.stage == "scale":  # each slide's scale is in its overlays.json and cohort.csv
            return
        if p.stage == "cohort":
            self._slides = (p.done, p.total)
            folder, _, outcome = p.message.partition(": ")
            if outcome.startswith("failed"):
                self.failed.append(p.message)
            elif self.out is not None and folder:
                self._record(self.out / folder)
        done, total = self._slides
        title = f"Cohort run (slide {min(done + 1, total)} of {total})"
        self._status.set_job(p, title=title)

    def _record(self, folder: Path) -> None:
        if (folder / "overlays.json").is_file() and self.session.record_run(folder):
            self.sigSlideDone.emit(folder)

    def _result(self, _result: dict[str, Any]) -> None:
        if self.out is not None:  # slides finished before this run (resumed) too
            for meta in sorted(self.out.glob("*/overlays.json")):
                self._record(meta.parent)
        took = format_duration(time.monotonic() - self._t0)
        total = self._slides[1]
        line = f"Cohort run finished in {took}: {total - len(self.failed)} of {total} slides"
        if self.failed:
            line += f"; failed: {'; '.join(self.failed)}"
            self._errors.report(f"{line}.\n\nThe table {self.out}/cohort.csv has each error. "
                                "Fix those slides and run again: finished slides are kept.",
                                title="Cohort run", minor=True)
        self._status.showMessage(line, 15000)
        self.sigFinished.emit(line)

    def _failed(self, message: str) -> None:
        self._errors.report(f"The cohort run failed: {message}", title="Cohort run failed",
                            details=self.runner.stderr_tail())
        self.sigFinished.emit(f"failed: {message}")

    def _cancelled(self) -> None:
        self._status.showMessage("Cohort run cancelled; finished slides were kept.", 10000)
        self.sigFinished.emit("cancelled")

    def _finished(self, _code: int) -> None:
        self._status.set_job(None)
        self.sigRunningChanged.emit(False)

    def shutdown(self) -> None:
        self.runner.stop_and_wait()
