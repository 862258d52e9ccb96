"""Choose the class-map palette: colour-blind-safe colours, spread apart by CIEDE2000.

Glasbey et al. (2007, "Colour displays for categorical images") pick colours one at a
time, each the farthest from those already chosen. Here the first two are Okabe-Ito's
vermillion and blue (tumour and immune cells by convention), the candidates are every
colour of the published colour-blind-safe palettes below plus an sRGB grid (step 17),
and "far" is the smallest CIEDE2000 distance for normal vision, under deuteranopia and
protanopia, and blended over eosin and over haematoxylin at ``--opacity`` (counted 1.5x:
blending shrinks every distance). A candidate enters only if, on its own, it keeps
``--min-single`` away from the saliency ramp and from H&E, and over eosin and
haematoxylin neither reads as the other stain nor vanishes
(:mod:`pathscaat.inference.palette_check`). Run ``python scripts/design_palette.py``
(about 30 s); it prints the minima for 6..12 classes and the palette.
"""

from __future__ import annotations

import argparse

import numpy as np

from pathscaat.inference.overlay_style import (
    CLASS_MAP_OPACITY,
    HE_EOSIN,
    HE_HAEMATOXYLIN,
    RGB,
    blend_rgb,
    saliency_ramp,
)
from pathscaat.inference.palette_check import delta_e, palette_distances, simulate_cvd

PUBLISHED: dict[str, list[RGB]] = {
    "okabe-ito": [(0, 0, 0), (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66),
                  (0, 114, 178), (213, 94, 0), (204, 121, 167)],
    "tol-bright": [(68, 119, 170), (102, 204, 238), (34, 136, 51), (204, 187, 68),
                   (238, 102, 119), (170, 51, 119), (187, 187, 187)],
    "tol-vibrant": [(0, 119, 187), (51, 187, 238), (0, 153, 136), (238, 119, 51),
                    (204, 51, 17), (238, 51, 119), (187, 187, 187)],
    "tol-muted": [(51, 34, 136), (136, 204, 238), (68, 170, 153), (17, 119, 51),
                  (153, 153, 51), (221, 204, 119), (204, 102, 119), (136, 34, 85),
                  (170, 68, 153), (221, 221, 221)],
    "tol-light": [(119, 170, 221), (153, 221, 255), (68, 187, 153), (187, 204, 51),
                  (170, 170, 0), (238, 221, 136), (238, 136, 102), (255, 170, 187),
                  (221, 221, 221)],
    "tol-high-contrast": [(0, 68, 136), (221, 170, 51), (187, 85, 102)],
    "ibm": [(100, 143, 255), (120, 94, 240), (220, 38, 127), (254, 97, 0), (255, 176, 0)],
}  # fmt: skip
SEEDS: list[RGB] = [(213, 94, 0), (0, 114, 178)]
"""Okabe-Ito's vermillion and blue: tumour and immune cells, by convention."""
CVD = ("deutan", "protan")


def single_scores(pool: np.ndarray, opacity: float) -> np.ndarray:
    """Per colour: the smallest of its ramp, stain, cross and visibility distances."""
    ramp = delta_e(pool, saliency_ramp(64)).min(1)
    stains = delta_e(pool, [*HE_EOSIN, *HE_HAEMATOXYLIN]).min(1)
    over_e = blend_rgb(pool, HE_EOSIN[0], opacity)
    over_h = blend_rgb(pool, HE_HAEMATOXYLIN[0], opacity)
    cross = np.minimum(delta_e(over_e, HE_HAEMATOXYLIN).min(1), delta_e(over_h, HE_EOSIN).min(1))
    visible = np.minimum(delta_e(over_e, [HE_EOSIN[0]])[:, 0],
                         delta_e(over_h, [HE_HAEMATOXYLIN[0]])[:, 0])  # fmt: skip
    return np.minimum.reduce([ramp, stains, cross, visible])


def pair_distance(pool: np.ndarray, colour: np.ndarray, opacity: float) -> np.ndarray:
    """Each pool colour's score against ``colour``: the smallest of normal, deutan, protan
    and 1.5 x blended (over eosin and haematoxylin) CIEDE2000 distances."""
    one = colour[None, :]
    ds = [delta_e(pool, one)[:, 0]]
    ds += [delta_e(simulate_cvd(pool, k), simulate_cvd(one, k))[:, 0] for k in CVD]
    for bg in (HE_EOSIN[0], HE_HAEMATOXYLIN[0]):
        ds.append(1.5 * delta_e(blend_rgb(pool, bg, opacity), blend_rgb(one, bg, opacity))[:, 0])
    return np.minimum.reduce(ds)


def glasbey(pool: np.ndarray, seeds: list[RGB], size: int, opacity: float) -> list[RGB]:
    """``seeds``, then the pool colour farthest from all chosen, until ``size``."""
    chosen = [tuple(int(v) for v in s) for s in seeds]
    nearest = np.full(len(pool), np.inf)
    for seed in seeds:
        nearest = np.minimum(nearest, pair_distance(pool, np.asarray(seed, float), opacity))
    while len(chosen) < size:
        i = int(np.argmax(nearest))
        chosen.append(tuple(int(v) for v in pool[i]))  # type: ignore[arg-type]
        nearest = np.minimum(nearest, pair_distance(pool, pool[i], opacity))
    return chosen  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--opacity", type=float, default=CLASS_MAP_OPACITY)
    parser.add_argument("--size", type=int, default=12)
    parser.add_argument("--min-single", type=float, default=18.0)
    args = parser.parse_args()
    published = list(dict.fromkeys(c for colours in PUBLISHED.values() for c in colours))
    steps = np.arange(0, 256, 17)
    grid = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), -1).reshape(-1, 3)
    pool = np.concatenate([np.asarray(published, float), grid.astype(float)])
    pool = pool[single_scores(pool, args.opacity) >= args.min_single]
    print(f"{len(pool)} candidate colours pass the single-colour checks")
    palette = glasbey(pool, SEEDS, args.size, args.opacity)
    for n in range(6, len(palette) + 1):
        print(n, palette_distances(palette[:n], args.opacity).as_dict())
    print("PALETTE =", palette)


if __name__ == "__main__":
    main()
