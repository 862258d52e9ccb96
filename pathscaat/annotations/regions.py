"""Regions from an overlay: threshold a probability or saliency raster into polygons.

Each 8-connected component of ``raster >= threshold`` (after an optional Gaussian of
``smooth_um`` µm over the layer's non-empty pixels, so a speckled map gives whole
regions) at least ``min_area_um2`` large becomes one annotation polygon in level-0 px,
holes kept (background pockets inside it, 4-connected, as QuPath's pixel classifier makes
them). Outlines are traced by marching
squares (contourpy) on the component's own mask, so they run along pixel edges (corners
cut by an eighth of a pixel), then simplified by a quarter of a raster pixel: the staircase
points go, the corners of even a 2-px-wide shape stay. That is the overlay's own
resolution: no detail invented and none lost that the raster has.

Thresholds are in the layer's own unit (:class:`RegionDefaults` names it and gives the
defaults shared by Make Regions and ``pathscaat regions``): a probability; for the
slide-level saliency map a percentile of the slide's tissue (0.9: its most salient 10 %);
for other layers a fraction of the layer's range.

Measurements are sums over the component's raster pixels (so they agree with the raster,
not with the simplified outline): the mean and max of every class probability raster,
the saliency's mean (as a fraction of its scale) and the share of the slide's saliency
mass inside the region. Rasters at other scales are sampled at their own pixel centres.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

import contourpy
import numpy as np
import scipy.ndimage as ndi
import shapely
from contourpy import FillType
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from pathscaat.annotations.measurement_names import (
    AREA,
    MAX_PROB,
    MEAN_PROB,
    SALIENCY_MEAN,
    SALIENCY_SHARE,
)
from pathscaat.annotations.model import Annotation, ObjectType, PathClass, ToolShape
from pathscaat.annotations.overlay_rasters import OverlayLayer, OverlayRasters, load_layer
from pathscaat.inference.overlays import UNIT_PERCENTILE, OverlayInfo
from pathscaat.inference.slide_map import smooth_rows
from pathscaat.progress import PathscaatError

__all__ = [
    "AREA", "MAX_PROB", "MEAN_PROB", "SALIENCY_MEAN", "SALIENCY_SHARE", "OverlayLayer",
    "OverlayRasters", "RegionDefaults", "load_layer", "measure_inside", "regions_from_overlay",
]  # fmt: skip

EIGHT = np.ones((3, 3), dtype=bool)

Mask = NDArray[np.bool_]
Points = NDArray[np.float64]
Offsets = NDArray[np.uint32]
Slices = tuple[slice, slice]


MIN_AREA_UM2 = 5000.0
"""Default smallest region (µm²): about a 70 µm square, a gland or a tile of most models."""


@dataclass(frozen=True)
class RegionDefaults:
    """A layer's threshold unit and the defaults Make Regions and ``pathscaat regions``
    start from (one table, so both faces agree)."""

    threshold: float
    min_area_um2: float
    smooth_um: float
    unit: str

    @classmethod
    def for_layer(cls, info: OverlayInfo) -> RegionDefaults:
        if info.kind == "probability":
            return cls(0.5, MIN_AREA_UM2, 0.0, "probability")
        if info.unit == UNIT_PERCENTILE:  # the slide-level saliency map
            return cls(0.9, MIN_AREA_UM2, 20.0, UNIT_PERCENTILE)
        return cls(0.4, MIN_AREA_UM2, 0.0, "fraction of the layer's range")

    def describe(self, threshold: float) -> str:
        """What ``threshold`` keeps, in words (``the most salient 10 % of ...``)."""
        if self.unit == UNIT_PERCENTILE:
            return f"its most salient {100 * (1 - threshold):.3g} %"
        if self.unit == "probability":
            return f"probability {threshold:.3g} or more"
        return f"{threshold:.3g} of the layer's range or more"


def regions_from_overlay(
    layer: OverlayLayer,
    threshold: float,
    min_area_um2: float,
    *,
    mpp: float | None,
    min_hole_um2: float | None = None,
    simplify_px: float = 0.25,
    smooth_um: float = 0.0,
) -> list[Annotation]:
    """Polygons where ``layer`` is at least ``threshold`` (in the layer's unit, 0..1 of
    its codes: see :class:`RegionDefaults`), in scan order; ``smooth_um`` > 0 smooths the
    layer over its non-empty pixels first (needs ``mpp``).

    ``mpp`` is the slide's level-0 µm/px; without it areas are NaN and only
    ``min_area_um2 = 0`` can be honoured. Holes under ``min_hole_um2`` (default:
    ``min_area_um2``, the smallest region worth keeping) are filled in the outline; 0
    keeps every hole. Measurements are over the region's pixels at or above threshold.
    A probability layer's regions take its class; a saliency layer's take the class with
    the highest mean probability inside (none when the set has no probabilities).
    """
    px_um2 = (layer.l0_per_px * mpp) ** 2 if mpp else None
    if px_um2 is None and min_area_um2 > 0:
        raise PathscaatError(
            "the slide has no µm/px, so a minimum area in µm² cannot be applied; set the "
            "slide's µm/px (--slide-mpp) or use a minimum area of 0"
        )
    min_px = min_area_um2 / px_um2 if px_um2 else 0.0
    hole_um2 = min_area_um2 if min_hole_um2 is None else min_hole_um2
    min_hole_px = hole_um2 / px_um2 if px_um2 else 0.0
    slide_box = box(0, 0, *layer.rasters.overlays.slide_dims)
    regions = []
    above = _above(layer, threshold, smooth_um, mpp)
    for sub, slc in _components(above, min_px):
        geom = _outline(sub, slc, layer.l0_per_px, min_hole_px, simplify_px)
        if not slide_box.contains(geom):
            geom = _polygonal(geom.intersection(slide_box))
        if geom.is_empty:
            continue
        measurements = _measure(layer, sub, slc)
        measurements[AREA] = geom.area * mpp * mpp if mpp else math.nan
        regions.append(_annotation(layer, threshold, geom, measurements))
    return regions


def _above(layer: OverlayLayer, threshold: float, smooth_um: float, mpp: float | None) -> Mask:
    """Pixels at or above ``threshold``, after smoothing by ``smooth_um`` µm."""
    code = layer.code_of(threshold)
    if smooth_um <= 0 or not mpp:
        return layer.codes >= code
    codes = layer.codes
    inside = codes > 0
    smooth = smooth_rows(codes.astype(np.float32), inside, smooth_um / (mpp * layer.l0_per_px))
    if layer.info.unit == UNIT_PERCENTILE and inside.any():
        # smoothing pulls the peaks in: rank again, so 0.9 still keeps the top 10 %
        cut = float(np.quantile(smooth[inside], threshold))
        return inside & (smooth >= cut)  # type: ignore[no-any-return]
    return smooth >= code - 0.5  # type: ignore[no-any-return]


def _components(mask: Mask, min_px: float) -> Iterator[tuple[Mask, Slices]]:
    """(component mask inside its bounding box, the box) of each component >= ``min_px``."""
    labels, _ = ndi.label(mask, structure=EIGHT)
    for k, slc in enumerate(ndi.find_objects(labels), start=1):
        if slc is None:
            continue
        rows, cols = slc
        if (rows.stop - rows.start) * (cols.stop - cols.start) < min_px:
            continue  # cannot hold enough pixels: skip without counting them
        sub = labels[slc] == k
        if np.count_nonzero(sub) >= max(min_px, 1):
            yield sub, (rows, cols)


def _outline(
    sub: Mask, slc: Slices, l0_per_px: float, min_hole_px: float, simplify_px: float
) -> BaseGeometry:
    """The component's polygon (outer ring and holes of ``min_hole_px`` or more) in
    level-0 px, simplified.

    contourpy (matplotlib's C++ contouring) fills between 0.499 and 2 on the padded mask:
    crossings sit on the pixel edges (within 0.001 px), and a saddle's centre (mean 0.5)
    counts as inside, so diagonal neighbours stay joined as the 8-connected labels are.
    """
    z = np.pad(sub, 1).astype(np.float64)
    gen = contourpy.contour_generator(z=z, name="serial", fill_type=FillType.OuterOffset)
    points, offsets = cast(tuple[list[Points], list[Offsets]], gen.filled(0.499, 2.0)[:2])
    shift = np.array([slc[1].start - 0.5, slc[0].start - 0.5])
    polys = []
    for xy, off in zip(points, offsets, strict=True):
        keep = np.flatnonzero(_ring_areas(xy, off) >= max(min_hole_px, 1e-9))
        keep = keep[keep > 0]  # ring 0 is the outer one
        l0_xy = (xy + shift) * l0_per_px
        holes = [l0_xy[off[i] : off[i + 1]] for i in keep]
        polys.append(Polygon(l0_xy[off[0] : off[1]], holes))
    poly: BaseGeometry = polys[0] if len(polys) == 1 else MultiPolygon(polys)
    if simplify_px > 0:
        poly = shapely.simplify(poly, simplify_px * l0_per_px, preserve_topology=False)
    if not poly.is_valid:
        poly = _polygonal(shapely.make_valid(poly))
    return poly


def _ring_areas(xy: Points, offsets: Offsets) -> NDArray[np.float64]:
    """Unsigned area of each closed ring ``xy[offsets[i]:offsets[i+1]]`` (shoelace)."""
    cross = xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]
    csum = np.concatenate([[0.0], np.cumsum(cross)])
    starts, ends = offsets[:-1].astype(np.intp), offsets[1:].astype(np.intp) - 1
    return np.abs(0.5 * (csum[ends] - csum[starts]))


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal part of ``geom`` (a Polygon when there is one piece)."""
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon | MultiPolygon)]
    polys = [p for g in parts for p in getattr(g, "geoms", [g]) if not p.is_empty]
    if not polys:
        return Polygon()
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _measure(layer: OverlayLayer, sub: Mask, slc: Slices) -> dict[str, float]:
    """Mean/max of each probability raster and the saliency mean and share inside."""
    return measure_inside(
        layer.rasters,
        lambda info: _inside(
            layer.rasters.codes(info.name), sub, slc, layer.l0_per_px, info.l0_per_px
        ),
    )


