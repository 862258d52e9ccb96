"""Thumbnail of a slide with its tile grid (and optionally tissue outline) drawn on it.

A quick visual check that the grid sits on the tissue at the expected tile size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from scipy.ndimage import binary_dilation, binary_erosion

from pathscaat.slides.base import Slide
from pathscaat.tiling.grid import TileGrid
from pathscaat.tiling.tissue import TissueMask

GRID_RGB = (0, 160, 255)
TISSUE_RGB = (40, 200, 60)


def draw_grid(
    slide: Slide, grid: TileGrid, *, max_px: int = 2048, tissue: TissueMask | None = None
) -> NDArray[np.uint8]:
    """RGB thumbnail (longer side <= ``max_px``) with one outline per tile."""
    thumb = Image.fromarray(slide.thumbnail(max_px))
    scale = thumb.width / slide.dimensions[0]
    if tissue is not None:
        thumb = _tint_tissue(thumb, tissue)
    draw = ImageDraw.Draw(thumb)
    side = grid.l0_tile_px * scale
    for l0_x, l0_y in grid.l0_xy:
        x0, y0 = l0_x * scale, l0_y * scale
        draw.rectangle([x0, y0, x0 + side, y0 + side], outline=GRID_RGB, width=1)
    return np.asarray(thumb)


def _tint_tissue(thumb: Image.Image, tissue: TissueMask) -> Image.Image:
    """Outline the tissue in green, leaving the stain colours untouched inside."""
    mask_img = Image.fromarray(tissue.mask.astype(np.uint8) * 255)
    mask = np.asarray(mask_img.resize(thumb.size, Image.Resampling.NEAREST)) > 0
    edge = mask & ~binary_erosion(mask, np.ones((3, 3), bool))
    edge = binary_dilation(edge, np.ones((2, 2), bool))
    rgb = np.array(thumb)
    rgb[edge] = TISSUE_RGB
    return Image.fromarray(rgb)


def save_grid_png(
    slide: Slide,
    grid: TileGrid,
    path: str | Path,
    *,
    max_px: int = 2048,
    tissue: TissueMask | None = None,
) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(draw_grid(slide, grid, max_px=max_px, tissue=tissue)).save(out)
    return out
