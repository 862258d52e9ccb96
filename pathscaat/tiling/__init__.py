"""Tissue masks, tile grids at a target µm/px, and patch extraction.

``detect_tissue`` -> ``TissueMask``; ``make_grid`` -> ``TileGrid`` (``save``/``load``);
``read_tile``; ``extract_patches`` (ImageFolder + manifest, resumable, parallel);
``run_tiling`` does all of it for one slide as the CLI and the app do.
"""

from pathscaat.tiling.extract import extract_patches
from pathscaat.tiling.grid import TileGrid, make_grid, read_tile
from pathscaat.tiling.tissue import TissueMask, detect_tissue, tissue_mask_from_rgb

__all__ = [
    "TileGrid",
    "TissueMask",
    "detect_tissue",
    "extract_patches",
    "make_grid",
    "read_tile",
    "tissue_mask_from_rgb",
]
