"""The slide viewer: tiles loaded off the UI thread, overlays, minimap and scale bar.

Embed :class:`SlideViewer` (see :mod:`ui.viewer.slide_viewer` for its API); build overlay
layers with :func:`layers_from_overlay_set`; add a :class:`Minimap` bound to a viewer.
Importing this package imports Qt and pyqtgraph, never torch.
"""

from ui.viewer.minimap import Minimap
from ui.viewer.overlay_layer import COLORMAPS, OverlayLayer, layers_from_overlay_set
from ui.viewer.slide_viewer import SlideViewer
from ui.viewer.tile_cache import TileCache
from ui.viewer.tile_loader import TileLoader

__all__ = [
    "COLORMAPS",
    "Minimap",
    "OverlayLayer",
    "SlideViewer",
    "TileCache",
    "TileLoader",
    "layers_from_overlay_set",
]
