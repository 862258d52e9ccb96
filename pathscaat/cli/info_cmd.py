"""``pathscaat info SLIDE``: what a slide is before any work starts on it.

Format, backend, vendor, pyramid levels, µm/px with where it came from, objective power and
associated images; ``--json`` for scripts. A slide that cannot be opened is a user error
(exit 1, one line); bad arguments exit 2.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pathscaat.slides import Slide, open_slide


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of µm/px, got {text}")
    return value


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "info",
        help="describe a slide: levels, µm/px, objective, images",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("slide", help="slide file (SVS, NDPI, MRXS, TIFF, PNG...)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--mpp",
        type=_positive_float,
        default=None,
        metavar="UM",
        help="override level-0 µm/px (when the file has none or a wrong one)",
    )
    parser.set_defaults(func=run)


def describe(slide: Slide) -> dict[str, Any]:
    """Everything ``info`` reports, as plain JSON-able values."""
    mpp = slide.mpp
    return {
        "path": str(slide.path),
        "backend": slide.backend_name,
        "vendor": slide.vendor,
        "dimensions": list(slide.dimensions),
        "level_count": slide.level_count,
        "levels": [
            {"level": i, "width": w, "height": h, "downsample": ds}
            for i, ((w, h), ds) in enumerate(
                zip(slide.level_dimensions, slide.level_downsamples, strict=True)
            )
        ],
        "mpp": None
        if mpp is None
        else {"x": mpp.x, "y": mpp.y, "source": mpp.source, "note": mpp.note},
        "objective_power": slide.objective_power,
        "associated_images": {
            name: {"width": int(img.shape[1]), "height": int(img.shape[0])}
            for name, img in slide.associated_images.items()
        },
    }


def _text(info: dict[str, Any]) -> str:
    mpp = info["mpp"]
    if mpp is None:
        mpp_line = "unknown (set it with --mpp, or in the app)"
    else:
        mpp_line = f"{mpp['x']:.4g} x {mpp['y']:.4g} µm/px (source: {mpp['source']})"
        if mpp["note"]:
            mpp_line += f"\n              {mpp['note']}"
    objective = info["objective_power"]
    lines = [
        f"slide:        {info['path']}",
        f"format:       {info['vendor'] or 'unknown'} (backend {info['backend']})",
        f"dimensions:   {info['dimensions'][0]} x {info['dimensions'][1]} px",
        f"mpp:          {mpp_line}",
        f"objective:    {f'{objective:g}x' if objective else 'unknown'}",
        f"levels:       {info['level_count']}",
    ]
    lines += [
        f"  {lv['level']:>2}: {lv['width']:>7} x {lv['height']:<7} downsample "
        f"{lv['downsample']:.4g}"
        for lv in info["levels"]
    ]
    images = info["associated_images"]
    lines.append(
        "associated:   "
        + (
            ", ".join(f"{name} ({im['width']} x {im['height']})" for name, im in images.items())
            or "none"
        )
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with open_slide(args.slide, mpp_override=args.mpp) as slide:
        info = describe(slide)
    print(json.dumps(info, indent=2) if args.json else _text(info))
    return 0
