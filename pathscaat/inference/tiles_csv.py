"""``tiles.csv``: one row per grid tile with its level-0 box and the model's outputs.

Columns: ``tile, l0_x, l0_y, l0_w, l0_h, tissue_fraction, prob_<class>..., pred_class,
max_saliency`` (max_saliency in raw gradient units, empty when no saliency was computed).
Spreadsheets, pandas and QuPath's table import read it as is.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

TILES_CSV = "tiles.csv"


def write_tiles_csv(
    path: Path,
    l0_xy: NDArray[np.int64],
    l0_tile_px: float,
    probs: NDArray[np.float32],
    classes: list[str],
    *,
    tissue_fraction: NDArray[np.floating] | None = None,
    max_saliency: NDArray[np.float32] | None = None,
) -> Path:
    """Write the table atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    side = round(float(l0_tile_px))
    pred = np.asarray(probs).argmax(axis=1)
    with tmp.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(
            ["tile", "l0_x", "l0_y", "l0_w", "l0_h", "tissue_fraction"]
            + [f"prob_{c}" for c in classes]
            + ["pred_class", "max_saliency"]
        )
        for i, (l0_x, l0_y) in enumerate(np.asarray(l0_xy)):
            tissue = "" if tissue_fraction is None else f"{float(tissue_fraction[i]):.4f}"
            sal = "" if max_saliency is None else f"{float(max_saliency[i]):.6g}"
            out.writerow(
                [i, int(l0_x), int(l0_y), side, side, tissue]
                + [f"{float(p):.6f}" for p in probs[i]]
                + [classes[int(pred[i])], sal]
            )
    tmp.replace(path)
    return path
