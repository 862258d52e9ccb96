"""Tissue detection on a low-resolution view of a slide.

Brightfield (H&E and similar): stained tissue is saturated while glass is white or grey,
so Otsu on saturation separates them whatever the background brightness. Near-black pixels
(scanner borders, dust) and pen marks (green/cyan hues, and strongly blue ink, which H&E
never produces) are excluded first so they neither count as tissue nor skew the threshold.

Dark-field (fluorescence, e.g. DAPI: bright nuclei on black): detected from a dark median.
Signal pixels are above Otsu on log brightness (dim nuclei count, not just the brightest);
tissue is where signal is dense (>= 10% of a neighbourhood about 1% of the slide wide), so
the space between packed nuclei is tissue while black glass and regions of a few scattered
nuclei are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pathscaat.slides.base import Slide

DEFAULT_MASK_MAX_PX = 2048
MIN_MASK_L0_PER_PX = 2.0
"""Default mask px never finer than this: finer adds cost, not tissue (small slides)."""
OTSU_SAMPLE_STEP = 7
"""Otsu's histogram from every 7th candidate pixel: same threshold, a fraction of the cost."""
MIN_SATURATION = 0.05
"""Floor of the saturation threshold: never call faintly tinted glass tissue."""
MAX_SATURATION_THRESHOLD = 0.2
"""Ceiling: on slides that are almost all tissue Otsu would split the tissue itself."""
DARKFIELD_SIGMA_FRAC = 0.01
"""Dark-field: neighbourhood (fraction of the longer mask side) for signal density."""
DARKFIELD_MIN_DENSITY = 0.1
"""Dark-field: fraction of signal pixels in that neighbourhood that makes it tissue."""
DARK_VALUE = 40
"""Max channel (0-255) below which a pixel is a scan border, dust or dark ink."""


@dataclass
class TissueMask:
    """Boolean tissue mask of a whole slide; one mask px spans ``l0_per_px`` level-0 px."""

    mask: NDArray[np.bool_]
    l0_per_px: float
    method: str = "brightfield"
    threshold: float = 0.0

    @property
    def fraction(self) -> float:
        """Fraction of the slide area that is tissue."""
        return float(self.mask.mean()) if self.mask.size else 0.0

    def to_l0(self, mask_xy: NDArray[np.floating] | NDArray[np.integer]) -> NDArray[np.float64]:
        """Mask (x, y) -> level-0 (x, y) of the same point."""
        return np.asarray(mask_xy, np.float64) * self.l0_per_px

    def from_l0(self, l0_xy: NDArray[np.floating] | NDArray[np.integer]) -> NDArray[np.float64]:
        """Level-0 (x, y) -> mask (x, y) (fractional)."""
        return np.asarray(l0_xy, np.float64) / self.l0_per_px

    def at_l0(self, l0_x: float, l0_y: float) -> bool:
        """Whether the level-0 point lies on tissue."""
        mx, my = int(l0_x / self.l0_per_px), int(l0_y / self.l0_per_px)
        h, w = self.mask.shape
        return bool(0 <= mx < w and 0 <= my < h and self.mask[my, mx])

    def save_png(self, path: str | Path) -> Path:
        """Write the mask as an 8-bit PNG (255 = tissue)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(self.mask.astype(np.uint8) * 255).save(out)
        return out


def detect_tissue(slide: Slide, *, mask_l0_per_px: float | None = None) -> TissueMask:
    """Tissue mask of ``slide`` from a thumbnail.

    By default the mask's longer side is 2048 px, or less on small slides so that one mask
    px covers at least ``MIN_MASK_L0_PER_PX`` level-0 px.
    """
    l0_w, l0_h = slide.dimensions
    if mask_l0_per_px is None:
        mask_l0_per_px = max(MIN_MASK_L0_PER_PX, max(l0_w, l0_h) / DEFAULT_MASK_MAX_PX)
    max_px = max(1, round(max(l0_w, l0_h) / mask_l0_per_px))
    thumb = slide.thumbnail(max_px)
    mask, method, thr = _mask_and_method(thumb)
    return TissueMask(mask, l0_w / thumb.shape[1], method, thr)


def tissue_mask_from_rgb(rgb: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Tissue mask of an RGB image (brightfield or dark-field chosen automatically)."""
    return _mask_and_method(rgb)[0]


