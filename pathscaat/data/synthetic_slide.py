"""Pyramidal tiled TIFF of synthetic H&E ("PathSCAAT synthetic"), rendered tile by tile.

Level 0 is rendered one tile at a time and streamed to tifffile; each tile is also averaged
2x2 into a disk-backed memmap for level 1, and every further level is averaged from the
previous one. Memory stays bounded by a few tiles plus the small layout maps whatever the
slide size. Levels are consecutive TIFF pages (reduced-resolution ``subfiletype=1``), which
both OpenSlide (generic-tiff) and tifffile read as a pyramid; resolution tags (pixels/cm)
carry the mpp.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pathscaat.data.synthetic_layout import slide_layout
from pathscaat.data.synthetic_render import Assets, Layout, Stain, make_assets, render_region
from pathscaat.progress import OnProgress, ProgressRecord, no_progress

SOFTWARE = "PathSCAAT synthetic"
PRESETS: dict[str, tuple[int, int]] = {"small": (4096, 3072), "large": (20000, 15000)}
RENDER_THREADS = max(1, min(4, os.cpu_count() or 1))
MIN_LEVEL_PX = 256
"""Stop adding pyramid levels once the longer side is below this."""


@dataclass(frozen=True)
class _Scene:
    assets: Assets
    layout: Layout
    stain: Stain
    key: int

    def render(self, l0_x: int, l0_y: int, tile: int) -> NDArray[np.uint8]:
        return render_region(self.assets, self.layout, self.stain, self.key, l0_x, l0_y, tile, tile)


def write_synthetic_slide(
    path: str | Path,
    *,
    width: int = 20000,
    height: int = 15000,
    seed: int = 0,
    tile: int = 512,
    mpp: float | None = 0.5,
    jpeg_quality: int = 85,
    preset: str | None = None,
    on_progress: OnProgress = no_progress,
) -> tuple[Path, Path]:
    """Write the slide and ``<stem>.regions.json``; returns both paths.

    ``preset`` (``"small"``: 4096 x 3072, ``"large"``: 20000 x 15000) overrides the size.
    ``mpp`` None writes no resolution tags: a slide that does not know its µm/px.
    """
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}")
        width, height = PRESETS[preset]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 1])
    layout, regions = slide_layout(rng, width, height)
    stain = Stain.random(rng, max_blur_px=0.0)
    assets = make_assets(int(rng.integers(1 << 16)), 1024)
    scene = _Scene(assets, layout, stain, int(rng.integers(1 << 30)))
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".synthetic-") as tmp:
        _write_pyramid(out, Path(tmp), scene, (width, height), tile, mpp, jpeg_quality, on_progress)
    regions_path = out.with_name(out.stem + ".regions.json")
    meta = {
        "software": SOFTWARE, "slide": out.name, "width": width, "height": height,
        "mpp": mpp, "seed": seed, "classes": ["benign", "atypical", "inflamed"],
        "note": "tissue outside the listed regions is benign; polygons in level-0 px",
        "regions": regions,
    }  # fmt: skip
    regions_path.write_text(json.dumps(meta, indent=1))
    return out, regions_path


def _pyramid_dims(width: int, height: int) -> list[tuple[int, int]]:
    """Level sizes halving down to MIN_LEVEL_PX (at least 4 levels)."""
    dims = [(width, height)]
    while max(dims[-1]) // 2 >= MIN_LEVEL_PX or len(dims) < 4:
        w, h = dims[-1]
        dims.append((max(1, w // 2), max(1, h // 2)))
    return dims


def _write_pyramid(
    out: Path, tmp: Path, scene: _Scene, dims: tuple[int, int], tile: int, mpp: float | None,
    quality: int, on_progress: OnProgress,
) -> None:  # fmt: skip
    import tifffile

    level_dims = _pyramid_dims(*dims)
    res = 1e4 / mpp if mpp else None  # pixels per cm
    desc = f"{SOFTWARE} H&E-like slide (not real tissue); mpp={mpp or 'not recorded'}"
    prev = np.lib.format.open_memmap(tmp / "l1.npy", "w+", np.uint8, (*level_dims[1][::-1], 3))
    with tifffile.TiffWriter(out, bigtiff=dims[0] * dims[1] * 3 > 2**31) as tw:

        def put(tiles: Iterator[NDArray[np.uint8]], k: int) -> None:
            w, h = level_dims[k]
            tw.write(
                tiles, shape=(h, w, 3), dtype=np.uint8, tile=(tile, tile), photometric="rgb",
                compression="jpeg", compressionargs={"level": quality},
                resolution=(res / 2**k, res / 2**k) if res else None,
                resolutionunit="CENTIMETER" if res else None,
                software=SOFTWARE, description=desc if k == 0 else None,
                subfiletype=1 if k else 0,
            )  # fmt: skip

        put(_level0_tiles(scene, dims, tile, prev, on_progress), 0)
        for k in range(1, len(level_dims)):
            put(_array_tiles(prev, tile), k)
            if k + 1 < len(level_dims):
                nw, nh = level_dims[k + 1]
                nxt = np.lib.format.open_memmap(tmp / f"l{k + 1}.npy", "w+", np.uint8, (nh, nw, 3))
                for y in range(0, nh, tile):
                    y1 = min(nh, y + tile)
                    nxt[y:y1] = _half(prev[2 * y : 2 * y1, : 2 * nw])
                prev = nxt


def _level0_tiles(
    scene: _Scene, dims: tuple[int, int], tile: int, lvl1: NDArray[np.uint8],
    on_progress: OnProgress,
) -> Iterator[NDArray[np.uint8]]:  # fmt: skip
    """Render level-0 tiles row-major; fill ``lvl1`` with their 2x2 averages on the way.

    Tiles of one row render in a few threads (numpy releases the GIL on whole-array work);
    only one row of tiles is held at a time.
    """
    n_x, n_y = -(-dims[0] // tile), -(-dims[1] // tile)
    glass = _Scene(scene.assets, _glass(scene.layout), scene.stain, scene.key).render(0, 0, tile)
    f = scene.layout.factor
    tissue = scene.layout.maps["tissue"]

    def render(l0_xy: tuple[int, int]) -> NDArray[np.uint8]:
        l0_x, l0_y = l0_xy
        box = tissue[l0_y // f : (l0_y + tile) // f + 2, l0_x // f : (l0_x + tile) // f + 2]
        return scene.render(l0_x, l0_y, tile) if box.size and float(box.max()) > 0.01 else glass

    h1, w1 = lvl1.shape[:2]
    with ThreadPoolExecutor(RENDER_THREADS) as pool:
        for ty in range(n_y):
            row = [(tx * tile, ty * tile) for tx in range(n_x)]
            rendered = list(pool.map(render, row))
            for tx, rgb in enumerate(rendered):
                y0, x0 = ty * tile // 2, tx * tile // 2
                part = _half(rgb)[: max(0, h1 - y0), : max(0, w1 - x0)]
                lvl1[y0 : y0 + part.shape[0], x0 : x0 + part.shape[1]] = part
            # report before yielding: the writer stops pulling after the last tile
            on_progress(ProgressRecord("synthetic slide", (ty + 1) * n_x, n_x * n_y))
            yield from rendered


def _glass(layout: Layout) -> Layout:
    """A layout with no tissue: the shared background tile."""
    zeros = {k: np.zeros((4, 4), np.float32) for k in layout.maps}
    zeros["gland"] = zeros["gland"] + 3.0
    return Layout(layout.factor, zeros)


def _half(a: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """2x2 box average (odd trailing row/column dropped)."""
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    s = a[0:h:2, 0:w:2].astype(np.uint16)
    s += a[1:h:2, 0:w:2]
    s += a[0:h:2, 1:w:2]
    s += a[1:h:2, 1:w:2]
    s += 2
    s >>= 2
    return s.astype(np.uint8)


def _array_tiles(a: NDArray[np.uint8], tile: int) -> Iterator[NDArray[np.uint8]]:
    """Row-major tiles of an array (edge tiles padded white)."""
    h, w = a.shape[:2]
    for y in range(0, h, tile):
        for x in range(0, w, tile):
            block = np.full((tile, tile, 3), 255, np.uint8)
            part = a[y : y + tile, x : x + tile]
            block[: part.shape[0], : part.shape[1]] = part
            yield block
