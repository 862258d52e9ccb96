"""One saliency map for a whole slide, made of overlapping tiles (numpy only, no torch).

A model sees a slide tile by tile, and the size of a tile's gradients depends on the tile
(its prediction, its confidence): maps pasted side by side change level at every tile
border. Three steps turn them into one map a pathologist can read:

0. **Remove the positional bias** (:func:`positional_bias`): what every tile shows at
   the same place in the tile (a strided network's checkerboard) is the model, not the
   tissue; overlapping tiles would shift it against itself into a lattice of spots.
1. **Blend**: tiles overlap (the inference's ``overlap``) and each tile's map is weighted
   by a 2-D Hann window (:func:`hann_window`), then divided by the summed weights, as
   segmentation inference blends its patches. Every tile's weight falls to ~0 at its own
   border, so no border leaves a step (:class:`BlendAccumulator`).
2. **Smooth over tissue**: a Gaussian of ``sigma_um`` µm, normalised by the tissue under
   it, so the background around the tissue does not dim its edge (:func:`smooth_rows`).
3. **Rank**: each tissue pixel's value becomes its percentile among all the slide's
   tissue pixels (:class:`PercentileScale`): 0.9 means "more salient than 90 % of this
   slide's tissue", one scale for the display, Make Regions and ``pathscaat regions``.

:func:`seam_step_ratio` measures what is left of the tile borders (the issue-17 metric).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi
from numpy.typing import NDArray

HANN_FLOOR = 1e-3
"""Smallest window weight: a pixel that only one tile covers (a slide or tissue edge)
keeps that tile's value instead of 0/0."""

SAMPLES_MAX = 4_000_000
"""Tissue pixels sampled for the slide's percentile table (an even subsample beyond)."""

Floats = NDArray[np.float32]


def hann_window(side: int) -> Floats:
    """``side`` x ``side`` 2-D Hann window, sampled at pixel centres, floored at
    :data:`HANN_FLOOR` (never 0, so a lone tile keeps its values)."""
    n = np.arange(side, dtype=np.float64)
    w1 = np.sin(np.pi * (n + 0.5) / side) ** 2
    return np.maximum(np.outer(w1, w1), HANN_FLOOR).astype(np.float32)


def _scratch(folder: Path | None, name: str, shape: tuple[int, ...]) -> Floats:
    if folder is None:
        return np.zeros(shape, np.float32)
    return np.lib.format.open_memmap(folder / f"{name}.npy", "w+", np.float32, shape)


@dataclass
class BlendAccumulator:
    """Window-weighted sums of tile maps (``channels`` maps per tile) on one raster.

    ``total`` is channels x rows x cols, ``weight`` rows x cols; both are scratch memmaps
    in ``folder`` (in memory without one), so a whole slide fits whatever its size.
    """

    total: Floats
    weight: Floats

    @classmethod
    def create(
        cls, shape: tuple[int, int], channels: int = 1, folder: Path | None = None
    ) -> BlendAccumulator:
        return cls(_scratch(folder, "blend_total", (channels, *shape)),
                   _scratch(folder, "blend_weight", shape))  # fmt: skip

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.weight.shape[0]), int(self.weight.shape[1])

    def add(self, maps: Floats, row: int, col: int, window: Floats) -> None:
        """Add ``maps`` (channels x S x S, or S x S) with its top-left at raster (row, col)."""
        maps = maps[None] if maps.ndim == 2 else maps
        side_r, side_c = maps.shape[1:]
        rows, cols = self.shape
        r0, c0 = max(row, 0), max(col, 0)
        r1, c1 = min(row + side_r, rows), min(col + side_c, cols)
        if r1 <= r0 or c1 <= c0:
            return
        src = (slice(r0 - row, r1 - row), slice(c0 - col, c1 - col))
        w = window[src]
        self.weight[r0:r1, c0:c1] += w
        self.total[:, r0:r1, c0:c1] += maps[(slice(None), *src)] * w

    def blended(self, rows: slice) -> tuple[Floats, NDArray[np.bool_]]:
        """(channels x h x cols blended values, h x cols covered by a tile) of ``rows``."""
        weight = np.asarray(self.weight[rows])
        covered = weight > 0
        safe = np.where(covered, weight, 1.0)
        values = (np.asarray(self.total[:, rows]) / safe).astype(np.float32)
        return values, covered


