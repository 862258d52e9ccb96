"""What the Export dialog asks for, and the plain function that does it (in a worker).

Each output is one call into the core (``pathscaat.annotations.export`` and ``io``), the
same calls ``pathscaat export`` makes, so the app and the command line write the same
files: ``<stem>.geojson`` (QuPath's frame), ``<stem>.xml`` (ASAP), ``<stem>.csv``
(table), ``crops/``, ``<stem>.html`` (report) and ``patches/`` (+ ``manifest.csv``).
With ``measure_dirs`` (the overlay sets on the slide) every object is first measured
from each of them (:func:`pathscaat.annotations.measure.measure_annotations`), as
``pathscaat export --overlays`` does.
Crops and patches resume: a second export skips the files a first one finished.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pathscaat.annotations.model import Annotation
from pathscaat.progress import OnProgress, ProgressRecord, ShouldStop, never_stop, no_progress

OUTPUT_LABELS = {
    "geojson": "QuPath GeoJSON (.geojson)",
    "asap": "ASAP XML (.xml)",
    "csv": "Table of measurements (.csv)",
    "crops": "Image crops with masks (crops/)",
    "report": "Printable HTML report (.html)",
    "patches": "Training patches by class (patches/)",
}
OUTPUTS = tuple(OUTPUT_LABELS)
DEFAULT_OUTPUTS = ("geojson", "csv", "report")


@dataclass(frozen=True)
class ExportRequest:
    """Everything one export needs: what, of which objects, where, at which scale."""

    out_dir: Path
    outputs: tuple[str, ...]
    annotations: tuple[Annotation, ...]
    slide_path: Path
    mpp: float = 0.5
    patch_px: int = 224
    overlays_dir: Path | None = None
    measure_dirs: tuple[Path, ...] = ()


@dataclass
class ExportOutcome:
    written: dict[str, Path] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def run_export(
    req: ExportRequest, slide: Any, *, on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> ExportOutcome:  # fmt: skip
    """Write every output of ``req`` for the open ``slide``; JobCancelled on stop."""
    from pathscaat.progress import JobCancelled

    req.out_dir.mkdir(parents=True, exist_ok=True)
    if req.measure_dirs:
        from pathscaat.annotations.measure import measure_annotations
        from pathscaat.annotations.overlay_rasters import OverlayRasters

        measured = measure_annotations(
            req.annotations, [OverlayRasters(d) for d in req.measure_dirs],
            on_progress=on_progress, should_stop=should_stop,
        )  # fmt: skip
        req = dataclasses.replace(req, annotations=tuple(measured))
    outcome = ExportOutcome()
    steps = _steps(req, slide, outcome, on_progress, should_stop)
    for i, name in enumerate(req.outputs):
        if should_stop():
            raise JobCancelled(f"export stopped before {name}")
        on_progress(ProgressRecord("export", i, len(req.outputs), OUTPUT_LABELS[name]))
        outcome.written[name] = steps[name]()
    on_progress(ProgressRecord("export", len(req.outputs), len(req.outputs), "done"))
    return outcome


def _steps(
    req: ExportRequest, slide: Any, outcome: ExportOutcome, on_progress: OnProgress,
    should_stop: ShouldStop,
) -> dict[str, Callable[[], Path]]:  # fmt: skip
    """One closure per output; imports happen only for the outputs asked for."""
    out, stem, anns = req.out_dir, req.slide_path.stem, list(req.annotations)
    overlays = _overlays(req.overlays_dir)
    mpp = slide.mpp.x if slide.mpp else None

    def geojson() -> Path:
        from pathscaat.annotations.io import qupath_l0_offset, write_annotations

        write_annotations(out / f"{stem}.geojson", anns, l0_offset=qupath_l0_offset(slide))
        return out / f"{stem}.geojson"

    def asap() -> Path:
        from pathscaat.annotations.io import write_annotations

        write_annotations(out / f"{stem}.xml", anns)
        return out / f"{stem}.xml"

    def csv() -> Path:
        from pathscaat.annotations.export.table import write_table

        return write_table(out / f"{stem}.csv", anns, mpp=mpp)

    def crops() -> Path:
        from pathscaat.annotations.export.crops import export_crops

        res = export_crops(slide, anns, out / "crops", mpp=req.mpp, outline=True,
                           overlays=overlays, on_progress=on_progress,
                           should_stop=should_stop)  # fmt: skip
        outcome.skipped += [f"crops: {s}" for s in res.skipped]
        return res.folder

    def report() -> Path:
        from pathscaat.annotations.export.report import write_report

        return write_report(out / f"{stem}.html", slide, anns, overlays=overlays,
                            on_progress=on_progress, should_stop=should_stop)  # fmt: skip

    def patches() -> Path:
        from pathscaat.annotations.export.patches import export_patches

        res = export_patches(req.slide_path, anns, out / "patches", mpp=req.mpp,
                             tile_px=req.patch_px, slide_mpp=mpp, on_progress=on_progress,
                             should_stop=should_stop)  # fmt: skip
        outcome.skipped += [f"patches: {s}" for s in res.skipped]
        return res.manifest

    return {"geojson": geojson, "asap": asap, "csv": csv, "crops": crops, "report": report,
            "patches": patches}  # fmt: skip


def _overlays(folder: Path | None) -> Any:
    if folder is None:
        return None
    from pathscaat.annotations.overlay_rasters import OverlayRasters

    return OverlayRasters(folder)
