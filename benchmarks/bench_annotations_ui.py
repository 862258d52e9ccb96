"""UI-thread stalls while panning with many annotations, against the same pan with none.

A scripted pan/zoom path (bench_viewer's: one step per 16 ms, a zoom step every 20) runs
over a large slide three times: with no annotations (the baseline, measured in the same
run), with 10,000 polygons of 50 vertices, and with 100,000 tile detections (a WSInfer
grid: 350 px tiles at 0.25 µm/px, three classes). The figure is the longest gap of a
5 ms ``QTimer`` heartbeat on the UI thread (and the 99th percentile), each as a ratio to
the baseline. Targets: ratio <= 1.2 and no gap over 16 ms. Each path is run at the
bench_viewer zoom (6x past fit) and zoomed out (1.5x past fit, where nearly every
detection is on screen, QuPath's slow case).

On a loaded machine (2 cores shared by several jobs), a wall-clock gap is mostly the time
the UI thread waited for a core. So each gap is also measured in the UI thread's own CPU
time (``time.thread_time`` between heartbeats): the work done on the UI thread between
two beats, which is what a stall is made of on an idle machine. Both are printed with
their ratios to the baseline, with the load average before and after each case; the
layer's own paint and build-tick CPU time (mean / longest) are printed beside them.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_annotations_ui.py [--steps 240]

The slide is procedural (a real ``Slide`` subclass that paints a cheap pattern), so tile
reading costs the same in every run and the ratio isolates the annotation layer.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from shapely.geometry import Polygon, box  # noqa: E402

from pathscaat.annotations.collection import AnnotationCollection  # noqa: E402
from pathscaat.annotations.model import Annotation, ObjectType, PathClass  # noqa: E402
from pathscaat.slides.base import Mpp, RGBArray, Slide  # noqa: E402
from ui.annotations.layer import AnnotationLayer  # noqa: E402
from ui.viewer import SlideViewer  # noqa: E402

VIEW_SIZE = (1280, 800)
SLIDE_PX = 110_600  # 316 tiles of 350 px a side
TILE_PX = 350
MPP = 0.25
CLASSES = (PathClass("Tumour", (200, 0, 0)), PathClass("Stroma", (150, 200, 150)),
           PathClass("Immune cells", (160, 90, 160)))  # fmt: skip


class PatternSlide(Slide):
    """A big slide whose tiles are a cheap colour pattern (every read costs the same)."""

    backend_name = "pattern"

    def __init__(self, side: int = SLIDE_PX) -> None:
        super().__init__(Path("pattern-slide"))
        self.side = side

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        return tuple((self.side // d, self.side // d) for d in (1, 4, 16, 64, 256))

    @property
    def level_downsamples(self) -> tuple[float, ...]:
        return (1.0, 4.0, 16.0, 64.0, 256.0)

    @property
    def properties(self) -> Mapping[str, str]:
        return {}

    @property
    def vendor(self) -> str | None:
        return "pattern"

    @property
    def native_mpp(self) -> Mpp | None:
        return Mpp(MPP, MPP, "pattern")

    @property
    def objective_power(self) -> float | None:
        return 40.0

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        w, h = size
        shade = (l0_xy[0] // 4096 * 37 + l0_xy[1] // 4096 * 11) % 60
        out = np.empty((h, w, 3), np.uint8)
        out[...] = (230 - shade, 200 - shade, 225 - shade // 2)
        return out


def polygons(n: int = 10_000, vertices: int = 50) -> list[Annotation]:
    """``n`` blobs of ``vertices`` vertices (radius 100-400 px), spread over the slide."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(2000, SLIDE_PX - 2000, (n, 2))
    radii = rng.uniform(100, 400, n)
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    out = []
    for (cx, cy), r, k in zip(centres, radii, rng.integers(0, 3, n), strict=True):
        wobble = 1 + 0.15 * np.sin(angles * 3 + cx)
        ring = np.column_stack([cx + r * wobble * np.cos(angles), cy + r * wobble * np.sin(angles)])
        out.append(Annotation(Polygon(ring), path_class=CLASSES[k]))
    return out


