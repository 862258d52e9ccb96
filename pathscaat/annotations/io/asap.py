"""ASAP XML (``<ASAP_Annotations>``), read and written: the format of ASAP and Camelyon.

Each ``<Annotation>`` has a ``Type`` (Polygon, Rectangle, Spline, Dot, PointSet,
Measurement), a ``Name``, a ``Color`` and ``PartOfGroup``; groups (``<Group>``, possibly
nested) carry a colour and become the classification. Coordinates are level-0 px of the
full image. ASAP has no holes or multi-part shapes: on write a MultiPolygon becomes one
annotation per part and holes are dropped (logged); a Spline is read as the polygon through
its control points. What ASAP has and we do not model (the annotation colour, the group's
parent) is kept in ``extra["asap"]``.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.io import shapes
from pathscaat.annotations.io.base import (
    FRAME_LEVEL0,
    AnnotationFileError,
    ReadResult,
    bulk_objects,
    clean_text,
    file_error,
    write_atomic,
)
from pathscaat.annotations.io.xml_safe import colour_from_hex, number, parse_xml
from pathscaat.annotations.model import RGB, Annotation, PathClass, ToolShape

log = logging.getLogger(__name__)

EXTRA_KEY = "asap"
_NO_GROUP = ("", "None", "none")
_DEFAULT_COLOUR = "#F4FA58"  # ASAP's default annotation colour

_READERS: dict[str, tuple[Callable[[list[shapes.XY]], BaseGeometry], ToolShape]] = {
    "polygon": (shapes.polygon, ToolShape.POLYGON),
    "spline": (shapes.polygon, ToolShape.POLYGON),
    "rectangle": (shapes.rectangle, ToolShape.RECTANGLE),
    "dot": (shapes.points_geometry, ToolShape.POINTS),
    "pointset": (shapes.points_geometry, ToolShape.POINTS),
    "measurement": (shapes.line, ToolShape.POLYLINE),
}


def _groups(root: ET.Element) -> dict[str, tuple[RGB | None, str | None]]:
    out: dict[str, tuple[RGB | None, str | None]] = {}
    for group in root.iter("Group"):
        name = group.get("Name")
        if name:
            parent = group.get("PartOfGroup")
            out[name] = (
                colour_from_hex(group.get("Color")),
                None if parent in _NO_GROUP else parent,
            )
    return out


def _vertices(el: ET.Element) -> list[shapes.XY]:
    coords = [c for c in el.iter("Coordinate")]
    try:
        ordered = sorted(coords, key=lambda c: int(c.get("Order", "0")))
    except ValueError:
        ordered = coords
    return [(number(c.get("X")), number(c.get("Y"))) for c in ordered]


def _read_one(
    el: ET.Element, groups: dict[str, tuple[RGB | None, str | None]], repaired: list[str]
) -> Annotation:
    """One annotation; an invalid shape is repaired (why, in ``repaired``); ValueError."""
    kind = (el.get("Type") or "").strip()
    builder, tool = _READERS.get(kind.lower(), (shapes.fallback, ToolShape.IMPORTED))
    try:
        points = _vertices(el)
    except ValueError:
        raise ValueError("a Coordinate has an X or Y that is not a number") from None
    geometry, why = shapes.clean(builder(points))
    if why:
        repaired.append(why)
    group = el.get("PartOfGroup")
    extra: dict[str, Any] = {"type": kind}
    colour = colour_from_hex(el.get("Color"))
    if el.get("Color"):
        extra["color"] = el.get("Color")
    path_class = None
    if group not in _NO_GROUP and group is not None:
        group_colour, parent = groups.get(group, (None, None))
        path_class = PathClass.named(group, group_colour or colour)
        if parent:
            extra["group_parent"] = parent
    return Annotation(
        geometry,
        name=el.get("Name") or None,
        path_class=path_class,
        tool=tool,
        extra={EXTRA_KEY: extra},
    )


def read_asap(path: str | Path) -> ReadResult:
    """Read an ASAP XML file (see the module docstring)."""
    root = parse_xml(path)
    if root.tag != "ASAP_Annotations":
        raise file_error(
            path,
            None,
            f"the root element is <{root.tag}>, not <ASAP_Annotations>; is this an ASAP file?",
        )
    groups = _groups(root)
    result = ReadResult([], [], FRAME_LEVEL0)
    with bulk_objects():
        for i, el in enumerate(root.iter("Annotation")):
            label = el.get("Name") or el.get("Type") or "?"
            why: list[str] = []
            try:
                result.annotations.append(_read_one(el, groups, why))
            except ValueError as exc:
                result.skipped.append(f"annotation {i} ({label!r}): {exc}; skipped")
            result.repaired.extend(f"annotation {i} ({label!r}): {w}" for w in why)
    if result.skipped and not result.annotations:
        raise AnnotationFileError(
            f"{path}: {result.skipped[0].removesuffix('; skipped')}; no annotation could be read"
        )
    return result


# -- writing ------------------------------------------------------------------------------


def _hex(rgb: RGB) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def _parts(ann: Annotation) -> list[tuple[str, list[tuple[float, float]]]]:
    """(ASAP type, vertices) for each part ASAP can draw."""
    geom = ann.geometry
    kind = geom.geom_type
    if kind == "Polygon":
        if list(geom.interiors):  # type: ignore[attr-defined]
            log.warning("ASAP has no holes: the holes of %s were not written", ann.id)
        asap_type = "Rectangle" if shapes.is_rectangle(geom) else "Polygon"
        return [(asap_type, list(geom.exterior.coords)[:-1])]  # type: ignore[attr-defined]
    if kind in ("MultiPolygon", "GeometryCollection", "MultiLineString"):
        return [p for g in geom.geoms for p in _parts(ann.with_changes(geometry=g))]  # type: ignore[attr-defined]
    if kind == "Point":
        return [("Dot", list(geom.coords))]
    if kind == "MultiPoint":
        return [("PointSet", [(p.x, p.y) for p in geom.geoms])]  # type: ignore[attr-defined]
    if kind in ("LineString", "LinearRing"):
        return [("Measurement", list(geom.coords))]
    return []


def _annotation_element(
    parent: ET.Element, ann: Annotation, kind: str, name: str, points: list[tuple[float, float]]
) -> None:
    colour = (ann.extra.get(EXTRA_KEY) or {}).get("color")
    if ann.path_class is not None:
        colour = colour or _hex(ann.path_class.colour)
    el = ET.SubElement(
        parent,
        "Annotation",
        {
            "Name": clean_text(name),
            "Type": kind,
            "PartOfGroup": clean_text(ann.class_name or "None"),
            "Color": colour or _DEFAULT_COLOUR,
        },
    )
    coords = ET.SubElement(el, "Coordinates")
    for order, (x, y) in enumerate(points):
        ET.SubElement(
            coords, "Coordinate", {"Order": str(order), "X": repr(float(x)), "Y": repr(float(y))}
        )


def write_asap(path: str | Path, annotations: Iterable[Annotation]) -> None:
    """Write an ASAP XML file: one group per class, one annotation per drawable part."""
    root = ET.Element("ASAP_Annotations")
    items = ET.SubElement(root, "Annotations")
    classes: dict[str, PathClass] = {}
    for i, ann in enumerate(annotations):
        parts = _parts(ann)
        base = ann.name or f"Annotation {i}"
        for j, (kind, points) in enumerate(parts):
            name = base if len(parts) == 1 else f"{base} (part {j + 1})"
            _annotation_element(items, ann, kind, name, points)
        if ann.path_class is not None:
            classes.setdefault(ann.path_class.name, ann.path_class)
    groups = ET.SubElement(root, "AnnotationGroups")
    for pc in classes.values():
        group = ET.SubElement(
            groups,
            "Group",
            {"Name": clean_text(pc.name), "PartOfGroup": "None", "Color": _hex(pc.colour)},
        )
        ET.SubElement(group, "Attributes")
    ET.indent(root, space="\t")
    write_atomic(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))