BIAS_PRIOR_TILES = 16.0
"""Tiles' worth of 'no positional bias' mixed into :func:`positional_bias`: a slide of a
few tiles is barely corrected, one of hundreds fully."""

BIAS_FLOOR = 0.05


def positional_bias(maps: Iterable[Floats]) -> Floats:
    """The mean of the tiles' maps at each position in a tile (each map scaled to mean 1
    first, so strong tiles do not dominate), shrunk towards 1 by
    :data:`BIAS_PRIOR_TILES` and floored at :data:`BIAS_FLOOR`: divide a tile's map by it
    to remove what every tile shares by position (a strided network's checkerboard, the
    padded borders) and keep what differs from tile to tile (the tissue)."""
    total: NDArray[np.float64] | None = None
    n = 0
    for m in maps:
        mean = float(m.mean())
        if mean <= 0:
            continue
        scaled = np.asarray(m, np.float64) / mean
        total = scaled if total is None else total + scaled
        n += 1
    if total is None:
        return np.ones((1, 1), np.float32)
    bias = (total + BIAS_PRIOR_TILES) / (n + BIAS_PRIOR_TILES)
    return np.maximum(bias, BIAS_FLOOR).astype(np.float32)


def smooth_rows(
    values: Floats, inside: NDArray[np.bool_], sigma_px: float
) -> Floats:
    """Gaussian of ``sigma_px`` over the ``inside`` pixels only (normalised convolution):
    outside pixels neither count nor are changed (they come back 0)."""
    if sigma_px <= 0:
        return np.where(inside, values, 0).astype(np.float32)
    mask = inside.astype(np.float32)
    num = ndi.gaussian_filter(values * mask, sigma_px, mode="constant", truncate=4.0)
    den = ndi.gaussian_filter(mask, sigma_px, mode="constant", truncate=4.0)
    out = np.where(inside & (den > 1e-6), num / np.maximum(den, 1e-6), 0.0)
    return out.astype(np.float32)


def halo_px(sigma_px: float) -> int:
    """Rows above and below a strip that a Gaussian of ``sigma_px`` reads."""
    return 0 if sigma_px <= 0 else math.ceil(4.0 * sigma_px) + 1


@dataclass(frozen=True)
class PercentileScale:
    """A slide's distribution of saliency over tissue; values -> percentile (0..1)."""

    sorted_values: Floats

    @classmethod
    def from_samples(cls, samples: Floats) -> PercentileScale:
        values = np.sort(np.asarray(samples, np.float32).ravel())
        return cls(values)

    def rank(self, values: Floats) -> Floats:
        """Mid-rank percentile of each value among the samples (ties share one rank)."""
        n = len(self.sorted_values)
        if n == 0:
            return np.zeros_like(values, dtype=np.float32)
        lo = np.searchsorted(self.sorted_values, values, side="left")
        hi = np.searchsorted(self.sorted_values, values, side="right")
        return ((lo + hi) / (2.0 * n)).astype(np.float32)

    def value_at(self, percentile: float) -> float:
        """The slide's saliency at ``percentile`` (0..1), in the input's units."""
        if len(self.sorted_values) == 0:
            return 0.0
        return float(np.quantile(self.sorted_values, min(1.0, max(0.0, percentile))))


def sample_step(n_pixels: int, samples_max: int = SAMPLES_MAX) -> int:
    """Keep every k-th row and column so that about ``samples_max`` pixels remain."""
    return max(1, math.ceil(math.sqrt(n_pixels / samples_max)))


