"""Virtual pyramid levels for slides whose coarsest level is still large.

A plain image or a single-level TIFF has only level 0. Zoomed out, the viewer would
draw hundreds of full-resolution tiles, each shrunk at paint time (slow, and aliased:
moiré in fine tissue). :func:`with_virtual_levels` wraps such a slide in a real ``Slide``
whose extra levels (2x, 4x, 8x below the coarsest real one) are read from that level and
box-filtered in the loader's worker, so the UI thread paints a few small, clean tiles.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from pathscaat.slides.base import Mpp, RGBArray, Slide, SlideMetadata, StoredSlide

MAX_COARSEST_PX = 2048
"""No virtual levels when the coarsest real level is at most this long."""

MAX_FACTOR = 8
"""Deepest virtual level relative to the coarsest real one (bounds one read to 8x8 tiles)."""


def with_virtual_levels(slide: Slide) -> Slide:
    """``slide`` itself when its pyramid is deep enough, else a :class:`VirtualPyramid`."""
    if max(slide.level_dimensions[-1]) <= MAX_COARSEST_PX:
        return slide
    return VirtualPyramid(slide)


class VirtualPyramid(StoredSlide):
    """``inner``'s levels plus box-filtered levels below its coarsest one."""

    backend_name = "virtual-levels"

    def __init__(self, inner: Slide) -> None:
        super().__init__(inner.path)
        self.inner = inner
        self._n_real = inner.level_count
        lvl_w, lvl_h = inner.level_dimensions[-1]
        ds = float(inner.level_downsamples[-1])
        dims, downs = list(inner.level_dimensions), list(inner.level_downsamples)
        factor = 2
        while factor <= MAX_FACTOR and max(lvl_w, lvl_h) / (factor // 2) > MAX_COARSEST_PX / 2:
            dims.append((math.ceil(lvl_w / factor), math.ceil(lvl_h / factor)))
            downs.append(ds * factor)
            factor *= 2
        self._meta = SlideMetadata(
            tuple(dims), tuple(float(d) for d in downs), inner.properties, inner.vendor,
            inner.native_mpp, inner.objective_power)

    @property
    def mpp(self) -> Mpp | None:
        """``inner``'s, so an override set on the opened slide shows through."""
        return self.inner.mpp

    @property
    def closed(self) -> bool:
        return self.inner.closed

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        if level < self._n_real:
            return self.inner.read_region(l0_xy, level, size)
        real = self._n_real - 1
        factor = self.level_downsamples[level] / self.level_downsamples[real]
        w, h = size
        big = self.inner.read_region(l0_xy, real, (math.ceil(w * factor), math.ceil(h * factor)))
        small = Image.fromarray(big).resize((w, h), Image.Resampling.BOX)
        return np.asarray(small, dtype=np.uint8)

    def close(self) -> None:
        """The wrapper owns nothing: whoever opened ``inner`` closes it."""
