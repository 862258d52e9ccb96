"""``pathscaat export SLIDE --annotations FILE --out DIR``: regions as files others use.

Each flag adds one output under DIR (``<stem>`` is the slide's file name without suffix):
``--crops`` ``crops/`` (image, mask, with ``--outline`` the outline, with ``--overlays``
the saliency), ``--csv`` ``<stem>.csv``, ``--report`` ``<stem>.html`` (self-contained,
printable), ``--patches`` ``patches/<class>/`` + ``patches/manifest.csv`` (training tiles
that ``pathscaat train`` reads), ``--geojson`` ``<stem>.geojson`` (QuPath), ``--asap``
``<stem>.xml``. With no flag: crops, CSV, report and GeoJSON. Crops and patches are
resumable: run the same command again to finish an interrupted export.

``--overlays DIR`` (repeatable) and ``--project DIR`` (the runs the project recorded for
this slide) measure every annotation from every run: mean and max of each class
probability, mean saliency and saliency share, in the CSV, report and GeoJSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pathscaat.cli.jobs import STOP_SIGNALS, progress_job
from pathscaat.cli.regions_cmd import MPP, number_in
from pathscaat.cli.reporting import ProgressPrinter, add_progress_arg
from pathscaat.outdir import check_writable, cleaned_on_failure
from pathscaat.progress import PathscaatError, ShouldStop

OUTPUT_HELP = {
    "crops": "crops/: each region's image and mask at --mpp",
    "csv": "<stem>.csv: one row per annotation (areas, centroids, measurements)",
    "report": "<stem>.html: a self-contained, printable report",
    "patches": "patches/<class>/ + manifest.csv: training tiles for 'pathscaat train'",
    "geojson": "<stem>.geojson: QuPath GeoJSON",
    "asap": "<stem>.xml: ASAP XML",
}
OUTPUTS = tuple(OUTPUT_HELP)
DEFAULT_OUTPUTS = ("crops", "csv", "report", "geojson")


def register(sub: Any) -> None:
    p = sub.add_parser("export", help="export annotations: crops, CSV, report, patches, GeoJSON",
                       description=(__doc__ or "").splitlines()[0].replace("``", ""))  # fmt: skip
    p.add_argument("slide", type=Path, help="the slide the annotations belong to")
    p.add_argument("--annotations", required=True, type=Path,
                   help=".geojson/.json, .xml (ASAP, ImageScope), .annotations, .csv")  # fmt: skip
    p.add_argument("--out", required=True, type=Path, help="output folder")
    for name in OUTPUTS:
        p.add_argument(f"--{name}", action="store_true", help=OUTPUT_HELP[name])
    p.add_argument("--mpp", type=MPP, default=0.5, metavar="UM",
                   help="µm/px of crops and patches (default 0.5)")  # fmt: skip
    p.add_argument("--size", type=int, default=224, metavar="PX", help="patch side (default 224)")
    p.add_argument("--min-overlap", type=number_in(0.01, 1.0), default=0.5, metavar="F",
                   help="share of a patch inside its polygon (default 0.5)")  # fmt: skip
    p.add_argument("--format", choices=("png", "tiff"), default="png", help="crop image format")
    p.add_argument("--outline", action="store_true", help="also write crops with the outline")
    p.add_argument("--overlays", type=Path, action="append", default=None, metavar="DIR",
                   help="'pathscaat infer' output (repeat for several runs): measures every "
                   "annotation; the first with saliency is blended into crops and report")
    p.add_argument("--project", type=Path, default=None, metavar="DIR",
                   help="a project holding this slide: its recorded runs measure the "
                   "annotations too")  # fmt: skip
    p.add_argument("--slide-mpp", type=MPP, default=None, metavar="UM",
                   help="level-0 µm/px when the slide file lacks it or is wrong")  # fmt: skip
    add_progress_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathscaat.annotations.io import qupath_l0_offset, read_annotations
    from pathscaat.annotations.measure import measure_annotations
    from pathscaat.annotations.overlay_rasters import OverlayRasters
    from pathscaat.annotations.placement import off_slide
    from pathscaat.slides import open_slide

    wanted = [n for n in OUTPUTS if getattr(args, n)] or list(DEFAULT_OUTPUTS)
    if args.size < 8:
        raise PathscaatError(f"--size must be at least 8 px, got {args.size}")
    runs = [OverlayRasters(d) for d in [*(args.overlays or []), *_project_runs(args)]]
    overlays = next((r for r in runs if r.of_kind("saliency")), None)
    written: dict[str, str] = {}
    with (
        cleaned_on_failure(args.out),  # a failed export leaves no empty folders behind
        open_slide(args.slide, mpp_override=args.slide_mpp) as slide,
        progress_job(args.progress, abort_on_repeat=STOP_SIGNALS) as (printer, should_stop),
    ):
        offset = qupath_l0_offset(slide)
        read = read_annotations(args.annotations, l0_offset=offset)
        check_writable(args.out, "the export")
        _log_lines(printer, "skipped", read.skipped)
        if read.repaired:
            printer.event("log", message=read.repaired_text())
        if not read.annotations:
            raise PathscaatError(
                f"{args.annotations}: no annotations in the file; nothing to export"
            )
        placed = off_slide(read.annotations, slide.dimensions)
        if placed is not None:
            printer.event("log", message=f"warning: {placed.message()}; their crops are "
                          "skipped")  # fmt: skip
        annotations = measure_annotations(read.annotations, runs, on_progress=printer,
                                          should_stop=should_stop)  # fmt: skip
        job = _Job(args, slide, annotations, overlays, offset, printer, should_stop)
        for name in wanted:
            written[name] = job.run(name)
    printer.result([f"{name}: {path}" for name, path in written.items()],
                   annotations=len(read.annotations), outputs=written)  # fmt: skip
    return 0


SHOWN_LINES = 10


def _log_lines(printer: ProgressPrinter, prefix: str, lines: list[str]) -> None:
    """The first :data:`SHOWN_LINES` of ``lines``, then how many more (a 77,836-feature
    file mostly off the slide must not print 77,836 lines)."""
    for line in lines[:SHOWN_LINES]:
        printer.event("log", message=f"{prefix}: {line}")
    if len(lines) > SHOWN_LINES:
        printer.event("log", message=f"{prefix}: ... and {len(lines) - SHOWN_LINES} more")


def _project_runs(args: argparse.Namespace) -> list[Path]:
    """The output folders of the runs ``--project`` recorded for the slide."""
    if args.project is None:
        return []
    from pathscaat.project import Project

    with Project.open(args.project, read_only=True) as project:
        slide = Path(args.slide).resolve()
        record = next((s for s in project.slides() if s.found and s.path == slide), None)
        if record is None:
            raise PathscaatError(
                f"{args.slide} is not a slide of the project {args.project}; add it with "
                "'pathscaat project add', or give its runs with --overlays DIR"
            )
        return [run.output_dir for run in project.runs(record.id)]


class _Job:
    """One export run: the shared inputs, and one method per output."""

    def __init__(
        self, args: argparse.Namespace, slide: Any, annotations: list[Any], overlays: Any,
        offset: tuple[float, float], printer: ProgressPrinter, should_stop: ShouldStop,
    ) -> None:  # fmt: skip
        self.args, self.slide, self.annotations, self.overlays = args, slide, annotations, overlays
        self.offset, self.printer, self.should_stop = offset, printer, should_stop
        self.out: Path = args.out
        self.stem = Path(args.slide).stem
        self.out.mkdir(parents=True, exist_ok=True)

    def run(self, name: str) -> str:
        return str(getattr(self, f"_{name}")())

    def _target(self, suffix: str) -> Path:
        path = self.out / f"{self.stem}{suffix}"
        if path.exists() and path.resolve() == Path(self.args.annotations).resolve():
            raise PathscaatError(f"{path} is the input file; choose another --out folder")
        return path

    def _crops(self) -> Path:
        from pathscaat.annotations.export.crops import export_crops

        res = export_crops(
            self.slide, self.annotations, self.out / "crops", mpp=self.args.mpp,
            fmt=self.args.format, outline=self.args.outline, overlays=self.overlays,
            on_progress=self.printer, should_stop=self.should_stop,
        )  # fmt: skip
        _log_lines(self.printer, "crops: skipped", res.skipped)
        return res.folder

    def _csv(self) -> Path:
        from pathscaat.annotations.export.table import write_table

        mpp = self.slide.mpp.x if self.slide.mpp else None
        return write_table(self._target(".csv"), self.annotations, mpp=mpp)

    def _report(self) -> Path:
        from pathscaat.annotations.export.report import write_report

        return write_report(
            self._target(".html"), self.slide, self.annotations, overlays=self.overlays,
            on_progress=self.printer, should_stop=self.should_stop,
        )  # fmt: skip

    def _patches(self) -> Path:
        from pathscaat.annotations.export.patches import export_patches

        res = export_patches(
            self.args.slide, self.annotations, self.out / "patches", mpp=self.args.mpp,
            tile_px=self.args.size, min_overlap=self.args.min_overlap,
            slide_mpp=self.args.slide_mpp, on_progress=self.printer,
            should_stop=self.should_stop,
        )  # fmt: skip
        _log_lines(self.printer, "patches: skipped", res.skipped)
        return res.manifest

    def _geojson(self) -> Path:
        from pathscaat.annotations.io import write_annotations

        path = self._target(".geojson")
        write_annotations(path, self.annotations, l0_offset=self.offset)
        return path

    def _asap(self) -> Path:
        from pathscaat.annotations.io import write_annotations

        path = self._target(".xml")
        write_annotations(path, self.annotations)
        return path
