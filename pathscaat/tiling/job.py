"""One tiling job over a slide: tissue mask, grid, pictures of both, optional extraction.

The CLI (``pathscaat tiles``), the demo and the app call this same function, so all of
them write the same files:

``OUT/<stem>.tissue.png``   tissue mask (255 = tissue), one px = ``l0_per_px`` level-0 px
``OUT/<stem>.grid.png``     thumbnail with the tissue tinted and every tile outlined
``OUT/<stem>.grid.npz``     the ``TileGrid`` (``TileGrid.load``)
``OUT/<stem>.tiling.json``  parameters and counts
``OUT/patches/``            with ``extract``: ImageFolder tree + ``manifest.csv``
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pathscaat.progress import (
    OnProgress,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from pathscaat.slides import open_slide
from pathscaat.tiling.draw import save_grid_png
from pathscaat.tiling.extract import LabelFn, extract_patches
from pathscaat.tiling.grid import TileGrid, make_grid
from pathscaat.tiling.tissue import TissueMask, detect_tissue


@dataclass
class TilingOutputs:
    grid: TileGrid
    tissue: TissueMask
    tissue_png: Path
    grid_png: Path
    grid_file: Path
    summary_json: Path
    manifest: Path | None = None


def run_tiling(
    slide_path: str | Path,
    out_dir: str | Path,
    *,
    tile_px: int = 224,
    target_mpp: float | None = None,
    downsample: float | None = None,
    overlap_px: int = 0,
    min_tissue: float = 0.5,
    slide_mpp: float | None = None,
    extract: bool = False,
    workers: int = 1,
    label: str | LabelFn | None = None,
    fmt: str = "png",
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> TilingOutputs:
    """Detect tissue, grid it, save pictures and the grid; extract patches if asked."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(slide_path).stem
    with open_slide(slide_path, mpp_override=slide_mpp) as slide:
        on_progress(ProgressRecord("tiling", 0, 3, "tissue mask"))
        tissue = detect_tissue(slide)
        on_progress(ProgressRecord("tiling", 1, 3, "grid"))
        grid = make_grid(
            slide,
            tile_px=tile_px,
            target_mpp=target_mpp,
            downsample=downsample,
            overlap_px=overlap_px,
            min_tissue=min_tissue,
            tissue=tissue,
        )
        tissue_png = tissue.save_png(out / f"{stem}.tissue.png")
        grid_png = save_grid_png(slide, grid, out / f"{stem}.grid.png", tissue=tissue)
        grid_file = grid.save(out / f"{stem}.grid.npz")
        on_progress(ProgressRecord("tiling", 3, 3, f"{len(grid)} tiles"))
    summary = {
        "slide": str(slide_path), "tiles": len(grid), "tissue_fraction": tissue.fraction,
        "tissue_method": tissue.method, "mask_l0_per_px": tissue.l0_per_px,
        "grid": grid.params(),
    }  # fmt: skip
    summary_json = out / f"{stem}.tiling.json"
    summary_json.write_text(json.dumps(summary, indent=2))
    result = TilingOutputs(grid, tissue, tissue_png, grid_png, grid_file, summary_json)
    if extract:
        result.manifest = extract_patches(
            slide_path, grid, out / "patches", label=label, workers=workers, fmt=fmt,
            mpp_override=slide_mpp, on_progress=on_progress, should_stop=should_stop,
        )  # fmt: skip
    return result
