"""Indica Labs HALO annotations (``.annotations``, XML), read.

The layout is ImageScope's with HALO's names: ``<Annotation Name LineColor>`` layers of
``<Region Type="Polygon|Rectangle|Ellipse|Ruler|Pin" NegativeROA>`` with ``<V X Y>``
vertices. A layer's name becomes the classification; regions with ``NegativeROA="1"`` are
holes cut from the layer's regions they lie in. Coordinates are level-0 px.
"""

from __future__ import annotations

from pathlib import Path

from pathscaat.annotations.io import shapes
from pathscaat.annotations.io.base import ReadResult, file_error
from pathscaat.annotations.io.imagescope import Builder, read_layers
from pathscaat.annotations.io.xml_safe import parse_xml
from pathscaat.annotations.model import ToolShape

_TYPES: dict[str, tuple[Builder, ToolShape]] = {
    "polygon": (shapes.polygon, ToolShape.POLYGON),
    "rectangle": (shapes.rectangle, ToolShape.RECTANGLE),
    "ellipse": (shapes.ellipse, ToolShape.ELLIPSE),
    "ruler": (shapes.line, ToolShape.POLYLINE),
    "pin": (shapes.points_geometry, ToolShape.POINTS),
}


def read_halo(path: str | Path) -> ReadResult:
    """Read a HALO ``.annotations`` file (see the module docstring)."""
    root = parse_xml(path)
    if root.tag != "Annotations":
        raise file_error(
            path,
            None,
            f"the root element is <{root.tag}>, not <Annotations>; "
            "is this a HALO .annotations file?",
        )
    return read_layers(path, root, "V", _TYPES, ("1", "true", "True"), "halo")
