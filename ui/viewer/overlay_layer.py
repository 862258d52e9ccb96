"""Overlay layers: a model object per raster of an inference output (heatmap, saliency, mask).

An :class:`OverlayLayer` owns an overlay pyramid opened with ``open_slide`` (uint8 codes in
the R channel; code ``c`` means ``value_min + c/255*(value_max-value_min)``) and the
display state a layers panel edits: ``visible``, ``opacity`` (0..1), ``colormap`` (one of
:data:`COLORMAPS`) and ``threshold`` (values below it are transparent). Every change
emits ``sigChanged(layer)``; the viewer restyles tiles already on screen through a lookup
table and item opacity, so no change re-reads a tile. The layer never calls a widget.

Public API used by the layers panel::

    layers = layers_from_overlay_set(OverlaySet.load(folder))
    viewer.add_overlay(layer); layer.opacity = 0.3; layer.colormap = "magma"
    layer.value_at(l0_x, l0_y)   # value under the cursor from cached tiles, or None
    layer.legend_image()         # QImage colour bar for the panel
    viewer.remove_overlay(layer.name); layer.close()

Alpha follows the value (:func:`pathscaat.inference.overlay_style.value_alpha`): codes
below the threshold are transparent, weak values above it faint, strong ones opaque.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from pathscaat.inference.overlay_style import CLASS_MAP_OPACITY, SALIENCY_RAMP, value_alpha
from pathscaat.inference.overlays import UNIT_PERCENTILE, OverlaySet
from pathscaat.slides.base import Slide
from ui.viewer.tile_cache import TileCache

COLORMAPS: tuple[str, ...] = (
    "lime", "viridis", "inferno", "magma", "plasma", "cividis", "hot", "greens", "blues",
)
"""Perceptually ordered maps (no jet); ``lime``, ``hot``, ``greens``, ``blues`` are defined
here. ``lime`` (dark green to yellow) is the saliency default: no purple or pink in it,
so it never merges with haematoxylin or eosin."""

DEFAULT_COLORMAP = {"saliency": "lime", "probability": "blues", "tissue": "greens"}
DEFAULT_OPACITY = {
    "saliency": 0.9, "probability": 0.6, "classes": CLASS_MAP_OPACITY, "tissue": 0.5,
}  # fmt: skip
"""Opacity a layer starts with; with alpha by value, weak values stay faint anyway."""

_OWN_MAPS: dict[str, tuple[list[float], list[tuple[int, int, int]]]] = {
    "lime": ([p for p, _ in SALIENCY_RAMP], [c for _, c in SALIENCY_RAMP]),
    "blues": ([0.0, 1.0], [(120, 190, 255), (0, 40, 160)]),
    "hot": ([0.0, 0.365, 0.746, 1.0], [(10, 0, 0), (255, 0, 0), (255, 255, 0), (255, 255, 255)]),
    "greens": ([0.0, 1.0], [(199, 233, 192), (0, 109, 44)]),
}
_ids = itertools.count(1)


def colormap_lut(name: str) -> NDArray[np.uint8]:
    """256 x 3 uint8 RGB table of the named colormap."""
    if name not in COLORMAPS:
        raise ValueError(f"unknown colormap {name!r}; choose one of {', '.join(COLORMAPS)}")
    if name in _OWN_MAPS:
        pos, colors = _OWN_MAPS[name]
        cmap = pg.ColorMap(np.array(pos), np.array(colors, dtype=np.ubyte))
    else:
        cmap = pg.colormap.get(name)
    lut = cmap.getLookupTable(0.0, 1.0, 256, alpha=False)
    return np.ascontiguousarray(lut[:, :3], dtype=np.uint8)


class OverlayLayer(QObject):
    """One overlay raster placed on the slide with ``l0_per_px`` level-0 px per raster px."""

    sigChanged = Signal(object)

    scale_text: str = ""
    """The scale of the run that made the layer (``OverlaySet.scale_text``; '' unknown)."""

    unit: str = ""
    """What a value means (``OverlayInfo.unit``; '' unknown, as in older runs)."""

    meaning: str = ""
    """One sentence for the legend (``OverlayInfo.meaning``)."""

    def __init__(
        self,
        name: str,
        source: Slide,
        l0_per_px: float,
        *,
        kind: str = "saliency",
        value_min: float = 0.0,
        value_max: float = 1.0,
        colormap: str | None = None,
        opacity: float | None = None,
        visible: bool = True,
        threshold: float | None = None,
    ) -> None:
        super().__init__()
        if l0_per_px <= 0:
            raise ValueError(f"l0_per_px must be positive, got {l0_per_px}")
        self.name = name
        self.kind = kind
        self.source = source
        self.l0_per_px = float(l0_per_px)
        self.value_min = float(value_min)
        self.value_max = float(value_max)
        self.slide_id = f"overlay:{name}@{next(_ids)}"
        self._colormap = colormap or DEFAULT_COLORMAP.get(kind, "viridis")
        colormap_lut(self._colormap)  # validate early
        if opacity is None:
            opacity = DEFAULT_OPACITY.get(kind, 0.6)
        self._opacity = min(1.0, max(0.0, float(opacity)))
        self._visible = bool(visible)
        # default: code 0 ("no data", background) is transparent
        self._threshold = self.code_to_value(1) if threshold is None else float(threshold)
        self._cache: TileCache | None = None

    # -- display state -------------------------------------------------------
    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._set("_visible", bool(value))

    @property
    def opacity(self) -> float:
        return self._opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        self._set("_opacity", min(1.0, max(0.0, float(value))))

    @property
    def colormap(self) -> str:
        return self._colormap

    @colormap.setter
    def colormap(self, name: str) -> None:
        colormap_lut(name)
        self._set("_colormap", name)

    @property
    def threshold(self) -> float:
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self._set("_threshold", float(value))

    def _set(self, attr: str, value: object) -> None:
        if getattr(self, attr) != value:
            setattr(self, attr, value)
            self.sigChanged.emit(self)

    # -- values --------------------------------------------------------------
    def code_to_value(self, code: float) -> float:
        return self.value_min + code / 255.0 * (self.value_max - self.value_min)

    def threshold_code(self) -> int:
        """Smallest uint8 code drawn (codes below it are transparent)."""
        span = self.value_max - self.value_min
        if span == 0:
            return 0
        return int(
            min(256, max(0, math.ceil((self._threshold - self.value_min) / span * 255 - 1e-9)))
        )

    def lut(self) -> NDArray[np.uint8]:
        """256 x 4 RGBA table: colormap, alpha 0 below the threshold, then rising."""
        rgba = np.empty((256, 4), dtype=np.uint8)
        rgba[:, :3] = colormap_lut(self._colormap)
        rgba[:, 3] = value_alpha(self.threshold_code())
        return rgba

    def attach(self, cache: TileCache | None) -> None:
        """Read values from ``cache`` (the viewer calls this in ``add_overlay``)."""
        self._cache = cache

    def value_at(self, l0_x: float, l0_y: float) -> float | None:
        """Value at a slide point from tiles already loaded (finest first), else None.

        Never reads the raster, so it is safe on the UI thread under a moving cursor.
        """
        code = self.code_at(l0_x, l0_y)
        return None if code is None else self.code_to_value(code)

    def code_at(self, l0_x: float, l0_y: float) -> int | None:
        """The raster code at a slide point from tiles already loaded, else None."""
        if self._cache is None or math.isnan(l0_x) or math.isnan(l0_y):
            return None
        src_x, src_y = l0_x / self.l0_per_px, l0_y / self.l0_per_px
        for region in sorted(self._cache.regions(self.slide_id), key=lambda r: r.level):
            ds = float(self.source.level_downsamples[region.level])
            lvl_x = int((src_x - region.l0_x) // ds)
            lvl_y = int((src_y - region.l0_y) // ds)
            if 0 <= lvl_x < region.lvl_w and 0 <= lvl_y < region.lvl_h:
                tile = self._cache.peek(region)
                if tile is not None:
                    return int(tile[lvl_y, lvl_x, 0])
        return None

    def describe_at(self, l0_x: float, l0_y: float) -> str | None:
        """The value under a slide point as the readout shows it, or None (not loaded)."""
        value = self.value_at(l0_x, l0_y)
        return None if value is None else f"{value:.3g}"

    def legend_entries(self) -> list[tuple[str, tuple[int, int, int]]]:
        """(label, colour) swatches for a categorical legend; empty for a colour bar."""
        return []

    def legend_swatches(self) -> list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]:
        """(label, over eosin, over haematoxylin): each swatch as the overlay shows it on
        tissue at the layer's opacity; empty for a colour bar."""
        return []

    def legend_image(self, width: int = 160, height: int = 12) -> QImage:
        """A horizontal colour bar (value_min left, value_max right) for the layers panel."""
        lut = self.lut()
        codes = np.linspace(0, 255, width).round().astype(np.intp)
        row = lut[codes]
        row[:, 3] = np.where(row[:, 3] == 0, 40, np.maximum(row[:, 3], 150))  # hint alpha
        data = np.ascontiguousarray(np.repeat(row[None, :, :], height, axis=0))
        image = QImage(data.data, width, height, width * 4, QImage.Format.Format_RGBA8888)
        return image.copy()

    def close(self) -> None:
        """Release the raster (after ``viewer.remove_overlay``)."""
        self.source.close()

    def __repr__(self) -> str:
        return f"OverlayLayer({self.name!r}, kind={self.kind!r}, l0_per_px={self.l0_per_px})"


