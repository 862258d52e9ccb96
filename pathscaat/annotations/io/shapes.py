"""Shapes that vendor formats describe by their vertices, as shapely geometries (level-0 px).

Rectangles and ellipses come as corner points, polygons without the closing vertex; these
helpers turn them into the geometry that draws the same and raise ValueError (with what is
wrong) for too few points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

XY = tuple[float, float]

ELLIPSE_QUAD_SEGS = 16  # 64 vertices: smooth at any zoom a pathologist uses
MAX_L0_COORD = 1e9
"""Largest |coordinate| in level-0 px a reader accepts: the largest slides are ~1e6 px a side."""


def check_coordinates(geom: BaseGeometry) -> None:
    """ValueError (saying what is wrong) for NaN, infinite or absurdly large coordinates."""
    xy = shapely.get_coordinates(geom)
    if xy.size == 0:
        return
    finite = np.isfinite(xy)
    if not finite.all():
        bad = xy[~finite.all(axis=1)][0]
        raise ValueError(
            f"a vertex is not a finite number ({float(bad[0]):g}, {float(bad[1]):g}); "
            "the file is damaged or was written by a broken exporter"
        )
    biggest = float(np.abs(xy).max())
    if biggest > MAX_L0_COORD:
        raise ValueError(
            f"a coordinate ({biggest:g}) lies far outside any slide "
            f"(more than {MAX_L0_COORD:g} px from its origin)"
        )


def clean(geom: BaseGeometry) -> tuple[BaseGeometry, str | None]:
    """``geom`` checked (see :func:`check_coordinates`) and, when invalid, repaired.

    Returns the geometry and, when it was repaired with shapely's ``make_valid``, why it
    was invalid (GEOS's reason, e.g. ``Self-intersection[5 5]``). A polygon stays polygonal
    (collapsed parts are dropped); one with no area left raises ValueError.
    """
    check_coordinates(geom)
    if geom.is_valid:
        return geom, None
    reason = shapely.is_valid_reason(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    else:
        fixed = shapely.make_valid(geom)
    if fixed.is_empty:
        raise ValueError(f"the shape has no area ({reason}), even once repaired")
    return fixed, reason


def polygon(points: Sequence[XY]) -> Polygon:
    """A polygon through ``points`` (closed if the format left it open)."""
    pts = list(points)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if len(set(pts)) < 3:
        raise ValueError(f"a polygon needs at least 3 distinct vertices, it has {len(set(pts))}")
    with np.errstate(invalid="ignore"):  # NaN vertices: check_coordinates says so later
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

    Never raises: the shapes are valid (:func:`clean`), and should GEOS still fail on a
    pair, both are repaired once more and, failing that, the hole is skipped with its reason.
    A positive that a hole covers entirely becomes an empty geometry (the caller skips it).
    """
    out = list(positives)
    skipped = []
    for hole, where in negatives:
        hits = [i for i, pos in enumerate(out) if _intersects(pos, hole)]
        if not hits:
            skipped.append(
                f"{where}: a negative (exclusion) region outside every positive region; skipped"
            )
            continue
        for i in hits:
            try:
                out[i] = _difference(out[i], hole)
            except shapely.errors.GEOSException as exc:
                skipped.append(f"{where}: the hole could not be cut ({exc}); skipped the hole")
    return out, skipped


def _intersects(a: BaseGeometry, b: BaseGeometry) -> bool:
    try:
        return bool(a.intersects(b))
    except shapely.errors.GEOSException:
        return bool(shapely.make_valid(a).intersects(shapely.make_valid(b)))


def _difference(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    try:
        return a.difference(b)
    except shapely.errors.GEOSException:
        return shapely.make_valid(a).difference(shapely.make_valid(b))
