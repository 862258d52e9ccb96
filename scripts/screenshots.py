"""Render the main states of the desktop app to PNG files (for review and the README).

    python scripts/screenshots.py [OUT_DIR] [--slide SLIDE] [--size 1280x800]

States: ``01-empty``, ``02-slide``, ``02-slide-digital`` (zoomed past the scan),
``03-inference-running``, ``04-overlays``, ``04-overlays-fit``, ``05-error``. With
``--demo DIR`` (the output of ``pathscaat demo``) it renders only the demo's result
instead: the synthetic slide with the trained SCAAT model's class map and saliency, as
the app shows them by default, fitted and zoomed on a planted atypical region
(``06-demo-*.png``), and File > Export View of the view and of the whole slide
(``07-export-*.png``). With ``--annotations`` it renders only the annotation tools in
use and their panels (``08-ann-*.png``, see ``scripts/screenshots_annotations.py``).

The model run is real: a tiny randomly initialised checkpoint is written
to OUT_DIR/model and ``pathscaat infer`` runs over the slide in a child process, exactly
as the app's Analysis > Run Model does. Uses the display when there is one (e.g. under
``xvfb-run``), else Qt's offscreen platform.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PATHSCAAT_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_SLIDE = SHARED_DATA / "slides" / "CMU-1-Small-Region.svs"


def make_checkpoint(folder: Path) -> Path:
    """A tiny random resnet10t checkpoint (3 made-up classes) for a real model run."""
    import torch

    from pathscaat.models import CheckpointMeta, create_model, save_checkpoint

    torch.manual_seed(0)
    classes = ["tumour", "stroma", "inflammation"]
    model = create_model("resnet10t", len(classes))
    meta = CheckpointMeta(
        backbone="resnet10t", class_names=classes, input_px=64,
        mean=list(model.mean), std=list(model.std), mpp=1.0,
    )  # fmt: skip
    return Path(save_checkpoint(folder / "demo-model", model, meta))


def wait_for(app: object, cond: Callable[[], bool], timeout_s: float) -> bool:
    """Process events until ``cond()`` or the timeout; True if the condition held."""
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        QApplication.processEvents()
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def settle(app: object, window: object, seconds: float = 1.0) -> None:
    """Let tiles arrive: wait until nothing is pending, then a little longer."""
    wait_for(app, lambda: not window.status.tiles.text(), 20)  # type: ignore[attr-defined]
    wait_for(app, lambda: False, seconds)


def grab_with_dialog(window: object, out: Path) -> None:
    """The window with its open error dialog painted centred on top (offscreen has no WM)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QColor, QPainter

    image = window.grab().toImage()  # type: ignore[attr-defined]
    dialog = window.errors.dialog  # type: ignore[attr-defined]
    if dialog is not None:
        dialog.adjustSize()
        pix = dialog.grab()
        painter = QPainter(image)
        painter.fillRect(image.rect(), QColor(0, 0, 0, 60))
        pos = QPoint((image.width() - pix.width()) // 2, (image.height() - pix.height()) // 3)
        painter.drawPixmap(pos, pix)
        painter.end()
    image.save(str(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="/tmp/pathscaat-shots", type=Path)
    parser.add_argument("--slide", type=Path, default=DEFAULT_SLIDE)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--no-run", action="store_true", help="skip the model-run states")
    parser.add_argument("--demo", type=Path, help="a 'pathscaat demo' output: shoot its result")
    parser.add_argument("--annotations", action="store_true",
                        help="shoot only the annotation tools and panels on --slide")
    args = parser.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no screen: render offscreen
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.split("x"))

    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from resources import resource_path
    from ui.main_window import MainWindow
    from ui.settings import Settings

    pg.setConfigOptions(imageAxisOrder="row-major")
    app = QApplication.instance() or QApplication(["pathscaat-shots"])
    assert isinstance(app, QApplication)
    app.setStyleSheet(resource_path("style.qss").read_text(encoding="utf-8"))
    window = MainWindow(Settings(out / "settings.ini"))
    window.resize(width, height)
    window.show()
    wait_for(app, lambda: False, 0.5)
    if args.demo is not None:
        ok = shoot_demo(app, window, args.demo, out)
        window.close()
        return 0 if ok else 1
    if args.annotations:
        return shoot_annotation_states(app, window, args.slide, out)
    window.grab().save(str(out / "01-empty.png"))

    window.open_slide(args.slide)
    if not wait_for(app, lambda: window.slide is not None, 30):
        print(f"could not open {args.slide}", file=sys.stderr)
        return 1
    window.viewer.center_on(1100, 1500)
    settle(app, window)
    window.viewer.fit()
    settle(app, window)
    window.grab().save(str(out / "02-slide.png"))
    window.viewer.center_on(1100, 1500)
    window.viewer.zoom_by(2.0 * window.viewer.l0_per_view_px())  # 2 screen px per scan px
    settle(app, window)
    window.grab().save(str(out / "02-slide-digital.png"))
    window.viewer.fit()

    if not args.no_run and not shoot_model_run(app, window, args.slide, out):
        return 1
    shoot_error(app, window, out)
    window.close()
    print(f"screenshots in {out}")
    return 0


def shoot_annotation_states(app: object, window: Any, slide: Path, out: Path) -> int:
    """08: each annotation tool mid-gesture, the panels, tile detections at two zooms."""
    sys.path.insert(0, str(REPO / "scripts"))
    from screenshots_annotations import shoot_annotations

    window.open_slide(slide)
    if not wait_for(app, lambda: window.slide is not None, 30):
        print(f"could not open {slide}", file=sys.stderr)
        return 1
    ok = shoot_annotations(app, window, out, settle)
    window.close()
    print(f"screenshots in {out}")
    return 0 if ok else 1


def shoot_model_run(app: object, window: Any, slide: Path, out: Path) -> bool:
    """03: a real ``pathscaat infer`` child running; 04: its overlays over the slide."""
    from ui.dialogs.run_model_dialog import RunRequest

    ckpt = make_checkpoint(out / "model")
    run_out = out / "run"
    req = RunRequest(slide, ckpt, run_out, device="cpu", saliency="input_x_gradient")
    window.runs.start(req)
    running = window.runs.is_running
    wait_for(app, lambda: "scoring" in window.status.job_label.text() or not running(), 120)
    wait_for(app, lambda: window.status.job_bar.value() > 300 or not running(), 60)
    window.grab().save(str(out / "03-inference-running.png"))
    if not wait_for(app, lambda: not window.runs.is_running(), 300):
        print("the model run did not finish in 5 minutes", file=sys.stderr)
        return False
    wait_for(app, lambda: bool(window.viewer.overlays()), 10)
    window.viewer.center_on(1100, 1500)
    window.viewer.zoom_by(2.0)
    settle(app, window, 1.5)
    window.viewer.sigCursorMoved.emit(1210.0, 1382.0)  # as if the pointer rested there
    wait_for(app, lambda: False, 0.2)
    window.grab().save(str(out / "04-overlays.png"))
    window.viewer.fit()
    settle(app, window, 1.0)
    window.grab().save(str(out / "04-overlays-fit.png"))
    return not window.errors.history


def demo_focus(demo: Path) -> tuple[float, float, float]:
    """(x, y, side) in level-0 px: the largest planted atypical region, with a margin."""
    import json

    regions = json.loads((demo / "synthetic-slide.regions.json").read_text())["regions"]
    boxes = [r["l0_bbox"] for r in regions if r["label"] == "atypical"]
    x, y, w, h = max(boxes, key=lambda b: b[2] * b[3])
    return x + w / 2, y + h / 2, max(w, h)


def shoot_demo(app: object, window: Any, demo: Path, out: Path) -> bool:
    """06: the demo's slide, SCAAT saliency over the atypical-class heatmap, at three zooms."""
    window.open_slide(demo / "synthetic-slide.tif")
    if not wait_for(app, lambda: window.slide is not None, 30):
        print(f"could not open {demo}", file=sys.stderr)
        return False
    window.load_overlays(demo / "inference")  # shown with the app's own defaults
    wait_for(app, lambda: bool(window.viewer.overlays()), 10)
    window.layers_dock.raise_()
    window.viewer.fit()
    settle(app, window, 1.5)
    window.grab().save(str(out / "06-demo-fit.png"))
    x, y, side = demo_focus(demo)
    views = {"wide": (x, y, 2.6), "close": (x, y, 1.3), "edge": (x - side * 0.35, y, 0.75)}
    for name, (cx, cy, margin) in views.items():
        window.actions_.show_grid.setChecked(name == "edge")  # View > Tile Grid
        window.viewer.fit()
        settle(app, window, 0.5)
        _, _, w, h = window.viewer.l0_visible_rect()
        window.viewer.zoom_by(min(w, h) / (side * margin))
        window.viewer.center_on(cx, cy)
        settle(app, window, 1.5)
        window.viewer.sigCursorMoved.emit(cx, cy)
        wait_for(app, lambda: False, 0.2)
        window.grab().save(str(out / f"06-demo-{name}.png"))
    window.actions_.show_grid.setChecked(False)
    shoot_exports(window, out)
    return not window.errors.history


def shoot_exports(window: Any, out: Path) -> None:
    """07: File > Export View of the current view (twice its size) and of the whole slide."""
    from ui.export_view import ExportRequest

    window.exporter.export(ExportRequest(out / "07-export-view.png", view_scale=2.0))
    window.exporter.export(
        ExportRequest(out / "07-export-slide.png", whole_slide=True, longest_px=2000)
    )


def shoot_error(app: object, window: Any, out: Path) -> None:
    """05: opening a damaged file: the error dialog over a window that stays up."""

    bad = out / "scan-0042.svs"
    bad.write_bytes(os.urandom(4096))
    window.open_slide(bad)
    wait_for(app, lambda: window.errors.dialog is not None or bool(window.errors.history), 20)
    wait_for(app, lambda: False, 0.3)
    grab_with_dialog(window, out / "05-error.png")
    window.errors.close_dialog()


if __name__ == "__main__":
    sys.exit(main())
