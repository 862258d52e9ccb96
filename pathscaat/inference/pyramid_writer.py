"""Write a single-channel uint8 raster as a pyramidal tiled TIFF, tile by tile.

Layout: level 0 in the first IFD, then each reduced level (half the size of the one
before, down to a longer side under ``min_level_px``) as a further top-level IFD marked
``NewSubfileType = reduced image``. That is the layout both OpenSlide's generic-tiff
reader and tifffile's series detection turn into one pyramid (OpenSlide ignores SubIFDs).
The first page's ImageDescription is JSON (``l0_per_px`` and anything the caller adds);
resolution tags hold the raster's µm/px where the slide's is known.

The raster may be a ``numpy.memmap`` larger than memory: every level is built in strips
into a scratch memmap and written from a tile generator, so memory use stays at a few
strips whatever the raster size.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from numpy.typing import NDArray

TILE_PX = 256
MIN_LEVEL_PX = 512
STRIP_ROWS = 1024  # rows of the source level reduced per step (bounded memory)


def write_pyramid(
    path: str | Path,
    raster: NDArray[np.uint8],
    *,
    l0_per_px: float,
    slide_mpp: float | None = None,
    description: dict[str, Any] | None = None,
    reduce: str = "mean",
    tile_px: int = TILE_PX,
    min_level_px: int = MIN_LEVEL_PX,
    compression: str = "zlib",
) -> Path:
    """Write ``raster`` (H x W uint8) to ``path`` atomically and return the path.

    ``l0_per_px`` is slide level-0 pixels per raster pixel; ``slide_mpp`` the slide's
    level-0 µm/px (None: no resolution tags, as a slide without mpp has none to give).
    ``reduce`` (``mean`` or ``max``) builds each level from the one before; ``max`` keeps
    sparse peaks visible when zoomed out.
    """
    if raster.ndim != 2 or raster.dtype != np.uint8:
        raise ValueError(f"need an H x W uint8 raster, got {raster.shape} {raster.dtype}")
    if reduce not in ("mean", "max"):
        raise ValueError(f"reduce must be 'mean' or 'max', got {reduce!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    desc = {"pathscaat": "overlay", "l0_per_px": float(l0_per_px), **(description or {})}
    with (
        tempfile.TemporaryDirectory(prefix=".pyramid-", dir=target.parent) as scratch,
        tifffile.TiffWriter(tmp, bigtiff=_needs_bigtiff(raster.shape)) as writer,
    ):
        level: NDArray[np.uint8] = raster
        downsample = 1
        while True:
            _write_level(
                writer, level, downsample, desc, l0_per_px, slide_mpp, tile_px, compression
            )
            if max(level.shape) < min_level_px:
                break
            level = _halve(level, Path(scratch) / f"level{downsample * 2}.npy", reduce)
            downsample *= 2
        del level
    tmp.replace(target)
    return target


def _needs_bigtiff(shape: tuple[int, ...]) -> bool:
    # Deflate rarely expands much; leave headroom under the 4 GiB classic-TIFF limit.
    return int(np.prod(shape)) * 4 // 3 > 2**32 - 2**28


def _write_level(
    writer: tifffile.TiffWriter,
    level: NDArray[np.uint8],
    downsample: int,
    desc: dict[str, Any],
    l0_per_px: float,
    slide_mpp: float | None,
    tile_px: int,
    compression: str,
) -> None:
    """Append one level; the first carries the JSON description."""
    kwargs: dict[str, Any] = {}
    if downsample == 1:
        kwargs["description"] = json.dumps(desc)
    else:
        kwargs["subfiletype"] = 1  # reduced-resolution image
    if slide_mpp:
        um_per_px = slide_mpp * l0_per_px * downsample
        kwargs["resolution"] = (1e4 / um_per_px, 1e4 / um_per_px)
        kwargs["resolutionunit"] = "CENTIMETER"
    writer.write(
        _tiles(level, tile_px),
        shape=level.shape,
        dtype=np.uint8,
        tile=(tile_px, tile_px),
        compression=compression,
        photometric="minisblack",
        metadata=None,
        **kwargs,
    )


def _tiles(level: NDArray[np.uint8], tile_px: int) -> Iterator[NDArray[np.uint8]]:
    """Tiles in TIFF order (row-major), edge tiles zero-padded to full size."""
    lvl_h, lvl_w = level.shape
    for lvl_y in range(0, lvl_h, tile_px):
        strip = np.asarray(level[lvl_y : lvl_y + tile_px])
        for lvl_x in range(0, lvl_w, tile_px):
            block = strip[:, lvl_x : lvl_x + tile_px]
            if block.shape == (tile_px, tile_px):
                yield np.ascontiguousarray(block)
            else:
                tile = np.zeros((tile_px, tile_px), np.uint8)
                tile[: block.shape[0], : block.shape[1]] = block
                yield tile


def _halve(level: NDArray[np.uint8], scratch: Path, reduce: str) -> NDArray[np.uint8]:
    """The next level (ceil of half each side) as a scratch memmap, built in strips."""
    lvl_h, lvl_w = level.shape
    out_h, out_w = (lvl_h + 1) // 2, (lvl_w + 1) // 2
    out = np.lib.format.open_memmap(scratch, mode="w+", dtype=np.uint8, shape=(out_h, out_w))
    for src_y in range(0, lvl_h, STRIP_ROWS):
        strip = np.asarray(level[src_y : src_y + STRIP_ROWS])
        out[src_y // 2 : src_y // 2 + (strip.shape[0] + 1) // 2] = _halve_block(strip, reduce)
    out.flush()
    return out


def _halve_block(block: NDArray[np.uint8], reduce: str) -> NDArray[np.uint8]:
    """2x2 reduction; an odd last row or column is repeated so edges keep their values."""
    h, w = block.shape
    if h % 2 or w % 2:
        block = np.pad(block, ((0, h % 2), (0, w % 2)), mode="edge")
    quads = block.reshape(block.shape[0] // 2, 2, block.shape[1] // 2, 2)
    if reduce == "max":
        return np.asarray(quads.max(axis=(1, 3)), dtype=np.uint8)
    summed = quads.sum(axis=(1, 3), dtype=np.uint16)
    return ((summed + 2) // 4).astype(np.uint8)
