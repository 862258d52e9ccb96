"""GeoJSON geometry objects <-> shapely, checked, with QuPath's frame offset applied.

Coordinates are written as integers where they are whole numbers (QuPath writes them
so), which keeps a file read and written back equal as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

Offset = tuple[float, float]


class GeometryError(ValueError):
    """A geometry that is not valid GeoJSON; the message says what is wrong."""


def _check_ring(coords: Any) -> Any:
    if not isinstance(coords, list) or len(coords) < 4:
        n = len(coords) if isinstance(coords, list) else 0
        raise GeometryError(f"a polygon ring needs at least 4 positions, it has {n}")
    if coords[0] != coords[-1]:
        raise GeometryError(
            f"unclosed ring: it starts at {coords[0]} and ends at {coords[-1]} (GeoJSON rings "
            "repeat the first position at the end)"
        )
    return coords


def _polygon(rings: Any) -> Any:
    if not isinstance(rings, list) or not rings:
        raise GeometryError("a Polygon needs at least one ring of positions")
    shell = _check_ring(rings[0])
    if len(rings) == 1:  # the common case, one shapely call
        return shapely.polygons(shell)
    holes = [shapely.linearrings(_check_ring(r)) for r in rings[1:]]
    return shapely.polygons(shapely.linearrings(shell), holes=holes)


def _line(coords: Any) -> Any:
    if not isinstance(coords, list) or len(coords) < 2:
        raise GeometryError("a LineString needs at least 2 positions")
    return shapely.linestrings(coords)


def _parts(coords: Any, kind: str) -> list[Any]:
    if not isinstance(coords, list):
        raise GeometryError(f"a {kind} needs a list of parts")
    return coords


_BUILDERS: dict[str, Callable[[Any], Any]] = {
    "Point": lambda c: shapely.points(c),
    "MultiPoint": lambda c: shapely.multipoints(_parts(c, "MultiPoint")),
    "LineString": _line,
    "MultiLineString": lambda c: shapely.multilinestrings(
        [_line(p) for p in _parts(c, "MultiLineString")]
    ),
    "Polygon": _polygon,
    "MultiPolygon": lambda c: shapely.multipolygons(
        [_polygon(p) for p in _parts(c, "MultiPolygon")]
    ),
}

GEOMETRY_TYPES = (*_BUILDERS, "GeometryCollection")
MAX_COLLECTION_DEPTH = 16
"""GeometryCollections nested deeper than this are refused (QuPath never nests them)."""


def geometry_from_json(obj: Any, l0_offset: Offset = (0.0, 0.0)) -> BaseGeometry:
    """A shapely geometry in level-0 px from a GeoJSON geometry object in QuPath's frame."""
    geom = _build(obj)
    if l0_offset != (0.0, 0.0):
        geom = shapely.transform(geom, lambda xy: xy + np.asarray(l0_offset))
    return geom


def _build(obj: Any, depth: int = 0) -> Any:
    if not isinstance(obj, dict):
        raise GeometryError("the geometry is not a GeoJSON geometry object")
    kind = obj.get("type")
    if kind == "GeometryCollection":
        parts = obj.get("geometries")
        if not isinstance(parts, list):
            raise GeometryError("a GeometryCollection needs a list of 'geometries'")
        if depth >= MAX_COLLECTION_DEPTH:
            raise GeometryError(
                f"GeometryCollections nested over {MAX_COLLECTION_DEPTH} deep; "
                "the file is damaged or not an annotation export"
            )
        return shapely.geometrycollections([_build(p, depth + 1) for p in parts])
    builder = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        raise GeometryError(
            f"unknown geometry type {kind!r} (expected one of {', '.join(GEOMETRY_TYPES)})"
        )
    coords = obj.get("coordinates")
    if coords is None or coords == []:
        raise GeometryError(f"the {kind} has no coordinates")
    try:
        with np.errstate(invalid="ignore"):  # NaN: reported by the reader's coordinate check
            geom = builder(coords)
    except GeometryError:
        raise
    except (ValueError, TypeError, RecursionError, shapely.errors.GEOSException) as exc:
        raise GeometryError(
            f"the {kind}'s coordinates are not lists of [x, y] numbers ({exc})"
        ) from None
    if not isinstance(geom, BaseGeometry):  # shapely made an array: coordinates too deep
        raise GeometryError(
            f"a {kind} with the coordinates of another type "
            f"(nested {_depth(coords)} deep); expected {_SHAPES.get(str(kind), 'positions')}"
        )
    return geom


_SHAPES = {
    "Point": "one [x, y] position",
    "MultiPoint": "a list of [x, y] positions",
    "LineString": "a list of [x, y] positions",
}


def _depth(coords: Any) -> int:
    depth = 0
    while isinstance(coords, list) and coords:
        coords, depth = coords[0], depth + 1
    return depth


def _coords(geom: Any) -> list[Any]:
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        raise GeometryError("a NaN or infinite coordinate cannot be written as GeoJSON")
    whole = xy.astype(np.int64)
    if np.array_equal(whole, xy):
        return whole.tolist()  # type: ignore[no-any-return]
    return xy.tolist()  # type: ignore[no-any-return]


def _polygon_coords(poly: Any) -> list[Any]:
    return [_coords(poly.exterior), *(_coords(r) for r in poly.interiors)]


def _encode(geom: Any) -> dict[str, Any]:
    kind = geom.geom_type
    if kind == "Polygon":
        coords: Any = _polygon_coords(geom)
    elif kind == "MultiPolygon":
        coords = [_polygon_coords(p) for p in geom.geoms]
    elif kind in ("Point",):
        coords = _coords(geom)[0] if not geom.is_empty else []
    elif kind in ("LineString", "LinearRing", "MultiPoint"):
        coords = _coords(geom)
        kind = "LineString" if kind == "LinearRing" else kind
    elif kind == "MultiLineString":
        coords = [_coords(g) for g in geom.geoms]
    elif kind == "GeometryCollection":
        return {"type": kind, "geometries": [_encode(g) for g in geom.geoms]}
    else:
        raise GeometryError(f"cannot write a {kind} as GeoJSON")
    return {"type": kind, "coordinates": coords}


def geometry_to_json(geom: BaseGeometry, l0_offset: Offset = (0.0, 0.0)) -> dict[str, Any]:
    """A GeoJSON geometry object in QuPath's frame from a shapely geometry in level-0 px."""
    if l0_offset != (0.0, 0.0):
        geom = shapely.transform(geom, lambda xy: xy - np.asarray(l0_offset))
    return _encode(geom)
