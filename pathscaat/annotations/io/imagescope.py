"""Aperio ImageScope XML (``<Annotations><Annotation><Regions><Region><Vertices>``), read.

Each ``<Annotation>`` is a layer: its ``Name`` (or its "Description" attribute) becomes the
classification, its ``LineColor`` (a Windows COLORREF) the class colour. Each ``<Region>``
becomes one object, named by its ``Text``; region ``Type`` 1 is a rectangle, 2 an ellipse
(its bounding corners), 3 and 4 arrows and rulers (lines), 5 a point, anything else a
polygon. Regions with ``NegativeROA="1"`` are holes cut from the layer's regions they lie
in. Coordinates are level-0 px of the full image.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.io import shapes
from pathscaat.annotations.io.base import (
    FRAME_LEVEL0,
    AnnotationFileError,
    ReadResult,
    file_error,
)
from pathscaat.annotations.io.xml_safe import colour_from_colorref, number, parse_xml
from pathscaat.annotations.model import Annotation, PathClass, ToolShape

Builder = Callable[[list[shapes.XY]], BaseGeometry]

_TYPES: dict[str, tuple[Builder, ToolShape]] = {
    "0": (shapes.polygon, ToolShape.POLYGON),
    "1": (shapes.rectangle, ToolShape.RECTANGLE),
    "2": (shapes.ellipse, ToolShape.ELLIPSE),
    "3": (shapes.line, ToolShape.POLYLINE),
    "4": (shapes.line, ToolShape.POLYLINE),
    "5": (shapes.points_geometry, ToolShape.POINTS),
}


def _layer_class(layer: ET.Element) -> PathClass | None:
    name = (layer.get("Name") or "").strip()
    if not name:
        for attr in layer.iter("Attribute"):
            if attr.get("Name") == "Description" and (attr.get("Value") or "").strip():
                name = (attr.get("Value") or "").strip()
                break
    if not name:
        return None
    return PathClass.named(name, colour_from_colorref(layer.get("LineColor")))


def _region_geometry(
    region: ET.Element, vertex_tag: str, types: dict[str, tuple[Builder, ToolShape]]
) -> tuple[BaseGeometry, ToolShape]:
    try:
        points = [(number(v.get("X")), number(v.get("Y"))) for v in region.iter(vertex_tag)]
    except ValueError:
        raise ValueError("a vertex has an X or Y that is not a number") from None
    builder, tool = types.get(
        (region.get("Type") or "").strip().lower(), (shapes.fallback, ToolShape.IMPORTED)
    )
    return builder(points), tool


def _layer_shapes(
    layer: ET.Element, li: int, vertex_tag: str, types: dict[str, tuple[Builder, ToolShape]],
    negative_true: tuple[str, ...], result: ReadResult,
) -> tuple[list[tuple[BaseGeometry, ToolShape, str | None, str]], list[tuple[BaseGeometry, str]]]:
    """The layer's positive regions (shape, tool, name, where) and its negative ones, each
    checked and repaired; what cannot be read is skipped into ``result``."""  # fmt: skip
    positives: list[tuple[BaseGeometry, ToolShape, str | None, str]] = []
    negatives: list[tuple[BaseGeometry, str]] = []
    for ri, region in enumerate(layer.iter("Region")):
        where = f"layer {li} ({layer.get('Name') or ''!r}) region {ri}"
        try:
            geometry, tool = _region_geometry(region, vertex_tag, types)
            geometry, why = shapes.clean(geometry)
        except ValueError as exc:
            result.skipped.append(f"{where}: {exc}; skipped")
            continue
        if why:
            result.repaired.append(f"{where}: {why}")
        if (region.get("NegativeROA") or "0").strip() in negative_true:
            negatives.append((geometry, where))
        else:
            name = (region.get("Text") or "").strip() or None
            positives.append((geometry, tool, name, where))
    return positives, negatives


def read_layers(
    path: str | Path,
    root: ET.Element,
    vertex_tag: str,
    types: dict[str, tuple[Builder, ToolShape]],
    negative_true: tuple[str, ...],
    extra_key: str,
) -> ReadResult:
    """Shared by ImageScope and HALO: layers of regions, holes from negative regions."""
    result = ReadResult([], [], FRAME_LEVEL0)
    for li, layer in enumerate(root.iter("Annotation")):
        path_class = _layer_class(layer)
        positives, negatives = _layer_shapes(
            layer, li, vertex_tag, types, negative_true, result
        )
        cut, skipped = shapes.cut_holes([p[0] for p in positives], negatives)
        result.skipped.extend(skipped)
        for geometry, (original, tool, name, where) in zip(cut, positives, strict=True):
            if geometry.is_empty:
                result.skipped.append(f"{where}: negative regions cover all of it; skipped")
                continue
            holed = geometry is not original
            result.annotations.append(
                Annotation(
                    geometry,
                    name=name,
                    path_class=path_class,
                    tool=ToolShape.IMPORTED if holed else tool,
                    extra={extra_key: {"layer": layer.get("Name") or "", "layer_index": li}},
                )
            )
    if result.skipped and not result.annotations:
        raise AnnotationFileError(
            f"{path}: {result.skipped[0].removesuffix('; skipped')}; no region could be read"
        )
    return result


def read_imagescope(path: str | Path) -> ReadResult:
    """Read an Aperio ImageScope XML file (see the module docstring)."""
    root = parse_xml(path)
    if root.tag != "Annotations":
        raise file_error(
            path,
            None,
            f"the root element is <{root.tag}>, not <Annotations>; "
            "is this an Aperio ImageScope file?",
        )
    return read_layers(path, root, "Vertex", _TYPES, ("1", "true", "True"), "imagescope")
