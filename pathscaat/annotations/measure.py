"""Measure any annotation from every overlay set of its slide: class probabilities, saliency.

Regions made from an overlay carry measurements from the moment they are made; a
hand-drawn or imported annotation has none. This measures every annotation the same way,
from each overlay set's rasters (:class:`OverlayRasters`, read once and kept): for every
raster, the codes of the pixels whose centres lie inside the annotation, turned into the
measurements of :func:`pathscaat.annotations.regions.measure_inside` (mean and max of each
class probability over the pixels the model scored, mean saliency, share of the slide's
saliency mass). An area smaller
than a raster pixel (no centre inside) takes the pixel under its representative point;
points and lines take the pixels under them (lines sampled every raster pixel).

With one overlay set the names are plain (``Mean prob Tumor``, as regions name them);
with several, each set's names start with its label (``kather-lite0: Mean prob Tumor``).
Measurements an annotation already has from an overlay are replaced (every annotation is
measured alike); any other measurement (a QuPath cell count, say) is kept.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from skimage.draw import polygon as fill_polygon

from pathscaat.annotations.measurement_names import split_name
from pathscaat.annotations.model import Annotation
from pathscaat.annotations.overlay_rasters import OverlayRasters
from pathscaat.annotations.regions import measure_inside
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)

Codes = NDArray[np.uint8]
Measurements = dict[str, float]
LabelledRasters = tuple[str, OverlayRasters]


def overlay_label(rasters: OverlayRasters) -> str:
    """A short name for an overlay set: its model's folder (``runs/kather/best.json`` ->
    ``kather``), else the set's own folder."""
    checkpoint = rasters.overlays.checkpoint
    if checkpoint:
        stem = Path(checkpoint)
        return stem.parent.name if stem.stem in ("best", "last") and stem.parent.name else stem.stem
    return rasters.overlays.root.name


def labelled(sets: Sequence[OverlayRasters]) -> list[LabelledRasters]:
    """Each set with a label unique among ``sets`` (``name``, ``name (2)``, ...)."""
    out: list[LabelledRasters] = []
    seen: dict[str, int] = {}
    for rasters in sets:
        label = overlay_label(rasters)
        seen[label] = seen.get(label, 0) + 1
        out.append((label if seen[label] == 1 else f"{label} ({seen[label]})", rasters))
    return out


def codes_in(geometry: BaseGeometry, codes: Codes, l0_per_px: float) -> Codes:
    """The codes of the raster pixels (``l0_per_px`` level-0 px each) under ``geometry``."""
    if geometry.is_empty:
        return np.zeros(0, np.uint8)
    h, w = codes.shape
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        rows, cols = _centres_inside(geometry, l0_per_px, (h, w))
        if not len(rows):  # smaller than a pixel: the pixel under it
            at = geometry.representative_point()
            rows, cols = _pixels_under(np.array([[at.x, at.y]]), l0_per_px, (h, w))
    else:
        dense = shapely.segmentize(geometry, max(l0_per_px, 1e-6))
        rows, cols = _pixels_under(shapely.get_coordinates(dense), l0_per_px, (h, w))
    return codes[rows, cols]


def _centres_inside(
    geometry: BaseGeometry, l0_per_px: float, shape: tuple[int, int]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Row and column of every pixel whose centre is inside the (multi)polygon."""
    inside = np.zeros(0, np.intp), np.zeros(0, np.intp)
    for part in getattr(geometry, "geoms", [geometry]):
        minx, miny, maxx, maxy = part.bounds
        r0, c0 = max(0, math.floor(miny / l0_per_px)), max(0, math.floor(minx / l0_per_px))
        r1 = min(shape[0], math.ceil(maxy / l0_per_px) + 1)
        c1 = min(shape[1], math.ceil(maxx / l0_per_px) + 1)
        if r1 <= r0 or c1 <= c0:
            continue
        mask = np.zeros((r1 - r0, c1 - c0), bool)
        for k, ring in enumerate([part.exterior, *part.interiors]):
            xy = np.asarray(ring.coords) / l0_per_px - 0.5  # pixel-centre coordinates
            rr, cc = fill_polygon(xy[:, 1] - r0, xy[:, 0] - c0, mask.shape)
            mask[rr, cc] = k == 0  # the outer ring fills, holes clear
        rr, cc = np.nonzero(mask)
        inside = np.concatenate([inside[0], rr + r0]), np.concatenate([inside[1], cc + c0])
    keep = np.unique(inside[0] * shape[1] + inside[1])  # parts of a MultiPolygon may touch
    return keep // shape[1], keep % shape[1]


def _pixels_under(
    l0_xy: NDArray[np.float64], l0_per_px: float, shape: tuple[int, int]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    px = np.floor(np.asarray(l0_xy, np.float64) / l0_per_px).astype(np.intp)
    ok = (px[:, 0] >= 0) & (px[:, 0] < shape[1]) & (px[:, 1] >= 0) & (px[:, 1] < shape[0])
    flat = np.unique(px[ok, 1] * shape[1] + px[ok, 0])
    return flat // shape[1], flat % shape[1]


def measure_geometry(geometry: BaseGeometry, rasters: OverlayRasters) -> Measurements:
    """The overlay measurements of one shape from one overlay set (plain names).

    Class probabilities are averaged over the pixels the model scored (a tile there:
    some class above code 0), so an annotation reaching past the tissue is not diluted
    by pixels without a tile; none scored gives NaN.
    """
    probs = rasters.of_kind("probability")
    picked = {
        info.name: codes_in(geometry, rasters.codes(info.name), float(info.l0_per_px))
        for info in [*probs, *rasters.of_kind("saliency")[:1]]
    }
    if probs and len({(i.l0_per_px, rasters.codes(i.name).shape) for i in probs}) == 1:
        scored = np.max([picked[i.name] for i in probs], axis=0) > 0  # one grid: same pixels
        picked.update({i.name: picked[i.name][scored] for i in probs})
    return measure_inside(rasters, lambda info: picked[info.name])


def measure_annotation(annotation: Annotation, sets: Sequence[LabelledRasters]) -> Measurements:
    """Measurements of ``annotation`` from every set (names prefixed when several)."""
    out: Measurements = {}
    for label, rasters in sets:
        prefix = f"{label}: " if len(sets) > 1 else ""
        for name, value in measure_geometry(annotation.geometry, rasters).items():
            out[prefix + name] = value
    return out


def with_measurements(annotation: Annotation, measured: Measurements) -> Annotation:
    """``annotation`` with ``measured`` in place of any overlay measurement it had."""
    kept = {k: v for k, v in annotation.measurements.items() if split_name(k) is None}
    return dataclasses.replace(annotation, measurements={**kept, **measured})


def measure_annotations(
    annotations: Sequence[Annotation],
    sets: Sequence[OverlayRasters],
    *,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> list[Annotation]:
    """Every annotation measured from every set (see the module docstring); JobCancelled
    on stop. Without sets the annotations come back unchanged."""
    if not sets:
        return list(annotations)
    named = labelled(sets)
    out = []
    for i, ann in enumerate(annotations):
        if should_stop():
            raise JobCancelled(f"measuring stopped after {i} of {len(annotations)} annotations")
        if i % 50 == 0:
            on_progress(ProgressRecord("measure", i, len(annotations), "annotations"))
        out.append(with_measurements(ann, measure_annotation(ann, named)))
    on_progress(ProgressRecord("measure", len(annotations), len(annotations), "annotations"))
    return out
