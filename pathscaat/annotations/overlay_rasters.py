"""The rasters of one overlay set as uint8 code arrays, read once and kept.

Regions and their measurements need whole level-0 rasters (a threshold, then sums inside
each region), so they are read with tifffile straight from the first page of each
pyramidal TIFF that ``pathscaat infer`` wrote, not window by window through a slide
backend. A live preview that re-thresholds the same layer reads it only once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from numpy.typing import NDArray

from pathscaat.inference.overlays import OverlayInfo, OverlaySet
from pathscaat.progress import PathscaatError

Codes = NDArray[np.uint8]


class OverlayRasters:
    """The overlay set in ``overlays`` (a set, its folder or its ``overlays.json``)."""

    def __init__(self, overlays: OverlaySet | str | Path) -> None:
        self.overlays = overlays if isinstance(overlays, OverlaySet) else OverlaySet.load(overlays)
        self._codes: dict[str, Codes] = {}
        self._sums: dict[str, float] = {}

    def info(self, name: str) -> OverlayInfo:
        """The layer called ``name``; a bare class name means its ``prob_<class>`` layer."""
        names = {o.name for o in self.overlays.overlays}
        if name not in names and f"prob_{name}" in names:
            name = f"prob_{name}"
        try:
            return self.overlays.get(name)
        except KeyError:
            known = ", ".join(o.name for o in self.overlays.overlays) or "none"
            raise PathscaatError(
                f"{self.overlays.root}: no overlay layer {name!r}; this inference has: {known}"
            ) from None

    def codes(self, name: str) -> Codes:
        """Level 0 of raster ``name`` (H x W uint8 codes)."""
        if name not in self._codes:
            self._codes[name] = _read_level0(self.overlays.path_of(self.info(name)))
        return self._codes[name]

    def code_sum(self, name: str) -> float:
        """Sum of all codes of ``name`` (the slide's total mass of that raster)."""
        if name not in self._sums:
            self._sums[name] = float(self.codes(name).sum(dtype=np.uint64))
        return self._sums[name]

    def layer(self, name: str) -> OverlayLayer:
        return OverlayLayer(self, self.info(name))

    def of_kind(self, kind: str) -> list[OverlayInfo]:
        return [o for o in self.overlays.overlays if o.kind == kind]


@dataclass(frozen=True)
class OverlayLayer:
    """One raster of an overlay set, with the set it belongs to (for measurements)."""

    rasters: OverlayRasters
    info: OverlayInfo

    @property
    def codes(self) -> Codes:
        return self.rasters.codes(self.info.name)

    @property
    def l0_per_px(self) -> float:
        return float(self.info.l0_per_px)

    def code_of(self, threshold: float) -> int:
        """The lowest code at or above ``threshold`` (a fraction of the layer's range)."""
        if not 0.0 <= threshold <= 1.0:
            raise PathscaatError(
                f"threshold {threshold} is outside 0..1; give a probability, or a saliency "
                "as a fraction of the overlay's scale"
            )
        return max(1, int(np.ceil(threshold * 255.0 - 1e-6)))


def load_layer(overlays: OverlaySet | str | Path, name: str) -> OverlayLayer:
    """Shortcut: the layer ``name`` of the overlay set in ``overlays``."""
    return OverlayRasters(overlays).layer(name)


def _read_level0(path: Path) -> Codes:
    try:
        with tifffile.TiffFile(path) as tif:
            arr = tif.pages[0].asarray()
    except FileNotFoundError:
        raise PathscaatError(
            f"{path}: the overlay raster is missing; run 'pathscaat infer' again"
        ) from None
    except (OSError, ValueError, IndexError, KeyError, RuntimeError, tifffile.TiffFileError) as exc:
        # RuntimeError: imagecodecs' DeflateError and kin, for a truncated or damaged strip
        raise PathscaatError(
            f"{path}: cannot read this overlay raster ({type(exc).__name__}: {exc}); "
            "it is truncated or damaged: run 'pathscaat infer' again"
        ) from exc
    if arr.ndim == 3:
        arr = arr[..., 0]
    if arr.ndim != 2 or arr.dtype != np.uint8:
        raise PathscaatError(
            f"{path}: not an overlay raster (shape {arr.shape}, {arr.dtype}); choose a raster "
            "written by 'pathscaat infer'"
        )
    return np.ascontiguousarray(arr)
