"""Cost of one full repaint of the slide in the viewer: tiles kept in the raster engine's own
format (ARGB32 premultiplied, converted once) against pyqtgraph's RGB888 (converted again
on every paint), on the same items in the same run.

A pan, a zoom step and an annotation chunk finishing above the slide all repaint the tiles
under them, so this cost sits inside every UI stall the viewer benchmarks measure. The
figure is UI-thread CPU time per ``grab()`` (a full paint of the 1280 x 800 view), median
of ``--repeats``, at fit and 1.5x, 3x and 6x past fit, on a generated pyramidal TIFF read
by the real reader (or ``--slide``).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_tile_paint.py [--slide S] [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pyqtgraph as pg  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.bench_viewer import VIEW_SIZE, wait_until  # noqa: E402
from pathscaat.data.synthetic_slide import write_synthetic_slide  # noqa: E402
from pathscaat.slides import open_slide  # noqa: E402
from ui.viewer import SlideViewer  # noqa: E402


def paint_ms(viewer: SlideViewer, repeats: int) -> float:
    """Median UI-thread CPU ms of one full paint (``grab`` paints the whole widget)."""
    times = []
    for _ in range(repeats):
        t0 = time.thread_time()
        viewer.grab()
        times.append(1000 * (time.thread_time() - t0))
    return statistics.median(times)


def rerender(viewer: SlideViewer, pyqtgraph_format: bool) -> int:
    """Render every tile item's image again, in pyqtgraph's format or in ours."""
    items = [item for layer in viewer.tile_layers() for item in layer.items.values()]
    for item in items:
        if pyqtgraph_format:
            pg.ImageItem.render(item)
        else:
            item.render()
    return len(items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slide", type=Path, default=None, help="default: a generated TIFF")
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        path = args.slide
        if path is None:
            path = Path(tmp) / "slide.tif"
            write_synthetic_slide(path, width=20000, height=15000, seed=0)
        slide = open_slide(path)
        viewer = SlideViewer()
        viewer.resize(*VIEW_SIZE)
        viewer.show()
        viewer.set_slide(slide)
        print(f"{path.name}, view {VIEW_SIZE[0]}x{VIEW_SIZE[1]}, median of {args.repeats} "
              f"paints, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print("zoom past fit | tiles | RGB888 ms | ARGB32 premultiplied ms | ratio")
        done = 1.0
        base = viewer.tile_layers()[0]
        for zoom in (1.0, 1.5, 3.0, 6.0):
            viewer.zoom_by(zoom / done)
            done = zoom
            wait_until(app, lambda: viewer.loader.pending == 0 and base.covers_view())
            viewer.render_to_qimage()
            n = rerender(viewer, pyqtgraph_format=True)
            before = paint_ms(viewer, args.repeats)
            rerender(viewer, pyqtgraph_format=False)
            after = paint_ms(viewer, args.repeats)
            print(f"{zoom:>13g} | {n:5d} | {before:9.2f} | {after:23.2f} | "
                  f"{before / max(after, 1e-6):.2f}x")  # fmt: skip
        viewer.shutdown()
        slide.close()


if __name__ == "__main__":
    main()
