"""Every slide's annotations of a project to one file each (QuPath GeoJSON, ASAP XML, CSV).

Files are named after the slide (``<stem>.geojson``; ``<stem>-<id>`` where two slides share
a stem) and written in QuPath's frame using the offset recorded when the slide was added,
so this works even when the slide files are not reachable. Each file is written under a
temporary name and renamed, so a cancelled or killed export leaves only whole files;
running it again rewrites them.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pathscaat.annotations.io import write_annotations
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from pathscaat.project.slides import SlideRecord
from pathscaat.project.store import Project

EXTENSIONS = {"geojson": ".geojson", "asap": ".xml", "csv": ".csv"}


@dataclass
class ExportResult:
    written: list[Path] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # slides without annotations (no file)


def _file_names(slides: list[SlideRecord], suffix: str) -> dict[int, str]:
    stems = Counter(Path(s.stored_path).stem for s in slides)
    return {
        s.id: (
            Path(s.stored_path).stem
            if stems[Path(s.stored_path).stem] == 1
            else f"{Path(s.stored_path).stem}-{s.id}"
        )
        + suffix
        for s in slides
    }


def export_annotations(
    project: Project,
    out_dir: str | Path,
    fmt: str = "geojson",
    *,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> ExportResult:
    """Write each slide's annotations to ``out_dir``; returns the files written."""
    if fmt not in EXTENSIONS:
        raise PathscaatError(f"unknown export format {fmt!r}; use one of {', '.join(EXTENSIONS)}")
    out = Path(out_dir)
    partial = out / ".partial"
    partial.mkdir(parents=True, exist_ok=True)
    slides = project.slides()
    names = _file_names(slides, EXTENSIONS[fmt])
    result = ExportResult()
    for done, slide in enumerate(slides):
        if should_stop():
            raise JobCancelled(
                f"export stopped after {done} of {len(slides)} slides; "
                f"the files in {out} are complete, run it again for the rest"
            )
        on_progress(ProgressRecord("export", done, len(slides), slide.name))
        objects = project.annotations(slide.id)
        if not objects:
            result.empty.append(slide.name)
            continue
        tmp = partial / names[slide.id]
        try:
            write_annotations(tmp, objects, l0_offset=slide.l0_offset, fmt=fmt)
        except ModuleNotFoundError as exc:  # a writer not built into this version
            raise PathscaatError(
                f"this PathSCAAT cannot write {fmt} files ({exc.name} is "
                "missing); export as geojson instead"
            ) from exc
        os.replace(tmp, out / names[slide.id])
        result.written.append(out / names[slide.id])
    on_progress(ProgressRecord("export", len(slides), len(slides)))
    if not any(partial.iterdir()):
        partial.rmdir()
    return result
