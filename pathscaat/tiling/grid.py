"""A grid of square tiles over a slide's tissue at a target µm/px (or downsample).

The grid is the contract between tiling, extraction, training and inference: positions in
level-0 px, the footprint side in level-0 px, and how each tile is read (pyramid level and
side at that level) before being resized to ``tile_px``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pathscaat.slides.base import RGBArray, Slide
from pathscaat.slides.errors import MissingMppError
from pathscaat.tiling.tissue import TissueMask, detect_tissue

GRID_FORMAT = "pathscaat-tile-grid/1"


@dataclass
class TileGrid:
    """Tiles of one slide; arrays are per tile, the rest describes how tiles are read."""

    l0_xy: NDArray[np.int64]  # (N, 2) top-left corner, level-0 px
    l0_tile_px: float  # footprint side, level-0 px
    read_level: int
    lvl_read_px: int  # side read at ``read_level`` before resizing to ``tile_px``
    tile_px: int
    target_mpp: float | None
    overlap_px: int
    tissue_fraction: NDArray[np.float32]  # (N,)
    slide_path: str
    slide_dims: tuple[int, int]
    downsample: float = 1.0  # level-0 px per output px
    min_tissue: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.l0_xy.shape[0])

    @property
    def l0_stride_px(self) -> float:
        return (self.tile_px - self.overlap_px) * self.downsample

    def params(self) -> dict[str, Any]:
        """Everything but the per-tile arrays, JSON-ready."""
        d = asdict(self)
        del d["l0_xy"], d["tissue_fraction"]
        d["slide_dims"] = list(self.slide_dims)
        return {"format": GRID_FORMAT, **d}

    def save(self, path: str | Path) -> Path:
        """Write arrays and JSON parameters to one ``.npz`` (no pickle)."""
        out = Path(path)
        if out.suffix != ".npz":
            out = out.with_name(out.name + ".npz")
        out.parent.mkdir(parents=True, exist_ok=True)
        params = np.frombuffer(json.dumps(self.params()).encode(), np.uint8)
        np.savez_compressed(
            out, l0_xy=self.l0_xy, tissue_fraction=self.tissue_fraction, params=params
        )
        return out

    @classmethod
    def load(cls, path: str | Path) -> TileGrid:
        with np.load(Path(path), allow_pickle=False) as z:
            params = json.loads(z["params"].tobytes().decode())
            l0_xy = z["l0_xy"].astype(np.int64)
            frac = z["tissue_fraction"].astype(np.float32)
        if params.pop("format", None) != GRID_FORMAT:
            raise ValueError(f"{path}: not a {GRID_FORMAT} file")
        params["slide_dims"] = tuple(params["slide_dims"])
        return cls(l0_xy=l0_xy, tissue_fraction=frac, **params)


def resolve_downsample(slide: Slide, target_mpp: float | None, downsample: float | None) -> float:
    """Level-0 px per output px, from a target µm/px (needs the slide's mpp) or given."""
    if target_mpp is not None and downsample is not None:
        raise ValueError("give either target_mpp or downsample, not both")
    if target_mpp is None:
        ds = 1.0 if downsample is None else float(downsample)
        if ds <= 0:
            raise ValueError(f"downsample must be positive, got {ds}")
        return ds
    if target_mpp <= 0:
        raise ValueError(f"target_mpp must be positive, got {target_mpp}")
    mpp = slide.mpp
    if mpp is None:
        raise MissingMppError(
            slide.path,
            f"tiling at {target_mpp} µm/px needs the slide's µm/px, and this slide has none",
            "Set the slide's µm/px with --slide-mpp X (Slide.set_mpp in Python), "
            "or tile by a pixel downsample with --downsample D instead of --mpp",
        )
    return float(target_mpp) / float(mpp.x)


def make_grid(
    slide: Slide,
    *,
    tile_px: int = 224,
    target_mpp: float | None = None,
    downsample: float | None = None,
    overlap_px: int = 0,
    min_tissue: float = 0.5,
    tissue: TissueMask | None = None,
) -> TileGrid:
    """Tiles of ``tile_px`` output px whose tissue fraction is at least ``min_tissue``."""
    if tile_px <= 0 or not 0 <= overlap_px < tile_px:
        raise ValueError(
            f"need tile_px > 0 and 0 <= overlap_px < tile_px ({tile_px}, {overlap_px})"
        )
    ds = resolve_downsample(slide, target_mpp, downsample)
    level = slide.best_level_for(ds)
    l0_tile = tile_px * ds
    l0_stride = (tile_px - overlap_px) * ds
    l0_w, l0_h = slide.dimensions
    xs = _starts(l0_w, l0_tile, l0_stride)
    ys = _starts(l0_h, l0_tile, l0_stride)
    gx, gy = np.meshgrid(xs, ys)
    l0_xy = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.int64)
    tissue = tissue if tissue is not None else detect_tissue(slide)
    frac = tissue_fractions(tissue, l0_xy, l0_tile)
    keep = frac >= min_tissue
    return TileGrid(
        l0_xy=l0_xy[keep],
        l0_tile_px=float(l0_tile),
        read_level=level,
        lvl_read_px=max(1, round(l0_tile / slide.level_downsamples[level])),
        tile_px=int(tile_px),
        target_mpp=None if target_mpp is None else float(target_mpp),
        overlap_px=int(overlap_px),
        tissue_fraction=frac[keep].astype(np.float32),
        slide_path=str(slide.path),
        slide_dims=(int(l0_w), int(l0_h)),
        downsample=float(ds),
        min_tissue=float(min_tissue),
    )


