"""``pathscaat annotations convert IN OUT``: annotation files from one tool to another.

Formats come from the extensions: .geojson/.json (QuPath), .xml (ASAP or Aperio ImageScope,
recognised by content; written as ASAP), .annotations (HALO, read only), .csv (vertices, as
Slideflow). ``--slide`` supplies QuPath's frame offset (openslide.bounds-x/y) for GeoJSON.
Prints what was read, what was skipped and why, and what was written; ``--json`` for
scripts. Exit 1 with one line for a file that cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pathscaat.progress import PathscaatError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "annotations",
        help="annotation files: convert between formats",
        description="Annotation files: convert between QuPath, ASAP, "
        "ImageScope, HALO and vertex CSV.",
    )
    actions = parser.add_subparsers(dest="annotations_command", metavar="ACTION")
    convert = actions.add_parser(
        "convert",
        help="convert IN to OUT (formats from the extensions)",
        description=(__doc__ or "").splitlines()[0].replace("``", ""),
    )
    convert.add_argument("input", metavar="IN", help=".geojson/.json, .xml, .annotations, .csv")
    convert.add_argument("output", metavar="OUT", help=".geojson/.json, .xml (ASAP) or .csv")
    convert.add_argument(
        "--slide", default=None, help="the slide the annotations belong to (QuPath frame offset)"
    )
    convert.add_argument("--json", action="store_true", help="print one JSON object")
    convert.set_defaults(func=run_convert)
    parser.set_defaults(func=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _slide_frame(slide_path: str | None) -> tuple[tuple[float, float], tuple[int, int] | None]:
    """The slide's QuPath frame offset and level-0 size (none without ``--slide``)."""
    if slide_path is None:
        return (0.0, 0.0), None
    from pathscaat.annotations.io import qupath_l0_offset
    from pathscaat.slides import open_slide

    with open_slide(slide_path) as slide:
        return qupath_l0_offset(slide), tuple(slide.dimensions)  # type: ignore[return-value]


def run_convert(args: argparse.Namespace) -> int:
    from pathscaat.annotations.io import read_annotations, write_annotations

    src, dst = Path(args.input), Path(args.output)
    if src.exists() and dst.exists() and src.resolve() == dst.resolve():
        raise PathscaatError(f"{dst} is the input file; choose another output name")
    offset, l0_size = _slide_frame(args.slide)
    result = read_annotations(src, l0_offset=offset)
    if not result.annotations:
        raise PathscaatError(f"{src}: no annotations in the file; nothing to convert")
    placed = None
    if l0_size is not None:
        from pathscaat.annotations.placement import off_slide

        placed = off_slide(result.annotations, l0_size)
        if placed is not None:
            print(f"pathscaat: warning: {placed.message()}", file=sys.stderr)
    try:
        write_annotations(dst, result.annotations, l0_offset=offset)
    except OSError as exc:  # the temporary file's name would mean nothing to the user
        raise PathscaatError(
            f"cannot write {dst} ({exc.strerror or exc}); give an OUT path in "
            "a folder that exists and that you can write to"
        ) from exc
    summary = {
        "input": str(src),
        "output": str(dst),
        "read": len(result.annotations),
        "skipped": result.skipped,
        "repaired": result.repaired,
        "frame": result.frame,
        "l0_offset": list(result.l0_offset),
        "outside_slide": placed.outside if placed is not None else 0,
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    offset_note = (
        f", offset {result.l0_offset[0]:g}, {result.l0_offset[1]:g} px"
        if result.l0_offset != (0.0, 0.0)
        else ""
    )
    print(f"read {len(result.annotations)} objects from {src} ({result.frame} frame{offset_note})")
    for reason in result.skipped:
        print(f"skipped: {reason}")
    if result.repaired:
        print(result.repaired_text())
    print(f"wrote {len(result.annotations)} objects to {dst}")
    return 0
