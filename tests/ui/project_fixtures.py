"""Small real inputs for the project tests: pictures, overlay sets made for them, windows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from pathscaat.inference.overlays import OverlayInfo, OverlaySet
from pathscaat.inference.pyramid_writer import write_pyramid
from ui.main_window import MainWindow
from ui.settings import Settings


def picture(folder: Path, name: str, seed: int = 0) -> Path:
    """A small PNG with a tissue-like block (the plain-image backend opens it)."""
    rng = np.random.default_rng(seed)
    rgb = np.full((300, 400, 3), 240, np.uint8)
    rgb[60:240, 80:320] = rng.integers(120, 200, (180, 240, 3), dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    Image.fromarray(rgb).save(path)
    return path


def overlays_for(slide: Path, folder: Path, dims: tuple[int, int] = (400, 300)) -> Path:
    """An inference output folder for ``slide``: ramp saliency and one class probability."""
    w, h = math.ceil(dims[0] / 8), math.ceil(dims[1] / 8)
    ramp = np.tile(np.linspace(0, 255, w).round().astype(np.uint8), (h, 1))
    write_pyramid(folder / "saliency.tif", ramp, l0_per_px=8, min_level_px=32)
    write_pyramid(folder / "prob_a.tif", ramp[:, ::-1].copy(), l0_per_px=8, min_level_px=32)
    infos = [
        OverlayInfo("saliency", "saliency", "saliency.tif", 8.0),
        OverlayInfo("prob_a", "probability", "prob_a.tif", 8.0, class_name="a"),
    ]
    OverlaySet(folder, str(slide.resolve()), dims, ["a"], infos).save()
    return folder


def make_window(qtbot, settings_path: Path) -> MainWindow:
    win = MainWindow(Settings(settings_path), interactive=False)
    qtbot.addWidget(win)
    win.show()
    return win


def open_and_wait(qtbot, win: MainWindow, path: Path) -> None:
    win.open_slide(path)
    qtbot.waitUntil(lambda: win.slide is not None and win.slide_path == path, timeout=20000)
