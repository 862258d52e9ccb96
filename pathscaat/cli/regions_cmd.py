"""``pathscaat regions SLIDE --overlays DIR --layer L --threshold T --min-area-um2 A --out F``.

Thresholds one raster of a ``pathscaat infer`` output (``prob_<class>`` or ``saliency``)
into region polygons with holes and measurements, and writes them as annotations: the
format comes from ``--out``'s extension (.geojson QuPath, .xml ASAP, .csv vertices). The
threshold is in the layer's unit, as in the app: a probability; for ``saliency`` a
percentile of the slide's tissue (0.9 keeps its most salient 10 %); for older runs' raw
saliency a fraction of the overlay's scale. Defaults are the app's Make Regions defaults.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from pathscaat.cli.jobs import progress_job
from pathscaat.cli.reporting import add_progress_arg
from pathscaat.progress import PathscaatError, ProgressRecord


def number_in(low: float, high: float) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}, got {text}")
        return value

    return parse


NON_NEGATIVE = number_in(0.0, math.inf)
MPP = number_in(1e-6, 1e6)


def register(sub: Any) -> None:
    p = sub.add_parser("regions", help="threshold an inference overlay into region annotations",
                       description=(__doc__ or "").splitlines()[0].replace("``", ""))  # fmt: skip
    p.add_argument("slide", type=Path, help="the slide the overlays were made for")
    p.add_argument("--overlays", required=True, type=Path,
                   help="output folder of 'pathscaat infer' (holds overlays.json)")  # fmt: skip
    p.add_argument("--layer", required=True, help="prob_<class> (or the class name) or saliency")
    p.add_argument("--threshold", type=number_in(0.0, 1.0), default=None, metavar="T",
                   help="keep pixels at or above T, in the layer's unit: a probability, or for "
                   "saliency a percentile of the slide's tissue (default: 0.5 for a "
                   "probability, 0.9 for saliency)")  # fmt: skip
    p.add_argument("--min-area-um2", type=NON_NEGATIVE, default=None, metavar="A",
                   help="drop regions smaller than A µm² (default 5000; 0 without µm/px)",
                   )  # fmt: skip
    p.add_argument("--smooth-um", type=NON_NEGATIVE, default=None, metavar="UM",
                   help="smooth the layer by a Gaussian of UM µm before tracing (default: "
                   "20 for saliency, 0 for a probability)")  # fmt: skip
    p.add_argument("--min-hole-um2", type=NON_NEGATIVE, default=None, metavar="H",
                   help="fill holes smaller than H µm² (default: the minimum area)")  # fmt: skip
    p.add_argument("--out", required=True, type=Path, help=".geojson, .xml (ASAP) or .csv")
    p.add_argument("--slide-mpp", type=MPP, default=None, metavar="UM",
                   help="level-0 µm/px when the slide file lacks it or is wrong")  # fmt: skip
    add_progress_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathscaat.annotations.io import qupath_l0_offset, write_annotations
    from pathscaat.annotations.regions import OverlayRasters, RegionDefaults, regions_from_overlay
    from pathscaat.slides import open_slide

    with open_slide(args.slide, mpp_override=args.slide_mpp) as slide:
        mpp = slide.mpp.x if slide.mpp else None
        dims, offset = slide.dimensions, qupath_l0_offset(slide)
    rasters = OverlayRasters(args.overlays)
    if tuple(rasters.overlays.slide_dims) != tuple(dims):
        raise PathscaatError(
            f"{args.overlays}: these overlays were made for a {rasters.overlays.slide_dims[0]} x "
            f"{rasters.overlays.slide_dims[1]} px slide, not {args.slide} ({dims[0]} x "
            f"{dims[1]}); choose the inference output of this slide"
        )
    layer = rasters.layer(args.layer)  # fail on a wrong name before any progress
    defaults = RegionDefaults.for_layer(layer.info)
    threshold = defaults.threshold if args.threshold is None else args.threshold
    min_area = args.min_area_um2
    if min_area is None:
        min_area = defaults.min_area_um2 if mpp else 0.0
    smooth = defaults.smooth_um if args.smooth_um is None else args.smooth_um
    with progress_job(args.progress) as (printer, _):
        said = f"{defaults.unit}: keeps {defaults.describe(threshold)}"
        printer(ProgressRecord("regions", 0, 1, f"thresholding {args.layer} at {threshold:g} "
                                                f"({said})"))  # fmt: skip
        regions = regions_from_overlay(
            layer, threshold, min_area, mpp=mpp, min_hole_um2=args.min_hole_um2,
            smooth_um=smooth,
        )  # fmt: skip
        write_annotations(args.out, regions, l0_offset=offset)
        printer(ProgressRecord("regions", 1, 1, f"{len(regions)} regions"))
    total_um2 = sum(r.measurements.get("Area µm^2", math.nan) for r in regions)
    area = f", {total_um2:.0f} µm² in all" if regions and not math.isnan(total_um2) else ""
    hint = "" if regions else " (lower --threshold or --min-area-um2 to find some)"
    printer.result(
        [f"{len(regions)} regions{area}{hint} -> {args.out}"],
        regions=len(regions), out=str(args.out), area_um2=total_um2 if regions else 0.0,
        threshold=threshold, unit=defaults.unit, smooth_um=smooth, min_area_um2=min_area,
    )  # fmt: skip
    return 0
