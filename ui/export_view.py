"""File > Export View: the view (or the whole slide) with overlays, scale bar and legends.

The pixels are rendered by the core (:func:`pathscaat.inference.render.render_region`,
the same lookup tables and opacities as the screen), at any size, so an export is not a
screenshot: no panels, no half-loaded tiles, and a whole slide at 8000 px when asked.
The tile grid and tissue outline follow the View menu's switches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage, QPainter

from pathscaat.inference.render import LayerPaint, fit_size, render_region
from pathscaat.progress import PathscaatError
from ui.export_paint import paint_grid, paint_legends, paint_outline, paint_scale_bar
from ui.viewer.decorations import GRID, OUTLINE
from ui.viewer.slide_viewer import SlideViewer

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


def render_export(viewer: SlideViewer, req: ExportRequest) -> QImage:
    """The image of ``req`` (see the module docstring)."""
    slide = viewer.slide
    if slide is None:
        raise PathscaatError("Open a slide first, then export its view.")
    l0_rect, (out_w, out_h) = export_area(viewer, req)
    layers = [layer for layer in viewer.overlays() if layer.visible]
    paints = [
        LayerPaint(lay.source, lay.l0_per_px, lay.lut(), lay.opacity, not lay.legend_entries())
        for lay in layers
    ]
    rgb = np.ascontiguousarray(render_region(slide, l0_rect, (out_w, out_h), paints))
    image = QImage(rgb.data, out_w, out_h, out_w * 3, QImage.Format.Format_RGB888).copy()
    scale = out_w / max(1e-9, l0_rect[2])
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    deco = viewer.decorations
    if deco.outline is not None and deco.wanted[OUTLINE]:
        paint_outline(painter, deco.outline.rings, l0_rect, scale)
    if deco.grid is not None and deco.wanted[GRID]:
        paint_grid(painter, deco.grid.l0_xy, deco.grid.l0_tile_px, l0_rect, scale)
    if req.scale_bar:
        um = slide.mpp.x / scale if slide.mpp is not None else None
        paint_scale_bar(painter, image, um, scale if scale > 1.0 + 1e-3 else None)
    if req.legends:
        paint_legends(painter, image, layers)
    painter.end()
    return image


def export_view(viewer: SlideViewer, req: ExportRequest) -> Path:
    """Render ``req`` and save it as PNG; a PathscaatError says why it could not be."""
    image = render_export(viewer, req)
    path = req.path if req.path.suffix.lower() == ".png" else req.path.with_suffix(".png")
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
