"""Run a long job in a child process and turn its JSON-lines output into Qt signals.

Training and slide inference run as ``pathscaat ... --progress json`` in a child process
(docs/DEVELOPING.md, child-process jobs), so a crash or out-of-memory there never takes the
app down and cancel is a signal, not a flag. Every run ends with exactly one of
``sigResult``, ``sigFailed`` or ``sigCancelled``, then ``sigFinished``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

log = logging.getLogger(__name__)

ERROR_PREFIX = "pathscaat: error:"


@dataclass(frozen=True)
class JobProgress:
    """One progress line of the child, with the fraction done and an ETA when known."""

    stage: str
    done: int
    total: int
    message: str
    eta_s: float | None
    warning: str = ""
    """A caveat the job wants the user to see (``extra.warning`` of the record)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """The record's ``extra`` object as the child sent it (metrics, file paths)."""

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total > 0 else None


def cli_command() -> list[str]:
    """The program and leading arguments that run the ``pathscaat`` command line."""
    if getattr(sys, "frozen", False):  # the frozen app ships the console entry beside it
        exe = Path(sys.executable).with_name("pathscaat" + (".exe" if os.name == "nt" else ""))
        return [str(exe)]
    return [sys.executable, "-m", "pathscaat.cli.main"]


def infer_arguments(
    slide: str | Path,
    checkpoint: str | Path,
    out: str | Path,
    *,
    saliency: str,
    device: str,
    slide_mpp: float | None = None,
    slide_mpp_source: str = "user",
    min_tissue: float = 0.5,
) -> list[str]:
    """Arguments of ``pathscaat infer`` with JSON-lines progress (after :func:`cli_command`).

    ``slide_mpp`` passes a µm/px the user set in the app (``slide_mpp_source`` ``user``)
    or the project saved (``project``), which the child cannot know. Paths are made
    absolute: the child runs in another folder (a slide opened from the command line as
    ``../slides/a.svs`` would not be found there).
    """
    slide, checkpoint, out = (Path(p).expanduser().absolute() for p in (slide, checkpoint, out))
    args = [
        "infer", str(slide), "--model", str(checkpoint), "--saliency", saliency,
        "--device", device, "--out", str(out), "--progress", "json",
    ]  # fmt: skip
    if slide_mpp is not None:
        args += ["--slide-mpp", f"{slide_mpp:g}", "--slide-mpp-source", slide_mpp_source]
    if min_tissue != 0.5:
        args += ["--min-tissue", f"{min_tissue:g}"]
    return args


class _Eta:
    """Remaining time of the current stage from its rate since the stage began."""

    def __init__(self) -> None:
        self._stage = ""
        self._t0 = 0.0
        self._done0 = 0

    def update(self, stage: str, done: int, total: int) -> float | None:
        now = time.monotonic()
        if stage != self._stage or done < self._done0:
            self._stage, self._t0, self._done0 = stage, now, done
            return None
        if total <= 0 or done <= self._done0:
            return None
        rate = (done - self._done0) / max(now - self._t0, 1e-6)
        return max(0.0, (total - done) / rate)


