"""One overlay as the viewer draws it: its layer, its tile layer and the link between them.

Kept out of SlideViewer so the viewer only orders entries; building and tearing down an
entry (lookup table, opacity, loader and cache registration) is this module's one idea.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray

from ui.viewer.overlay_layer import OverlayLayer
from ui.viewer.tile_grid import Source
from ui.viewer.tile_layer import TileLayer


@dataclass
class OverlayEntry:
    layer: OverlayLayer
    tiles: TileLayer
    on_changed: Callable[[object], None]


def attach_overlay(
    vb: pg.ViewBox, loader: Any, cache: Any, layer: OverlayLayer, schedule: Callable[[], None]
) -> OverlayEntry:
    """A tile layer for ``layer`` that follows its lookup table, opacity and visibility."""
    source = Source(layer.source, layer.slide_id, layer.l0_per_px)
    luts: dict[str, NDArray[np.uint8]] = {"lut": layer.lut()}

    def configure(item: pg.ImageItem) -> None:
        item.setLookupTable(luts["lut"])
        item.setOpacity(layer.opacity)

    def on_changed(_: object) -> None:
        luts["lut"] = layer.lut()
        tiles.apply(configure)
        if tiles.visible != layer.visible:
            tiles.set_visible(layer.visible)
            schedule()

    crisp = bool(layer.legend_entries())  # categorical: no blending across borders
    tiles = TileLayer(vb, source, 0.0, _first_channel, configure, False, crisp)
    tiles.visible = layer.visible
    loader.register(layer.slide_id, layer.source)
    layer.attach(cache)
    layer.sigChanged.connect(on_changed)
    return OverlayEntry(layer, tiles, on_changed)


def detach_overlay(entry: OverlayEntry, loader: Any) -> None:
    """Stop drawing the entry (the layer keeps its raster open)."""
    entry.layer.sigChanged.disconnect(entry.on_changed)
    entry.tiles.clear()
    loader.unregister(entry.layer.slide_id)
    entry.layer.attach(None)


def _first_channel(tile: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Overlay rasters carry their codes in R (grey in all three channels)."""
    return np.ascontiguousarray(tile[..., 0]) if tile.ndim == 3 else tile
