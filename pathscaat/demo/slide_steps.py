"""The demo: a synthetic slide taken through the loop, one step per function.

Steps share a ``DemoState`` so later work can append steps (train SCAAT on the extracted
patches, run inference, evaluate) without touching the earlier ones. Everything written
is "PathSCAAT synthetic" data, never real tissue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pathscaat.progress import OnProgress, ShouldStop, never_stop, no_progress
from pathscaat.tiling.job import TilingOutputs, run_tiling

DEFAULT_OUT = Path("pathscaat-demo")
BENIGN = "benign"


@dataclass
class DemoState:
    """What the demo has produced so far (paths under ``out_dir``)."""

    out_dir: Path
    seed: int = 0
    slide: Path | None = None
    regions: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)
    tiling: TilingOutputs | None = None
    notes: list[str] = field(default_factory=list)


def make_slide(
    state: DemoState, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> None:
    """Write the small synthetic slide and its planted regions."""
    from pathscaat.data.synthetic import write_synthetic_slide

    state.slide, state.regions = write_synthetic_slide(
        state.out_dir / "synthetic-slide.tif", preset="small", seed=state.seed,
        on_progress=on_progress,
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


Step = Callable[[DemoState, OnProgress, ShouldStop], None]
STEPS: list[Step] = [make_slide, read_info, tile_slide]
"""Run in order by ``run_demo``; later work appends training and evaluation steps."""


def run_demo(
    out_dir: str | Path = DEFAULT_OUT,
    *,
    seed: int = 0,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> DemoState:
    """Every step in ``STEPS``; returns where the outputs are."""
    state = DemoState(Path(out_dir), seed)
    state.out_dir.mkdir(parents=True, exist_ok=True)
    for step in STEPS:
        step(state, on_progress, should_stop)
    return state


def label_counts(manifest: Path) -> dict[str, int]:
    """Patches per label in an extraction manifest."""
    import csv

    with manifest.open(newline="") as fh:
        labels = [row["label"] for row in csv.DictReader(fh)]
    names, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
    return {str(n): int(c) for n, c in zip(names, counts, strict=True)}
