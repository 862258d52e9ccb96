"""Demo steps on the slide: write it, read what it is, tile it into labelled patches."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pathscaat.demo.profile import SYNTHETIC_MPP
from pathscaat.demo.state import DemoState
from pathscaat.progress import OnProgress, ShouldStop, never_stop, no_progress
from pathscaat.tiling.job import run_tiling

BENIGN = "benign"
SLIDE_NAME = "synthetic-slide.tif"


def make_slide(
    state: DemoState, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> None:
    """Write the synthetic slide and its planted regions."""
    from pathscaat.data.synthetic import write_synthetic_slide

    width, height = state.profile.slide_px
    state.slide, state.regions = write_synthetic_slide(
        state.out_dir / SLIDE_NAME, width=width, height=height, seed=state.seed,
        mpp=SYNTHETIC_MPP, on_progress=on_progress,
    )  # fmt: skip


def read_info(
    state: DemoState, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> None:
    """Open the slide as any user slide would be opened and record what it is."""
    from pathscaat.slides import open_slide

    assert state.slide is not None, "make_slide first"
    with open_slide(state.slide) as s:
        mpp = s.mpp
        state.info = {
            "path": str(s.path), "vendor": s.vendor, "backend": s.backend_name,
            "dimensions": list(s.dimensions), "level_count": s.level_count,
            "levels": [list(d) for d in s.level_dimensions],
            "mpp": None if mpp is None else {"x": mpp.x, "y": mpp.y, "source": mpp.source},
        }  # fmt: skip


def tile_slide(
    state: DemoState, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> None:
    """Tissue, grid at 0.5 µm/px, and patches labelled by the planted regions."""
    assert state.slide is not None and state.regions is not None, "make_slide first"
    labeller = region_labeller(state.regions, tile_l0_px=224.0)
    state.tiling = run_tiling(
        state.slide, state.out_dir / "tiles", tile_px=224, target_mpp=0.5, min_tissue=0.5,
        extract=True, workers=1, label=labeller, on_progress=on_progress,
        should_stop=should_stop,
    )  # fmt: skip


def region_labeller(regions_json: Path, tile_l0_px: float) -> Callable[[int, int, int], str]:
    """Label a tile by the planted region under its centre (``benign`` elsewhere)."""
    import shapely

    meta = json.loads(Path(regions_json).read_text())
    shapes = [(r["label"], shapely.Polygon(r["l0_polygon"])) for r in meta["regions"]]

    def label(_i: int, l0_x: int, l0_y: int) -> str:
        cx, cy = l0_x + tile_l0_px / 2, l0_y + tile_l0_px / 2
        for name, poly in shapes:
            if bool(shapely.contains_xy(poly, cx, cy)):
                return str(name)
        return BENIGN

    return label


def label_counts(manifest: Path) -> dict[str, int]:
    """Patches per label in an extraction manifest."""
    import csv

    with manifest.open(newline="") as fh:
        labels = [row["label"] for row in csv.DictReader(fh)]
    names, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
    return {str(n): int(c) for n, c in zip(names, counts, strict=True)}
