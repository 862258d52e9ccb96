"""Per-tile results stitched into slide-aligned uint8 rasters, then written as pyramids.

Scales (level-0 px per raster px, ``l0_per_px``): saliency keeps about 4 level-0 px per
raster px (a whole number of the tile's own input px, so a tile's pooled map lands on
the raster pixel for pixel); probabilities are constant over a tile, so 8 raster px per
tile side place them to an eighth of a tile and keep the rasters small. With overlapping
tiles each tile paints only its centre (half the overlap cropped on every side), so every
raster pixel comes from the tile that sees it with the most context.

Saliency is blended from overlapping tiles with a window and written as three rasters
(:mod:`pathscaat.inference.saliency_layers`); its absolute layer is scaled by one robust
global maximum (a high percentile of all tiles' values), so one hot pixel cannot wash out
the rest.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pathscaat.inference.overlays import OverlayInfo
from pathscaat.inference.pyramid_writer import write_pyramid
from pathscaat.inference.resume import PartialStore
from pathscaat.inference.saliency_layers import SaliencySettings, write_saliency_layers

SAL_L0_PER_PX = 4.0
PROB_PX_PER_TILE = 8
SAL_PERCENTILE = 99.5
SAMPLES_MAX = 4_000_000


@dataclass(frozen=True)
class Layout:
    """Raster scales of one grid (see module docstring)."""

    l0_tile_px: float
    sal_px: int
    crop_frac: float  # fraction of the tile side cropped on each side (half the overlap)

    @classmethod
    def for_grid(cls, grid: Any, sal_l0_per_px: float = SAL_L0_PER_PX) -> Layout:
        tile_px = int(grid.tile_px)
        l0_tile_px = float(grid.l0_tile_px)
        l0_per_tile_px = l0_tile_px / tile_px
        pool = max(1, round(sal_l0_per_px / l0_per_tile_px))
        overlap = float(getattr(grid, "overlap_px", 0) or 0)
        return cls(l0_tile_px, math.ceil(tile_px / pool), overlap / tile_px / 2)

    @property
    def sal_l0_per_px(self) -> float:
        return self.l0_tile_px / self.sal_px

    @property
    def prob_l0_per_px(self) -> float:
        return self.l0_tile_px / PROB_PX_PER_TILE


def raster_shape(slide_dims: tuple[int, int], l0_per_px: float) -> tuple[int, int]:
    """(rows, cols) of a raster covering the whole slide at ``l0_per_px``."""
    l0_w, l0_h = slide_dims
    return max(1, math.ceil(l0_h / l0_per_px)), max(1, math.ceil(l0_w / l0_per_px))


def paint(
    raster: NDArray[np.uint8],
    block: NDArray[np.uint8] | int,
    l0_xy: tuple[int, int],
    l0_per_px: float,
    side_px: int,
    crop_px: int,
) -> None:
    """Max a tile's ``side_px``-square block (or constant) into ``raster`` at its place."""
    rows, cols = raster.shape
    ras_y = round(l0_xy[1] / l0_per_px) + crop_px
    ras_x = round(l0_xy[0] / l0_per_px) + crop_px
    n = side_px - 2 * crop_px
    y0, x0 = max(ras_y, 0), max(ras_x, 0)
    y1, x1 = min(ras_y + n, rows), min(ras_x + n, cols)
    if y1 <= y0 or x1 <= x0:
        return
    dst = raster[y0:y1, x0:x1]
    if isinstance(block, np.ndarray):
        by, bx = y0 - ras_y + crop_px, x0 - ras_x + crop_px
        src = block[by : by + (y1 - y0), bx : bx + (x1 - x0)]
        np.maximum(dst, src, out=dst)
    else:
        np.maximum(dst, np.uint8(block), out=dst)


