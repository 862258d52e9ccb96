"""Overlay sets on the current slide: load an inference output folder, remove, forget.

The viewer draws the layers and the layers panel edits them; this module only moves
layers between the two and makes sure every raster it opened is closed again. With the
layers come the set's tile grid (``tiles.csv``) and tissue outline (``tissue.tif``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ui.errors import ErrorSink
from ui.panels.layers_panel import LayersPanel

if TYPE_CHECKING:
    from ui.viewer import SlideViewer

log = logging.getLogger(__name__)

HIDDEN_AT_FIRST = ("probability", "tissue")
"""Kinds that start hidden: the class map and the saliency are the news; one class's
probability is detail, and the tissue has its outline (View > Tissue Outline)."""

SALIENCY_START_THRESHOLD = 0.4
"""Raw saliency (older runs, and the per-tile and absolute layers) below this fraction of
its range starts transparent: the tissue stays readable and the salient spots stand out
(the user moves the slider to see more). The slide-level map, in percentiles of the
slide, starts at :data:`pathscaat.inference.saliency_layers.DISPLAY_THRESHOLD`."""

SECONDARY_SALIENCY = ("saliency_tile", "saliency_abs")
"""The rasters the slide-level saliency map is made from: start hidden beside it."""


def start_threshold(layer: Any) -> float:
    """The value under which a saliency layer starts transparent (in its own unit)."""
    from pathscaat.inference.overlays import UNIT_PERCENTILE
    from pathscaat.inference.saliency_layers import DISPLAY_THRESHOLD

    span = layer.value_max - layer.value_min
    share = DISPLAY_THRESHOLD if layer.unit == UNIT_PERCENTILE else SALIENCY_START_THRESHOLD
    return float(layer.value_min + share * span)


class OverlayController(QObject):
    """Loads overlay sets into the viewer and keeps the layers panel in step."""

    sigLoaded = Signal(object, int)  # folder, number of layers
    sigSetsChanged = Signal(list)  # the overlay sets with a layer on screen (folders)

    def __init__(
        self, viewer: SlideViewer, panel: LayersPanel, errors: ErrorSink, parent: QObject
    ) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.panel = panel
        self.errors = errors
        self.folders: dict[str, Path] = {}  # layer name -> the inference output it came from
        panel.sigRemoveRequested.connect(self.remove)

    def load(self, folder: Path, slide: Any) -> bool:
        """Add the rasters of ``folder`` (an inference output) over ``slide``; False on error."""
        from pathscaat.inference.overlays import OverlaySet
        from ui.viewer.overlay_layer import layers_from_overlay_set

        if slide is None:
            self.errors.report("Open a slide first, then its overlays.", title="Overlays")
            return False
        try:
            overlay_set = OverlaySet.load(folder)
            layers = layers_from_overlay_set(overlay_set)
        except Exception as exc:
            self.errors.report_exception(exc, title="Cannot open overlays")
            return False
        self._check_size(folder, overlay_set, slide)
        for layer in layers:
            self._drop(layer.name)
            hidden = layer.kind in HIDDEN_AT_FIRST or layer.name in SECONDARY_SALIENCY
            layer.visible = not hidden or len(layers) == 1
            if layer.kind == "saliency":
                layer.threshold = start_threshold(layer)
            self.viewer.add_overlay(layer)
            self.folders[layer.name] = overlay_set.root
        self.panel.set_layers(self.viewer.overlays())
        self._load_decorations(overlay_set)
        log.info("loaded %d overlays from %s", len(layers), folder)
        self.sigLoaded.emit(folder, len(layers))
        self.sigSetsChanged.emit(self.sets())
        return True

    def sets(self) -> list[Path]:
        """The inference output folders with a layer on the slide, in load order."""
        return list(dict.fromkeys(self.folders.values()))

    def _load_decorations(self, overlay_set: Any) -> None:
        """The tile grid and tissue outline of the set; a damaged file only costs those."""
        from pathscaat.inference.outlines import read_tile_boxes, tissue_outline_from_raster

        try:
            if overlay_set.tiles_csv:
                l0_xy, side = read_tile_boxes(overlay_set.root / overlay_set.tiles_csv)
                self.viewer.set_tile_grid(l0_xy, side)
            for info in overlay_set.overlays:
                if info.kind == "tissue":
                    path = overlay_set.path_of(info)
                    self.viewer.set_tissue_outline(tissue_outline_from_raster(path, info.l0_per_px))
        except Exception as exc:
            self.errors.report(
                f"The tile grid or tissue outline of {overlay_set.root} could not be read "
                f"({exc}); the overlays are shown without it.",
                title="Overlays", minor=True,
            )  # fmt: skip

    def _check_size(self, folder: Path, overlay_set: Any, slide: Any) -> None:
        ow, oh = overlay_set.slide_dims
        sw, sh = slide.dimensions
        if (ow, oh) != (sw, sh):
            self.errors.report(
                f"The overlays in {folder} were made for a slide of {ow} × {oh} px "
                f"({Path(overlay_set.slide).name}); this slide is {sw} × {sh} px. They are "
                "shown anyway: check that they belong to this slide.",
                title="Overlays", minor=True,
            )  # fmt: skip

    def _drop(self, name: str) -> None:
        layer = {o.name: o for o in self.viewer.overlays()}.get(name)
        if layer is not None:
            self.viewer.remove_overlay(name)
            layer.close()
        self.folders.pop(name, None)

    def remove(self, name: str) -> None:
        """Stop drawing the named layer and close its raster."""
        self._drop(name)
        self.panel.set_layers(self.viewer.overlays())
        self.sigSetsChanged.emit(self.sets())

    def close_all(self) -> None:
        """Remove every layer (before the slide changes or the window closes)."""
        for layer in self.viewer.overlays():
            self._drop(layer.name)
        self.viewer.set_tile_grid(None)
        self.viewer.set_tissue_outline(None)
        self.panel.set_layers([])
        self.sigSetsChanged.emit([])
