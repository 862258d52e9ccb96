"""The saliency rasters of a run: one slide-level map and the two it is made from.

Each tile's map is blended into the slide raster with a Hann window
(:mod:`pathscaat.inference.slide_map`); with overlapping tiles that removes the steps at
tile borders. Three layers come out, each with its unit and meaning in the manifest
(``OverlayInfo.unit`` / ``meaning``), which the legends show:

- ``saliency`` (``saliency.tif``): **where in this slide the model looks most**. Each
  tile's map divided by the model's positional bias (the mean map of all the slide's
  tiles at each position in a tile: a strided network stamps the same checkerboard on
  every tile, which overlapping tiles would turn into a lattice of spots), blended,
  smoothed over tissue by ``smooth_um`` µm, then ranked:
  a pixel's value is its percentile among the slide's tissue pixels (0..1). This is the
  layer shown first and the one thresholds (display, Make Regions, ``pathscaat
  regions``) are given in, and the one annotation measurements use.
- ``saliency_tile`` (``saliency_tile.tif``): **where the model looks inside each tile**.
  Every tile's map divided by its own 99th percentile (clipped at 1), then blended:
  every tile shows its own pattern whatever the strength of its gradients.
- ``saliency_abs`` (``saliency_abs.tif``): **how strongly**. The blended map in the
  model's raw units (|d logit / d pixel|, codes scaled to a robust slide maximum), not
  smoothed: comparable between slides scored by the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pathscaat.inference.overlays import UNIT_ABS, UNIT_PERCENTILE, UNIT_TILE, OverlayInfo
from pathscaat.inference.pyramid_writer import write_pyramid
from pathscaat.inference.slide_map import (
    BlendAccumulator,
    PercentileScale,
    halo_px,
    hann_window,
    positional_bias,
    sample_step,
    smooth_rows,
)

if TYPE_CHECKING:
    from pathscaat.inference.stitch import RasterJob

DISPLAY_THRESHOLD = 0.4
"""Percentile under which the slide-level map starts transparent in the app: the most
salient 60 % of the tissue is drawn, its alpha rising with the value (faint near 0.4,
opaque at the top), so nearly every tissue tile shows where in it the model looks
(benchmarks/bench_saliency_seams.py: 95-99 % of tiles; 87 % at 0.5)."""

SMOOTH_UM = 8.0
"""Default smoothing (Gaussian sigma, µm) of the slide-level map: about a nucleus, so the
map reads as tissue, not pixels."""

TILE_PERCENTILE = 99.0
"""A tile's own scale in ``saliency_tile``: its 99th percentile (one hot pixel does not set it)."""

STRIP_ROWS = 512


MEANING = {
    "saliency": "where in this slide the model looks most: each point's rank among the "
    "slide's tissue (0.9 = more salient than 90 % of it), smoothed over {smooth}",
    "saliency_tile": "where the model looks inside each tile (each tile scaled to its own "
    "maximum: says nothing of how strongly)",
    "saliency_abs": "how strongly the model's answer depends on each pixel, in the model's "
    "raw gradient units: comparable between slides of one model",
}


@dataclass(frozen=True)
class SaliencySettings:
    """How the slide-level map is made: smoothing (µm) over tissue."""

    smooth_um: float = SMOOTH_UM


def write_saliency_layers(
    job: RasterJob,
    out_dir: Path,
    scratch: Path,
    tissue: Any,
    hi: float,
    settings: SaliencySettings = SaliencySettings(),
) -> list[OverlayInfo]:
    """Blend, smooth, rank and write the three saliency rasters (see the module doc)."""
    from pathscaat.inference.stitch import raster_shape

    lay, store = job.layout, job.store
    l0_per_px = lay.sal_l0_per_px
    shape = raster_shape(job.slide_dims, l0_per_px)
    acc = BlendAccumulator.create(shape, channels=3, folder=scratch)
    window = hann_window(lay.sal_px)
    bias = positional_bias(store.saliency_of(i) for i in range(len(job.l0_xy)))
    for i, (l0_x, l0_y) in enumerate(job.l0_xy):
        raw = store.saliency_of(i)
        own = float(np.percentile(raw, TILE_PERCENTILE))
        rel = np.minimum(raw / own, 1.0) if own > 0 else np.zeros_like(raw)
        row, col = round(int(l0_y) / l0_per_px), round(int(l0_x) / l0_per_px)
        acc.add(np.stack([raw / hi, rel, raw / bias / hi]), row, col, window)
    sigma_px = _sigma_px(settings.smooth_um, job.slide_mpp, l0_per_px, lay.sal_px)
    smoothed, inside = _smooth(acc, tissue, l0_per_px, sigma_px, scratch)
    scale = _scale_of(smoothed, inside)
    abs_codes = _codes(scratch, "abs", shape)
    tile_codes = _codes(scratch, "tile", shape)
    pct_codes = _codes(scratch, "pct", shape)
    for r0 in range(0, shape[0], STRIP_ROWS):
        rows = slice(r0, min(r0 + STRIP_ROWS, shape[0]))
        values, covered = acc.blended(rows)
        abs_codes[rows] = _to_codes(values[0], covered)
        tile_codes[rows] = _to_codes(values[1], covered)
        pct = scale.rank(np.asarray(smoothed[rows]))
        pct_codes[rows] = np.where(inside[rows], np.maximum(_to_codes(pct, None), 1), 0)
    smooth_text = (f"{settings.smooth_um:g} µm" if job.slide_mpp
                   else f"{sigma_px:.1f} raster px (the slide has no µm/px)")  # fmt: skip
    for file, codes, extra, reduce in (
        ("saliency.tif", pct_codes, {"unit": UNIT_PERCENTILE, "smooth_um": settings.smooth_um,
                                     "sigma_px": sigma_px, "overlap": lay.crop_frac * 2}, "mean"),
        ("saliency_tile.tif", tile_codes, {"unit": UNIT_TILE}, "max"),
        ("saliency_abs.tif", abs_codes, {"unit": UNIT_ABS, "value_max": hi}, "max"),
    ):  # fmt: skip
        write_pyramid(out_dir / file, codes, l0_per_px=l0_per_px, slide_mpp=job.slide_mpp,
                      description={"kind": "saliency", **extra}, reduce=reduce)  # fmt: skip
    return [
        OverlayInfo("saliency", "saliency", "saliency.tif", l0_per_px, None, 0.0, 1.0,
                    UNIT_PERCENTILE, MEANING["saliency"].format(smooth=smooth_text)),
        OverlayInfo("saliency_tile", "saliency", "saliency_tile.tif", l0_per_px, None, 0.0,
                    1.0, UNIT_TILE, MEANING["saliency_tile"]),
        OverlayInfo("saliency_abs", "saliency", "saliency_abs.tif", l0_per_px, None, 0.0, hi,
                    UNIT_ABS, MEANING["saliency_abs"]),
    ]  # fmt: skip


