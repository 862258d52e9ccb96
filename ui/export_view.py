"""File > Export View: the view (or the whole slide) with overlays, annotations, scale bar
and legends.

The pixels are rendered by the core (:func:`pathscaat.inference.render.render_in_bands`,
the same lookup tables and opacities as the screen), at any size, so an export is not a
screenshot: no panels, no half-loaded tiles, and a whole slide at 8000 px when asked.
The tile grid and tissue outline follow the View menu's switches; the annotations are
drawn as the annotation layer draws them (class colours, its fill, outline and opacity,
hidden classes left out; the selection highlight is not part of the slide).

An export is planned on the UI thread (:func:`plan_export`: what is on screen now, as
values) and rendered anywhere (:func:`render_job`, with progress and cancel), so the
window can render it in a worker while the user goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtGui import QImage, QPainter

from pathscaat.inference.render import LayerPaint, fit_size, render_in_bands
from pathscaat.progress import (
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from ui.export_paint import (
    AnnotationShapes,
    LegendSpec,
    legend_spec,
    paint_annotations,
    paint_grid,
    paint_legends,
    paint_outline,
    paint_scale_bar,
)
from ui.viewer.decorations import GRID, OUTLINE
from ui.viewer.slide_viewer import SlideViewer

if TYPE_CHECKING:
    from ui.annotations.layer import AnnotationLayer

L0Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class ExportRequest:
    """What to export: ``whole_slide`` at ``longest_px``, else the view times ``view_scale``."""

    path: Path
    whole_slide: bool = False
    longest_px: int = 4000
    view_scale: float = 1.0
    scale_bar: bool = True
    legends: bool = True


@dataclass(frozen=True)
class ExportJob:
    """Everything a render needs, taken from the window at one moment (see module doc)."""

    path: Path
    slide: Any
    l0_rect: L0Rect
    out_size: tuple[int, int]
    paints: list[LayerPaint]
    legends: list[LegendSpec] = field(default_factory=list)
    outline: list[NDArray[np.float64]] | None = None
    grid: tuple[NDArray[np.int64], float] | None = None
    annotations: AnnotationShapes | None = None
    scale_bar: bool = True
    um_per_l0_px: float | None = None


def export_area(viewer: SlideViewer, req: ExportRequest) -> tuple[L0Rect, tuple[int, int]]:
    """The level-0 rectangle and the output (width, height) of a request."""
    assert viewer.slide is not None
    if req.whole_slide:
        w, h = viewer.slide.dimensions
        return (0.0, 0.0, float(w), float(h)), fit_size(w, h, req.longest_px)
    rect = viewer.l0_visible_rect()
    view_w, view_h = viewer.view_box.width(), viewer.view_box.height()
    longest = round(max(view_w, view_h) * req.view_scale)
    return rect, fit_size(rect[2], rect[3], longest)


def plan_export(
    viewer: SlideViewer, req: ExportRequest, annotations: AnnotationLayer | None = None
) -> ExportJob:
    """The job of ``req`` from what the viewer and the annotation layer show now."""
    slide = viewer.slide
    if slide is None:
        raise PathscaatError("Open a slide first, then export its view.")
    l0_rect, out_size = export_area(viewer, req)
    layers = [layer for layer in viewer.overlays() if layer.visible]
    paints = [
        LayerPaint(lay.source, lay.l0_per_px, lay.lut(), lay.opacity, not lay.legend_entries())
        for lay in layers
    ]
    deco = viewer.decorations
    outline = None
    if deco.outline is not None and deco.wanted[OUTLINE]:
        outline = list(deco.outline.rings)
    grid = None
    if deco.grid is not None and deco.wanted[GRID]:
        grid = (deco.grid.l0_xy, float(deco.grid.l0_tile_px))
    screen_px = max(viewer.view_box.width(), viewer.view_box.height(), 1.0)
    enlarge = max(1.0, max(out_size) / screen_px)  # lines as thick, relative to the image
    shapes = None
    if annotations is not None:
        shapes = AnnotationShapes.of_layer(annotations, l0_rect, l0_rect[2] / out_size[0], enlarge)
    return ExportJob(
        path=req.path, slide=slide, l0_rect=l0_rect, out_size=out_size, paints=paints,
        legends=[legend_spec(lay) for lay in layers] if req.legends else [],
        outline=outline, grid=grid, annotations=shapes, scale_bar=req.scale_bar,
        um_per_l0_px=slide.mpp.x if slide.mpp is not None else None,
    )  # fmt: skip


def render_job(
    job: ExportJob, *, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> QImage:
    """The image of ``job``: slide and overlays in bands, then the line art on top."""
    out_w, out_h = job.out_size
    rgb = render_in_bands(job.slide, job.l0_rect, job.out_size, job.paints,
                          on_progress=on_progress, should_stop=should_stop)  # fmt: skip
    rgb = np.ascontiguousarray(rgb)
    image = QImage(rgb.data, out_w, out_h, out_w * 3, QImage.Format.Format_RGB888).copy()
    on_progress(ProgressRecord("draw", 0, 1, "annotations, scale bar and legends"))
    scale = out_w / max(1e-9, job.l0_rect[2])
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if job.outline is not None:
        paint_outline(painter, job.outline, job.l0_rect, scale)
    if job.grid is not None:
        paint_grid(painter, job.grid[0], job.grid[1], job.l0_rect, scale)
    if job.annotations is not None:
        paint_annotations(painter, job.annotations, job.l0_rect, scale)
    if job.scale_bar:
        um = job.um_per_l0_px / scale if job.um_per_l0_px else None
        paint_scale_bar(painter, image, um, scale if scale > 1.0 + 1e-3 else None)
    if job.legends:
        paint_legends(painter, image, job.legends)
    painter.end()
    on_progress(ProgressRecord("draw", 1, 1, "annotations, scale bar and legends"))
    return image


def save_png(image: QImage, path: Path) -> Path:
    """Write ``image`` as PNG (a ``.png`` suffix is added); a PathscaatError says why not."""
    path = path if path.suffix.lower() == ".png" else path.with_suffix(".png")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PathscaatError(
            f"Cannot create the folder {path.parent} ({exc.strerror or exc}). Choose another."
        ) from exc
    if not image.save(str(path)):  # the .png suffix chooses the format
        raise PathscaatError(
            f"Could not write {path}: check that the folder is writable and the disk has "
            "space, or choose another file."
        )
    return path


def run_job(
    job: ExportJob, *, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> Path:
    """Render and save ``job`` (what the worker runs); JobCancelled on stop."""
    image = render_job(job, on_progress=on_progress, should_stop=should_stop)
    on_progress(ProgressRecord("save", 0, 1, job.path.name))
    return save_png(image, job.path)


def render_export(
    viewer: SlideViewer, req: ExportRequest, annotations: AnnotationLayer | None = None
) -> QImage:
    """The image of ``req`` at once, on the calling thread (tests, scripts)."""
    return render_job(plan_export(viewer, req, annotations))


def export_view(
    viewer: SlideViewer, req: ExportRequest, annotations: AnnotationLayer | None = None
) -> Path:
    """Render ``req`` and save it as PNG on the calling thread (tests, scripts)."""
    return run_job(plan_export(viewer, req, annotations))
