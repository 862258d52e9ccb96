"""``pathscaat infer``: a checkpoint over one slide -> overlay set (heatmaps, saliency, CSV).

SIGINT and SIGTERM ask the job to stop after the current batch (finished tiles are kept;
the same command resumes); the exit code is then 130.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pathscaat.cli.jobs import STOP_SIGNALS, progress_job
from pathscaat.cli.reporting import add_progress_arg


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
        help="µm/px of the slide's level 0 when the file lacks it or is wrong",
    )  # fmt: skip
    add_progress_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathscaat.inference.predict import predict_slide

    with progress_job(args.progress, abort_on_repeat=STOP_SIGNALS) as (printer, should_stop):
        result = predict_slide(
            args.slide, args.model, args.out,
            saliency=args.saliency, device=args.device, batch_size=args.batch_size,
            workers=args.workers, slide_mpp=args.slide_mpp,
            on_progress=printer, should_stop=should_stop, saliency_cell_px=args.saliency_cell,
        )  # fmt: skip
    manifest = result.root / "overlays.json"
    printer.result(
        [str(manifest)],
        overlays=str(manifest),
        tiles_csv=str(result.root / (result.tiles_csv or "tiles.csv")),
        classes=result.classes,
        rasters=[o.file for o in result.overlays],
    )
    return 0
