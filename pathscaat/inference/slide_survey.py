"""Surveying a slide before scoring it: its tissue, the tile grid at the model's µm/px
(with the default overlap) and the scale the run reads at. Split from
:mod:`pathscaat.inference.predict` so a cohort can survey the next slide while the current
one is scored, and the scoring module keeps to scoring and writing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NamedTuple

from pathscaat.inference.scale import (
    ModelScale,
    RunScale,
    SlideMpp,
    no_tiles_message,
    require_scale,
)
from pathscaat.progress import OnProgress, PathscaatError, ProgressRecord
from pathscaat.slides import open_slide
from pathscaat.tiling.grid import make_grid
from pathscaat.tiling.tissue import detect_tissue

log = logging.getLogger(__name__)

DEFAULT_OVERLAP = 0.5
"""Share of a tile's side that neighbouring tiles share by default: with a Hann window half
an overlap makes the weights of the tiles over any point sum to a constant, the blend
that leaves no seam (benchmarks/bench_saliency_seams.py); it costs ~4x the tiles."""


class Surveyed(NamedTuple):
    """What :func:`survey` found: the tiles to score and the scale they are read at."""

    grid: Any
    tissue: Any
    mpp: float | None  # the slide's level-0 µm/px as used (None: unknown)
    slide_dims: tuple[int, int]
    scale: RunScale


def survey(
    slide_path: str | Path,
    slide_mpp: float | None,
    meta: Any,
    grid: Any,
    on_progress: OnProgress,
    *,
    mpp_source: str = "flag",
    only_if_missing: bool = False,
    min_tissue: float = 0.5,
    overlap: float = DEFAULT_OVERLAP,
) -> Surveyed:
    """Tissue, grid and scale of a slide: what to score and where it lies.

    ``slide_mpp`` (from ``mpp_source``) replaces the file's µm/px, or only fills in for a
    file without one when ``only_if_missing`` (a cohort's --slide-mpp). Without ``grid``,
    refuses a slide without µm/px under a model that records one (``MissingScaleError``).
    """
    with open_slide(slide_path) as slide:
        chosen = SlideMpp.of_slide(slide, slide_mpp, mpp_source, only_if_missing=only_if_missing)
        if chosen.source != "metadata" and chosen.um is not None:
            slide.set_mpp(chosen.um)
        if grid is None:  # a caller's own grid is a scale chosen on purpose
            require_scale(slide_path, chosen, ModelScale(meta.mpp, meta.input_px))
        on_progress(ProgressRecord("tissue", 0, 1, "finding tissue"))
        tissue = detect_tissue(slide)
        on_progress(ProgressRecord("tissue", 1, 1, "tissue found"))
        if grid is None:
            grid = grid_for(slide, meta, tissue, on_progress, min_tissue=min_tissue,
                            overlap=overlap)  # fmt: skip
        slide_dims = slide.dimensions
    scale = RunScale(chosen, meta.mpp, grid.tile_px, float(grid.l0_tile_px))
    on_progress(ProgressRecord("scale", 0, 0, scale.describe(), {"scale": scale.to_dict()}))
    if len(grid.l0_xy) == 0:
        raise PathscaatError(no_tiles_message(slide_path, scale, slide_dims, min_tissue))
    return Surveyed(grid, tissue, chosen.um, slide_dims, scale)


def grid_for(
    slide: Any, meta: Any, tissue: Any, on_progress: OnProgress, *, min_tissue: float = 0.5,
    overlap: float = DEFAULT_OVERLAP,
) -> Any:
    """Tissue tiles at the model's µm/px, or at level 0 (with a warning) without one;
    neighbours share ``overlap`` of a tile's side."""
    overlap_px = min(meta.input_px - 1, round(overlap * meta.input_px))
    slide_mpp = slide.mpp.x if slide.mpp else None
    if meta.mpp and slide_mpp:
        if not meta.patch:  # written before checkpoints recorded the patches' own scale
            log.warning(
                "the model's µm/px (%s) comes from a checkpoint without a patch-scale record: "
                "if `pathscaat train` wrote it before that record existed, it is the patches' "
                "µm/px, right only if the model was trained at the patch size",
                meta.mpp,
            )
        return make_grid(slide, tile_px=meta.input_px, target_mpp=meta.mpp, tissue=tissue,
                         min_tissue=min_tissue, overlap_px=overlap_px)  # fmt: skip
    if slide_mpp:
        msg = (
            f"the model records no µm/px: tiles are read at level 0 ({slide_mpp:.3g} µm/px, "
            f"{meta.input_px * slide_mpp:.0f} µm per tile); if it was trained at another "
            "scale its answers are wrong (retrain it with the patches' µm/px to record it)"
        )
    else:
        msg = (
            "neither the slide nor the model records a µm/px: tiles are read at level 0 "
            "(downsample 1), which may not match the scale the model was trained at"
        )
    log.warning(msg)  # the record carries it for the app; its message does not say it twice
    on_progress(ProgressRecord("grid", 0, 0, "tiles read at level 0", {"warning": msg}))
    return make_grid(slide, tile_px=meta.input_px, downsample=1.0, tissue=tissue,
                     min_tissue=min_tissue, overlap_px=overlap_px)  # fmt: skip
