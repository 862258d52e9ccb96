"""How far apart class colours are: from each other, from the saliency ramp and from H&E.

Every distance is CIEDE2000 (``skimage.color.deltaE_ciede2000``) in CIELAB (D65). A class
map is read over stained tissue, so a palette is checked five ways:

- **pairs**: every two classes, for normal vision and under simulated deuteranopia and
  protanopia (Machado, Oliveira & Fernandes 2009, severity 1, applied in linear sRGB:
  the matrices colour-science and DaltonLens use);
- **ramp**: each class against every colour of the saliency ramp, so a class never reads
  as saliency;
- **stains**: each class against typical haematoxylin and eosin colours
  (:data:`HE_EOSIN`, :data:`HE_HAEMATOXYLIN`);
- **blended**: the colours as the viewer shows them, laid at the layer's opacity over
  eosin and over haematoxylin: every two classes still apart over the same stain;
- **cross**: a class over eosin must not read as haematoxylin, nor over haematoxylin as
  eosin (light blue at 40 % over pink reads lavender: a nucleus colour), and **visible**:
  it must change the stain beneath it.

Used by the palette's tests and by ``scripts/design_palette.py``; the app does not import
it (skimage is slow to import).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from skimage.color import deltaE_ciede2000, rgb2lab

from pathscaat.inference.overlay_style import (
    HE_EOSIN,
    HE_HAEMATOXYLIN,
    RGB,
    blend_rgb,
    saliency_ramp,
)

Floats = NDArray[np.float64]

CVD_MATRICES: dict[str, Floats] = {
    "deutan": np.array([[0.367322, 0.860646, -0.227968],
                        [0.280085, 0.672501, 0.047413],
                        [-0.011820, 0.042940, 0.968881]]),
    "protan": np.array([[0.152286, 1.052583, -0.204868],
                        [0.114503, 0.786281, 0.099216],
                        [-0.003882, -0.048116, 1.051998]]),
}  # fmt: skip
"""Machado et al. 2009, severity 1.0, for linear sRGB (rows: output R, G, B)."""


def _linear(rgb: ArrayLike) -> Floats:
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _encoded(linear: Floats) -> Floats:
    c = np.clip(linear, 0.0, 1.0)
    return 255.0 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate_cvd(rgb: ArrayLike, kind: str) -> Floats:
    """N x 3 sRGB (0-255) as a dichromat of ``kind`` (``deutan``, ``protan``) sees them."""
    return _encoded(_linear(rgb) @ CVD_MATRICES[kind].T)


def lab(rgb: ArrayLike) -> Floats:
    """N x 3 sRGB (0-255) -> N x 3 CIELAB."""
    arr = np.asarray(rgb, dtype=np.float64).reshape(-1, 1, 3) / 255.0
    return np.asarray(rgb2lab(arr)).reshape(-1, 3)


def delta_e(a: ArrayLike, b: ArrayLike) -> Floats:
    """len(a) x len(b) CIEDE2000 distances between two lists of sRGB colours."""
    la, lb = lab(a), lab(b)
    return np.asarray(deltaE_ciede2000(la[:, None, :], lb[None, :, :]), dtype=np.float64)


def _min_pair(colours: ArrayLike) -> float:
    d = delta_e(colours, colours)
    n = d.shape[0]
    return float(d[np.triu_indices(n, 1)].min()) if n > 1 else float("inf")


@dataclass(frozen=True)
class PaletteDistances:
    """The smallest CIEDE2000 distance of each check (see the module docstring)."""

    pairs: float
    deutan: float
    protan: float
    ramp: float
    stains: float
    blended: float
    cross: float
    visible: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 1) for k, v in self.__dict__.items()}


def palette_distances(colours: Sequence[RGB], opacity: float) -> PaletteDistances:
    """Every check of ``colours`` drawn at ``opacity`` (the class map's, at certainty)."""
    rgb = np.asarray(colours, dtype=np.float64)
    stains = [*HE_EOSIN, *HE_HAEMATOXYLIN]
    over_e = blend_rgb(rgb, HE_EOSIN[0], opacity)
    over_h = blend_rgb(rgb, HE_HAEMATOXYLIN[0], opacity)
    cross = min(delta_e(over_e, HE_HAEMATOXYLIN).min(), delta_e(over_h, HE_EOSIN).min())
    visible = min(delta_e(over_e, [HE_EOSIN[0]]).min(), delta_e(over_h, [HE_HAEMATOXYLIN[0]]).min())
    return PaletteDistances(
        pairs=_min_pair(rgb),
        deutan=_min_pair(simulate_cvd(rgb, "deutan")),
        protan=_min_pair(simulate_cvd(rgb, "protan")),
        ramp=float(delta_e(rgb, saliency_ramp(64)).min()),
        stains=float(delta_e(rgb, stains).min()),
        blended=min(_min_pair(over_e), _min_pair(over_h)),
        cross=float(cross),
        visible=float(visible),
    )
