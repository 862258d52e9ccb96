"""The one small slide API every backend implements (after openslide-python's AbstractSlide)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

RGBArray = NDArray[np.uint8]
"""An H x W x 3 uint8 RGB image."""


@dataclass(frozen=True)
class Mpp:
    """Pixel size at level 0 in µm/px and where the value came from.

    ``source`` is one of ``"openslide"``, ``"vendor:<key>"``, ``"tiff-resolution"``,
    ``"objective-power"`` (an assumption: 10 µm / objective power, stated in ``note``),
    ``"user"`` (an explicit override).
    """

    x: float
    y: float
    source: str
    note: str = ""


class Slide(ABC):
    """A whole-slide image: a pyramid of levels plus metadata.

    Reads are thread-safe: each backend serialises access to its handle with a lock or
    holds a handle per thread. Parallel *processes* each open their own ``Slide``.
    """

    backend_name: str = "abstract"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._mpp_override: Mpp | None = None
        self._closed = False
        self._lock = threading.RLock()

    # -- pyramid -------------------------------------------------------------
    @property
    @abstractmethod
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        """(width, height) in pixels of every level, level 0 first."""

    @property
    @abstractmethod
    def level_downsamples(self) -> tuple[float, ...]:
        """Downsample of every level relative to level 0 (level 0 is 1.0)."""

    @property
    def level_count(self) -> int:
        return len(self.level_dimensions)

    @property
    def dimensions(self) -> tuple[int, int]:
        """(width, height) of level 0."""
        return self.level_dimensions[0]

    # -- metadata ------------------------------------------------------------
    @property
    @abstractmethod
    def properties(self) -> Mapping[str, str]:
        """Every metadata key/value the backend exposes (openslide property names)."""

    @property
    @abstractmethod
    def vendor(self) -> str | None:
        """Scanner vendor or format name (``aperio``, ``hamamatsu``, ``generic-tiff``...)."""

    @property
    @abstractmethod
    def native_mpp(self) -> Mpp | None:
        """mpp from the file itself through the fallback chain, or None."""

    @property
    @abstractmethod
    def objective_power(self) -> float | None:
        """Scanning objective magnification (20, 40...) or None."""

    @property
    def associated_images(self) -> Mapping[str, RGBArray]:
        """Label, macro, thumbnail... as RGB arrays (empty when the format has none)."""
        return {}

    # -- mpp with override ---------------------------------------------------
    @property
    def mpp(self) -> Mpp | None:
        """Effective level-0 µm/px: the user override if set, else the file's own."""
        return self._mpp_override or self.native_mpp

    def set_mpp(self, x_um: float, y_um: float | None = None) -> None:
        """Override µm/px at level 0 (the user knows better than the file)."""
        if x_um <= 0 or (y_um is not None and y_um <= 0):
            raise ValueError(f"mpp must be positive, got {x_um}, {y_um}")
        self._mpp_override = Mpp(float(x_um), float(y_um or x_um), "user")

    # -- reading -------------------------------------------------------------
    @abstractmethod
    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        """Backend read; arguments already validated."""

    def read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        """Read ``size`` = (w, h) pixels of ``level`` whose top-left is ``l0_xy`` in level 0.

        Returns H x W x 3 uint8 RGB; transparent or out-of-slide areas are white.
        """
        from pathscaat.slides.errors import SlideClosedError, SlideError, unexpected

        if self._closed:
            raise SlideClosedError(self.path, "the slide is closed", "Open it again.")
        if not 0 <= level < self.level_count:
            raise ValueError(f"level {level} out of range 0..{self.level_count - 1}")
        w, h = int(size[0]), int(size[1])
        if w <= 0 or h <= 0:
            raise ValueError(f"size must be positive, got {size}")
        try:
            return self._read_region((int(l0_xy[0]), int(l0_xy[1])), level, (w, h))
        except (SlideError, MemoryError):
            raise
        except Exception as exc:  # a backend quirk on damaged data: never a bare traceback
            raise unexpected(self.path, exc, f"reading a region of level {level}") from exc

    def best_level_for(self, downsample: float) -> int:
        """Highest-resolution-cost-saving level whose downsample is <= ``downsample``."""
        best = 0
        for i, ds in enumerate(self.level_downsamples):
            if ds <= downsample * (1 + 1e-6):
                best = i
        return best

    def thumbnail(self, max_px: int = 1024) -> RGBArray:
        """Whole slide scaled so its longer side is at most ``max_px``."""
        from pathscaat.slides.thumbnail import make_thumbnail

        return make_thumbnail(self, max_px)

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Slide:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"


@dataclass(frozen=True)
class SlideMetadata:
    """What a :class:`StoredSlide` reads once at open and then only returns."""

    level_dimensions: tuple[tuple[int, int], ...]
    level_downsamples: tuple[float, ...]
    properties: Mapping[str, str]
    vendor: str | None
    native_mpp: Mpp | None
    objective_power: float | None

    @classmethod
    def from_properties(
        cls,
        level_dimensions: tuple[tuple[int, int], ...],
        level_downsamples: tuple[float, ...],
        properties: Mapping[str, str],
    ) -> SlideMetadata:
        """Vendor, mpp and objective from openslide-named ``properties`` (the shared chain)."""
        from pathscaat.slides.mpp import objective_power, resolve_mpp

        return cls(level_dimensions, level_downsamples, properties,
                   properties.get("openslide.vendor"), resolve_mpp(properties),
                   objective_power(properties))  # fmt: skip


class StoredSlide(Slide):
    """A ``Slide`` whose pyramid and metadata are fixed at open.

    Subclasses set ``self._meta`` in ``__init__`` and implement ``_read_region`` (and
    ``close`` when they own a handle); the metadata properties return the stored values.
    """

    _meta: SlideMetadata

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        return self._meta.level_dimensions

    @property
    def level_downsamples(self) -> tuple[float, ...]:
        return self._meta.level_downsamples

    @property
    def properties(self) -> Mapping[str, str]:
        return self._meta.properties

    @property
    def vendor(self) -> str | None:
        return self._meta.vendor

    @property
    def native_mpp(self) -> Mpp | None:
        return self._meta.native_mpp

    @property
    def objective_power(self) -> float | None:
        return self._meta.objective_power