def _mask_and_method(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.bool_], str, float]:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value = np.maximum(np.maximum(r, g), b)
    if value.size == 0:
        return np.zeros(rgb.shape[:2], bool), "brightfield", 0.0
    if float(np.median(value)) < 60:
        mask, thr = _darkfield(value)
        return mask, "darkfield", thr
    mask, thr = _brightfield(rgb, value)
    return mask, "brightfield", thr


def _brightfield(
    rgb: NDArray[np.uint8], value: NDArray[np.uint8]
) -> tuple[NDArray[np.bool_], float]:
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    vmin = np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])
    vmax = value.astype(np.float32)
    sat = (vmax - vmin) / np.maximum(vmax, np.float32(1.0))
    sat = ndimage.uniform_filter(sat, 3)
    # one px margin: the 3x3 mean spreads ink and border saturation onto their neighbours
    excluded = ndimage.binary_dilation((value < DARK_VALUE) | _pen(rgb, sat))
    candidates = sat[~excluded][::OTSU_SAMPLE_STEP]
    if candidates.size < 2 or float(candidates.max() - candidates.min()) < 1e-3:
        return np.zeros(value.shape, bool), MIN_SATURATION
    thr = float(np.clip(threshold_otsu(candidates), MIN_SATURATION, MAX_SATURATION_THRESHOLD))
    return _clean((sat > thr) & ~excluded), thr


def _pen(rgb: NDArray[np.uint8], sat: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Green/cyan or strongly blue ink: hues that haematoxylin and eosin do not produce."""
    r, g, b = (rgb[..., k].astype(np.int16) for k in range(3))
    greenish = (g > r + 15) & (g >= b - 10) & (sat > 0.15)
    cyan_blue = (b > g + 15) & (r < 0.45 * b) & (sat > 0.35)
    return greenish | cyan_blue


def _darkfield(value: NDArray[np.uint8]) -> tuple[NDArray[np.bool_], float]:
    """Signal = Otsu on log brightness; tissue = where signal is locally dense.

    The density is a Gaussian of the signal computed on a 4x block-averaged copy (the
    neighbourhood is tens of px wide, so nothing is lost) and expanded back.
    """
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    log_v = np.log1p(value[::2, ::2].astype(np.float32))
    if float(log_v.max() - log_v.min()) < 1e-3:
        return np.zeros(value.shape, bool), 0.0
    thr = float(np.expm1(threshold_otsu(log_v)))
    signal = (value > thr).astype(np.float32)
    k = 4
    h, w = signal.shape
    padded = np.pad(signal, ((0, -h % k), (0, -w % k)))
    small = padded.reshape(padded.shape[0] // k, k, padded.shape[1] // k, k).mean(axis=(1, 3))
    sigma_px = max(2.0, DARKFIELD_SIGMA_FRAC * max(value.shape))
    density = ndimage.gaussian_filter(small, sigma_px / k)
    big = np.repeat(np.repeat(density, k, axis=0), k, axis=1)[:h, :w]
    return _clean(big > DARKFIELD_MIN_DENSITY), thr


def _clean(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Drop specks, fill small holes (sizes relative to the mask).

    No closing/opening: the 3x3 mean on saturation already bridges one-pixel gaps, and the
    size filters do the rest at a fraction of the cost.
    """
    from skimage.morphology import remove_small_holes, remove_small_objects

    area = mask.size
    min_px = max(4, int(area * 2e-4))
    out = remove_small_objects(mask, max_size=min_px)
    out = remove_small_holes(out, max_size=max(4, int(area * 5e-4)))
    return np.asarray(out, bool)
