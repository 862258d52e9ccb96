"""Crops of each region at a chosen µm/px: image, mask and optional outline and saliency.

For an annotation ``a`` the files are ``<class>_<id>.png`` (or ``.tif``, with its µm/px in
the resolution tags), ``<class>_<id>_mask.png`` (255 inside the polygon, holes 0), and on
request ``_outline.png`` (the outline drawn in the class colour) and ``_saliency.png``
(the overlay set's saliency blended over the crop). The crop is the polygon's bounding box
in level-0 px, read from the pyramid level just finer than the target and resized, so its
side is the box's side in µm over the target µm/px. A region whose files all exist is
skipped: a second run finishes what a cancelled one left.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from pathscaat.annotations.export.common import file_stem, is_area, save_image, slide_mpp
from pathscaat.annotations.model import Annotation
from pathscaat.annotations.overlay_rasters import OverlayRasters
from pathscaat.annotations.placement import on_slide
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)

RGB = NDArray[np.uint8]
OUTSIDE_SLIDE = "lies outside the slide, so its crop would be blank"
MAX_SIDE_PX = 10_000
SALIENCY_ALPHA = 0.7


@dataclass(frozen=True)
class Crop:
    """A region's pixels: ``rgb`` and ``mask`` (H x W, 255 inside), and where they lie."""

    rgb: RGB
    mask: NDArray[np.uint8]
    l0_box: tuple[int, int, int, int]  # x0, y0, x1, y1 in level-0 px
    downsample: float  # level-0 px per crop px

    def to_crop(self, l0_xy: NDArray[np.float64]) -> list[tuple[float, float]]:
        x0, y0 = self.l0_box[:2]
        return [((x - x0) / self.downsample, (y - y0) / self.downsample) for x, y in l0_xy]


def crop_size(annotation: Annotation, downsample: float) -> tuple[int, int]:
    """(width, height) in crop px of the annotation's bounding box at ``downsample``."""
    x0, y0, x1, y1 = _l0_box(annotation)
    return max(1, round((x1 - x0) / downsample)), max(1, round((y1 - y0) / downsample))


def _l0_box(annotation: Annotation) -> tuple[int, int, int, int]:
    minx, miny, maxx, maxy = annotation.l0_bounds
    x0, y0 = math.floor(minx), math.floor(miny)
    return x0, y0, max(math.ceil(maxx), x0 + 1), max(math.ceil(maxy), y0 + 1)


def read_crop(slide: Any, annotation: Annotation, downsample: float) -> Crop:
    """The annotation's bounding box at ``downsample`` level-0 px per px, with its mask."""
    x0, y0, x1, y1 = box = _l0_box(annotation)
    out_w, out_h = crop_size(annotation, downsample)
    level = slide.best_level_for(downsample)
    lvl_ds = float(slide.level_downsamples[level])
    lvl_size = (max(1, math.ceil((x1 - x0) / lvl_ds)), max(1, math.ceil((y1 - y0) / lvl_ds)))
    rgb = slide.read_region((x0, y0), level, lvl_size)
    if rgb.shape[1::-1] != (out_w, out_h):
        rgb = np.asarray(Image.fromarray(rgb).resize((out_w, out_h), Image.Resampling.LANCZOS))
    crop = Crop(rgb, np.zeros((out_h, out_w), np.uint8), box, downsample)
    return Crop(rgb, draw_mask(crop, annotation), box, downsample)


def draw_mask(crop: Crop, annotation: Annotation) -> NDArray[np.uint8]:
    """255 inside the polygon, 0 outside and in its holes, at the crop's pixels."""
    img = Image.new("L", (crop.rgb.shape[1], crop.rgb.shape[0]), 0)
    draw = ImageDraw.Draw(img)
    for poly in getattr(annotation.geometry, "geoms", [annotation.geometry]):
        draw.polygon(crop.to_crop(np.asarray(poly.exterior.coords)), fill=255)
        for hole in poly.interiors:
            draw.polygon(crop.to_crop(np.asarray(hole.coords)), fill=0)
    return np.asarray(img)


def draw_outline(crop: Crop, annotation: Annotation, rgb: RGB | None = None) -> RGB:
    """The crop (or ``rgb``) with the polygon's rings drawn in the class colour."""
    img = Image.fromarray(crop.rgb if rgb is None else rgb)
    draw = ImageDraw.Draw(img)
    colour = annotation.path_class.colour if annotation.path_class else (255, 255, 0)
    width = max(2, round(min(img.size) / 150))
    for poly in getattr(annotation.geometry, "geoms", [annotation.geometry]):
        for ring in (poly.exterior, *poly.interiors):
            draw.line(crop.to_crop(np.asarray(ring.coords)), fill=tuple(colour), width=width)
    return np.asarray(img)


