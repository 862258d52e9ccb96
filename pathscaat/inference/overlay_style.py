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

CLASS_MAP_OPACITY = 0.5
"""Opacity a class map starts with: at 0.4 a class colour over eosin moved it too little to
read (CIEDE2000 < 15 for half of Okabe-Ito; ``scripts/design_palette.py``)."""

PALETTE: tuple[RGB, ...] = (
    (213, 94, 0), (0, 114, 178), (85, 255, 238), (0, 34, 0), (255, 204, 119), (0, 187, 238),
    (34, 102, 85), (85, 170, 153), (68, 68, 0), (0, 34, 204), (0, 136, 136), (187, 255, 204),
)  # fmt: skip
"""Class colours, first used first, chosen by ``scripts/design_palette.py`` from published
colour-blind-safe palettes (Okabe-Ito; Paul Tol's; IBM's) by CIEDE2000: apart from each
other (also under deuteranopia and protanopia), from the saliency ramp's greens and
yellows and from H&E's pinks and purples, also as blended over them at
:data:`CLASS_MAP_OPACITY`. ``tests/core/test_palette.py`` holds the measured minima."""

HE_EOSIN: tuple[RGB, ...] = (
    (200, 136, 171), (219, 177, 201), (207, 168, 195), (192, 88, 129), (191, 121, 157),
    (169, 62, 95),
)  # fmt: skip
"""Typical eosin (pink) colours: k-means centres of tissue pixels of CMU-1 (Aperio) and of
Kather 2016's colorectal tiles, the most common first."""
HE_HAEMATOXYLIN: tuple[RGB, ...] = (
    (141, 74, 121), (95, 53, 101), (161, 106, 151), (46, 22, 62), (108, 42, 85),
    (162, 93, 137), (71, 28, 72), (128, 67, 116), (44, 14, 46),
)  # fmt: skip
"""Typical haematoxylin (purple, nuclei) colours, from the same k-means."""

SALIENCY_RAMP: tuple[tuple[float, RGB], ...] = (
    (0.0, (20, 140, 60)), (0.4, (80, 200, 40)), (0.75, (205, 240, 0)), (1.0, (255, 255, 90)),
)  # fmt: skip
"""The saliency colour map (``lime``: dark green to yellow): no purple or pink in it, so
it never merges with haematoxylin or eosin; class colours keep away from it."""


def saliency_ramp(n: int = 256) -> NDArray[np.uint8]:
    """``n`` x 3 RGB of :data:`SALIENCY_RAMP`, weakest first."""
    pos = np.array([p for p, _ in SALIENCY_RAMP])
    rgb = np.array([c for _, c in SALIENCY_RAMP], dtype=np.float64)
    t = np.linspace(0.0, 1.0, n)
    out = np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], axis=1)
    return np.round(out).astype(np.uint8)


def blend_rgb(
    colour: NDArray[np.float64] | Sequence[float], background: Sequence[float], alpha: float
) -> NDArray[np.float64]:
    """``colour`` laid over ``background`` with ``alpha`` (as :func:`composite` does)."""
    fg = np.asarray(colour, dtype=np.float64)
    return (1.0 - alpha) * np.asarray(background, dtype=np.float64) + alpha * fg


def legend_swatch(colour: RGB, opacity: float) -> tuple[RGB, RGB]:
    """(over eosin, over haematoxylin): a class colour as a sure tile of it shows on the
    slide at ``opacity``, so a legend matches the blended overlay, not the pure colour."""
    e, h = (np.rint(blend_rgb(colour, bg[0], opacity)).astype(int).tolist()
            for bg in (HE_EOSIN, HE_HAEMATOXYLIN))  # fmt: skip
    return (e[0], e[1], e[2]), (h[0], h[1], h[2])


def value_alpha(threshold_code: int, floor: float = ALPHA_FLOOR) -> NDArray[np.uint8]:
    """256 alphas: 0 for no data and below ``threshold_code``, then ``floor`` .. 1."""
    t = int(min(256, max(1, threshold_code)))
    alpha = np.zeros(256, dtype=np.float64)
    if t <= 255:
        ramp = (np.arange(t, 256) - t) / max(1, 255 - t)
        alpha[t:] = floor + (1.0 - floor) * ramp
    return np.round(alpha * 255).astype(np.uint8)


NAMED_COLOURS: tuple[tuple[tuple[str, ...], RGB], ...] = (
    (("tum", "cancer", "carcin", "malig", "atyp"), PALETTE[0]),
    (("lym", "inflam", "immun"), PALETTE[1]),
    (("strom", "str"), PALETTE[5]),
    (("benign", "normal", "norm"), PALETTE[7]),
    (("necro", "debris", "deb"), PALETTE[3]),
    (("muc",), PALETTE[2]),
    (("adi", "fat"), PALETTE[4]),
    (("back", "empty", "bg"), PALETTE[6]),
)
"""Conventional colours for common tissue classes, matched by the start of the name, all
from the first eight of :data:`PALETTE`: tumour vermillion, immune cells blue, stroma
azure, normal teal, necrosis near-black, mucin aqua, fat apricot, background dark teal."""


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
