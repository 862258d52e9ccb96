"""How overlay codes become colour over a slide: alpha by value, class maps, compositing.

An overlay raster stores uint8 codes (0 = no data). A display maps each code through a
256 x 4 RGBA lookup table and lays the result over the slide with the layer's opacity.
Two choices here make overlays readable over stained tissue at every zoom:

- **Alpha by value.** Codes below the threshold are transparent; above it the alpha rises
  linearly from :data:`ALPHA_FLOOR` to 1 at the top code, so weak values are a hint and
  strong ones cover the stain (a uniform 50 % wash turns any colour map purple over H&E).
- **Class map.** The argmax class of the per-class probability rasters, in the class's
  colour, with the winning probability as alpha. Both travel in one uint8 code
  (``1 + class * bins + probability bin``), so the viewer restyles a class map through a
  lookup table, as it does any heatmap, without reading a tile again.

Pure numpy: the app and the exporter (:mod:`pathscaat.inference.render`) share it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

RGB = tuple[int, int, int]
NO_DATA = 0
ALPHA_FLOOR = 0.25
"""Alpha (fraction of the layer's opacity) of the weakest value still drawn."""
CLASS_ALPHA_FLOOR = 0.25
"""Alpha of a class whose probability is only chance (1 / number of classes)."""
MAX_CLASSES = 127
"""A class map needs at least two probability bins per class in 255 codes."""

PALETTE: tuple[RGB, ...] = (
    (0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233),
    (213, 94, 0), (240, 228, 66), (0, 0, 0), (153, 153, 153), (140, 86, 75),
    (0, 230, 230), (110, 200, 40),
)  # fmt: skip
"""Okabe-Ito (colour-blind safe, distinct from H&E's pink and purple), then more."""


def value_alpha(threshold_code: int, floor: float = ALPHA_FLOOR) -> NDArray[np.uint8]:
    """256 alphas: 0 for no data and below ``threshold_code``, then ``floor`` .. 1."""
    t = int(min(256, max(1, threshold_code)))
    alpha = np.zeros(256, dtype=np.float64)
    if t <= 255:
        ramp = (np.arange(t, 256) - t) / max(1, 255 - t)
        alpha[t:] = floor + (1.0 - floor) * ramp
    return np.round(alpha * 255).astype(np.uint8)


NAMED_COLOURS: tuple[tuple[tuple[str, ...], RGB], ...] = (
    (("tum", "cancer", "carcin", "malig", "atyp"), (213, 94, 0)),
    (("lym", "inflam", "immun"), (0, 114, 178)),
    (("strom", "str"), (86, 180, 233)),
    (("benign", "normal", "norm"), (0, 158, 115)),
    (("necro", "debris", "deb"), (60, 60, 60)),
    (("muc",), (204, 121, 167)),
    (("adi", "fat"), (240, 228, 66)),
    (("back", "empty", "bg"), (153, 153, 153)),
)
"""Conventional colours for common tissue classes, matched by the start of the name
(tumour red-orange, immune cells blue, stroma light blue, necrosis dark, background grey)."""


def class_palette(names: Sequence[str]) -> list[RGB]:
    """A distinct colour per class: the conventional one where the name is known, else
    the next unused colour of :data:`PALETTE` (cycling when there are more classes)."""
    colours: list[RGB | None] = []
    for name in names:
        low = name.lower().lstrip("0123456789_- ")
        known = next((c for keys, c in NAMED_COLOURS if low.startswith(keys)), None)
        colours.append(known if known not in colours else None)
    spare = [c for c in PALETTE if c not in colours]
    out: list[RGB] = []
    for i, colour in enumerate(colours):
        if colour is None:
            colour = spare.pop(0) if spare else PALETTE[i % len(PALETTE)]
        out.append(colour)
    return out


def class_bins(n_classes: int) -> int:
    """Probability bins per class in a class-map code."""
    if not 1 <= n_classes <= MAX_CLASSES:
        raise ValueError(f"a class map holds 1..{MAX_CLASSES} classes, got {n_classes}")
    return 255 // n_classes


def encode_class_map(prob_codes: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """C x H x W probability codes -> H x W class-map codes (0 where no class has data)."""
    n = prob_codes.shape[0]
    bins = class_bins(n)
    winner = np.argmax(prob_codes, axis=0)
    best = np.max(prob_codes, axis=0).astype(np.int32)
    prob_bin = np.minimum(bins - 1, best * bins // 255)
    codes = (1 + winner * bins + prob_bin).astype(np.uint8)
    codes[best == 0] = NO_DATA
    return codes


def decode_class_code(code: int, n_classes: int) -> tuple[int, float] | None:
    """(class index, probability at the middle of its bin) of a code; None for no data."""
    bins = class_bins(n_classes)
    if code == NO_DATA or code > n_classes * bins:
        return None
    cls, prob_bin = divmod(int(code) - 1, bins)
    return cls, (prob_bin + 0.5) / bins


def class_map_lut(
    colours: Sequence[RGB], min_prob: float = 0.0, floor: float = CLASS_ALPHA_FLOOR
) -> NDArray[np.uint8]:
    """256 x 4 RGBA: each code in its class's colour, alpha rising with the probability.

    Alpha goes from ``floor`` at chance (1 / classes) to 1 at certainty; codes whose
    probability is below ``min_prob`` are transparent.
    """
    n = len(colours)
    lut = np.zeros((256, 4), dtype=np.uint8)
    chance = 1.0 / n
    for code in range(1, 256):
        decoded = decode_class_code(code, n)
        if decoded is None:
            continue
        cls, prob = decoded
        if prob < min_prob:
            continue
        strength = min(1.0, max(0.0, (prob - chance) / max(1e-9, 1.0 - chance)))
        lut[code, :3] = colours[cls]
        lut[code, 3] = round(255 * (floor + (1.0 - floor) * strength))
    return lut


def apply_lut(codes: NDArray[np.uint8], lut: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """H x W codes -> H x W x 4 RGBA."""
    return np.asarray(lut, dtype=np.uint8)[np.asarray(codes, dtype=np.uint8)]


def composite(
    base_rgb: NDArray[np.uint8],
    layers: Sequence[tuple[NDArray[np.uint8], float]],
) -> NDArray[np.uint8]:
    """Lay RGBA images (bottom first, each with an opacity 0..1) over an RGB image."""
    out = np.asarray(base_rgb, dtype=np.float32).copy()
    for rgba, opacity in layers:
        alpha = rgba[..., 3:4].astype(np.float32) * (float(opacity) / 255.0)
        out = out * (1.0 - alpha) + rgba[..., :3].astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def dilate_max(raster: NDArray[np.uint8], radius: int) -> NDArray[np.uint8]:
    """Grey dilation by a (2r+1)-square: every pixel takes the maximum of its window."""
    if radius <= 0:
        return raster
    h, w = raster.shape
    padded = np.pad(raster, radius, mode="constant")
    out = np.zeros_like(raster)
    side = 2 * radius + 1
    for dy in range(side):
        for dx in range(side):
            np.maximum(out, padded[dy : dy + h, dx : dx + w], out=out)
    return out
