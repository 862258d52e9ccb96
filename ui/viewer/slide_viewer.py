"""SlideViewer: a pyramidal whole-slide viewer widget on pyqtgraph.

Scene coordinates are level-0 pixels (y down, aspect locked). On every view change
(debounced) the viewer picks, per source, the coarsest level still at least as sharp as
the screen, asks the :class:`TileLoader` for the visible tiles and places each as an
``ImageItem`` on the exact level-0 grid. Tiles of other levels stay as placeholders until
finer ones arrive. The viewer never reads a slide on the UI thread and never closes a
slide: whoever opened it closes it, after ``set_slide(None)`` or ``shutdown()``.

Public API (used by the main window, panels and minimap)::

    viewer = SlideViewer(synchronous=False)
    viewer.set_slide(slide)            # Slide | None; also removes every overlay
    viewer.fit(); viewer.zoom_by(2.0, view_anchor=None); viewer.pan_by(dx, dy)
    viewer.center_on(l0_x, l0_y); viewer.zoom_to_magnification(20)  # False if no scale
    viewer.magnification() -> float | None; viewer.l0_visible_rect() -> (x, y, w, h)
    viewer.add_overlay(layer); viewer.remove_overlay(name); viewer.overlays()
    viewer.set_overlay_order([name, ...])   # bottom first, as the layers panel lists them
    viewer.set_tile_grid(grid.l0_xy, grid.l0_tile_px)  # outlines; set_tile_grid(None) hides
    viewer.set_tissue_outline(rings)   # level-0 polygons; None removes them
    viewer.set_decoration_visible("grid" | "outline", on)  # the View menu's switches
    viewer.digital_zoom() -> float | None  # > 1 past the scan's own pixels
    viewer.refresh()   # after slide.set_mpp(): scale bar, magnification, sigViewChanged
    viewer.render_to_qimage() -> QImage; viewer.shutdown()  # call from closeEvent
    signals: sigViewChanged(object), sigCursorMoved(float, float), sigError(str),
             sigTilesPending(int), sigSlideChanged(object)  # Slide | None
    viewer.set_mouse_handler(handler)  # annotation tools: gets mouse events in level-0 px
    viewer.l0_from_view(QPointF) -> (l0_x, l0_y); viewer.view_from_l0(l0_x, l0_y) -> QPointF

Mouse: wheel/trackpad zooms about the cursor, drag pans. Keys: arrows pan, +/- zoom,
0 or F fits. Past the scan's own resolution (more than one screen pixel per level-0
pixel) pixels are drawn as crisp squares, not smoothed, and the scale bar says "digital".
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QImage, QKeyEvent, QPainter, QResizeEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from pathscaat.slides.base import Slide
from pathscaat.slides.region import Region
from ui.viewer.decorations import Decorations
from ui.viewer.keys import handle_key
from ui.viewer.mouse import MouseHandler, route_mouse
from ui.viewer.overlay_entry import OverlayEntry, attach_overlay, detach_overlay
from ui.viewer.overlay_layer import OverlayLayer
from ui.viewer.scale_bar import ScaleBar
from ui.viewer.tile_cache import DEFAULT_BUDGET_BYTES, TileCache
from ui.viewer.tile_grid import L0Rect, Source
from ui.viewer.tile_layer import TileLayer
from ui.viewer.view_math import magnification_of, slide_id_for, view_ds_for_magnification
from ui.viewer.virtual_levels import with_virtual_levels

DEBOUNCE_MS = 25
BACKGROUND = QColor(58, 58, 62)
MAX_OVERZOOM = 8.0


class SlideViewer(QWidget):
    """Pan/zoom view of one slide plus overlay layers; see the module docstring."""

    sigViewChanged = Signal(object)
    sigCursorMoved = Signal(float, float)
    sigError = Signal(str)
    sigTilesPending = Signal(int)
    sigSlideChanged = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        synchronous: bool = False,
        cache_bytes: int = DEFAULT_BUDGET_BYTES,
    ) -> None:
        super().__init__(parent)
        pg.setConfigOptions(imageAxisOrder="row-major")
        from ui.viewer.tile_loader import TileLoader

        self.cache = TileCache(cache_bytes)
        self.loader = TileLoader(self.cache, synchronous=synchronous, parent=self)
        self._slide: Slide | None = None
        self._base: TileLayer | None = None
        self._overlays: dict[str, OverlayEntry] = {}
        self._errors_seen: set[str] = set()
        self._mouse_handler: MouseHandler | None = None
        self._build_view()
        self.decorations = Decorations(self._vb)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._update_view)
        self.loader.sigTileReady.connect(self._on_tile)
        self.loader.sigError.connect(self._on_error)
        self.loader.sigPending.connect(self.sigTilesPending)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _build_view(self) -> None:
        self._gv = pg.GraphicsView(background=BACKGROUND)
        self._gv.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._gv.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self._vb = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self._vb.setDefaultPadding(0.01)
        self._gv.setCentralItem(self._vb)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._gv)
        self.scale_bar = ScaleBar(self)
        self._vb.sigRangeChanged.connect(self._schedule)
        self._vb.sigResized.connect(self._apply_limits)
        self._gv.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._gv.installEventFilter(self)
        self._gv.viewport().installEventFilter(self)

    # -- slide ---------------------------------------------------------------
    @property
    def slide(self) -> Slide | None:
        return self._slide

    @property
    def view_box(self) -> pg.ViewBox:
        return self._vb

    def set_slide(self, slide: Slide | None) -> None:
        """Show ``slide`` fitted to the window (None: empty view). Overlays are removed."""
        for name in list(self._overlays):
            self.remove_overlay(name)
        self.decorations.clear()
        if self._base is not None:
            self._base.clear()
            self.loader.unregister(self._base.source.slide_id)
            self._base = None
        self._slide = slide
        self._errors_seen.clear()
        self.loader.forget_failures()
        if slide is not None:
            source = Source(with_virtual_levels(slide), slide_id_for(slide))
            self.loader.register(source.slide_id, source.slide)
            self._base = TileLayer(self._vb, source, z_base=0.0)
            self._apply_limits()
            self.fit()
        self._update_view()
        self.sigSlideChanged.emit(slide)

    # -- navigation ----------------------------------------------------------
    def fit(self) -> None:
        """Show the whole slide."""
        if self._slide is None:
            return
        w, h = self._slide.dimensions
        self._vb.setRange(xRange=(0, w), yRange=(0, h), padding=0.01)

    def zoom_by(self, factor: float, view_anchor: QPointF | None = None) -> None:
        """Magnify by ``factor`` (>1 zooms in) keeping ``view_anchor`` (widget px) still."""
        if factor <= 0:
            raise ValueError(f"zoom factor must be positive, got {factor}")
        center = None
        if view_anchor is not None:
            scene_pt = self._gv.mapToScene(view_anchor.toPoint())
            center = self._vb.mapSceneToView(scene_pt)
        self._vb.scaleBy(s=(1.0 / factor, 1.0 / factor), center=center)
        self._schedule()  # also when nothing moved: zoom_by(1.0) re-emits the view

    def pan_by(self, view_dx: float, view_dy: float) -> None:
        """Move the visible area right/down by (view_dx, view_dy) screen pixels."""
        px = self.l0_per_view_px()
        self._vb.translateBy(x=view_dx * px, y=view_dy * px)

    def center_on(self, l0_x: float, l0_y: float) -> None:
        """Centre the view on a level-0 point, keeping the zoom."""
        _, _, w, h = self.l0_visible_rect()
        self._vb.setRange(
            xRange=(l0_x - w / 2, l0_x + w / 2), yRange=(l0_y - h / 2, l0_y + h / 2), padding=0
        )

    def can_zoom_to_magnification(self) -> bool:
        """True when the slide has µm/px or an objective power."""
        s = self._slide
        return s is not None and (s.mpp is not None or bool(s.objective_power))

    def zoom_to_magnification(self, mag: float) -> bool:
        """Zoom to an apparent objective (10 / µm per screen px); False when no scale."""
        if self._slide is None or mag <= 0:
            return False
        target = view_ds_for_magnification(self._slide, mag)
        if target is None:
            return False
        self.zoom_by(self.l0_per_view_px() / target)
        return True

    def magnification(self) -> float | None:
        """Apparent magnification now, or None when the slide has no scale."""
        if self._slide is None:
            return None
        return magnification_of(self._slide, self.l0_per_view_px())

    def digital_zoom(self) -> float | None:
        """Screen pixels per scanned pixel when above 1 (enlarged, no new detail), else None."""
        if self._slide is None:
            return None
        factor = 1.0 / max(1e-9, self.l0_per_view_px())
        return factor if factor > 1.0 + 1e-3 else None

    def l0_visible_rect(self) -> L0Rect:
        """(x, y, width, height) of the visible area in level-0 pixels."""
        (x0, x1), (y0, y1) = self._vb.viewRange()
        return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))

    def l0_from_view(self, view_pos: QPointF) -> tuple[float, float]:
        """Level-0 position of a point in widget (viewport) pixels."""
        pt = self._vb.mapSceneToView(self._gv.mapToScene(view_pos.toPoint()))
        return float(pt.x()), float(pt.y())

    def view_from_l0(self, l0_x: float, l0_y: float) -> QPointF:
        """Widget (viewport) pixel position of a level-0 point."""
        scene = self._vb.mapViewToScene(QPointF(l0_x, l0_y))
        return QPointF(self._gv.mapFromScene(scene))

    def set_mouse_handler(self, handler: MouseHandler | None) -> None:
        """Route mouse events to ``handler`` first (an annotation tool); None: pan only."""
        self._mouse_handler = handler

    def l0_per_view_px(self) -> float:
        """Level-0 pixels per screen pixel (the view's downsample)."""
        _, _, w, _ = self.l0_visible_rect()
        return w / max(1.0, float(self._vb.width()))

    # -- overlays ------------------------------------------------------------
    def add_overlay(self, layer: OverlayLayer) -> None:
        """Draw ``layer`` above the slide (and above earlier overlays); replaces same name."""
        if layer.name in self._overlays:
            self.remove_overlay(layer.name)
        self._overlays[layer.name] = attach_overlay(
            self._vb, self.loader, self.cache, layer, self._schedule
        )
        self._restack()
        self._schedule()

    def remove_overlay(self, name: str) -> None:
        """Stop drawing the named overlay (the layer keeps its raster open)."""
        detach_overlay(self._overlays.pop(name), self.loader)
        self._schedule()

    def set_tile_grid(
        self, l0_xy: NDArray[np.int64] | None, l0_tile_px: float = 0.0, color: QColor | None = None
    ) -> None:
        """Outline tiles (``TileGrid.l0_xy``, ``TileGrid.l0_tile_px``); None removes them.

        Drawn while the ``grid`` switch is on (off at first) and tiles are big enough.
        """
        self.decorations.set_grid(l0_xy, l0_tile_px, self.l0_per_view_px(), color)

    def set_tissue_outline(self, rings: list[NDArray[np.float64]] | None) -> None:
        """Draw closed level-0 polygons around the tissue (while ``outline`` is on)."""
        self.decorations.set_outline(rings)

    def set_decoration_visible(self, name: str, on: bool) -> None:
        """Switch the ``grid`` or the ``outline`` on or off."""
        self.decorations.set_visible(name, on)
        self.decorations.update_for_zoom(self.l0_per_view_px())

    def set_overlay_order(self, names: list[str]) -> None:
        """Stack overlays in ``names`` order, bottom first (the layers panel's order)."""
        if sorted(names) != sorted(self._overlays):
            raise ValueError(f"need a permutation of {list(self._overlays)}, got {names}")
        self._overlays = {name: self._overlays[name] for name in names}
        self._restack()

    def _restack(self) -> None:
        for i, entry in enumerate(self._overlays.values()):
            entry.tiles.set_z_base(100.0 * (i + 1))

    def overlays(self) -> list[OverlayLayer]:
        """Overlay layers, bottom first."""
        return [entry.layer for entry in self._overlays.values()]

    # -- rendering -----------------------------------------------------------
    def refresh(self) -> None:
        """Re-emit the view and redraw the scale bar (e.g. after the user set µm/px)."""
        self._schedule()

    def flush(self) -> None:
        """Apply a pending (debounced) view change now."""
        if self._timer.isActive():
            self._timer.stop()
            self._update_view()

    def render_to_qimage(self) -> QImage:
        """The widget as it looks now (tiles, overlays, scale bar), for tests and screenshots."""
        self.flush()
        return self.grab().toImage()

    def tile_layers(self) -> list[TileLayer]:
        """Base layer then overlay layers (for tests and the benchmark)."""
        base = [self._base] if self._base is not None else []
        return base + [entry.tiles for entry in self._overlays.values()]

    def shutdown(self) -> None:
        """Stop loading and wait for the workers; safe to call twice."""
        self._timer.stop()
        self.loader.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- internals -----------------------------------------------------------
    def _apply_limits(self, *_: object) -> None:
        """Zoom out to 4x the slide at most, in to MAX_OVERZOOM screen px per l0 px."""
        if self._slide is not None:
            side = 4.0 * max(self._slide.dimensions)
            view_px = max(1.0, float(min(self._vb.width(), self._vb.height())))
            least = view_px / MAX_OVERZOOM
            self._vb.setLimits(minXRange=least, maxXRange=side, minYRange=least, maxYRange=side)
        self._schedule()

    def _schedule(self, *_: object) -> None:
        if not self.loader.closed:
            self._timer.start()

    def _update_view(self) -> None:
        rect = self.l0_visible_rect()
        ds = self.l0_per_view_px() / max(1.0, self.devicePixelRatioF())
        regions: list[Region] = []
        for layer in self.tile_layers():
            regions += layer.wanted(rect, ds)
        self.loader.request(regions)
        self.decorations.update_for_zoom(self.l0_per_view_px())
        mpp = self._slide.mpp if self._slide is not None else None
        um = mpp.x * self.l0_per_view_px() if mpp is not None else None
        digital = self.digital_zoom()
        self._gv.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, digital is None)
        self.scale_bar.set_scale(um, has_slide=self._slide is not None, digital=digital)
        self.sigViewChanged.emit(rect)

    def _on_tile(self, region: Region, tile: NDArray[np.uint8]) -> None:
        for layer in self.tile_layers():
            if layer.source.slide_id == region.slide_id:
                layer.add_tile(region, tile)
                return

    def _on_error(self, region: Region | None, message: str) -> None:
        """Report the first error of each source once (a broken file fails every tile)."""
        key = region.slide_id if region is not None else message
        if key not in self._errors_seen:
            self._errors_seen.add(key)
            self.sigError.emit(message)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        pt = self._vb.mapSceneToView(scene_pos)
        x, y = float(pt.x()), float(pt.y())
        if self._slide is None:
            x = y = math.nan
        else:
            w, h = self._slide.dimensions
            if not (0 <= x < w and 0 <= y < h):
                x = y = math.nan
        self.sigCursorMoved.emit(x, y)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.scale_bar.move(10, self.height() - self.scale_bar.height() - 10)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.sigCursorMoved.emit(math.nan, math.nan)
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return handle_key(self, event.key())
        on_slide = watched is self._gv.viewport() and self._slide is not None
        if on_slide and route_mouse(self._mouse_handler, event, self.l0_from_view):
            return True
        return super().eventFilter(watched, event)

