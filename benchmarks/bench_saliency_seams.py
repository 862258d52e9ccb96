"""Tile seams of the saliency overlay, before and after blending overlapping tiles (issue 17).

For each slide (CMU-1-Small-Region and a generated slide) the model runs at each overlap
(default 0, 0.25, 0.5). "Before" is the overlap-0 run's ``saliency_abs.tif``: with no
overlap the blend is each tile's own map, coded by the robust slide maximum: exactly the
``saliency.tif`` that inference wrote before this change. "After" is each run's
``saliency.tif`` (blended, smoothed over tissue, in percentiles of the slide).

Printed per run:

- ``step``: the tile-border step ratio as issue 17 defines it: level 0 smoothed with a
  Gaussian of sigma = 1/8 of the tile stride (map px), then the mean |difference| between
  neighbouring pixels across the rows/columns where the run's tiles start, divided by the
  same at half a stride later; pairs inside the overlap-0 grid's tiles. ``step@0`` is the
  same at the overlap-0 grid's lines (where the old seams were). 1 is seamless, target <= 1.2.
- ``lattice``: how much the map's mean follows the tile lattice (phase-folded at the
  run's stride, (max - min) / mean of 8 x 8 phase bins over the same pixels): ~0.1 for
  tissue, large when every tile repeats one pattern (a strided network's checkerboard,
  which half-overlapping tiles shift into a lattice of spots unless it is removed).
- ``cover``: share of the overlap-0 grid's tissue tiles with any pixel drawn at the
  default display threshold (before: 0.4 of the raw range, the old default; after: the
  percentile layer's default).
- ``tiles``, ``s``, ``cost``: tiles scored, seconds of ``predict_slide``, and time relative
  to overlap 0 (the extra inference cost of the overlap), measured in this run.
- ``regions``: regions Make Regions / ``pathscaat regions`` find on the layer at its
  default settings.

    python benchmarks/bench_saliency_seams.py --model runs/kather/best [--overlaps 0,0.25,0.5]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pathscaat.annotations.regions import (  # noqa: E402
    RegionDefaults,
    load_layer,
    regions_from_overlay,
)
from pathscaat.inference.overlays import OverlaySet  # noqa: E402
from pathscaat.inference.predict import predict_slide  # noqa: E402
from pathscaat.inference.slide_map import lattice_contrast, seam_step_ratio  # noqa: E402
from pathscaat.slides import open_slide  # noqa: E402

CMU = REPO.parent / "shared" / "data" / "slides" / "CMU-1-Small-Region.svs"
LEAD_MODEL = Path("/work/models/kather-lite0-scaat/best")
OLD_DISPLAY_THRESHOLD = 0.4  # ui/overlays.py before this change: 0.4 of the raw range


def tile_starts(out: Path) -> tuple[np.ndarray, float]:
    """(N x 2 level-0 tile corners, level-0 tile side) from a run's tiles.csv."""
    with (out / "tiles.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    xy = np.array([[int(r["l0_x"]), int(r["l0_y"])] for r in rows], np.int64)
    return xy, float(rows[0]["l0_w"])


def stride_of(xy: np.ndarray, side: float) -> float:
    steps = np.diff(np.unique(xy[:, 0]))
    return float(steps.min()) if steps.size else side


def level0(path: Path) -> np.ndarray:
    with open_slide(path) as raster:
        return raster.read_region((0, 0), 0, raster.dimensions)[..., 0]


def footprints(shape: tuple[int, ...], xy: np.ndarray, side: float, l0_per_px: float) -> np.ndarray:
    inside = np.zeros(shape, bool)
    n = round(side / l0_per_px)
    for x, y in xy:
        r, c = round(y / l0_per_px), round(x / l0_per_px)
        inside[r : r + n, c : c + n] = True
    return inside


def coverage(codes: np.ndarray, xy: np.ndarray, side: float, l0_per_px: float, code: int) -> float:
    n = round(side / l0_per_px)
    shown = [codes[round(y / l0_per_px) : round(y / l0_per_px) + n,
                   round(x / l0_per_px) : round(x / l0_per_px) + n].max(initial=0) >= code
             for x, y in xy]  # fmt: skip
    return float(np.mean(shown)) if shown else float("nan")


def measure(out: Path, layer: str, base: tuple[np.ndarray, float], threshold: float) -> dict:
    overlays = OverlaySet.load(out)
    info = overlays.get(layer)
    codes = level0(overlays.path_of(info))
    xy, side = tile_starts(out)
    base_xy, base_side = base
    inside = footprints(codes.shape, base_xy, base_side, info.l0_per_px)
    stride = stride_of(xy, side)
    step = seam_step_ratio(codes, info.l0_per_px, xy[:, 0], xy[:, 1], stride, inside)
    step0 = seam_step_ratio(codes, info.l0_per_px, base_xy[:, 0], base_xy[:, 1],
                            stride_of(base_xy, base_side), inside)  # fmt: skip
    code = max(1, int(np.ceil(threshold * 255 - 1e-9)))
    cover = coverage(codes, base_xy, base_side, info.l0_per_px, code)
    origin = (float(xy[:, 0].min()), float(xy[:, 1].min()))
    lattice = lattice_contrast(codes, info.l0_per_px, origin, stride, inside & (codes > 0))
    return {"step": step, "step0": step0, "cover": cover, "lattice": lattice}


def n_regions(out: Path, layer: str, mpp: float | None) -> int:
    loaded = load_layer(out, layer)
    d = RegionDefaults.for_layer(loaded.info)
    return len(regions_from_overlay(loaded, d.threshold, d.min_area_um2, mpp=mpp,
                                    smooth_um=d.smooth_um))  # fmt: skip


def bench_slide(slide: Path, model: Path, overlaps: list[float], work: Path, device: str) -> None:
    from pathscaat.inference.saliency_layers import DISPLAY_THRESHOLD

    with open_slide(slide) as s:
        mpp = s.mpp.x if s.mpp else None
    runs: dict[float, tuple[Path, float]] = {}
    for overlap in overlaps:
        out = work / f"{slide.stem}-ov{overlap:g}"
        start = time.perf_counter()
        predict_slide(slide, model, out, device=device, batch_size=32, workers=2,
                      overlap=overlap)  # fmt: skip
        runs[overlap] = (out, time.perf_counter() - start)
    base_out, base_s = runs[min(overlaps)]
    base = tile_starts(base_out)
    print(f"\n{slide.name}  (mpp {mpp}, {len(base[0])} tiles of {base[1]:.0f} l0 px at overlap "
          f"{min(overlaps):g})")  # fmt: skip
    print(f"{'run':34} {'step':>6} {'step@0':>7} {'lattice':>7} {'cover':>6} {'tiles':>6} "
          f"{'s':>7} {'cost':>5} {'regions':>7}")  # fmt: skip
    before = measure(base_out, "saliency_abs", base, OLD_DISPLAY_THRESHOLD)
    print(f"{'before: raw stitched, overlap 0':34} {before['step']:6.2f} {before['step0']:7.2f} "
          f"{before['lattice']:7.2f} {before['cover']:6.0%} {len(base[0]):6d} {base_s:7.1f} "
          f"{1:5.2f} {'-':>7}")
    for overlap, (out, seconds) in runs.items():
        n_tiles = len(tile_starts(out)[0])
        for layer, threshold in (("saliency_abs", OLD_DISPLAY_THRESHOLD),
                                 ("saliency", DISPLAY_THRESHOLD)):  # fmt: skip
            m = measure(out, layer, base, threshold)
            regions = n_regions(out, layer, mpp) if layer == "saliency" else "-"
            name = f"overlap {overlap:g}: {layer}"
            print(f"{name:34} {m['step']:6.2f} {m['step0']:7.2f} {m['lattice']:7.2f} "
                  f"{m['cover']:6.0%} {n_tiles:6d} "
                  f"{seconds:7.1f} {seconds / base_s:5.2f} {regions!s:>7}")  # fmt: skip


def generated_slide(work: Path) -> Path:
    from pathscaat.data.synthetic_slide import write_synthetic_slide

    path, _ = write_synthetic_slide(work / "generated.tiff", width=3072, height=2304, seed=3)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    lead = LEAD_MODEL if LEAD_MODEL.with_suffix(".json").exists() else None
    ap.add_argument("--model", type=Path, default=lead, help=f"checkpoint (default {LEAD_MODEL})")
    ap.add_argument("--slides", type=Path, nargs="*", default=None,
                    help="slides (default: CMU-1-Small-Region and a generated 3072x2304 slide)")
    ap.add_argument("--overlaps", default="0,0.25,0.5")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--work", type=Path, default=None, help="keep the runs here")
    args = ap.parse_args()
    if args.model is None:
        ap.error("--model is required (a checkpoint from 'pathscaat train', e.g. on Kather 2016)")
    overlaps = sorted(float(v) for v in args.overlaps.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        slides = args.slides or [CMU, generated_slide(work)]
        for slide in slides:
            bench_slide(slide, args.model, overlaps, work, args.device)


if __name__ == "__main__":
    main()