def layers_from_overlay_set(
    overlay_set: OverlaySet, open_fn: Callable[[str], Slide] | None = None
) -> list[OverlayLayer]:
    """The layers of an inference output, bottom first: class map, saliency, the rest.

    The class map (argmax over the probability rasters) comes when there are two classes
    or more; saliency is read through :class:`PeakPyramid` so peaks survive zooming out;
    probability layers start hidden.
    """
    from pathscaat.inference.display_sources import PeakPyramid

    if open_fn is None:
        from pathscaat.slides import open_slide

        open_fn = open_slide
    layers: list[OverlayLayer] = []
    try:
        for info in overlay_set.overlays:
            source = open_fn(str(overlay_set.path_of(info)))
            if info.kind == "saliency" and info.unit != UNIT_PERCENTILE:
                source = PeakPyramid(source)  # sparse peaks; the slide map is continuous
            layer = OverlayLayer(
                info.name, source, info.l0_per_px, kind=info.kind,
                value_min=info.value_min, value_max=info.value_max,
                visible=info.kind != "probability",
            )  # fmt: skip
            layer.unit, layer.meaning = info.unit, info.meaning
            layers.append(layer)
        class_map = _class_map_layer(overlay_set, open_fn)
        if class_map is not None:
            layers.insert(0, class_map)
        for layer in layers:
            layer.scale_text = overlay_set.scale_text
    except BaseException:
        for layer in layers:  # no half-opened set: release what was opened
            layer.close()
        raise
    return layers


def _class_map_layer(
    overlay_set: OverlaySet, open_fn: Callable[[str], Slide]
) -> OverlayLayer | None:
    """A :class:`ClassMapLayer` over the set's probability rasters (None for < 2 classes)."""
    from pathscaat.inference.display_sources import ClassMapSlide
    from pathscaat.inference.overlay_style import MAX_CLASSES
    from ui.viewer.class_map_layer import ClassMapLayer

    probs = [o for o in overlay_set.overlays if o.kind == "probability"]
    if not 2 <= len(probs) <= MAX_CLASSES or len({o.l0_per_px for o in probs}) != 1:
        return None
    rasters: list[Slide] = []
    try:
        for info in probs:
            rasters.append(open_fn(str(overlay_set.path_of(info))))
        source = ClassMapSlide(rasters)
    except BaseException:
        for raster in rasters:
            raster.close()
        raise
    names = [o.class_name or o.name for o in probs]
    return ClassMapLayer("classes", source, probs[0].l0_per_px, names)