def _sigma_px(smooth_um: float, slide_mpp: float | None, l0_per_px: float, sal_px: int) -> float:
    """The smoothing in raster px: ``smooth_um`` at the slide's µm/px, or without one a
    sixteenth of a tile."""
    if smooth_um <= 0:
        return 0.0
    if slide_mpp:
        return smooth_um / (slide_mpp * l0_per_px)
    return sal_px / 16.0


def _codes(scratch: Path, name: str, shape: tuple[int, int]) -> NDArray[np.uint8]:
    return np.lib.format.open_memmap(scratch / f"{name}_codes.npy", "w+", np.uint8, shape)


def _to_codes(values: NDArray[np.float32], covered: NDArray[np.bool_] | None) -> NDArray[np.uint8]:
    codes = np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return codes if covered is None else np.where(covered, codes, 0).astype(np.uint8)


def _tissue_rows(
    tissue: Any, rows: slice, n_cols: int, l0_per_px: float
) -> NDArray[np.bool_] | None:
    """The tissue mask sampled at the raster pixel centres of ``rows`` (None: no mask)."""
    if tissue is None:
        return None
    mask = np.asarray(tissue.mask, bool)
    ratio = l0_per_px / float(tissue.l0_per_px)  # tissue px per raster px
    r = np.minimum(((np.arange(rows.start, rows.stop) + 0.5) * ratio).astype(np.intp),
                   mask.shape[0] - 1)  # fmt: skip
    c = np.minimum(((np.arange(n_cols) + 0.5) * ratio).astype(np.intp), mask.shape[1] - 1)
    return mask[np.ix_(r, c)]


def _smooth(
    acc: BlendAccumulator, tissue: Any, l0_per_px: float, sigma_px: float, scratch: Path
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """(smoothed absolute map, tissue under tiles) of the whole raster, strip by strip."""
    rows_n, cols_n = acc.shape
    smoothed = np.lib.format.open_memmap(scratch / "smooth.npy", "w+", np.float32, (rows_n, cols_n))
    inside = np.lib.format.open_memmap(scratch / "inside.npy", "w+", np.bool_, (rows_n, cols_n))
    halo = halo_px(sigma_px)
    for r0 in range(0, rows_n, STRIP_ROWS):
        r1 = min(r0 + STRIP_ROWS, rows_n)
        lo, hi = max(0, r0 - halo), min(rows_n, r1 + halo)
        values, covered = acc.blended(slice(lo, hi))
        tissue_rows = _tissue_rows(tissue, slice(lo, hi), cols_n, l0_per_px)
        mask = covered if tissue_rows is None else covered & tissue_rows
        if not mask.any():  # tiles whose tissue the mask missed still count
            mask = covered
        out = smooth_rows(values[2], mask, sigma_px)
        smoothed[r0:r1] = out[r0 - lo : r1 - lo]
        inside[r0:r1] = mask[r0 - lo : r1 - lo]
    return smoothed, inside


def _scale_of(smoothed: NDArray[np.float32], inside: NDArray[np.bool_]) -> PercentileScale:
    """The slide's percentile table from an even subsample of its tissue pixels."""
    step = sample_step(int(np.count_nonzero(inside)) or 1)
    parts = []
    for r0 in range(0, smoothed.shape[0], STRIP_ROWS * step):
        rows = slice(r0, min(r0 + STRIP_ROWS * step, smoothed.shape[0]), step)
        sub_v, sub_in = np.asarray(smoothed[rows, ::step]), np.asarray(inside[rows, ::step])
        parts.append(sub_v[sub_in])
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return PercentileScale.from_samples(samples)
