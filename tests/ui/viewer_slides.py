"""Tiny real ``Slide`` subclasses for viewer tests: an in-memory pyramid, slow or broken.

They implement the reader contract for real (numpy slicing, white outside the slide);
they are not mocks of a slide reader.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from pathscaat.slides.base import Mpp, RGBArray, Slide
from pathscaat.slides.errors import CorruptSlideError, SlideClosedError


def gradient_rgb(w: int, h: int) -> RGBArray:
    """A smooth, non-symmetric test image (distinct everywhere, easy to correlate)."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = (xx * 255 // max(1, w - 1)).astype(np.uint8)
    g = (yy * 255 // max(1, h - 1)).astype(np.uint8)
    b = (((xx // 64 + yy // 64) % 2) * 200).astype(np.uint8)
    return np.dstack([r, g, b])


class ArraySlide(Slide):
    """A pyramid of numpy levels (each level half the one before)."""

    backend_name = "array"

    def __init__(
        self,
        l0: RGBArray,
        levels: int = 3,
        mpp_um: float | None = None,
        delay_s: float = 0.0,
        name: str = "array-slide",
    ) -> None:
        super().__init__(Path(name))
        self.levels = [l0]
        for _ in range(levels - 1):
            self.levels.append(np.ascontiguousarray(self.levels[-1][::2, ::2]))
        self._mpp = Mpp(mpp_um, mpp_um, "user") if mpp_um else None
        self.delay_s = delay_s
        self.reads = 0
        self._count_lock = threading.Lock()

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        return tuple((a.shape[1], a.shape[0]) for a in self.levels)

    @property
    def level_downsamples(self) -> tuple[float, ...]:
        return tuple(float(2**i) for i in range(len(self.levels)))

    @property
    def properties(self) -> Mapping[str, str]:
        return {}

    @property
    def vendor(self) -> str | None:
        return "array"

    @property
    def native_mpp(self) -> Mpp | None:
        return self._mpp

    @property
    def objective_power(self) -> float | None:
        return None

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        with self._count_lock:
            self.reads += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        ds = int(self.level_downsamples[level])
        src = self.levels[level]
        x, y, (w, h) = l0_xy[0] // ds, l0_xy[1] // ds, size
        out = np.full((h, w, 3), 255, np.uint8)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(src.shape[1], x + w), min(src.shape[0], y + h)
        if x1 > x0 and y1 > y0:
            out[y0 - y : y1 - y, x0 - x : x1 - x] = src[y0:y1, x0:x1]
        return out


class BrokenSlide(ArraySlide):
    """Every read fails the way a damaged file does."""

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        raise CorruptSlideError(self.path, f"tile at {l0_xy} cannot be decoded", "Rescan it.")


class GatedSlide(ArraySlide):
    """Each read waits for ``gate``; a read that wakes to a closed slide fails the way
    OpenSlide's guarded handle does ("the slide is closed")."""

    def __init__(self, l0: RGBArray, levels: int = 1) -> None:
        super().__init__(l0, levels=levels)
        self.gate = threading.Event()
        self.reading = threading.Event()

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        self.reading.set()
        self.gate.wait(10)
        if self._closed:
            raise SlideClosedError(self.path, "the slide is closed", "Open it again.")
        return super()._read_region(l0_xy, level, size)
