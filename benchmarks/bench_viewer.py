"""Viewer responsiveness on the real slides, each figure against a baseline in the same run.

1. First frame: ``open_slide`` + ``set_slide`` until the fitted view is fully tiled and
   rendered (async loader, cold cache).
2. Tile throughput: every level-0 display tile read through the async ``TileLoader``
   against plain ``read_region`` calls in a loop over the same tiles (fresh slide handles,
   after one warm-up pass so both see a warm OS cache). Ratio > 1: the pool pays off.
3. UI stalls while panning and zooming along a scripted path (one step per 16 ms): the
   longest gap of a 5 ms ``QTimer`` heartbeat, async loader against the synchronous mode
   (which reads in the UI thread, as a naive viewer would).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_viewer.py [--slide S ...] [--steps 120]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from pathscaat.slides import open_slide  # noqa: E402
from ui.viewer import SlideViewer, TileLoader  # noqa: E402
from ui.viewer.tile_grid import Source  # noqa: E402

SLIDES = REPO.parent / "shared" / "data" / "slides"
VIEW_SIZE = (1280, 800)


def wait_until(app: QCoreApplication, done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    end = time.perf_counter() + timeout_s
    while not done():
        if time.perf_counter() > end:
            raise TimeoutError("viewer did not settle")
        app.processEvents()
        time.sleep(0.001)


def first_frame_s(app: QCoreApplication, path: Path) -> float:
    t0 = time.perf_counter()
    slide = open_slide(path)
    viewer = SlideViewer()
    viewer.resize(*VIEW_SIZE)
    viewer.show()
    viewer.set_slide(slide)
    base = viewer.tile_layers()[0]
    wait_until(app, lambda: viewer.loader.pending == 0 and base.covers_view())
    viewer.render_to_qimage()
    elapsed = time.perf_counter() - t0
    viewer.shutdown()
    viewer.deleteLater()
    slide.close()
    return elapsed


def tiles_per_s(app: QCoreApplication, path: Path) -> tuple[int, float, float]:
    """(tiles, raw reads/s, async loader tiles/s) over every level-0 display tile."""
    with open_slide(path) as slide:
        w, h = slide.dimensions
        regions = Source(slide, "bench").tiles(0, (0.0, 0.0, float(w), float(h)))
        for r in regions:  # warm-up: OS page cache
            slide.read_region((r.l0_x, r.l0_y), r.level, (r.lvl_w, r.lvl_h))
    with open_slide(path) as slide:
        t0 = time.perf_counter()
        for r in regions:
            slide.read_region((r.l0_x, r.l0_y), r.level, (r.lvl_w, r.lvl_h))
        raw = len(regions) / (time.perf_counter() - t0)
    with open_slide(path) as slide:
        loader = TileLoader()
        loader.register("bench", slide)
        got: list[object] = []
        loader.sigTileReady.connect(lambda region, tile: got.append(region))
        t0 = time.perf_counter()
        loader.request(regions)
        wait_until(app, lambda: len(got) == len(regions))
        pooled = len(regions) / (time.perf_counter() - t0)
        loader.close()
    return len(regions), raw, pooled


def stalls_ms(
    app: QCoreApplication, path: Path, synchronous: bool, steps: int
) -> tuple[float, float]:
    """(longest, 99th percentile) gap between 5 ms heartbeats while a timer pans and zooms."""
    slide = open_slide(path)
    viewer = SlideViewer(synchronous=synchronous)
    viewer.resize(*VIEW_SIZE)
    viewer.show()
    viewer.set_slide(slide)
    wait_until(app, lambda: viewer.loader.pending == 0)
    viewer.zoom_by(6.0)
    clock, gaps, state = QElapsedTimer(), [0.0], {"step": 0, "last": 0.0}
    clock.start()

    def beat() -> None:
        now = clock.nsecsElapsed() / 1e6
        gaps.append(now - state["last"])
        state["last"] = now

    def move() -> None:
        i = state["step"] = state["step"] + 1
        viewer.pan_by(37 if (i // 30) % 2 == 0 else -37, 23 if (i // 45) % 2 == 0 else -23)
        if i % 20 == 0:
            viewer.zoom_by(1.5 if (i // 20) % 2 else 1 / 1.5)

    heart, mover = QTimer(interval=5), QTimer(interval=16)
    heart.timeout.connect(beat)
    mover.timeout.connect(move)
    state["last"] = clock.nsecsElapsed() / 1e6
    heart.start()
    mover.start()
    wait_until(app, lambda: state["step"] >= steps)
    mover.stop()
    heart.stop()
    viewer.shutdown()
    viewer.deleteLater()
    slide.close()
    return max(gaps), float(np.percentile(gaps, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slide", action="append", type=Path, help="slide(s); default: all")
    parser.add_argument("--steps", type=int, default=120, help="scripted pan/zoom steps")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    paths = args.slide or sorted(SLIDES.iterdir())
    print(f"viewer {VIEW_SIZE[0]}x{VIEW_SIZE[1]} px, {os.cpu_count()} CPUs, offscreen")
    for path in paths:
        print(f"\n{path.name}")
        print(f"  first frame (open + fit, fully tiled): {first_frame_s(app, path) * 1000:.0f} ms")
        n, raw, pooled = tiles_per_s(app, path)
        print(f"  {n} level-0 tiles: raw read_region {raw:.0f}/s, async loader {pooled:.0f}/s")
        print(f"    ratio async/raw = {pooled / raw:.2f}")
        a_max, a_p99 = stalls_ms(app, path, False, args.steps)
        s_max, s_p99 = stalls_ms(app, path, True, args.steps)
        print(f"  UI heartbeat gaps over {args.steps} pan/zoom steps (longest / p99):")
        print(f"    async loader {a_max:.1f} / {a_p99:.1f} ms")
        print(f"    synchronous (reads on UI thread) {s_max:.1f} / {s_p99:.1f} ms")


if __name__ == "__main__":
    main()