def measure_inside(
    rasters: OverlayRasters, inside: Callable[[OverlayInfo], NDArray[np.uint8]]
) -> dict[str, float]:
    """The overlay measurements of an area from the codes ``inside(info)`` gives of each
    raster: mean and max of every class probability (in its own units), the saliency's
    mean (a fraction of its scale) and its share of the slide's saliency mass. No code
    inside (an area between pixel centres) gives NaN, and a share of 0."""
    out = {}
    for info in rasters.of_kind("probability"):
        codes = inside(info)
        span = info.value_max - info.value_min
        mean = float(codes.mean()) if codes.size else math.nan
        top = float(codes.max()) if codes.size else math.nan
        out[f"{MEAN_PROB}{info.class_name}"] = info.value_min + mean / 255.0 * span
        out[f"{MAX_PROB}{info.class_name}"] = info.value_min + top / 255.0 * span
    for info in rasters.of_kind("saliency")[:1]:
        codes = inside(info)
        total = rasters.code_sum(info.name)
        out[SALIENCY_MEAN] = float(codes.mean()) / 255.0 if codes.size else math.nan
        out[SALIENCY_SHARE] = float(codes.sum(dtype=np.uint64)) / total if total else 0.0
    return out


def _inside(
    codes: NDArray[np.uint8], sub: Mask, slc: Slices, l0_per_px: float, other_l0_per_px: float
) -> NDArray[np.uint8]:
    """The codes of ``codes`` (another raster of the set) whose pixel centres lie in ``sub``."""
    rows, cols = slc
    if math.isclose(l0_per_px, other_l0_per_px):
        return codes[slc][sub[: codes.shape[0] - rows.start, : codes.shape[1] - cols.start]]
    ratio = l0_per_px / other_l0_per_px  # other px per layer px
    n = round(ratio)
    if n > 1 and math.isclose(ratio, n):  # a finer raster, n x n of its px in each of ours
        window = codes[rows.start * n : rows.stop * n, cols.start * n : cols.stop * n]
        inside = sub.repeat(n, axis=0).repeat(n, axis=1)
        return window[inside[: window.shape[0], : window.shape[1]]]
    r_idx, r_src = _sample_axis(rows, ratio, codes.shape[0])
    c_idx, c_src = _sample_axis(cols, ratio, codes.shape[1])
    if not len(r_idx) or not len(c_idx):
        return np.zeros(0, np.uint8)
    window = codes[np.ix_(r_idx, c_idx)]
    return window[sub[np.ix_(r_src, c_src)]]


