"""Screenshots of the project panel, the Make Regions preview and the Export dialog.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots_project.py OUT_DIR

Uses the real CMU-1-Small-Region slide from ``$PATHSCAAT_SHARED_DATA`` and an overlay set
made for it here (a saliency raster with two hot spots, class probabilities by tile), in a
throw-away project, so the PNGs show what a user sees: ``09-project-*.png``.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

CLASSES = ["tumour", "stroma"]
HOT_L0 = ((600, 900, 400, 300), (1300, 1500, 250, 350))


def write_overlays(slide_path: Path, out: Path) -> Path:
    """An inference-shaped output: two saliency blocks, tile-wise class probabilities."""
    from pathscaat.inference.overlays import OverlayInfo, OverlaySet
    from pathscaat.inference.pyramid_writer import write_pyramid
    from pathscaat.slides import open_slide

    with open_slide(slide_path) as slide:
        w, h = slide.dimensions
    sal = np.zeros((math.ceil(h / 4), math.ceil(w / 4)), np.uint8)
    for x, y, bw, bh in HOT_L0:
        sal[y // 4 : (y + bh) // 4, x // 4 : (x + bw) // 4] = 230
    write_pyramid(out / "saliency.tif", sal, l0_per_px=4.0, reduce="max", min_level_px=128)
    infos = [OverlayInfo("saliency", "saliency", "saliency.tif", 4.0)]
    tiles = np.indices((math.ceil(h / 256), math.ceil(w / 256))).sum(axis=0) % 2
    for c, name in enumerate(CLASSES):
        p = np.where(tiles == c, 230, 25).astype(np.uint8)
        raster = np.kron(p, np.ones((8, 8), np.uint8))[: math.ceil(h / 32), : math.ceil(w / 32)]
        write_pyramid(out / f"prob_{name}.tif", raster, l0_per_px=32.0)
        infos.append(OverlayInfo(f"prob_{name}", "probability", f"prob_{name}.tif", 32.0, name))
    OverlaySet(out, str(slide_path), (w, h), CLASSES, infos).save()
    return out


def composite(win: Any, dlg: Any, path: Path) -> None:
    """The window with the dialog over its right edge (offscreen has no desktop)."""
    from PySide6.QtGui import QPainter

    shot = win.grab()
    painter = QPainter(shot)
    front = dlg.grab()
    painter.drawPixmap(shot.width() - front.width() - 4, 60, front)
    painter.end()
    shot.save(str(path))


def settle(app: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main(out_dir: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow
    from ui.settings import Settings

    shared = Path(os.environ.get("PATHSCAAT_SHARED_DATA", "../shared/data"))
    cmu = shared / "slides" / "CMU-1-Small-Region.svs"
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        win = MainWindow(Settings(root / "s.ini"), interactive=False, synchronous_viewer=True)
        win.resize(1280, 800)
        win.show()
        win.projects.new_project(root / "Breast cohort")
        slides = [cmu, *sorted((shared / "slides").glob("*.ndpi"))[:1]]
        win.projects.add_slides(slides)
        run = win.projects.session.runs_folder(cmu)
        assert run is not None
        win.projects.session.record_run(write_overlays(cmu, run))
        win.projects.panel.list.itemActivated.emit(win.projects.panel.list.item(0))
        while win.slide is None:
            settle(app, 0.1)
        settle(app, 1.5)
        win.layers_dock.raise_()
        win.grab().save(str(out_dir / "09-project-panel.png"))
        dlg = win.annotation_files.make_regions("saliency")
        assert dlg is not None
        dlg.move(win.geometry().center())
        while dlg.is_computing():
            settle(app, 0.1)
        dlg.list.item(0).setSelected(True)
        settle(app, 0.5)
        composite(win, dlg, out_dir / "09-project-regions.png")
        dlg.keep(dlg.candidates)
        settle(app, 0.5)
        export = win.annotation_files.export_annotations()
        assert export is not None
        settle(app, 0.5)
        composite(win, export, out_dir / "09-project-export-dialog.png")
        export.start()
        while export.is_running():
            settle(app, 0.1)
        export.grab().save(str(out_dir / "09-project-export-done.png"))
        export.close()
        win.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots"))
