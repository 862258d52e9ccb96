"""Render a slide area with overlays to an RGB image at any size (File > Export View).

The same sums as the viewer's screen: each overlay is read at the coarsest pyramid level
still at least as fine as the output, its codes resized (bilinear for continuous values,
as the screen smooths them; nearest neighbour for categorical codes such as a class map,
which must never be averaged), mapped through the layer's lookup table and laid over the
slide with the layer's opacity (:func:`~pathscaat.inference.overlay_style.composite`).
The slide itself is read the same way and resized with a box filter, both placed to a
fraction of a source pixel, so an area rendered in horizontal bands
(:func:`render_in_bands`, for progress and cancel) has no seams.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pathscaat.inference.display_sources import read_codes
from pathscaat.inference.overlay_style import apply_lut, composite
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from pathscaat.slides.base import Slide

L0Rect = tuple[float, float, float, float]
MAX_EXPORT_PX = 16384
"""Longest side of an exported image (a bigger one would not fit in memory comfortably)."""


@dataclass(frozen=True)
class LayerPaint:
    """One overlay to draw: its raster, placement on the slide, colours and opacity."""

    source: Slide
    l0_per_px: float
    lut: NDArray[np.uint8]
    opacity: float
    smooth: bool = True
    """Interpolate codes (continuous values); False for categorical codes."""


def fit_size(l0_w: float, l0_h: float, longest_px: int) -> tuple[int, int]:
    """(width, height) of an output whose longer side is ``longest_px``, same aspect."""
    longest_px = int(min(MAX_EXPORT_PX, max(1, longest_px)))
    scale = longest_px / max(l0_w, l0_h, 1e-9)
    return max(1, round(l0_w * scale)), max(1, round(l0_h * scale))


def _src_window(
    source: Slide, l0_rect: L0Rect, l0_per_px: float, out_w: int
) -> tuple[int, float, float, float, float]:
    """Level and the level-pixel window of ``source`` that covers ``l0_rect``."""
    x, y, w, _h = l0_rect
    src_per_out = w / l0_per_px / out_w
    level = source.best_level_for(src_per_out)
    ds = float(source.level_downsamples[level])
    lvl_x0, lvl_y0 = x / l0_per_px / ds, y / l0_per_px / ds
    return level, ds, lvl_x0, lvl_y0, src_per_out / ds


def read_overlay(
    source: Slide,
    l0_per_px: float,
    l0_rect: L0Rect,
    out_size: tuple[int, int],
    smooth: bool = False,
) -> NDArray[np.uint8]:
    """H x W codes of ``source`` over ``l0_rect`` at ``out_size`` (see module docstring)."""
    out_w, out_h = out_size
    level, ds, lvl_x0, lvl_y0, step = _src_window(source, l0_rect, l0_per_px, out_w)
    cols = np.floor(lvl_x0 + (np.arange(out_w) + 0.5) * step).astype(np.int64)
    rows = np.floor(lvl_y0 + (np.arange(out_h) + 0.5) * step).astype(np.int64)
    c0, r0 = int(cols.min()) - 1, int(rows.min()) - 1  # one pixel of margin to interpolate
    size = (int(cols.max()) - c0 + 2, int(rows.max()) - r0 + 2)
    window = read_codes(source, (round(c0 * ds), round(r0 * ds)), level, size)
    if not smooth:
        return window[np.ix_(rows - r0, cols - c0)]
    box = (lvl_x0 - c0, lvl_y0 - r0, lvl_x0 - c0 + out_w * step, lvl_y0 - r0 + out_h * step)
    image = Image.fromarray(window).resize(out_size, Image.Resampling.BILINEAR, box=box)
    return np.asarray(image, dtype=np.uint8)


def read_base(slide: Slide, l0_rect: L0Rect, out_size: tuple[int, int]) -> NDArray[np.uint8]:
    """H x W x 3 RGB of the slide over ``l0_rect`` at ``out_size`` (white off the slide)."""
    out_w, out_h = out_size
    level, ds, lvl_x0, lvl_y0, step = _src_window(slide, l0_rect, 1.0, out_w)
    c0, r0 = math.floor(lvl_x0), math.floor(lvl_y0)
    lvl_w = max(1, math.ceil(lvl_x0 + out_w * step) - c0)
    lvl_h = max(1, math.ceil(lvl_y0 + out_h * step) - r0)
    region = slide.read_region((round(c0 * ds), round(r0 * ds)), level, (lvl_w, lvl_h))
    box = (lvl_x0 - c0, lvl_y0 - r0, lvl_x0 - c0 + out_w * step, lvl_y0 - r0 + out_h * step)
    image = Image.fromarray(region).resize((out_w, out_h), Image.Resampling.BOX, box=box)
    return np.asarray(image, dtype=np.uint8)


def render_region(
    slide: Slide, l0_rect: L0Rect, out_size: tuple[int, int], layers: Sequence[LayerPaint]
) -> NDArray[np.uint8]:
    """The slide over ``l0_rect`` with ``layers`` (bottom first) laid on it, as RGB."""
    base = read_base(slide, l0_rect, out_size)
    painted = [
        (apply_lut(read_overlay(p.source, p.l0_per_px, l0_rect, out_size, p.smooth), p.lut),
         p.opacity)
        for p in layers
    ]  # fmt: skip
    return composite(base, painted)


def render_in_bands(
    slide: Slide,
    l0_rect: L0Rect,
    out_size: tuple[int, int],
    layers: Sequence[LayerPaint],
    *,
    band_px: int = 512,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> NDArray[np.uint8]:
    """:func:`render_region` one band of ``band_px`` output rows at a time: progress after
    each band, JobCancelled between bands. The bands join without a seam."""
    x, y, w, _ = l0_rect
    out_w, out_h = out_size
    l0_per_row = w / out_w  # the renderer's step, both ways (square output pixels)
    starts = list(range(0, out_h, max(1, band_px)))
    bands = []
    for i, row0 in enumerate(starts):
        if should_stop():
            raise JobCancelled(f"rendering stopped after {i} of {len(starts)} bands")
        on_progress(ProgressRecord("render", i, len(starts), "reading the slide"))
        rows = min(out_h, row0 + band_px) - row0
        band_rect = (x, y + row0 * l0_per_row, w, rows * l0_per_row)
        bands.append(render_region(slide, band_rect, (out_w, rows), layers))
    on_progress(ProgressRecord("render", len(starts), len(starts), "reading the slide"))
    return np.concatenate(bands, axis=0) if bands else np.zeros((0, out_w, 3), np.uint8)