def _sample_axis(span: slice, ratio: float, n_other: int) -> tuple[NDArray[np.intp], ...]:
    """Other-raster indices whose pixel centres fall in ``span``, and their layer index."""
    start, stop = span.start, span.stop
    lo, hi = math.floor(start * ratio), min(math.ceil(stop * ratio), n_other)
    idx = np.arange(lo, hi, dtype=np.intp)
    src = np.floor((idx + 0.5) / ratio).astype(np.intp) - start
    keep = (src >= 0) & (src < stop - start)
    return idx[keep], src[keep]


def _annotation(
    layer: OverlayLayer, threshold: float, geom: BaseGeometry, measurements: dict[str, float]
) -> Annotation:
    info = layer.info
    class_name = info.class_name if info.kind == "probability" else _dominant(measurements)
    return Annotation(
        geometry=geom,
        object_type=ObjectType.ANNOTATION,
        path_class=PathClass.named(class_name) if class_name else None,
        measurements=measurements,
        metadata={"source": "overlay", "layer": info.name, "threshold": f"{threshold:g}",
                  **({"unit": info.unit} if info.unit else {})},
        tool=ToolShape.REGION,
    )


def _dominant(measurements: dict[str, float]) -> str | None:
    """The class with the highest mean probability, or None without probabilities."""
    means = {
        k[len(MEAN_PROB) :]: v
        for k, v in measurements.items()
        if k.startswith(MEAN_PROB) and not math.isnan(v)
    }
    return max(means, key=lambda k: means[k]) if means else None