def seam_step_ratio(
    raster: NDArray[np.floating] | NDArray[np.integer],
    l0_per_px: float,
    l0_starts_x: NDArray[np.int64],
    l0_starts_y: NDArray[np.int64],
    l0_stride: float,
    inside: NDArray[np.bool_] | None = None,
) -> float:
    """The tile-border step ratio of a saliency raster (issue 17).

    The raster is smoothed with a Gaussian of sigma = 1/8 of the tile stride (raster px);
    then the mean |difference| between neighbouring pixels across the lines where tiles
    start (level-0 ``l0_starts_x`` columns and ``l0_starts_y`` rows) is divided by the same
    across the lines half a stride later (tile middles). 1 is seamless; pairs are counted
    where both pixels are ``inside`` (default: everywhere).
    """
    stride_px = l0_stride / l0_per_px
    smooth = ndi.gaussian_filter(np.asarray(raster, np.float32), stride_px / 8.0)
    inside = np.ones(smooth.shape, bool) if inside is None else inside
    at_start = _line_steps(smooth, inside, l0_starts_x, l0_starts_y, l0_per_px, 0.0)
    at_mid = _line_steps(smooth, inside, l0_starts_x, l0_starts_y, l0_per_px, l0_stride / 2)
    return at_start / at_mid if at_mid > 0 else math.inf


def lattice_contrast(
    raster: NDArray[np.floating] | NDArray[np.integer],
    l0_per_px: float,
    l0_origin: tuple[float, float],
    l0_period: float,
    inside: NDArray[np.bool_],
    bins: int = 8,
) -> float:
    """How much a map's mean follows the tile lattice: the ``inside`` pixels binned by
    their place in the period (``bins`` x ``bins`` phases from ``l0_origin``), then (max -
    min) / mean of the bins' means. A map of tissue has ~0 (every phase sees all kinds of
    tissue); a pattern repeated in every tile shows up whatever its borders look like."""
    yy, xx = np.nonzero(inside)
    if not len(yy):
        return 0.0
    values = np.asarray(raster, np.float64)[yy, xx]
    px = (((xx + 0.5) * l0_per_px - l0_origin[0]) % l0_period / l0_period * bins).astype(int)
    py = (((yy + 0.5) * l0_per_px - l0_origin[1]) % l0_period / l0_period * bins).astype(int)
    sums = np.zeros((bins, bins))
    counts = np.zeros((bins, bins))
    np.add.at(sums, (py, px), values)
    np.add.at(counts, (py, px), 1)
    means = sums[counts > 0] / counts[counts > 0]
    return float((means.max() - means.min()) / values.mean()) if values.mean() > 0 else 0.0


def _line_steps(
    smooth: Floats,
    inside: NDArray[np.bool_],
    l0_xs: NDArray[np.int64],
    l0_ys: NDArray[np.int64],
    l0_per_px: float,
    l0_shift: float,
) -> float:
    """Mean |difference| across the pixel boundaries nearest ``l0 + l0_shift`` lines."""
    steps: list[NDArray[np.float32]] = []
    for axis, starts in ((1, l0_xs), (0, l0_ys)):
        n = smooth.shape[axis]
        lines = np.unique(np.round((np.unique(starts) + l0_shift) / l0_per_px).astype(int))
        lines = lines[(lines >= 1) & (lines < n)]
        if axis == 1:
            diff = np.abs(smooth[:, lines] - smooth[:, lines - 1])
            ok = inside[:, lines] & inside[:, lines - 1]
        else:
            diff = np.abs(smooth[lines] - smooth[lines - 1])
            ok = inside[lines] & inside[lines - 1]
        steps.append(diff[ok])
    joined = np.concatenate(steps) if steps else np.zeros(0, np.float32)
    return float(joined.mean()) if joined.size else 0.0
