"""Geometry a viewer draws over a slide from an inference output: tissue outline, tile grid.

The tissue outline is the boundary of the run's tissue mask (``tissue.tif``) as polygons
in level-0 pixels (marching squares, then simplified to about a mask pixel); the tile grid
is every scored tile's box from ``tiles.csv``. Both are plain arrays: the app draws them
as one path each, the exporter paints them into a PNG.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from skimage.measure import approximate_polygon, find_contours

from pathscaat.progress import PathscaatError
from pathscaat.slides import open_slide

MIN_RING_POINTS = 4
SIMPLIFY_PX = 0.75
"""Tolerance of the polygon simplification, in mask pixels."""


def tissue_outline(mask: NDArray[np.bool_], l0_per_px: float) -> list[NDArray[np.float64]]:
    """Closed rings (N x 2, level-0 x, y) around the ``True`` areas of ``mask``."""
    padded = np.pad(np.asarray(mask, dtype=np.float32), 1)
    rings: list[NDArray[np.float64]] = []
    for contour in find_contours(padded, 0.5):
        ring = approximate_polygon(contour, tolerance=SIMPLIFY_PX)
        if len(ring) < MIN_RING_POINTS:
            continue
        # (row, col) of the padded mask -> (x, y) of pixel edges in level 0
        xy = (ring[:, ::-1] - 1.0 + 0.5) * float(l0_per_px)
        rings.append(xy.astype(np.float64))
    return rings


def tissue_outline_from_raster(path: Path, l0_per_px: float) -> list[NDArray[np.float64]]:
    """The outline of a tissue raster written by the inference (codes > 127 are tissue)."""
    with open_slide(path) as raster:
        w, h = raster.dimensions
        codes = raster.read_region((0, 0), 0, (w, h))[..., 0]
    return tissue_outline(codes > 127, l0_per_px)


def read_tile_boxes(path: Path) -> tuple[NDArray[np.int64], float]:
    """(l0_xy top-left corners N x 2, level-0 side) of the tiles listed in ``tiles.csv``."""
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        l0_xy = np.array([[int(r["l0_x"]), int(r["l0_y"])] for r in rows], dtype=np.int64)
        sides = {float(r["l0_w"]) for r in rows}
    except FileNotFoundError as exc:
        raise PathscaatError(f"{path}: no tile table here; run the inference again.") from exc
    except (KeyError, ValueError, TypeError, csv.Error) as exc:
        raise PathscaatError(
            f"{path}: the tile table is damaged ({exc}); run the inference again."
        ) from exc
    return l0_xy.reshape(-1, 2), max(sides) if sides else 0.0