def tiles(n: int = 100_000) -> list[Annotation]:
    """A WSInfer-like grid of ``n`` tile detections, each with a class and a probability."""
    per_row = SLIDE_PX // TILE_PX
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        x, y = (i % per_row) * TILE_PX, (i // per_row) * TILE_PX
        k = int(rng.integers(0, 3))
        out.append(Annotation(box(x, y, x + TILE_PX, y + TILE_PX), path_class=CLASSES[k],
                              object_type=ObjectType.TILE,
                              measurements={"prob": float(rng.random())}))  # fmt: skip
    return out


def wait_until(app: QCoreApplication, done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    end = time.perf_counter() + timeout_s
    while not done():
        if time.perf_counter() > end:
            raise TimeoutError("viewer did not settle")
        app.processEvents()
        time.sleep(0.001)


Result = tuple[float, float, float, float, float, float, float]


def stalls_ms(app: QCoreApplication, objects: list[Annotation], zoom: float,
              steps: int) -> Result:  # fmt: skip
    """Heartbeat gaps while a timer pans and zooms: (longest, p99) in wall time and in UI
    thread CPU time; the layer's mean and longest paint and longest build tick (ms CPU)."""
    slide = PatternSlide()
    viewer = SlideViewer()
    viewer.resize(*VIEW_SIZE)
    viewer.show()
    viewer.set_slide(slide)
    layer = AnnotationLayer(viewer, AnnotationCollection(objects))
    layer.set_bounds(*slide.dimensions)
    viewer.view_box.addItem(layer, ignoreBounds=True)
    wait_until(app, lambda: viewer.loader.pending == 0)
    viewer.zoom_by(zoom)
    viewer.center_on(SLIDE_PX / 2, SLIDE_PX / 2)
    wait_until(app, lambda: viewer.loader.pending == 0)
    layer.ensure_built()  # steady state, as the baseline's tiles are loaded before the pan
    layer.reset_stats()
    clock, gaps, state = QElapsedTimer(), [(0.0, 0.0)], {"step": 0, "last": 0.0, "cpu": 0.0}
    clock.start()

    def beat() -> None:
        now, cpu = clock.nsecsElapsed() / 1e6, time.thread_time() * 1000
        gaps.append((now - state["last"], cpu - state["cpu"]))
        state["last"], state["cpu"] = now, cpu

    def move() -> None:
        i = state["step"] = state["step"] + 1
        viewer.pan_by(37 if (i // 30) % 2 == 0 else -37, 23 if (i // 45) % 2 == 0 else -23)
        if i % 20 == 0:
            viewer.zoom_by(1.5 if (i // 20) % 2 else 1 / 1.5)

    heart, mover = QTimer(interval=5), QTimer(interval=16)
    heart.timeout.connect(beat)
    mover.timeout.connect(move)
    state["last"], state["cpu"] = clock.nsecsElapsed() / 1e6, time.thread_time() * 1000
    heart.start()
    mover.start()
    wait_until(app, lambda: state["step"] >= steps, 60 + 5 * steps)  # a loaded host is slow
    mover.stop()
    heart.stop()
    stats = layer.stats
    paint_mean = 1000 * stats["paint_s"] / max(1.0, stats["paints"])
    viewer.shutdown()
    viewer.deleteLater()
    wall, cpu = np.array(gaps[1:]).T
    return (float(wall.max()), float(np.percentile(wall, 99)), float(cpu.max()),
            float(np.percentile(cpu, 99)), paint_mean, 1000 * stats["paint_max_s"],
            1000 * stats.get("build_max_s", 0.0))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=240, help="scripted pan/zoom steps")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each case, interleaved; the median is reported")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    cases = {"none": [], "10,000 polygons x 50 vertices": polygons(), "100,000 tiles": tiles()}
    print(f"made the annotations in {time.perf_counter() - t0:.1f} s")
    print(f"viewer {VIEW_SIZE[0]}x{VIEW_SIZE[1]} px, slide {SLIDE_PX:,} px square, "
          f"{os.cpu_count()} CPUs, offscreen, {args.steps} steps, median of {args.rounds}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for zoom in (6.0, 1.5):
        runs: dict[str, list[Result]] = {n: [] for n in cases}
        load0 = os.getloadavg()[0]
        for _ in range(args.rounds):
            for name, objs in cases.items():
                runs[name].append(stalls_ms(app, objs, zoom, args.steps))
        print(f"\nzoom {zoom:g}x past fit (load average {load0:.1f} -> {os.getloadavg()[0]:.1f})"
              "\n  heartbeat gap, longest / p99, ms (ratio to none): wall | UI-thread CPU;"
              " layer CPU: paint mean / longest, build tick longest")  # fmt: skip
        base = _median(runs["none"])
        for name, results in runs.items():
            wall, wall99, cpu, cpu99, paint_mean, paint_max, build_max = _median(results)
            ok = "ok" if cpu <= 16.0 and cpu / base[2] <= 1.2 else "over target"
            print(f"  {name:30s} {wall:6.1f} / {wall99:5.1f} ({wall / base[0]:.2f} / "
                  f"{wall99 / base[1]:.2f}) | {cpu:5.1f} / {cpu99:5.1f} ({cpu / base[2]:.2f} / "
                  f"{cpu99 / base[3]:.2f});  paint {paint_mean:4.1f} / {paint_max:5.1f}, "
                  f"build {build_max:4.1f}  {ok} (CPU)")  # fmt: skip


def _median(results: list[Result]) -> tuple[float, ...]:
    return tuple(float(v) for v in np.median(np.array(results, dtype=float), axis=0))


if __name__ == "__main__":
    main()
