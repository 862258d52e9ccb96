"""Overlay rasters as the viewer and the exporter read them: codes, peaks, class maps.

Each is a :class:`~pathscaat.slides.base.Slide` over one or more overlay pyramids (codes
in the R channel, grey in all three), so the app's tile loader reads, caches and places
them like any raster, off the UI thread.

- :class:`PeakPyramid` keeps sparse saliency peaks visible when zoomed out. The
  inference writes every coarser level as the *maximum* of the one below (not the mean),
  and this reader dilates each coarser level by :data:`PEAK_RADIUS_PX` pixel (3 x 3
  maximum) as it reads, so a single hot raster pixel is drawn at least about 1.5-3 screen
  pixels wide at any zoom out instead of sub-pixel. The finest level is read as stored:
  zoomed in, the map's real extent is what is shown.
- :class:`ClassMapSlide` reads every class's probability raster and returns class-map
  codes (:func:`~pathscaat.inference.overlay_style.encode_class_map`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from pathscaat.inference.overlay_style import dilate_max, encode_class_map
from pathscaat.slides.base import RGBArray, Slide, SlideMetadata, StoredSlide

PEAK_RADIUS_PX = 1
"""Dilation radius (level pixels) of saliency levels coarser than the finest."""


def read_codes(
    source: Slide, l0_xy: tuple[int, int], level: int, size: tuple[int, int]
) -> NDArray[np.uint8]:
    """H x W codes of a region; 0 (no data) where it lies outside the raster.

    Backends fill out-of-slide areas with white, which in a raster would read as the top
    code, so only the part inside the level is read.
    """
    w, h = size
    ds = float(source.level_downsamples[level])
    lvl_w, lvl_h = source.level_dimensions[level]
    lvl_x, lvl_y = round(l0_xy[0] / ds), round(l0_xy[1] / ds)
    x0, y0 = max(0, lvl_x), max(0, lvl_y)
    x1, y1 = min(lvl_w, lvl_x + w), min(lvl_h, lvl_y + h)
    out = np.zeros((h, w), dtype=np.uint8)
    if x1 > x0 and y1 > y0:
        part = source.read_region((round(x0 * ds), round(y0 * ds)), level, (x1 - x0, y1 - y0))
        out[y0 - lvl_y : y1 - lvl_y, x0 - lvl_x : x1 - lvl_x] = part[..., 0]
    return out


def _grey(codes: NDArray[np.uint8]) -> RGBArray:
    return np.ascontiguousarray(np.repeat(codes[..., None], 3, axis=2))


class _Wrapper(StoredSlide):
    """The pyramid of ``inner`` (an overlay raster), read through ``_read_region``."""

    def __init__(self, inner: Slide, owned: Sequence[Slide]) -> None:
        super().__init__(inner.path)
        self._owned = list(owned)
        self._meta = SlideMetadata(
            inner.level_dimensions, inner.level_downsamples, inner.properties,
            inner.vendor, inner.native_mpp, inner.objective_power,
        )  # fmt: skip

    def close(self) -> None:
        """Close the rasters this reader was given."""
        for slide in self._owned:
            slide.close()
        super().close()


class PeakPyramid(_Wrapper):
    """A saliency raster whose coarser levels are dilated as read (module docstring)."""

    backend_name = "saliency-peaks"

    def __init__(self, inner: Slide, radius_px: int = PEAK_RADIUS_PX) -> None:
        super().__init__(inner, [inner])
        self.inner = inner
        self.radius_px = int(radius_px)

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        if level == 0 or self.radius_px <= 0:
            return _grey(read_codes(self.inner, l0_xy, level, size))
        r = self.radius_px
        ds = float(self.level_downsamples[level])
        w, h = size
        wide = read_codes(
            self.inner, (round(l0_xy[0] - r * ds), round(l0_xy[1] - r * ds)), level,
            (w + 2 * r, h + 2 * r),
        )  # fmt: skip
        return _grey(dilate_max(wide, r)[r : r + h, r : r + w])


class ClassMapSlide(_Wrapper):
    """Argmax class and its probability, as class-map codes, of per-class rasters."""

    backend_name = "class-map"

    def __init__(self, prob_rasters: Sequence[Slide]) -> None:
        if not prob_rasters:
            raise ValueError("a class map needs at least one probability raster")
        dims = {tuple(s.level_dimensions) for s in prob_rasters}
        if len(dims) != 1:
            raise ValueError("the probability rasters differ in size; rerun the inference")
        super().__init__(prob_rasters[0], prob_rasters)
        self.rasters = list(prob_rasters)

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        stack = np.stack([read_codes(s, l0_xy, level, size) for s in self.rasters])
        return _grey(encode_class_map(stack))
