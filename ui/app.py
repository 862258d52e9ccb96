"""``pathscaat-gui [SLIDE]``: start the desktop app.

Qt is imported inside :func:`main` so that importing ``ui.app`` (a frozen app's bootstrap,
``multiprocessing`` children) stays cheap. ``PATHSCAAT_GUI_EXIT_AFTER_S=N`` closes the app
after N seconds; ``--smoke SECONDS`` (``ui.smoke``) opens, renders and runs what it is
given, prints one line and exits, which makes the installed and the frozen app testable
end to end.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow
    from ui.smoke import SmokePlan

EXIT_AFTER_ENV = "PATHSCAAT_GUI_EXIT_AFTER_S"

log = logging.getLogger(__name__)


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pathscaat-gui", description="PathSCAAT desktop app: view slides and overlays."
    )
    parser.add_argument("slide", nargs="?", help="a slide to open at start-up")
    parser.add_argument("--overlays", help="an inference output folder to show over the slide")
    smoke = parser.add_argument_group("smoke start (installed and frozen builds)")
    smoke.add_argument(
        "--smoke", type=float, metavar="SECONDS", default=None,
        help="open SLIDE, render it, open --overlays, print one line and exit (0 = ok) "
        "within SECONDS; also PATHSCAAT_SMOKE=SECONDS; offscreen when there is no display",
    )  # fmt: skip
    smoke.add_argument("--smoke-model", metavar="CKPT", help="also run this model over SLIDE")
    smoke.add_argument("--smoke-out", metavar="DIR", help="output folder of that model run")
    return parser.parse_args(list(argv))


def _smoke_plan(args: argparse.Namespace) -> SmokePlan | None:
    """The smoke start asked for, if any; it runs offscreen where there is no display."""
    from ui.smoke import SmokePlan, smoke_seconds

    limit_s = smoke_seconds(args.smoke)
    if limit_s is None:
        return None
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and no_display:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    def path(text: str | None) -> Path | None:
        return Path(text) if text else None

    return SmokePlan(
        limit_s, path(args.slide), path(args.overlays), path(args.smoke_model),
        path(args.smoke_out),
    )  # fmt: skip


def _exit_after_s() -> float | None:
    text = os.environ.get(EXIT_AFTER_ENV, "").strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        log.warning("%s=%r is not a number of seconds; ignored", EXIT_AFTER_ENV, text)
        return None


def _make_app() -> tuple[QApplication, Path | None]:
    """The QApplication with names, log file, stylesheet and pyqtgraph's row-major order."""
    import pyqtgraph as pg
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from resources import resource_path
    from ui.errors import setup_file_logging
    from ui.settings import APP_NAME, ORG_NAME

    pg.setConfigOptions(imageAxisOrder="row-major")
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "pathscaat-gui"])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("PathSCAAT")
    app.setDesktopFileName("pathscaat")
    app.setWindowIcon(QIcon(str(resource_path("icons/app.svg"))))
    log_path: Path | None
    try:
        log_path = setup_file_logging()
    except OSError as exc:  # a read-only home must not stop the app
        log_path = None
        print(f"pathscaat-gui: cannot write the log file ({exc})", file=sys.stderr)
    app.setStyleSheet(resource_path("style.qss").read_text(encoding="utf-8"))
    return app, log_path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app until its window closes; returns the exit code."""
    multiprocessing.freeze_support()
    args = _parse(sys.argv[1:] if argv is None else argv)
    if multiprocessing.get_start_method(allow_none=True) is None:
        multiprocessing.set_start_method("spawn")
    smoke = _smoke_plan(args)

    from PySide6.QtCore import QTimer

    app, log_path = _make_app()
    from ui.main_window import MainWindow

    window = MainWindow()
    sys.excepthook = window.errors.excepthook
    threading.excepthook = window.errors.thread_excepthook
    log.info("PathSCAAT GUI started; log file %s", log_path)
    window.show()
    if smoke is not None:
        _start_smoke(window, smoke, app)
    elif args.slide:
        if args.overlays:
            _load_overlays_once(window, Path(args.overlays))
        window.open_slide(args.slide)
    delay = _exit_after_s()
    if delay is not None:
        QTimer.singleShot(int(delay * 1000), lambda: _close_now(window))
    code = app.exec()
    sys.excepthook = sys.__excepthook__
    threading.excepthook = threading.__excepthook__
    return int(code)


def _start_smoke(window: MainWindow, plan: SmokePlan, app: QApplication) -> None:
    from ui.smoke import SmokeRun

    def finish(code: int) -> None:
        _close_now(window)
        app.exit(code)

    SmokeRun(window, plan, finish).start()


def _close_now(window: MainWindow) -> None:
    """The exit timer closes without asking (a smoke test has nobody to answer)."""
    window.interactive = False
    window.close()


def _load_overlays_once(window: MainWindow, folder: Path) -> None:
    """Load ``folder``'s overlays when the command-line slide has opened (once)."""

    def on_loaded(*_: object) -> None:
        window.loader.sigLoaded.disconnect(on_loaded)
        window.load_overlays(folder)

    window.loader.sigLoaded.connect(on_loaded)


if __name__ == "__main__":
    sys.exit(main())
