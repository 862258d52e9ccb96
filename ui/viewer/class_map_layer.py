"""The class-map layer: each tile in its predicted class's colour, the probability as alpha.

The raster is a :class:`pathscaat.inference.display_sources.ClassMapSlide` (class-map
codes computed from the per-class probability rasters as tiles load); the colours and the
alpha ramp are :func:`pathscaat.inference.overlay_style.class_map_lut`. The threshold is a
minimum probability: tiles the model is less sure of are not drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtGui import QImage

from pathscaat.inference.overlay_style import (
    RGB,
    class_map_lut,
    class_palette,
    decode_class_code,
    legend_swatch,
)
from pathscaat.slides.base import Slide
from ui.viewer.overlay_layer import OverlayLayer


class ClassMapLayer(OverlayLayer):
    """Argmax class per tile (see module docstring); ``class_names`` in raster order."""

    def __init__(
        self,
        name: str,
        source: Slide,
        l0_per_px: float,
        class_names: Sequence[str],
        *,
        colours: Sequence[RGB] | None = None,
        opacity: float | None = None,
        visible: bool = True,
    ) -> None:
        super().__init__(
            name, source, l0_per_px, kind="classes", opacity=opacity, visible=visible,
            threshold=0.0,
        )  # fmt: skip
        self.class_names = list(class_names)
        self.colours = list(colours) if colours is not None else class_palette(class_names)

    def lut(self) -> np.ndarray:
        """Class colours, alpha from the probability, nothing below the threshold."""
        return class_map_lut(self.colours, min_prob=self.threshold)

    def describe_at(self, l0_x: float, l0_y: float) -> str | None:
        """``"tumour 0.83"``: the class and its probability under the point."""
        code = self.code_at(l0_x, l0_y)
        if code is None:
            return None
        decoded = decode_class_code(code, len(self.class_names))
        if decoded is None:
            return "no tile"
        cls, prob = decoded
        return f"{self.class_names[cls]} {prob:.2f}"

    def legend_entries(self) -> list[tuple[str, RGB]]:
        return list(zip(self.class_names, self.colours, strict=True))

    def legend_swatches(self) -> list[tuple[str, RGB, RGB]]:
        """Each class as a sure tile of it looks at the layer's opacity over eosin and over
        haematoxylin: the legend matches the slide, not the pure colour."""
        return [(name, *legend_swatch(colour, self.opacity))
                for name, colour in zip(self.class_names, self.colours, strict=True)]  # fmt: skip

    def legend_image(self, width: int = 160, height: int = 12) -> QImage:
        """The class colours side by side (the panel lists their names)."""
        n = len(self.colours)
        cols = np.minimum(n - 1, np.arange(width) * n // max(1, width))
        row = np.zeros((width, 4), dtype=np.uint8)
        row[:, :3] = np.array(self.colours, dtype=np.uint8)[cols]
        row[:, 3] = 255
        data = np.ascontiguousarray(np.repeat(row[None], height, axis=0))
        return QImage(data.data, width, height, width * 4, QImage.Format.Format_RGBA8888).copy()
