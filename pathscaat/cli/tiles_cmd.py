"""``pathscaat tiles SLIDE``: tissue mask, tile grid and (with ``--extract``) patches.

Writes ``OUT/<stem>.tissue.png``, ``OUT/<stem>.grid.png`` (thumbnail with the grid),
``OUT/<stem>.grid.npz`` and ``OUT/<stem>.tiling.json``; ``--extract`` adds
``OUT/patches/<label>/*.png`` and ``OUT/patches/manifest.csv`` (resumable: run it again to
finish an interrupted extraction).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from pathscaat.cli.jobs import progress_job
from pathscaat.cli.reporting import add_progress_arg
from pathscaat.outdir import check_writable, cleaned_on_failure
from pathscaat.progress import PathscaatError

DEFAULT_MPP = 0.5


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser("tiles", help="tissue mask, tile grid at a µm/px, optional patches",
                       description=(__doc__ or "").splitlines()[0].replace("``", ""))  # fmt: skip
    p.add_argument("slide", help="slide file")
    p.add_argument("--out", required=True, help="output folder")
    _add_grid_args(p)
    _add_extract_args(p)
    add_progress_arg(p)
    p.set_defaults(func=run)


def _add_grid_args(p: argparse.ArgumentParser) -> None:
    scale = p.add_mutually_exclusive_group()
    scale.add_argument(
        "--mpp",
        type=_positive(float),
        default=None,
        metavar="UM",
        help=f"output µm/px of the tiles (default {DEFAULT_MPP})",
    )
    scale.add_argument(
        "--downsample",
        type=_positive(float),
        default=None,
        metavar="D",
        help="tile at level-0 px / D instead of a µm/px (slides without mpp)",
    )
    p.add_argument(
        "--size",
        type=_positive(int),
        default=224,
        metavar="PX",
        help="tile side in output px (default 224)",
    )
    p.add_argument(
        "--overlap",
        type=int,
        default=0,
        metavar="PX",
        help="overlap of neighbouring tiles in output px (default 0)",
    )
    p.add_argument(
        "--min-tissue",
        type=_fraction,
        default=0.5,
        metavar="F",
        help="keep tiles with at least this tissue fraction (default 0.5)",
    )
    p.add_argument(
        "--slide-mpp",
        type=_positive(float),
        default=None,
        metavar="UM",
        help="override the slide's level-0 µm/px (when it has none or a wrong one)",
    )


def _add_extract_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--extract", action="store_true", help="also write the tiles as images")
    p.add_argument(
        "--workers",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="parallel readers for --extract",
    )
    p.add_argument("--label", default=None, help="class folder for --extract (default unlabelled)")
    p.add_argument("--format", choices=("png", "jpg"), default="png", help="patch format")


def run(args: argparse.Namespace) -> int:
    from pathscaat.tiling.job import run_tiling

    if args.overlap < 0 or args.overlap >= args.size:
        raise PathscaatError(f"--overlap must be >= 0 and smaller than --size ({args.size})")
    target = None if args.downsample is not None else (args.mpp or DEFAULT_MPP)
    with cleaned_on_failure(args.out), progress_job(args.progress) as (printer, should_stop):
        check_writable(args.out, "the tiles")
        res = run_tiling(
            args.slide, args.out, tile_px=args.size,
            target_mpp=target,
            downsample=args.downsample, overlap_px=args.overlap,
            min_tissue=args.min_tissue, slide_mpp=args.slide_mpp, extract=args.extract,
            workers=args.workers, label=args.label, fmt=args.format,
            on_progress=printer, should_stop=should_stop,
        )  # fmt: skip
    lines = [
        f"{len(res.grid)} tiles of {res.grid.tile_px} px "
        f"({res.grid.l0_tile_px:.1f} level-0 px each, read at level {res.grid.read_level})",
        f"tissue mask:  {res.tissue_png}",
        f"grid picture: {res.grid_png}",
        f"grid file:    {res.grid_file}",
    ]
    if res.manifest is not None:
        lines.append(f"patches:      {res.manifest}")
    printer.result(
        lines,
        tiles=len(res.grid),
        tissue_png=str(res.tissue_png),
        grid_png=str(res.grid_png),
        grid=str(res.grid_file),
        manifest=None if res.manifest is None else str(res.manifest),
    )
    return 0
