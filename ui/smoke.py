"""``pathscaat-gui --smoke SECONDS``: start, open, render, run, print one line, exit.

An installed or frozen app is only known to work once it has really drawn a slide and
started a job, so the smoke start walks the user's path without a user: open the slide
given on the command line, wait for its first frame (every visible tile read and drawn),
open ``--overlays``, and with ``--smoke-model`` run that checkpoint over the slide in the
child process the app uses for model runs (``ui.jobs.cli_command``: the sibling
``pathscaat`` executable of a frozen app). It prints one line, ``pathscaat-gui smoke: ok
...`` and exits 0, or ``pathscaat-gui smoke: FAILED ...`` and exits 1 on the first error
or when SECONDS pass. ``PATHSCAAT_SMOKE=SECONDS`` does the same as the flag.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from ui.main_window import MainWindow

SMOKE_ENV = "PATHSCAAT_SMOKE"
POLL_MS = 50


@dataclass(frozen=True)
class SmokePlan:
    """What the smoke start does, from the command line."""

    limit_s: float
    slide: Path | None = None
    overlays: Path | None = None
    model: Path | None = None
    run_out: Path | None = None
    device: str = "cpu"


def smoke_seconds(flag: float | None) -> float | None:
    """The time limit from ``--smoke`` or ``PATHSCAAT_SMOKE``; None when neither is set."""
    if flag is not None:
        return flag
    text = os.environ.get(SMOKE_ENV, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        print(f"pathscaat-gui: {SMOKE_ENV}={text!r} is not a number of seconds", file=sys.stderr)
        return None


class SmokeRun(QObject):
    """Drives the window through the plan's steps; ends the app with 0 or 1."""

    def __init__(self, window: MainWindow, plan: SmokePlan, finish: Callable[[int], None]):
        super().__init__(window)
        self.window = window
        self.plan = plan
        self._finish = finish
        self._t0 = time.monotonic()
        self._stage = "start"
        self._notes: list[str] = []
        self._tiles = 0
        self._done = False
        window.interactive = False
        window.errors.show_dialogs = False  # nobody is there to close a dialog
        window.errors.sigReported.connect(self._reported)
        window.viewer.loader.sigTileReady.connect(self._tile_ready)
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._check_frame)
        QTimer.singleShot(int(plan.limit_s * 1000), self._timed_out)

    def start(self) -> None:
        """Begin with the slide, or end at once when there is none (start-up only)."""
        if self.plan.slide is None:
            QTimer.singleShot(0, lambda: self._ok("started"))
            return
        self._stage = f"opening {self.plan.slide.name}"
        self.window.loader.sigLoaded.connect(self._slide_loaded)
        self.window.open_slide(self.plan.slide)

    # -- steps ------------------------------------------------------------------
    def _slide_loaded(self, path: Path, slide: Any) -> None:
        self.window.loader.sigLoaded.disconnect(self._slide_loaded)
        w, h = slide.dimensions
        self._notes.append(f"{path.name} {w}x{h} ({slide.vendor})")
        self._stage = "rendering the first frame"
        self._poll.start()

    def _tile_ready(self, *_: object) -> None:
        self._tiles += 1

    def _check_frame(self) -> None:
        if self._tiles == 0 or self.window.viewer.loader.pending:
            return
        self._poll.stop()
        image = self.window.viewer.grab().toImage()
        if image.isNull() or image.width() == 0:
            self._fail("the viewer drew nothing")
            return
        self._notes.append(f"first frame {self._tiles} tiles {image.width()}x{image.height()}")
        QTimer.singleShot(0, self._open_overlays)

    def _open_overlays(self) -> None:
        if self.plan.overlays is not None:
            self._stage = f"opening the overlays in {self.plan.overlays}"
            if not self.window.overlays.load(self.plan.overlays, self.window.slide):
                return  # the error sink has the reason and fails the run
            self._notes.append(f"{len(self.window.viewer.overlays())} overlay layers")
        self._run_model()

    def _run_model(self) -> None:
        plan = self.plan
        if plan.model is None or plan.slide is None:
            self._ok()
            return
        from ui.dialogs.run_model_dialog import RunRequest, user_runs_dir

        out = plan.run_out or user_runs_dir() / f"smoke-{os.getpid()}"
        req = RunRequest(plan.slide, plan.model, out, device=plan.device, saliency="vanilla")
        runs = self.window.runs
        runs.sigOverlaysReady.connect(lambda folder, _slide: self._run_done(Path(folder)))
        runs.runner.sigFinished.connect(self._run_finished)
        self._stage = f"running {plan.model.name} in a child process"
        runs.start(req)

    def _run_done(self, folder: Path) -> None:
        from ui.jobs import cli_command

        n = sum(1 for _ in folder.glob("*.tif"))
        child = " ".join(Path(a).name for a in cli_command())
        self._notes.append(f"model run by `{child}` -> {folder} ({n} rasters)")
        QTimer.singleShot(0, self._ok)  # after the window has loaded the run's overlays

    def _run_finished(self, code: int) -> None:
        if code != 0 and not self._done:
            tail = self.window.runs.runner.stderr_tail()
            self._fail(f"the model run's child exited {code}: {tail}")

    # -- endings ----------------------------------------------------------------
    def _reported(self, report: Any) -> None:
        if report.minor:
            self._notes.append(f"note: {report.message}")
        else:
            self._fail(f"{report.title}: {report.message}")

    def _timed_out(self) -> None:
        self._fail(f"timed out after {self.plan.limit_s:g} s while {self._stage}")

    def _ok(self, what: str = "") -> None:
        self._end(0, "ok", [what] if what else [])

    def _fail(self, why: str) -> None:
        self._end(1, "FAILED", [why])

    def _end(self, code: int, word: str, extra: list[str]) -> None:
        if self._done:
            return
        self._done = True
        took = time.monotonic() - self._t0
        parts = [*extra, *self._notes]
        line = f"pathscaat-gui smoke: {word} in {took:.1f} s: " + "; ".join(parts)
        print(line.replace("\n", " "), flush=True)
        self._finish(code)
