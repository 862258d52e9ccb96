"""A project's annotated slides as patch folders: tiles inside each classified polygon.

Each slide's patches are exported once (``pathscaat.annotations.export.patches``) into
``PROJECT/training-patches/<slide id>-<µm/px>-<px>-<annotations hash>/`` and reused while
its annotations stay the same; changed annotations give a new folder, so no tile of a
deleted or reclassified region ever trains. Slides without a classified polygon, or whose
file is missing, are skipped with a warning.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pathscaat.data.data_source import DataSource
from pathscaat.progress import OnProgress, PathscaatError, ShouldStop

DEFAULT_MPP = 0.5
DEFAULT_TILE_PX = 224
CACHE = "training-patches"


def _annotations_hash(annotations: list[object]) -> str:
    digest = hashlib.sha256()
    for ann in sorted(annotations, key=lambda a: str(getattr(a, "id", ""))):
        geometry = getattr(ann, "geometry", None)
        digest.update(f"{getattr(ann, 'id', '')}\t{getattr(ann, 'class_name', '')}\t".encode())
        digest.update(geometry.wkb if geometry is not None else b"")
    return digest.hexdigest()[:12]


def _wanted(source: DataSource, slide_id: int, path: Path) -> bool:
    if source.slides is None:
        return True
    return bool({str(slide_id), path.name, path.stem} & set(source.slides))


def project_folders(
    source: DataSource, on_progress: OnProgress, should_stop: ShouldStop
) -> tuple[list[DataSource], list[str]]:
    """One folder source per annotated slide of the project, and warnings for the others."""
    from pathscaat.annotations.export.patches import export_patches
    from pathscaat.project import Project

    mpp = source.mpp or DEFAULT_MPP
    tile_px = source.tile_px or DEFAULT_TILE_PX
    folders: list[DataSource] = []
    warnings: list[str] = []
    with Project.open(source.path, read_only=True) as project:
        for record in project.slides():
            if not _wanted(source, record.id, record.path):
                continue
            if not record.found:
                warnings.append(f"slide {record.path} is missing: relink it in the project")
                continue
            annotations = project.annotations(record.id)
            key = f"{record.id}-{mpp:g}mpp-{tile_px}px-{_annotations_hash(list(annotations))}"
            out = source.path / CACHE / key
            try:
                export_patches(
                    record.path, annotations, out, mpp=mpp, tile_px=tile_px,
                    slide_mpp=record.mpp_override, on_progress=on_progress,
                    should_stop=should_stop,
                )  # fmt: skip
            except PathscaatError as exc:
                warnings.append(f"slide {record.path.name} gives no patches: {exc}")
                continue
            folders.append(DataSource("folder", out, mpp=mpp))
    if not folders:
        raise PathscaatError(
            f"no annotated slide of the project {source.path} gives training patches "
            f"({'; '.join(warnings) or 'it has no slides'}); draw and classify regions first"
        )
    return folders, warnings
