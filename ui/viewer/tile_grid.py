"""Pure tile geometry: which pyramid level suits a zoom, which tiles cover a view.

A *source* is a pyramid placed on the slide's level-0 frame with a scale ``l0_per_px``
(1 for the slide itself; 4, 16... for an overlay raster stored at a coarser grid). The
source's own level-0 frame is called ``src_`` here; ``l0 = src * l0_per_px``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pathscaat.slides.base import Slide
from pathscaat.slides.region import Region

TILE_LVL_PX = 512
"""Side of a displayed tile in pixels of its level."""

L0Rect = tuple[float, float, float, float]
"""(x, y, width, height) in level-0 pixels."""


@dataclass(frozen=True)
class Source:
    """A pyramid drawn on the slide: its reader, cache id and scale to slide level 0."""

    slide: Slide
    slide_id: str
    l0_per_px: float = 1.0

    def level_for(self, l0_per_view_px: float) -> int:
        """Coarsest level whose pixels are still no larger than a screen pixel (sharp)."""
        return self.slide.best_level_for(l0_per_view_px / self.l0_per_px)

    def level_scale(self, level: int) -> float:
        """Slide level-0 pixels per pixel of ``level``."""
        return float(self.slide.level_downsamples[level]) * self.l0_per_px

    def l0_rect(self, region: Region) -> L0Rect:
        """Where ``region`` lies on the slide, on the exact tile grid (no seams)."""
        ds = float(self.slide.level_downsamples[region.level])
        lvl_x = round(region.l0_x / ds)
        lvl_y = round(region.l0_y / ds)
        scale = ds * self.l0_per_px
        return (lvl_x * scale, lvl_y * scale, region.lvl_w * scale, region.lvl_h * scale)

    def tiles(self, level: int, l0_view: L0Rect, tile_px: int = TILE_LVL_PX) -> list[Region]:
        """Tiles of ``level`` that intersect ``l0_view``, nearest to its centre first."""
        ds = float(self.slide.level_downsamples[level])
        scale = ds * self.l0_per_px
        lvl_w, lvl_h = self.slide.level_dimensions[level]
        x, y, w, h = l0_view
        tx0 = max(0, math.floor(x / scale / tile_px))
        ty0 = max(0, math.floor(y / scale / tile_px))
        tx1 = min(math.ceil(lvl_w / tile_px), math.ceil((x + w) / scale / tile_px))
        ty1 = min(math.ceil(lvl_h / tile_px), math.ceil((y + h) / scale / tile_px))
        cx, cy = (x + w / 2) / scale / tile_px - 0.5, (y + h / 2) / scale / tile_px - 0.5
        order = sorted(
            ((tx, ty) for ty in range(ty0, ty1) for tx in range(tx0, tx1)),
            key=lambda t: (t[0] - cx) ** 2 + (t[1] - cy) ** 2,
        )
        return [self.region(level, tx, ty, tile_px) for tx, ty in order]

    def region(self, level: int, tx: int, ty: int, tile_px: int = TILE_LVL_PX) -> Region:
        """The read request of tile (tx, ty) of ``level``, clipped to the level."""
        ds = float(self.slide.level_downsamples[level])
        lvl_w, lvl_h = self.slide.level_dimensions[level]
        lvl_x, lvl_y = tx * tile_px, ty * tile_px
        return Region(
            self.slide_id,
            level,
            round(lvl_x * ds),
            round(lvl_y * ds),
            min(tile_px, lvl_w - lvl_x),
            min(tile_px, lvl_h - lvl_y),
        )

    def l0_extent(self) -> tuple[float, float]:
        """(width, height) the source covers on the slide, in level-0 pixels."""
        w, h = self.slide.dimensions
        return (w * self.l0_per_px, h * self.l0_per_px)


def covers(outer: L0Rect, inner: L0Rect, tol: float = 1e-6) -> bool:
    """True when ``outer`` contains ``inner``."""
    return (
        outer[0] <= inner[0] + tol
        and outer[1] <= inner[1] + tol
        and outer[0] + outer[2] >= inner[0] + inner[2] - tol
        and outer[1] + outer[3] >= inner[1] + inner[3] - tol
    )


def intersects(a: L0Rect, b: L0Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