def robust_max(store: PartialStore, percentile: float = SAL_PERCENTILE) -> float:
    """A high percentile of all saliency values (subsampled), > 0; the global scale."""
    if store.sal is None or len(store.sal_max) == 0:
        return 1.0
    n, side = store.sal.shape[0], store.sal.shape[1]
    stride = max(1, math.ceil(math.sqrt(n * side * side / SAMPLES_MAX)))
    parts = []
    for start in range(0, n, 1024):
        chunk = np.asarray(store.sal[start : start + 1024, ::stride, ::stride], np.float32)
        parts.append(chunk * store.sal_max[start : start + 1024, None, None])
    values = np.concatenate([p.ravel() for p in parts])
    hi = float(np.percentile(values, percentile))
    if hi <= 0:
        hi = float(values.max())
    return hi if hi > 0 else 1.0


ProgressFn = Callable[[str], None]


@dataclass
class RasterJob:
    """Inputs of the stitching step."""

    store: PartialStore
    l0_xy: NDArray[np.int64]
    layout: Layout
    slide_dims: tuple[int, int]
    classes: list[str]
    slide_mpp: float | None
    saliency: SaliencySettings = field(default_factory=SaliencySettings)


def write_rasters(
    job: RasterJob,
    out_dir: Path,
    tissue: Any,
    announce: ProgressFn,
) -> list[OverlayInfo]:
    """Stitch and write every raster; returns the manifest entries in writing order."""
    infos: list[OverlayInfo] = []
    with tempfile.TemporaryDirectory(prefix=".stitch-", dir=out_dir) as scratch:
        if job.store.sal is not None:
            announce("saliency")
            infos += write_saliency_layers(
                job, out_dir, Path(scratch), tissue, robust_max(job.store), job.saliency
            )
        for c, name in enumerate(job.classes):
            announce(f"probability {name}")
            infos.append(_write_probability(job, c, name, out_dir, Path(scratch)))
    if tissue is not None:
        announce("tissue")
        infos.append(_write_tissue(tissue, out_dir, job.slide_mpp))
    return infos


def _blank(scratch: Path, name: str, shape: tuple[int, int]) -> NDArray[np.uint8]:
    return np.lib.format.open_memmap(scratch / f"{name}.npy", "w+", np.uint8, shape)


def _write_probability(
    job: RasterJob, c: int, name: str, out_dir: Path, scratch: Path
) -> OverlayInfo:
    l0_per_px = job.layout.prob_l0_per_px
    raster = _blank(scratch, f"prob{c}", raster_shape(job.slide_dims, l0_per_px))
    codes = np.clip(np.asarray(job.store.probs[:, c]) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    crop = int(job.layout.crop_frac * PROB_PX_PER_TILE)
    for (l0_x, l0_y), code in zip(job.l0_xy, codes, strict=True):
        paint(raster, int(code), (int(l0_x), int(l0_y)), l0_per_px, PROB_PX_PER_TILE, crop)
    file = class_files(job.classes)[c]
    write_pyramid(
        out_dir / file, raster, l0_per_px=l0_per_px, slide_mpp=job.slide_mpp,
        description={"kind": "probability", "class_name": name},
    )  # fmt: skip
    return OverlayInfo(f"prob_{name}", "probability", file, l0_per_px, name, 0.0, 1.0)


def _write_tissue(tissue: Any, out_dir: Path, slide_mpp: float | None) -> OverlayInfo:
    l0_per_px = float(tissue.l0_per_px)
    raster = np.asarray(tissue.mask, dtype=bool).astype(np.uint8) * np.uint8(255)
    write_pyramid(
        out_dir / "tissue.tif", raster, l0_per_px=l0_per_px, slide_mpp=slide_mpp,
        description={"kind": "tissue"},
    )  # fmt: skip
    return OverlayInfo("tissue", "tissue", "tissue.tif", l0_per_px, None, 0.0, 1.0)


def class_files(classes: list[str]) -> list[str]:
    """``prob_<class>.tif`` per class, the name made file-safe and unique."""
    files: list[str] = []
    for c, name in enumerate(classes):
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "class"
        file = f"prob_{stem}.tif"
        files.append(file if file not in files else f"prob_{stem}_{c}.tif")
    return files
