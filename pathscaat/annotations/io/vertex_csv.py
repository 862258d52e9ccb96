"""A CSV of polygon vertices, as Slideflow reads and writes ROIs: read and write.

One row per vertex: ``roi_name, x_base, y_base`` (header case ignored; Slideflow's own
converter writes ``ROI_name, X_base, Y_base``), consecutive rows with the same name forming
one polygon, in level-0 px of the full image. An optional ``label`` column is the class.
On write, each polygon part's exterior is one ROI named by the object's name, or its id
when the name is missing or shared; holes, lines and points have no place in this format
and are left out (logged).
"""

from __future__ import annotations

import csv
import io
import logging
import math
import uuid
from collections.abc import Iterable
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.io import shapes
from pathscaat.annotations.io.base import (
    FRAME_LEVEL0,
    AnnotationFileError,
    ReadResult,
    file_error,
    read_text,
    write_atomic,
)
from pathscaat.annotations.model import Annotation, PathClass, ToolShape

log = logging.getLogger(__name__)

COLUMNS = ("roi_name", "x_base", "y_base")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _rois(path: str | Path, text: str) -> list[tuple[str, str, int, list[shapes.XY]]]:
    """(name, label, first line, vertices) of each run of rows with one name."""
    rows = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(rows, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise file_error(
            path,
            "line 1",
            f"no {', '.join(missing)} column; expected a header "
            "roi_name,x_base,y_base as Slideflow writes it",
        )
    i_name, i_x, i_y = (header.index(c) for c in COLUMNS)
    i_label = header.index("label") if "label" in header else None
    rois: list[tuple[str, str, int, list[shapes.XY]]] = []
    for line_no, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            name = row[i_name].strip()
            xy = (float(row[i_x]), float(row[i_y]))
        except (IndexError, ValueError):
            raise file_error(
                path,
                f"line {line_no}",
                f"{row!r} is not a name and two numbers (x_base, y_base); fix or remove the row",
            ) from None
        label = row[i_label].strip() if i_label is not None and i_label < len(row) else ""
        if not rois or rois[-1][0] != name:
            rois.append((name, label, line_no, []))
        rois[-1][3].append(xy)
    return rois


def read_vertex_csv(path: str | Path) -> ReadResult:
    """Read a vertex CSV (see the module docstring)."""
    rois = _rois(path, read_text(path))
    result = ReadResult([], [], FRAME_LEVEL0)
    for name, label, line_no, points in rois:
        try:
            geometry, why = shapes.clean(shapes.polygon(points))
        except ValueError as exc:
            result.skipped.append(f"line {line_no} (ROI {name!r}): {exc}; skipped")
            continue
        if why:
            result.repaired.append(f"line {line_no} (ROI {name!r}): {why}")
        result.annotations.append(
            Annotation(
                geometry,
                id=name if _is_uuid(name) else str(uuid.uuid4()),
                name=None if _is_uuid(name) else (name or None),
                path_class=PathClass.named(label) if label else None,
                tool=ToolShape.POLYGON,
            )
        )
    if result.skipped and not result.annotations:
        raise AnnotationFileError(
            f"{path}: {result.skipped[0].removesuffix('; skipped')}; no ROI could be read"
        )
    return result


def _exteriors(geom: BaseGeometry) -> list[list[tuple[float, float]]]:
    if geom.geom_type == "Polygon":
        return [list(geom.exterior.coords)[:-1]]  # type: ignore[attr-defined]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [ring for g in geom.geoms for ring in _exteriors(g)]  # type: ignore[attr-defined]
    return []


def _rows(ann: Annotation, unique_name: bool) -> list[list[str]]:
    rings = _exteriors(ann.geometry)
    if not rings or any(getattr(g, "interiors", ()) for g in _polygons(ann.geometry)):
        log.warning(
            "vertex CSV: %s of %s left out (only polygon outlines fit)",
            "holes" if rings else "the shape",
            ann.id,
        )
    if any(not math.isfinite(v) for ring in rings for xy in ring for v in xy):
        raise AnnotationFileError(
            f"object {ann.id} has a NaN or infinite vertex, which a vertex CSV cannot hold; "
            "delete or redraw it"
        )
    base = ann.name if unique_name and ann.name and len(rings) == 1 else ann.id
    label = ann.class_name or ""
    return [
        [base if len(rings) == 1 else f"{base}_{j + 1}", repr(float(x)), repr(float(y)), label]
        for j, ring in enumerate(rings)
        for x, y in ring
    ]


def write_vertex_csv(path: str | Path, annotations: Iterable[Annotation]) -> None:
    """Write polygon exteriors as ``roi_name,x_base,y_base,label`` rows."""
    objs = list(annotations)
    name_count: dict[str, int] = {}
    for ann in objs:
        if ann.name:
            name_count[ann.name] = name_count.get(ann.name, 0) + 1
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([*COLUMNS, "label"])
    for ann in objs:
        writer.writerows(_rows(ann, name_count.get(ann.name or "", 0) == 1))
    write_atomic(path, buffer.getvalue())


def _polygons(geom: BaseGeometry) -> list[BaseGeometry]:
    if geom.geom_type == "Polygon":
        return [geom]
    return [g for g in getattr(geom, "geoms", ()) if g.geom_type == "Polygon"]