def _starts(l0_len: int, l0_tile: float, l0_stride: float) -> NDArray[np.int64]:
    """Level-0 starts of the whole tiles that fit along one axis."""
    if l0_len < l0_tile:
        return np.zeros(0, np.int64)
    n = math.floor((l0_len - l0_tile) / l0_stride + 1e-9) + 1
    return np.round(np.arange(n) * l0_stride).astype(np.int64)


def tissue_fractions(
    tissue: TissueMask, l0_xy: NDArray[np.int64], l0_tile_px: float
) -> NDArray[np.float32]:
    """Fraction of tissue under each square footprint: one integral image, no tile loop."""
    m = tissue.mask
    integral = np.zeros((m.shape[0] + 1, m.shape[1] + 1), np.int64)
    integral[1:, 1:] = np.cumsum(np.cumsum(m, axis=0, dtype=np.int64), axis=1)
    s = tissue.l0_per_px
    x0 = np.clip(np.round(l0_xy[:, 0] / s).astype(np.int64), 0, m.shape[1])
    y0 = np.clip(np.round(l0_xy[:, 1] / s).astype(np.int64), 0, m.shape[0])
    x1 = np.clip(np.round((l0_xy[:, 0] + l0_tile_px) / s).astype(np.int64), 0, m.shape[1])
    y1 = np.clip(np.round((l0_xy[:, 1] + l0_tile_px) / s).astype(np.int64), 0, m.shape[0])
    x1, y1 = (
        np.maximum(x1, np.minimum(x0 + 1, m.shape[1])),
        np.maximum(y1, np.minimum(y0 + 1, m.shape[0])),
    )
    total = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    area = np.maximum((x1 - x0) * (y1 - y0), 1)
    return (total / area).astype(np.float32)


def read_tile(slide: Slide, grid: TileGrid, i: int) -> RGBArray:
    """Tile ``i`` of ``grid`` as ``tile_px`` x ``tile_px`` x 3 uint8 RGB."""
    l0_x, l0_y = (int(v) for v in grid.l0_xy[i])
    side = grid.lvl_read_px
    region = slide.read_region((l0_x, l0_y), grid.read_level, (side, side))
    return resize_tile(region, grid.tile_px)


def resize_tile(region: RGBArray, tile_px: int) -> RGBArray:
    """Area-average when shrinking (no aliasing), bicubic when enlarging."""
    if region.shape[0] == tile_px and region.shape[1] == tile_px:
        return region
    shrink = region.shape[0] > tile_px
    resample = Image.Resampling.BOX if shrink else Image.Resampling.BICUBIC
    return np.asarray(Image.fromarray(region).resize((tile_px, tile_px), resample))
