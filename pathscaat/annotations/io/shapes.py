"""Shapes that vendor formats describe by their vertices, as shapely geometries (level-0 px).

Rectangles and ellipses come as corner points, polygons without the closing vertex; these
helpers turn them into the geometry that draws the same and raise ValueError (with what is
wrong) for too few points.
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

XY = tuple[float, float]

ELLIPSE_QUAD_SEGS = 16  # 64 vertices: smooth at any zoom a pathologist uses


def polygon(points: Sequence[XY]) -> Polygon:
    """A polygon through ``points`` (closed if the format left it open)."""
    pts = list(points)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if len(set(pts)) < 3:
        raise ValueError(f"a polygon needs at least 3 distinct vertices, it has {len(set(pts))}")
    return Polygon(pts)


def rectangle(points: Sequence[XY]) -> Polygon:
    """The axis-aligned rectangle spanned by ``points`` (two or four corners)."""
    if len(points) < 2:
        raise ValueError("a rectangle needs at least 2 corners")
    x0, y0, x1, y1 = MultiPoint(list(points)).bounds
    if x1 == x0 or y1 == y0:
        raise ValueError("the rectangle has no area")
    return box(x0, y0, x1, y1)


def ellipse(points: Sequence[XY]) -> Polygon:
    """The axis-aligned ellipse inscribed in the bounding box of ``points``."""
    rect = rectangle(points)
    x0, y0, x1, y1 = rect.bounds
    circle = Point((x0 + x1) / 2, (y0 + y1) / 2).buffer(1.0, quad_segs=ELLIPSE_QUAD_SEGS)
    return affinity.scale(circle, (x1 - x0) / 2, (y1 - y0) / 2)  # type: ignore[no-any-return]


def line(points: Sequence[XY]) -> LineString:
    if len(points) < 2:
        raise ValueError("a line needs at least 2 vertices")
    return LineString(list(points))


def points_geometry(points: Sequence[XY]) -> BaseGeometry:
    """One point as a Point, several as a MultiPoint."""
    if not points:
        raise ValueError("no vertices")
    return Point(points[0]) if len(points) == 1 else MultiPoint(list(points))


def fallback(points: Sequence[XY]) -> BaseGeometry:
    """For a shape type a reader does not know: polygon, line or point by vertex count."""
    if len(points) >= 3:
        return polygon(points)
    return line(points) if len(points) == 2 else points_geometry(points)


def is_rectangle(geom: BaseGeometry) -> bool:
    """True for an axis-aligned rectangle (so writers can say Rectangle, not Polygon)."""
    return (
        geom.geom_type == "Polygon"
        and not list(geom.interiors)  # type: ignore[attr-defined]
        and len(geom.exterior.coords) == 5  # type: ignore[attr-defined]
        and shapely.equals(geom, shapely.envelope(geom))
    )


def cut_holes(
    positives: list[BaseGeometry], negatives: list[tuple[BaseGeometry, str]]
) -> tuple[list[BaseGeometry], list[str]]:
    """Subtract each negative region (Aperio/HALO ``NegativeROA``) from the positives it
    lies in; returns the new positives and, for a negative inside none, why it was skipped.
    """
    out = list(positives)
    skipped = []
    for hole, where in negatives:
        hits = [i for i, pos in enumerate(out) if pos.intersects(hole)]
        if not hits:
            skipped.append(
                f"{where}: a negative (exclusion) region outside every positive region; skipped"
            )
            continue
        for i in hits:
            out[i] = out[i].difference(hole)
    return out, skipped
