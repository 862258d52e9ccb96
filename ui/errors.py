"""The one place every error goes: the log file always, and a dialog or the status bar.

Workers, child-process jobs and the viewer all call :meth:`ErrorSink.report`. Nothing is
swallowed (every report is logged with its traceback when there is one) and nothing pops
twenty dialogs: at most one error dialog is open; reports arriving while it is open are
added to it, and a repeat of a recent message only updates the status bar.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, QStandardPaths, Qt, QThread, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("pathscaat.gui")

REPEAT_QUIET_S = 30.0
"""A message already shown within this many seconds goes to the status bar, not a dialog."""


@dataclass
class ErrorReport:
    """One reported problem; ``minor`` ones never open a dialog."""

    title: str
    message: str
    details: str = ""
    minor: bool = False
    count: int = 1


def user_log_dir() -> Path:
    """Per-user folder for the app's log file (created on demand)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    root = Path(base) if base else Path.home() / ".pathscaat"
    return root / "logs"


def setup_file_logging(log_dir: Path | None = None) -> Path:
    """Send python logging (INFO and up) to a rotating per-user log file; return its path."""
    folder = log_dir or user_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pathscaat-gui.log"
    handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    return path


def describe_exception(exc: BaseException) -> str:
    """A one-paragraph user message for ``exc`` (our errors already say what to do)."""
    text = str(exc).strip()
    if not text:
        text = type(exc).__name__
    elif type(exc).__module__.split(".")[0] not in ("pathscaat",) and not isinstance(exc, OSError):
        text = f"{type(exc).__name__}: {text}"
    return text


class ErrorSink(QObject):
    """Collects every error of the app; shows it once, logs it always.

    ``show_dialogs=False`` keeps reports in :attr:`history` and the status bar only (tests,
    batch screenshots). ``status`` is called with a short line for minor or repeated errors.
    """

    sigReported = Signal(object)  # ErrorReport
    _sigLater = Signal(object)  # a report made on another thread, shown on the UI thread

    def __init__(
        self,
        parent_widget: QWidget | None = None,
        *,
        show_dialogs: bool = True,
        status: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(parent_widget)
        self._parent_widget = parent_widget
        self.show_dialogs = show_dialogs
        self._status = status
        self.history: list[ErrorReport] = []
        self._last_shown: dict[tuple[str, str], float] = {}
        self._dialog: QMessageBox | None = None
        self._dialog_reports: list[ErrorReport] = []
        self._sigLater.connect(self._present, Qt.ConnectionType.QueuedConnection)

    @property
    def dialog(self) -> QMessageBox | None:
        """The error dialog now open, if any."""
        return self._dialog

    def set_status_callback(self, status: Callable[[str], None] | None) -> None:
        self._status = status

    def report(
        self,
        message: str,
        *,
        title: str = "PathSCAAT",
        details: str = "",
        minor: bool = False,
        exc: BaseException | None = None,
    ) -> ErrorReport:
        """Log ``message`` and show it (dialog, or status bar when minor or repeated)."""
        if exc is not None and not details:
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        rep = ErrorReport(title, message, details, minor)
        log.log(
            logging.WARNING if minor else logging.ERROR,
            "%s: %s%s",
            title,
            message,
            f"\n{details}" if details else "",
        )
        if QThread.currentThread() is not self.thread():  # widgets live on the UI thread
            self._sigLater.emit(rep)
            return rep
        self._present(rep)
        return rep

    def _present(self, rep: ErrorReport) -> None:
        """Record ``rep`` and show it (UI thread only)."""
        self.history.append(rep)
        self.sigReported.emit(rep)
        key = (rep.title, rep.message)
        now = time.monotonic()
        repeated = now - self._last_shown.get(key, -1e9) < REPEAT_QUIET_S
        if rep.minor or repeated or not self.show_dialogs:
            self._show_status(rep.message if rep.minor else f"{rep.title}: {rep.message}")
            return
        self._last_shown[key] = now
        self._show_dialog(rep)

    def report_exception(self, exc: BaseException, *, title: str, context: str = "") -> None:
        """Report ``exc`` with an optional sentence of context before its message."""
        text = describe_exception(exc)
        self.report(f"{context} {text}".strip() if context else text, title=title, exc=exc)

    def _show_status(self, text: str) -> None:
        if self._status is not None:
            self._status(text)

    def _show_dialog(self, rep: ErrorReport) -> None:
        if self._dialog is not None and self._dialog.isVisible():
            self._dialog_reports.append(rep)
            more = len(self._dialog_reports) - 1
            self._dialog.setInformativeText(
                f"{more} more problem{'s' if more > 1 else ''} since; the latest: "
                f"{rep.title}: {rep.message}\n\nEvery message is in the log file."
            )
            return
        box = QMessageBox(self._parent_widget)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(rep.title)
        box.setText(rep.message)
        if rep.details:
            box.setDetailedText(rep.details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.finished.connect(self._dialog_closed)
        self._dialog = box
        self._dialog_reports = [rep]
        box.open()  # window-modal and non-blocking: no nested event loop

    def _dialog_closed(self) -> None:
        if self._dialog is not None:
            self._dialog.deleteLater()
        self._dialog = None
        self._dialog_reports = []

    def close_dialog(self) -> None:
        """Close the open error dialog (window teardown, tests)."""
        if self._dialog is not None:
            self._dialog.done(0)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        """``threading.excepthook``: an exception ending a Python thread reaches the sink."""
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def excepthook(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        """``sys.excepthook`` for the app: an exception escaping a slot reaches the sink."""
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        self.report(
            f"An unexpected error happened ({describe_exception(exc)}). The app keeps "
            "running; if it recurs, please report it with the log file.",
            title="Unexpected error",
            details=details,
        )
