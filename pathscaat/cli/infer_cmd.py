"""``pathscaat infer``: a checkpoint over one slide -> overlay set (heatmaps, saliency, CSV).

SIGINT and SIGTERM ask the job to stop after the current batch (finished tiles are kept;
the same command resumes); the exit code is then 130. A run that fails leaves no empty
output folder behind, only partial results a rerun can resume from.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pathscaat.cli.demo_report import gui_command
from pathscaat.cli.jobs import STOP_SIGNALS, progress_job
from pathscaat.cli.reporting import ProgressPrinter, add_progress_arg
from pathscaat.outdir import cleaned_on_failure
from pathscaat.progress import ProgressRecord


def register(sub: Any) -> None:
    p = sub.add_parser(
        "infer",
        help="run a model over a slide's tissue: class heatmaps, saliency, tiles.csv",
        description=(
            "Score the slide's tissue tiles at the model's µm/px and input size; write "
            "pyramidal TIFF overlays, tiles.csv and overlays.json to --out. Rerunning an "
            "interrupted command resumes it."
        ),
    )
    p.add_argument("slide", type=Path, help="whole-slide image (svs, ndpi, tiff, ...)")
    p.add_argument(
        "--model", required=True, type=Path, help="checkpoint (stem, .json or .safetensors)"
    )
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument(
        "--saliency",
        default="vanilla",
        help="vanilla (default), input_x_gradient, smoothgrad, integrated_gradients, "
        "gradcam, or none",
    )
    p.add_argument(
        "--saliency-cell", type=int, default=1, metavar="PX",
        help="average the saliency over PX x PX cells first: removes the grid a strided stem "
        "stamps on gradient maps (resnet: 4); default 1 = the raw map",
    )  # fmt: skip
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, mps")
    p.add_argument("--batch-size", type=int, default=32, help="tiles per batch (default 32)")
    p.add_argument("--workers", type=int, default=2, help="tile-reading threads (default 2)")
    p.add_argument(
        "--slide-mpp", type=float, default=None,
        help="µm/px of the slide's level 0 when the file lacks it or is wrong (a slide "
        "without it under a model that records its µm/px is refused)",
    )  # fmt: skip
    p.add_argument(
        "--slide-mpp-source", choices=("flag", "user", "project"), default="flag",
        help="where --slide-mpp came from, as the run records it: flag (default), user "
        "(set in the app), project (a project's saved override)",
    )  # fmt: skip
    p.add_argument(
        "--min-tissue", type=float, default=0.5, metavar="FRACTION",
        help="tissue fraction a tile needs to be scored (default 0.5; lower it for small "
        "or sparse tissue)",
    )  # fmt: skip
    p.add_argument(
        "--overlap", type=float, default=None, metavar="FRACTION",
        help="share of a tile's side that neighbouring tiles share (default 0.5): saliency "
        "is blended across it, so the slide map has no tile seams; 0 is ~4x faster",
    )  # fmt: skip
    p.add_argument(
        "--smooth-um", type=float, default=None, metavar="UM",
        help="smoothing (Gaussian sigma, µm) of the slide-level saliency map over tissue "
        "(default 8; 0: none)",
    )  # fmt: skip
    add_progress_arg(p)
    p.set_defaults(func=run)


def _drop_unstarted_partial(out: Path) -> None:
    """Partial results without one finished tile save a rerun nothing: remove them."""
    import numpy as np

    from pathscaat.inference.resume import PARTIAL_DIR

    try:
        keep = bool(np.load(out / PARTIAL_DIR / "done.npy", mmap_mode="r").any())
    except (OSError, ValueError):
        keep = False  # absent or unreadable: a rerun starts afresh anyway
    if not keep:
        shutil.rmtree(out / PARTIAL_DIR, ignore_errors=True)


def _warn_stain(args: argparse.Namespace, printer: ProgressPrinter) -> None:
    """Before the long run: a fluorescence slide under a brightfield model is a warning."""
    from pathscaat.inference.stain import slide_stain, stain_warning
    from pathscaat.models import read_meta

    try:
        meta = read_meta(args.model)
    except Exception:  # predict_slide reports a bad checkpoint in its own words
        return
    message = stain_warning(args.slide, meta, slide_stain(args.slide, args.slide_mpp))
    if message is None:
        return
    if printer.mode == "json":
        printer(ProgressRecord("stain", 0, 0, message, {"warning": message}))
    else:
        print(f"pathscaat: warning: {message}", file=sys.stderr, flush=True)


def class_counts(tiles_csv: Path) -> dict[str, int]:
    """Tiles per predicted class, most frequent first."""
    with tiles_csv.open(newline="") as fh:
        counts = Counter(row["pred_class"] for row in csv.DictReader(fh))
    return dict(counts.most_common())


def run(args: argparse.Namespace) -> int:
    from pathscaat.inference.predict import predict_slide
    from pathscaat.inference.saliency_layers import SMOOTH_UM
    from pathscaat.inference.slide_survey import DEFAULT_OVERLAP

    start = time.perf_counter()
    with (
        cleaned_on_failure(args.out, discard=_drop_unstarted_partial),
        progress_job(args.progress, abort_on_repeat=STOP_SIGNALS) as (printer, should_stop),
    ):
        _warn_stain(args, printer)
        result = predict_slide(
            args.slide, args.model, args.out,
            saliency=args.saliency, device=args.device, batch_size=args.batch_size,
            workers=args.workers, slide_mpp=args.slide_mpp,
            on_progress=printer, should_stop=should_stop, saliency_cell_px=args.saliency_cell,
            slide_mpp_source=args.slide_mpp_source, min_tissue=args.min_tissue,
            overlap=DEFAULT_OVERLAP if args.overlap is None else args.overlap,
            smooth_um=SMOOTH_UM if args.smooth_um is None else max(0.0, args.smooth_um),
        )  # fmt: skip
    seconds = time.perf_counter() - start
    manifest = result.root / "overlays.json"
    tiles_csv = result.root / (result.tiles_csv or "tiles.csv")
    counts = class_counts(tiles_csv)
    found = ", ".join(f"{name} {n}" for name, n in counts.items()) or "none"
    command = gui_command(args.slide, result.root)
    printer.result(
        [f"{sum(counts.values())} tiles scored in {seconds:.0f} s; predicted classes: {found}",
         f"scale:    {result.scale_text}",
         f"overlays: {manifest}",
         f"tiles:    {tiles_csv}",
         "Look at it in the app:",
         f"    {command}"],
        overlays=str(manifest), tiles_csv=str(tiles_csv), classes=result.classes,
        rasters=[o.file for o in result.overlays], tiles=sum(counts.values()),
        class_counts=counts, seconds=round(seconds, 1), gui_command=command, scale=result.scale,
    )  # fmt: skip
    return 0