class JobRunner(QObject):
    """One child process at a time; parses its stdout lines and its stderr error line."""

    sigStarted = Signal()
    sigProgress = Signal(object)  # JobProgress
    sigEvent = Signal(dict)  # any other JSON object the child printed (log, ...)
    sigResult = Signal(dict)
    sigFailed = Signal(str)
    sigCancelled = Signal()
    sigFinished = Signal(int)  # exit code (-1 when it never started)

    def __init__(self, parent: QObject | None = None, *, cancel_grace_ms: int = 5000) -> None:
        super().__init__(parent)
        self.cancel_grace_ms = cancel_grace_ms
        self._proc: QProcess | None = None
        self._reset()

    def _reset(self) -> None:
        self._stdout_buf = b""
        self._stderr_buf = b""
        self._stderr_lines: list[str] = []
        self._result: dict[str, Any] | None = None
        self._cancel_requested = False
        self._eta = _Eta()

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning

    def start(self, program: str, arguments: list[str], cwd: str | Path | None = None) -> None:
        """Start ``program arguments``; raises RuntimeError if a job is already running."""
        if self.is_running():
            raise RuntimeError("a job is already running; wait for it or cancel it first")
        self._reset()
        if self._proc is not None:
            self._proc.deleteLater()
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("HF_HUB_OFFLINE", "1")
        env.insert("PYTHONUNBUFFERED", "1")
        proc.setProcessEnvironment(env)
        if cwd is not None:
            proc.setWorkingDirectory(str(cwd))
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._error)
        self._proc = proc
        log.info("job: %s %s", program, " ".join(arguments))
        proc.start(program, arguments)
        self.sigStarted.emit()

    def cancel(self) -> None:
        """Ask the child to stop (SIGTERM); kill it if it is still alive after the grace."""
        if not self.is_running() or self._proc is None:
            return
        self._cancel_requested = True
        proc = self._proc
        proc.terminate()
        QTimer.singleShot(self.cancel_grace_ms, self, lambda: self._kill_if_running(proc))

    def _kill_if_running(self, proc: QProcess) -> None:
        if proc is self._proc and self.is_running():
            log.warning("job: no exit %d ms after SIGTERM; killing it", self.cancel_grace_ms)
            proc.kill()

    def kill(self) -> None:
        """Kill the child at once (teardown after a cancel that was not obeyed)."""
        if self._proc is not None and self.is_running():
            self._proc.kill()

    def stop_and_wait(self, grace_ms: int | None = None) -> None:
        """Teardown on window close: SIGTERM, wait out the grace, then kill (blocks)."""
        if not self.is_running():
            return
        self.cancel()
        if not self.wait(self.cancel_grace_ms if grace_ms is None else grace_ms):
            log.warning("job: did not stop in time; killing it")
            self.kill()
            self.wait(2000)

    def stderr_tail(self, n: int = 40) -> str:
        """The child's last ``n`` stderr lines (details of a failure)."""
        return "\n".join(self._stderr_lines[-n:])

    def wait(self, msecs: int = 10000) -> bool:
        """Block until the child exits (teardown only); True if it is not running."""
        if self._proc is None:
            return True
        return self._proc.state() == QProcess.ProcessState.NotRunning or bool(
            self._proc.waitForFinished(msecs)
        )

    # -- output parsing ---------------------------------------------------------
    def _read_stdout(self) -> None:
        if self._proc is None:
            return
        self._stdout_buf += bytes(self._proc.readAllStandardOutput().data())
        *lines, self._stdout_buf = self._stdout_buf.split(b"\n")
        for raw in lines:
            self._handle_line(raw.decode("utf-8", "replace").strip())

    def _handle_line(self, line: str) -> None:
        if not line:
            return
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            obj = None
        if not isinstance(obj, dict):
            log.info("job stdout: %s", line)
            return
        kind = obj.get("type")
        if kind == "progress":
            self._progress(obj)
        elif kind == "result":
            self._result = obj
        else:
            self.sigEvent.emit(obj)

    def _progress(self, obj: dict[str, Any]) -> None:
        try:
            stage, done = str(obj.get("stage", "")), int(obj.get("done", 0))
            total = int(obj.get("total", 0) or 0)
        except (TypeError, ValueError):
            log.warning("job: malformed progress line %r", obj)
            return
        eta = self._eta.update(stage, done, total)
        extra = obj.get("extra")
        warning = str(extra.get("warning", "")) if isinstance(extra, dict) else ""
        message = str(obj.get("message", ""))
        extra_dict = dict(extra) if isinstance(extra, dict) else {}
        self.sigProgress.emit(JobProgress(stage, done, total, message, eta, warning, extra_dict))

    def _read_stderr(self, at_exit: bool = False) -> None:
        if self._proc is None:
            return
        self._stderr_buf += bytes(self._proc.readAllStandardError().data())
        *lines, self._stderr_buf = self._stderr_buf.split(b"\n")
        if at_exit:
            lines.append(self._stderr_buf)
            self._stderr_buf = b""
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip()
            if line.strip():
                self._stderr_lines.append(line)
                log.info("job stderr: %s", line)
        del self._stderr_lines[:-200]

    def error_message(self) -> str:
        """The child's ``pathscaat: error:`` line, else the last line of its stderr.

        Without our prefix the child crashed (a traceback): its last line names the
        exception; the whole stderr is in :meth:`stderr_tail` and the log.
        """
        for line in reversed(self._stderr_lines):
            if line.startswith(ERROR_PREFIX):
                return line[len(ERROR_PREFIX) :].strip()
        if not self._stderr_lines:
            return "the job stopped without saying why (see the log file)."
        return (
            f"it stopped unexpectedly ({self._stderr_lines[-1].strip()}). The details "
            "and the log file hold the full output."
        )

    # -- end of the process -----------------------------------------------------
    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._proc is not None:
            program = self._proc.program()
            self._proc = None
            self.sigFailed.emit(
                f"Could not start {program} ({error.name}). Check that PathSCAAT is "
                "installed completely."
            )
            self.sigFinished.emit(-1)

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr(at_exit=True)
        if self._stdout_buf.strip():
            self._handle_line(self._stdout_buf.decode("utf-8", "replace").strip())
            self._stdout_buf = b""
        log.info("job: exit code %d (%s)", code, status.name)
        if self._cancel_requested or code == 130:
            self.sigCancelled.emit()
        elif status == QProcess.ExitStatus.NormalExit and code == 0 and self._result is not None:
            self.sigResult.emit(self._result)
        elif status == QProcess.ExitStatus.NormalExit and code == 0:
            self.sigFailed.emit("The job ended without a result line; see the log file.")
        elif status == QProcess.ExitStatus.CrashExit:
            self.sigFailed.emit(f"The job crashed. {self.error_message()}")
        else:
            self.sigFailed.emit(self.error_message())
        self.sigFinished.emit(code)
