"""Shapely geometries to QPainterPaths in one numpy pass, with level of detail.

A path is built for a whole batch of geometries at once (``shapely.get_coordinates`` then
pyqtgraph's ``arrayToQPath``, which hands Qt one binary buffer): no Python call per
object or per vertex, so ten thousand polygons become a path in milliseconds.

Level of detail at ``l0_per_view_px`` (level-0 px per screen px):
- objects smaller than ``TINY_VIEW_PX`` on screen are drawn as a box of at least
  ``MIN_BOX_VIEW_PX`` (a pathologist still sees where they are, at a fraction of the cost);
- the rest are simplified to half a screen pixel (invisible, and far fewer vertices);
- points are small squares of ``POINT_VIEW_PX`` whatever the zoom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph.functions as fn
import shapely
from numpy.typing import NDArray
from pyqtgraph.Qt.internals import get_qpainterpath_element_array
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainterPath
from shapely.geometry.base import BaseGeometry

TINY_VIEW_PX = 4.0
"""Objects smaller than this on screen are drawn as boxes."""
MIN_BOX_VIEW_PX = 2.0
POINT_VIEW_PX = 9.0
SIMPLIFY_VIEW_PX = 0.5
SIMPLIFY_MIN_VERTICES = 8


@dataclass
class BatchPaths:
    """``area`` is filled and outlined; ``lines`` only outlined; ``points`` drawn as marks."""

    area: QPainterPath
    lines: QPainterPath
    points: QPainterPath

    def is_empty(self) -> bool:
        return self.area.isEmpty() and self.lines.isEmpty() and self.points.isEmpty()


def batch_paths(geoms: list[BaseGeometry], l0_per_view_px: float) -> BatchPaths:
    """Paths for ``geoms`` (level-0 px) as they should look at this zoom."""
    empty = BatchPaths(QPainterPath(), QPainterPath(), QPainterPath())
    if not geoms:
        return empty
    parts = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(parts)
    for _ in range(3):  # multi-part shapes, collections, collections of multi-parts
        if not (kinds > shapely.GeometryType.POLYGON).any():
            break
        parts = shapely.get_parts(parts)
        kinds = shapely.get_type_id(parts)
    is_point = kinds == shapely.GeometryType.POINT
    is_line = (kinds == shapely.GeometryType.LINESTRING) | (
        kinds == shapely.GeometryType.LINEARRING
    )
    is_area = kinds == shapely.GeometryType.POLYGON
    return BatchPaths(
        _area_path(parts[is_area], l0_per_view_px),
        _line_path(parts[is_line], l0_per_view_px),
        _point_path(parts[is_point], l0_per_view_px),
    )


def _area_path(polys: NDArray[np.object_], l0_per_view_px: float) -> QPainterPath:
    if not len(polys):
        return QPainterPath()
    bounds = shapely.bounds(polys)
    extent = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    tiny = extent < TINY_VIEW_PX * l0_per_view_px
    xs, ys, connect = [], [], []
    if tiny.any():
        bx, by, bc = _box_coords(bounds[tiny], MIN_BOX_VIEW_PX * l0_per_view_px)
        xs.append(bx)
        ys.append(by)
        connect.append(bc)
    big = polys[~tiny]
    if len(big):
        big = _simplified(big, SIMPLIFY_VIEW_PX * l0_per_view_px)
        holed = shapely.get_num_interior_rings(big) > 0
        for rings, exteriors in _ring_sets(big, holed):
            rx, ry, rc = _ring_coords(rings, exteriors)
            xs.append(rx)
            ys.append(ry)
            connect.append(rc)
    path = _to_path(xs, ys, connect)
    path.setFillRule(Qt.FillRule.WindingFill)
    return path


def _ring_sets(
    polys: NDArray[np.object_], holed: NDArray[np.bool_]
) -> list[tuple[NDArray[np.object_], NDArray[np.bool_]]]:
    """(rings, is exterior) for polygons without holes (their own ring) and with holes."""
    out = []
    if (~holed).any():
        plain = polys[~holed]
        out.append((plain, np.ones(len(plain), bool)))
    if holed.any():
        rings, owner = shapely.get_rings(polys[holed], return_index=True)
        first = np.ones(len(owner), bool)
        first[1:] = owner[1:] != owner[:-1]
        out.append((rings, first))
    return out


def _line_path(lines: NDArray[np.object_], l0_per_view_px: float) -> QPainterPath:
    if not len(lines):
        return QPainterPath()
    x, y, c = _ring_coords(_simplified(lines, SIMPLIFY_VIEW_PX * l0_per_view_px))
    return _to_path([x], [y], [c])


def _point_path(points: NDArray[np.object_], l0_per_view_px: float) -> QPainterPath:
    if not len(points):
        return QPainterPath()
    xy = shapely.get_coordinates(points)
    bounds = np.column_stack([xy, xy])
    bx, by, bc = _box_coords(bounds, POINT_VIEW_PX * l0_per_view_px)
    path = _to_path([bx], [by], [bc])
    path.setFillRule(Qt.FillRule.WindingFill)
    return path


def _simplified(geoms: NDArray[np.object_], tolerance: float) -> NDArray[np.object_]:
    """Simplify to ``tolerance`` the shapes with vertices to spare (not boxes and tiles);
    keep the original where simplification emptied a shape."""
    out = geoms.copy()
    busy = shapely.get_num_coordinates(geoms) > SIMPLIFY_MIN_VERTICES
    if busy.any():
        simple = shapely.simplify(geoms[busy], tolerance, preserve_topology=False)
        lost = shapely.is_empty(simple)
        simple[lost] = geoms[busy][lost]
        out[busy] = simple
    return out


def _ring_coords(
    rings: NDArray[np.object_], exteriors: NDArray[np.bool_] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int32]]:
    """Coordinates of rings/lines and the connect flags that break between them.

    With ``exteriors``, rings are turned so that exteriors run one way and holes the other:
    under the winding fill rule, holes stay open and overlapping objects stay filled.
    """
    xy, index = shapely.get_coordinates(rings, return_index=True)
    n = len(xy)
    connect = np.ones(n, np.int32)
    if not n:
        return xy[:, 0], xy[:, 1], connect
    last = np.ones(n, bool)
    last[:-1] = index[1:] != index[:-1]
    connect[last] = 0
    if exteriors is not None:
        xy = _oriented(xy, index, last, exteriors)
    return xy[:, 0].copy(), xy[:, 1].copy(), connect


def _oriented(
    xy: NDArray[np.float64], index: NDArray[np.intp], last: NDArray[np.bool_],
    exteriors: NDArray[np.bool_],
) -> NDArray[np.float64]:  # fmt: skip
    """Reverse the rings whose signed area has the wrong sign for their role."""
    x, y = xy[:, 0], xy[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    cross = np.where(last[:-1], 0.0, cross)
    area = np.bincount(index[:-1], weights=cross, minlength=len(exteriors))
    flip = (area > 0) != exteriors
    if not flip.any():
        return xy
    starts = np.flatnonzero(np.r_[True, last[:-1]])
    ends = np.flatnonzero(last)
    pos = np.arange(len(xy))
    mirrored = starts[index] + ends[index] - pos
    return xy[np.where(flip[index], mirrored, pos)]


def _box_coords(
    bounds: NDArray[np.float64], min_side: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int32]]:
    """Closed 5-point rings of boxes (grown about their centre to at least ``min_side``)."""
    cx, cy = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    hw = np.maximum((bounds[:, 2] - bounds[:, 0]) / 2, min_side / 2)
    hh = np.maximum((bounds[:, 3] - bounds[:, 1]) / 2, min_side / 2)
    x = np.column_stack([cx - hw, cx + hw, cx + hw, cx - hw, cx - hw]).ravel()
    y = np.column_stack([cy - hh, cy - hh, cy + hh, cy + hh, cy - hh]).ravel()
    connect = np.tile(np.array([1, 1, 1, 1, 0], np.int32), len(bounds))
    return x, y, connect


def _to_path(
    xs: list[NDArray[np.float64]], ys: list[NDArray[np.float64]], cs: list[NDArray[np.int32]]
) -> QPainterPath:
    """One path from vertex arrays; ``cs[i] == 0`` ends a subpath after vertex i."""
    if not xs:
        return QPainterPath()
    x, y, c = np.concatenate(xs), np.concatenate(ys), np.concatenate(cs)
    n = len(x)
    if not n:
        return QPainterPath()
    path = QPainterPath()
    try:  # fill Qt's element array in place (pyqtgraph's fast path): 10x the stream
        elements = get_qpainterpath_element_array(path, n)
    except Exception:  # an unknown Qt build: the portable route
        elements = None
    if elements is None or len(elements) != n:
        return fn.arrayToQPath(x, y, connect=c, finiteCheck=False)
    elements["x"] = x
    elements["y"] = y
    elements["c"][0] = 0  # element type: 0 move to, 1 line to
    elements["c"][1:] = c[:-1]
    return path
