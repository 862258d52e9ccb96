"""Whole-slide thumbnails read from the best pyramid level, band by band.

Reading in bands of output rows bounds memory for single-level giants (a 100k x 100k plain
TIFF) while the pyramid keeps the usual case to one small read.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from pathscaat.slides.base import RGBArray, Slide

BAND_ROWS = 256
"""Output rows produced per read: bounds the level pixels held in memory at once."""


def thumbnail_size(dimensions: tuple[int, int], max_px: int) -> tuple[int, int]:
    """(w, h) with the longer side at most ``max_px`` (never upscaled, never zero)."""
    w, h = dimensions
    scale = min(1.0, max_px / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def make_thumbnail(slide: Slide, max_px: int = 1024) -> RGBArray:
    """The whole slide, longer side at most ``max_px``, as H x W x 3 uint8 RGB."""
    if max_px <= 0:
        raise ValueError(f"max_px must be positive, got {max_px}")
    out_w, out_h = thumbnail_size(slide.dimensions, max_px)
    l0_w, l0_h = slide.dimensions
    level = slide.best_level_for(min(l0_w / out_w, l0_h / out_h))
    ds = slide.level_downsamples[level]
    lvl_w, lvl_h = slide.level_dimensions[level]
    bands = []
    for out_y0 in range(0, out_h, BAND_ROWS):
        out_y1 = min(out_h, out_y0 + BAND_ROWS)
        lvl_y0 = math.floor(out_y0 * lvl_h / out_h)
        lvl_y1 = max(lvl_y0 + 1, math.ceil(out_y1 * lvl_h / out_h))
        l0_y = round(lvl_y0 * ds)
        band = slide.read_region((0, l0_y), level, (lvl_w, lvl_y1 - lvl_y0))
        img = Image.fromarray(band).resize((out_w, out_y1 - out_y0), Image.Resampling.LANCZOS)
        bands.append(np.asarray(img))
    return np.ascontiguousarray(np.concatenate(bands, axis=0))
