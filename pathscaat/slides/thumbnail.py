"""Whole-slide thumbnails read from the best pyramid level, block by block.

Reading in blocks bounds memory for single-level giants (a 100k x 100k plain TIFF: one
whole-level read would need 30 GB) while a pyramid keeps the usual case to one small read.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from pathscaat.slides.base import RGBArray, Slide

MAX_READ_PX = 4096
"""Longest side, in level pixels, of one read: about 50 MB of RGB at most in memory."""


def thumbnail_size(dimensions: tuple[int, int], max_px: int) -> tuple[int, int]:
    """(w, h) with the longer side at most ``max_px`` (never upscaled, never zero)."""
    w, h = dimensions
    scale = min(1.0, max_px / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _spans(out_len: int, lvl_len: int) -> list[tuple[int, int, int, int]]:
    """Output ranges and the level ranges they come from, each level range <= MAX_READ_PX."""
    per_out = lvl_len / out_len
    step = max(1, math.floor(MAX_READ_PX / per_out) - 1)
    spans = []
    for out0 in range(0, out_len, step):
        out1 = min(out_len, out0 + step)
        lvl0 = math.floor(out0 * per_out)
        lvl1 = min(lvl_len, max(lvl0 + 1, math.ceil(out1 * per_out)))
        spans.append((out0, out1, lvl0, lvl1))
    return spans


def make_thumbnail(slide: Slide, max_px: int = 1024) -> RGBArray:
    """The whole slide, longer side at most ``max_px``, as H x W x 3 uint8 RGB."""
    if max_px <= 0:
        raise ValueError(f"max_px must be positive, got {max_px}")
    out_w, out_h = thumbnail_size(slide.dimensions, max_px)
    l0_w, l0_h = slide.dimensions
    level = slide.best_level_for(min(l0_w / out_w, l0_h / out_h))
    ds = slide.level_downsamples[level]
    lvl_w, lvl_h = slide.level_dimensions[level]
    out = np.empty((out_h, out_w, 3), dtype=np.uint8)
    for oy0, oy1, ly0, ly1 in _spans(out_h, lvl_h):
        for ox0, ox1, lx0, lx1 in _spans(out_w, lvl_w):
            block = slide.read_region(
                (round(lx0 * ds), round(ly0 * ds)), level, (lx1 - lx0, ly1 - ly0)
            )
            small = Image.fromarray(block).resize((ox1 - ox0, oy1 - oy0), Image.Resampling.LANCZOS)
            out[oy0:oy1, ox0:ox1] = np.asarray(small)
    return out
