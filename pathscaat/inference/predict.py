"""Run a checkpoint over a slide's tissue tiles and write its overlay set.

The steps: load the model and its data config, survey the slide (tissue, and a grid at the
model's µm/px and input size: :mod:`pathscaat.inference.slide_survey`), score the tiles
still missing from the partial results (tiles read on threads ahead of the model; one
forward and one backward per batch), then stitch the rasters, write ``tiles.csv``
and ``overlays.json`` and drop the partial results.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pathscaat.inference.overlays import OverlaySet
from pathscaat.inference.resume import PartialStore, file_stamp, fingerprint
from pathscaat.inference.saliency_layers import SMOOTH_UM, SaliencySettings
from pathscaat.inference.scoring import ScoredBatch, TileScorer
from pathscaat.inference.slide_survey import DEFAULT_OVERLAP, Surveyed, survey
from pathscaat.inference.stitch import Layout, RasterJob, write_rasters
from pathscaat.inference.tile_loader import TileBatches
from pathscaat.inference.tiles_csv import TILES_CSV, write_tiles_csv
from pathscaat.models.device import resolve_device
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)

MAX_OVERLAP = 0.75


def predict_slide(
    slide_path: str | Path,
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    grid: Any = None,
    saliency: str | None = "vanilla",
    device: str = "auto",
    batch_size: int = 32,
    workers: int = 2,
    slide_mpp: float | None = None,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
    saliency_cell_px: int = 1,
    slide_mpp_source: str = "flag",
    min_tissue: float = 0.5,
    overlap: float = DEFAULT_OVERLAP,
    smooth_um: float = SMOOTH_UM,
) -> OverlaySet:
    """Score every tile of ``grid`` (default: tissue tiles at the model's scale).

    ``saliency`` names a ``pathscaat.saliency`` method or is None / ``"none"`` for
    probabilities only; ``saliency_cell_px`` > 1 averages each map over cells of that
    side first (the stride-checkerboard remedy; 1 = raw map, the default). Finished tiles
    persist in ``out_dir/.partial``; a rerun of the same job skips them. On ``should_stop``
    raises ``JobCancelled`` with them kept.

    ``slide_mpp`` replaces the file's level-0 µm/px; ``slide_mpp_source`` says where it
    came from (``flag``, ``user``, ``project``: see :mod:`pathscaat.inference.scale`). A
    slide without µm/px under a model that records one raises ``MissingScaleError``.
    ``min_tissue`` is the tissue fraction a tile of the default grid needs; ``overlap``
    the share of a tile's side that neighbouring tiles of the default grid share (0 to
    0.75; saliency is blended across it, see :mod:`pathscaat.inference.saliency_layers`)
    and ``smooth_um`` the smoothing of the slide-level saliency map.
    """
    sal_name = check_settings(saliency, batch_size, workers, min_tissue, overlap)
    dev = resolve_device(device)
    Path(out_dir).mkdir(parents=True, exist_ok=True)  # an unwritable --out fails first
    loaded = load_model(checkpoint)
    surveyed = survey(
        slide_path, slide_mpp, loaded[1], grid, on_progress,
        mpp_source=slide_mpp_source, min_tissue=min_tissue, overlap=overlap,
    )  # fmt: skip
    return predict_surveyed(
        slide_path, loaded, surveyed, out_dir, saliency=sal_name, device=dev,
        batch_size=batch_size, workers=workers,
        on_progress=on_progress, should_stop=should_stop, saliency_cell_px=saliency_cell_px,
        smooth_um=smooth_um,
    )  # fmt: skip


def predict_surveyed(
    slide_path: str | Path,
    loaded: tuple[Any, Any, Path],
    surveyed: Surveyed,
    out_dir: str | Path,
    *,
    saliency: str | None,
    device: Any,
    batch_size: int,
    workers: int,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
    saliency_cell_px: int = 1,
    smooth_um: float = SMOOTH_UM,
) -> OverlaySet:
    """:func:`predict_slide` after its fixed costs: the model already loaded
    (:func:`load_model`) and the slide surveyed (:func:`survey`), so a cohort pays them
    once per process and can survey the next slide while this one is scored.

    ``saliency`` is a checked name (:func:`check_settings`), ``device`` a ``torch.device``.
    """
    model, meta, ckpt_json = loaded
    grid, tissue, mpp, slide_dims, scale = surveyed
    out = Path(out_dir)
    n_tiles = len(grid.l0_xy)
    layout = Layout.for_grid(grid)
    key = _job_key(slide_path, ckpt_json, grid, saliency, layout, saliency_cell_px)
    store = PartialStore.open(
        out, key, n_tiles, len(meta.class_names), layout.sal_px if saliency else None
    )
    scorer = TileScorer(
        model, saliency=saliency, device=device, sal_px=layout.sal_px,
        sal_cell_px=saliency_cell_px,
    )  # fmt: skip
    loader = TileBatches(
        slide_path, grid, store.pending(), batch_size=batch_size, workers=workers,
        mpp_override=mpp,
    )  # fmt: skip
    _score_tiles(store, loader, scorer, on_progress, should_stop)
    job = RasterJob(store, grid.l0_xy, layout, slide_dims, list(meta.class_names), mpp,
                    SaliencySettings(smooth_um))  # fmt: skip
    overlay_set = _write_outputs(job, grid, out, tissue, on_progress)
    overlay_set.slide = str(Path(slide_path).resolve())
    overlay_set.checkpoint = str(ckpt_json)
    overlay_set.scale = scale.to_dict()
    overlay_set.save()
    store.remove()
    return overlay_set


def check_settings(
    saliency: str | None, batch_size: int, workers: int, min_tissue: float = 0.5,
    overlap: float = 0.0,
) -> str | None:  # fmt: skip
    """Fail before any slow step; returns the saliency method name (None: no saliency)."""
    from pathscaat.saliency import list_methods

    if batch_size < 1 or workers < 0:
        raise PathscaatError(
            f"batch size must be >= 1 and workers >= 0 (got {batch_size}, {workers})"
        )
    if not 0.0 <= min_tissue <= 1.0:
        raise PathscaatError(
            f"the minimum tissue fraction must be 0 to 1 (got {min_tissue}); 0.5 (half the "
            "tile) is the default, lower it for small or sparse tissue"
        )
    if not 0.0 <= overlap <= MAX_OVERLAP:
        raise PathscaatError(
            f"the tile overlap must be 0 to {MAX_OVERLAP} of a tile (got {overlap}); "
            f"{DEFAULT_OVERLAP} is the default, 0 the fastest (saliency then shows tile seams)"
        )
    if saliency in (None, "none"):
        return None
    if saliency not in list_methods():
        known = ", ".join([*list_methods(), "none"])
        raise PathscaatError(f"unknown saliency method {saliency!r}; choose one of: {known}")
    return str(saliency)


def load_model(checkpoint: str | Path) -> tuple[Any, Any, Path]:
    """(model, meta, path of the checkpoint's JSON); any failure as one clear error."""
    from pathscaat.models import load_checkpoint
    from pathscaat.models.checkpoint import checkpoint_stem

    try:
        model, meta = load_checkpoint(checkpoint, device="cpu")
    except PathscaatError:
        raise
    except Exception as exc:  # a damaged file surfaces as many exception types
        raise PathscaatError(
            f"{checkpoint}: cannot load this model checkpoint ({type(exc).__name__}: {exc}). "
            "Choose a checkpoint written by 'pathscaat train' (stem.json + stem.safetensors)."
        ) from exc
    return model, meta, checkpoint_stem(checkpoint).with_suffix(".json").resolve()


def _job_key(
    slide_path: str | Path,
    ckpt_json: Path,
    grid: Any,
    sal: str | None,
    layout: Layout,
    sal_cell_px: int = 1,
) -> str:
    parts = {
        "slide": file_stamp(slide_path),
        "checkpoint": file_stamp(ckpt_json),
        "weights": file_stamp(ckpt_json.with_suffix(".safetensors")),
        "saliency": sal,
        "sal_px": layout.sal_px,
        **({"sal_cell_px": sal_cell_px} if sal_cell_px > 1 else {}),
        "grid": [grid.tile_px, float(grid.l0_tile_px), grid.read_level, grid.lvl_read_px],
    }
    return fingerprint(parts, grid.l0_xy)


def _score_tiles(
    store: PartialStore,
    loader: TileBatches,
    scorer: TileScorer,
    on_progress: OnProgress,
    should_stop: ShouldStop,
) -> None:
    """Score the loader's tiles batch by batch, persisting each batch before reporting.

    Batch k is stored and reported after batch k+1 was launched, so on a GPU the host
    work of one batch overlaps the device work of the next.
    """
    report = _Reporter(store, on_progress)
    pending: tuple[NDArray[np.int64], ScoredBatch] | None = None
    with loader:
        try:
            for idx, tiles in loader:
                if should_stop():
                    break
                scored = scorer.submit(tiles)
                if pending is not None:
                    report.finish(*pending)
                pending = (idx, scored)
            if pending is not None:
                report.finish(*pending)
        finally:
            store.commit()
    if store.n_done == 0:
        raise JobCancelled(
            "inference stopped before any tile was scored; nothing to resume: "
            "run the command again to start it"
        )
    if store.n_done < len(store.done):
        raise JobCancelled(
            f"inference stopped after {store.n_done} of {len(store.done)} tiles; they are kept "
            f"in {store.folder}: run the same inference again to finish the rest"
        )


class _Reporter:
    """Stores finished batches and reports progress (``extra``: computed, resumed, rate)."""

    def __init__(self, store: PartialStore, on_progress: OnProgress) -> None:
        self.store, self.on_progress = store, on_progress
        self.n_tiles, self.resumed = len(store.done), store.n_done
        self.computed, self.t0 = 0, time.perf_counter()
        note = f"{self.resumed} tiles from an earlier run" if self.resumed else "scoring tiles"
        self._emit(note, 0.0)

    def finish(self, idx: NDArray[np.int64], scored: ScoredBatch) -> None:
        probs, sal = scored.numpy()
        self.store.record(idx, probs, sal)
        self.computed += len(idx)
        rate = self.computed / max(time.perf_counter() - self.t0, 1e-9)
        self._emit(f"{rate:.1f} tiles/s", rate)

    def _emit(self, message: str, rate: float) -> None:
        extra = {"computed": self.computed, "resumed": self.resumed, "tiles_per_s": round(rate, 2)}
        done = self.resumed + self.computed
        self.on_progress(ProgressRecord("infer", done, self.n_tiles, message, extra))


def _remove_scratch(out: Path) -> None:
    """Delete scratch left by a run killed while writing (names only this module uses)."""
    for pattern in (".stitch-*", ".pyramid-*", "*.tif.tmp", "tiles.csv.tmp"):
        for stale in out.glob(pattern):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


def _write_outputs(
    job: RasterJob, grid: Any, out: Path, tissue: Any, on_progress: OnProgress
) -> OverlaySet:
    """Rasters, then the table; the manifest is saved last by the caller."""
    _remove_scratch(out)
    n_rasters = len(job.classes) + (job.store.sal is not None) + (tissue is not None)
    written = [0]

    def announce(name: str) -> None:
        on_progress(ProgressRecord("write", written[0], n_rasters, f"writing {name}"))
        written[0] += 1

    infos = write_rasters(job, out, tissue, announce)
    on_progress(ProgressRecord("write", n_rasters, n_rasters, "rasters written"))
    write_tiles_csv(
        out / TILES_CSV, job.l0_xy, job.layout.l0_tile_px, job.store.probs, job.classes,
        tissue_fraction=getattr(grid, "tissue_fraction", None),
        max_saliency=job.store.sal_max if job.store.sal is not None else None,
    )  # fmt: skip
    return OverlaySet(
        root=out, slide="", slide_dims=job.slide_dims, classes=job.classes,
        overlays=infos, tiles_csv=TILES_CSV,
    )  # fmt: skip
