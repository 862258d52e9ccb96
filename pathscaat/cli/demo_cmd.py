"""``pathscaat demo``: a synthetic slide through info and tiling, to see the loop work.

Writes a small "PathSCAAT synthetic" slide (not real tissue) with planted atypical and
inflamed regions, prints what ``info`` sees, tiles it at 0.5 µm/px, extracts patches
labelled by the planted regions, and prints where everything is.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pathscaat.cli.reporting import ProgressPrinter, add_progress_arg


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run the loop on a generated synthetic slide",
        description=(__doc__ or "").splitlines()[0].replace("``", ""),
    )
    p.add_argument(
        "--out", default="pathscaat-demo", help="output folder (default ./pathscaat-demo)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic slide")
    add_progress_arg(p)
    p.set_defaults(func=run)


def _info_text(info: dict[str, Any]) -> str:
    mpp = info["mpp"]
    mpp_text = "unknown" if mpp is None else f"{mpp['x']:.4g} µm/px (source: {mpp['source']})"
    w, h = info["dimensions"]
    return "\n".join([
        f"slide:      {info['path']}",
        f"format:     {info['vendor']} (backend {info['backend']})",
        f"dimensions: {w} x {h} px, {info['level_count']} levels",
        f"mpp:        {mpp_text}",
    ])  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from pathscaat.demo import label_counts, run_demo

    printer = ProgressPrinter(args.progress)
    try:
        state = run_demo(args.out, seed=args.seed, on_progress=printer)
    finally:
        printer.close()
    tiling = state.tiling
    assert tiling is not None and tiling.manifest is not None
    counts = label_counts(tiling.manifest)
    printer.event(
        "result",
        out=str(state.out_dir),
        slide=str(state.slide),
        regions=str(state.regions),
        grid=str(tiling.grid_file),
        manifest=str(tiling.manifest),
        patches=counts,
    )
    if args.progress == "json":
        return 0
    print(_info_text(state.info))
    print(
        f"\n{len(tiling.grid)} tissue tiles at 0.5 µm/px; patches per label: {json.dumps(counts)}"
    )
    print(f"\nslide:            {state.slide}")
    print(f"planted regions:  {state.regions}")
    print(f"tissue mask:      {tiling.tissue_png}")
    print(f"grid picture:     {tiling.grid_png}")
    print(f"grid file:        {tiling.grid_file}")
    print(f"patches:          {tiling.manifest}")
    print("\nAll of it is PathSCAAT synthetic data, generated for this demo (not real tissue).")
    return 0
