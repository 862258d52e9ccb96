"""Training patches from annotations: tiles inside each classified polygon, by class.

Tiles lie on the slide's own grid at ``mpp`` (``make_grid`` with no tissue filter), so two
regions never cut two different tiles at one place, and a tile is kept for a class when
at least ``min_overlap`` of its area lies inside that class's polygons (a tile inside
several classes goes to the one that covers most of it). Extraction is
``pathscaat.tiling.extract.extract_patches``: ``OUT/<class>/<slide>_<x>_<y>.png`` and
``OUT/manifest.csv`` with the ``slide`` column that grouped splits use, which is the
ImageFolder layout ``pathscaat train`` reads. It is resumable, and several slides can be
exported into one folder (rows are appended).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray

from pathscaat.annotations.export.common import is_area
from pathscaat.annotations.model import Annotation
from pathscaat.progress import (
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from pathscaat.slides import open_slide
from pathscaat.tiling.extract import extract_patches
from pathscaat.tiling.grid import TileGrid, make_grid


@dataclass
class PatchResult:
    """The manifest, tiles per class, and the annotations that gave none (and why)."""

    manifest: Path
    per_class: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def label_tiles(
    grid: TileGrid, annotations: Iterable[Annotation], min_overlap: float
) -> tuple[NDArray[np.intp], list[str], list[str]]:
    """(tile indices kept, their class, skipped annotations with the reason)."""
    side = grid.l0_tile_px
    xy = grid.l0_xy.astype(np.float64)
    boxes = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + side, xy[:, 1] + side)
    tree = shapely.STRtree(boxes)
    cover: dict[str, NDArray[np.float64]] = {}
    skipped = []
    for ann in annotations:
        if ann.class_name is None or not is_area(ann):
            why = "no class" if ann.class_name is None else f"a {ann.geometry.geom_type}"
            skipped.append(f"{ann.id}: {why}, so no training label")
            continue
        hits = tree.query(ann.geometry, predicate="intersects")
        part = shapely.area(shapely.intersection(boxes[hits], ann.geometry)) / (side * side)
        share = cover.setdefault(ann.class_name, np.zeros(len(boxes)))
        np.add.at(share, hits, part)
    if not cover:
        return np.zeros(0, np.intp), [], skipped
    names = list(cover)
    shares = np.stack([np.minimum(cover[n], 1.0) for n in names])
    best = shares.argmax(axis=0)
    keep = np.flatnonzero(shares.max(axis=0) >= min_overlap - 1e-9)
    return keep, [names[b] for b in best[keep]], skipped


def export_patches(
    slide_path: str | Path,
    annotations: Iterable[Annotation],
    out_dir: str | Path,
    *,
    mpp: float = 0.5,
    tile_px: int = 224,
    min_overlap: float = 0.5,
    fmt: str = "png",
    slide_mpp: float | None = None,
    workers: int = 1,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> PatchResult:
    """Extract the class-labelled tiles of ``annotations`` on the slide to ``out_dir``."""
    if not 0.0 < min_overlap <= 1.0:
        raise PathscaatError(f"minimum overlap must be in (0, 1], got {min_overlap}")
    annotations = list(annotations)
    if not any(a.class_name and is_area(a) for a in annotations):
        raise PathscaatError(
            "no classified polygon among the annotations, so no patch has a label; "
            "classify the regions to train on"
        )
    with open_slide(slide_path, mpp_override=slide_mpp) as slide:
        on_progress(ProgressRecord("patches", 0, 0, "laying the tile grid"))
        grid = make_grid(slide, tile_px=tile_px, target_mpp=mpp, min_tissue=0.0)
    keep, labels, skipped = label_tiles(grid, annotations, min_overlap)
    if len(keep) == 0:
        raise PathscaatError(
            f"no {tile_px} px tile at {mpp} µm/px lies {min_overlap:.0%} inside a classified "
            "polygon; classify the annotations, lower --min-overlap or use a smaller --size"
        )
    sub = dataclasses.replace(grid, l0_xy=grid.l0_xy[keep],
                              tissue_fraction=grid.tissue_fraction[keep])  # fmt: skip
    manifest = extract_patches(
        slide_path, sub, out_dir, label=lambda i, _x, _y: labels[i], workers=workers,
        executor="thread", fmt=fmt, mpp_override=slide_mpp,
        on_progress=on_progress, should_stop=should_stop,
    )  # fmt: skip
    return PatchResult(manifest, dict(Counter(labels)), skipped)
