"""A CSV table of annotations: one row each, geometry figures in level-0 px and µm.

Columns: number (as the report and its thumbnail number them), object type, class, name,
area (µm²), perimeter (µm: every ring, holes included, as shapely's ``length``), centroid
and bounds in level-0 px and in µm, then every measurement any annotation has (in order
of first appearance; empty where an annotation lacks it; an area measurement is left out:
it would repeat ``area_um2``), and last the object's id (the GeoJSON feature's, to join
the two). Numbers are rounded to what they can mean: areas to 0.1 µm², lengths and µm
coordinates to 0.01 µm, pixel coordinates to 0.1 px, measurements to 4 significant
digits (whole numbers from 1000), never in exponent form. Without a slide µm/px the µm
columns are ``NaN``. The file is written through a temp file and a rename, so a reader
never sees half a table.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pathscaat.annotations.model import Annotation
from pathscaat.atomic import atomic_path

BASE_COLUMNS = (
    "number", "object_type", "class", "name", "area_um2", "perimeter_um",
    "centroid_l0_x", "centroid_l0_y", "centroid_x_um", "centroid_y_um",
    "l0_min_x", "l0_min_y", "l0_max_x", "l0_max_y",
    "min_x_um", "min_y_um", "max_x_um", "max_y_um",
)  # fmt: skip
ID_COLUMN = "id"
AREA_MEASUREMENTS = frozenset({"area µm^2", "area µm²", "area um^2", "area_um2"})
"""Measurement names that repeat the area column (regions carry ``Area µm^2``)."""


def readable(value: float, column: str = "") -> str:
    """``value`` as the CSV writes it in ``column`` (see the module docstring)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if column.endswith("_um2"):
        return f"{value:.1f}"
    if column.endswith("_um"):
        return f"{value:.2f}"
    if column.startswith(("l0_", "centroid_l0_")):
        return f"{value:.1f}"
    if abs(value) >= 1000:
        return f"{value:.0f}"
    text = np.format_float_positional(value, precision=4, unique=False, fractional=False,
                                      trim="-")  # fmt: skip
    return text if "." not in text else text.rstrip("0").rstrip(".")


def geometry_row(ann: Annotation, mpp: float | None) -> dict[str, Any]:
    """The base columns of one annotation (numbers as floats)."""
    geom = ann.geometry
    um = mpp if mpp else math.nan
    centroid = geom.centroid if not geom.is_empty else None
    cx, cy = (centroid.x, centroid.y) if centroid is not None else (math.nan, math.nan)
    minx, miny, maxx, maxy = ann.l0_bounds if not geom.is_empty else (math.nan,) * 4
    return {
        "object_type": ann.object_type.value,
        "class": ann.class_name or "",
        "name": ann.name or "",
        "area_um2": float(geom.area) * um * um,
        "perimeter_um": float(geom.length) * um,
        "centroid_l0_x": cx, "centroid_l0_y": cy,
        "centroid_x_um": cx * um, "centroid_y_um": cy * um,
        "l0_min_x": minx, "l0_min_y": miny, "l0_max_x": maxx, "l0_max_y": maxy,
        "min_x_um": minx * um, "min_y_um": miny * um,
        "max_x_um": maxx * um, "max_y_um": maxy * um,
    }  # fmt: skip


def measurement_names(annotations: Sequence[Annotation]) -> list[str]:
    """Every measurement name, in order of first appearance, minus the base columns."""
    names: dict[str, None] = {}
    for ann in annotations:
        for key in ann.measurements:
            if key not in BASE_COLUMNS and key.lower() not in AREA_MEASUREMENTS:
                names.setdefault(key, None)
    return list(names)


def table_rows(
    annotations: Iterable[Annotation], mpp: float | None
) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, one dict per annotation) with floats as floats: the CSV and the report."""
    anns = list(annotations)
    extra = measurement_names(anns)
    rows = []
    for number, ann in enumerate(anns, start=1):
        row: dict[str, Any] = {"number": number, **geometry_row(ann, mpp)}
        row.update({k: ann.measurements.get(k, "") for k in extra})
        row[ID_COLUMN] = ann.id
        rows.append(row)
    return [*BASE_COLUMNS, *extra, ID_COLUMN], rows


def write_table(path: str | Path, annotations: Iterable[Annotation], *, mpp: float | None) -> Path:
    """Write the table to ``path`` (CSV, UTF-8, ``NaN`` for unknown numbers)."""
    columns, rows = table_rows(annotations, mpp)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: readable(v, k) if isinstance(v, float) else v for k, v in row.items()}
            )
    return target