def blend_saliency(crop: Crop, rasters: OverlayRasters, rgb: RGB | None = None) -> RGB | None:
    """The set's saliency over the crop ('inferno', opacity rising with the value);
    None when the set has no saliency raster."""
    infos = rasters.of_kind("saliency")
    if not infos:
        return None
    codes, ras_per_l0 = rasters.codes(infos[0].name), 1.0 / infos[0].l0_per_px
    x0, y0, x1, y1 = (math.floor(v * ras_per_l0) for v in crop.l0_box)
    window = np.zeros((max(1, y1 - y0 + 1), max(1, x1 - x0 + 1)), np.uint8)
    part = codes[max(y0, 0) : y1 + 1, max(x0, 0) : x1 + 1]
    dy, dx = max(-y0, 0), max(-x0, 0)
    window[dy : dy + part.shape[0], dx : dx + part.shape[1]] = part
    h, w = crop.rgb.shape[:2]
    value = np.asarray(Image.fromarray(window).resize((w, h), Image.Resampling.BILINEAR))
    from matplotlib import colormaps

    heat = colormaps["inferno"](value)[..., :3] * 255.0
    alpha = (SALIENCY_ALPHA * value / 255.0)[..., None]
    base = (crop.rgb if rgb is None else rgb).astype(np.float32)
    return np.clip(base * (1 - alpha) + heat * alpha + 0.5, 0, 255).astype(np.uint8)


@dataclass
class CropResult:
    """What ``export_crops`` did: files per region (written or found), what it skipped."""

    folder: Path
    written: int = 0
    resumed: int = 0
    skipped: list[str] = field(default_factory=list)
    files: dict[str, list[Path]] = field(default_factory=dict)


def export_crops(
    slide: Any,
    annotations: Iterable[Annotation],
    out_dir: str | Path,
    *,
    mpp: float = 0.5,
    fmt: str = "png",
    outline: bool = False,
    overlays: OverlayRasters | None = None,
    max_side_px: int = MAX_SIDE_PX,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> CropResult:
    """Write the crops of every polygonal annotation of the open ``slide`` at ``mpp``."""
    if fmt not in ("png", "tiff"):
        raise PathscaatError(f"crop format must be png or tiff, got {fmt!r}")
    downsample = mpp / slide_mpp(slide, "cropping at a µm/px")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result, todo = CropResult(out), list(annotations)
    l0_size = tuple(slide.dimensions)
    for i, ann in enumerate(todo):
        if should_stop():
            raise JobCancelled(f"crops stopped after {i} of {len(todo)} regions; run again to "
                               "finish (finished crops are kept)")  # fmt: skip
        on_progress(ProgressRecord("crops", i, len(todo), ann.name or ann.class_name or ""))
        if (why := _skip_reason(ann, downsample, max_side_px, l0_size)) is not None:
            result.skipped.append(f"{ann.id}: {why}")
            continue
        paths = _paths(out, ann, fmt, outline, overlays)
        result.files[ann.id] = paths
        if all(p.exists() for p in paths):
            result.resumed += 1
            continue
        _write_one(slide, ann, downsample, paths, mpp, overlays)
        result.written += 1
    on_progress(ProgressRecord("crops", len(todo), len(todo), f"{result.written} written"))
    return result


def _skip_reason(
    ann: Annotation, downsample: float, max_side_px: int, l0_size: tuple[int, ...]
) -> str | None:
    if not is_area(ann):
        return f"a {ann.geometry.geom_type} has no area to crop"
    if not on_slide(ann, (int(l0_size[0]), int(l0_size[1]))):
        return OUTSIDE_SLIDE
    w, h = crop_size(ann, downsample)
    if max(w, h) > max_side_px:
        return f"{w} x {h} px is over {max_side_px} px a side; export it at a larger µm/px"
    return None


def _paths(
    out: Path, ann: Annotation, fmt: str, outline: bool, overlays: OverlayRasters | None
) -> list[Path]:
    stem = file_stem(ann)
    paths = [out / f"{stem}.{'tif' if fmt == 'tiff' else 'png'}", out / f"{stem}_mask.png"]
    if outline:
        paths.append(out / f"{stem}_outline.png")
    if overlays is not None and overlays.of_kind("saliency"):
        paths.append(out / f"{stem}_saliency.png")
    return paths


def _write_one(
    slide: Any,
    ann: Annotation,
    downsample: float,
    paths: Sequence[Path],
    mpp: float,
    overlays: OverlayRasters | None,
) -> None:
    crop = read_crop(slide, ann, downsample)
    for path in paths[2:]:  # extras first: the image and mask, last, mark the region done
        if path.name.endswith("_outline.png"):
            save_image(path, draw_outline(crop, ann))
        elif overlays is not None:
            sal = blend_saliency(crop, overlays)
            if sal is not None:
                save_image(path, draw_outline(crop, ann, sal))
    save_image(paths[1], crop.mask)
    save_image(paths[0], crop.rgb, mpp=mpp)
