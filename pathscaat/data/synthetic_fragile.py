"""Fragile-evidence synthetic patches ("PathSCAAT synthetic, fragile"; not real tissue).

A task built to tell a uniform adversary from a saliency-guided one (issue 10;
guided-adversarial-sources.md section 3): the class is carried only by a *fragile*
chromatin texture inside a few nucleus-like blobs (the evidence mask), a checkerboard of
``contrast`` (default 4/255) amplitude whose block size is the class (``fine``: 2 px,
``coarse``: 4 px; both survive flips, 90-degree turns and the crop-resize augmentation).
Outside the blobs a *robust* distractor, a stain-hue shift of ``hue_shift`` (default
16/255), agrees with the label on exactly ``agreement`` (default 75%) of each class's
images, chosen by a seeded permutation. An adversary with ``eps`` >= the contrast can wash
the texture out and leave the model the distractor (at most ~75% accuracy); one that spares
the salient pixels need not.

The background is the ``benign`` tissue of ``pathscaat.data.synthetic``; the blobs are flat
haematoxylin-like discs, identical in both classes, so the mask says where the evidence is
and not what it is. Layout as ``write_patch_set`` (``images/``, ``masks/``,
``synthetic.json``) plus ``distractor.csv`` (``image,agrees``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pathscaat.data.synthetic import SOFTWARE, _png_info, render_patch

FRAGILE_CLASSES: tuple[str, ...] = ("coarse", "fine")
BLOCK_PX = {"fine": 2, "coarse": 4}
HUE = np.array([1.0, -0.6, -0.2], np.float32)  # + = pinker (eosin), - = bluer
BLOB_RGB = np.array([150.0, 118.0, 178.0], np.float32)  # a pale haematoxylin-like purple
VARIANT = "fragile"


def checkerboard(size_px: int, block_px: int, phase: tuple[int, int]) -> NDArray[np.float32]:
    """+-1 checkerboard of ``block_px`` blocks, shifted by ``phase`` px."""
    yy, xx = np.mgrid[0:size_px, 0:size_px]
    cells = (yy + phase[0]) // block_px + (xx + phase[1]) // block_px
    return np.where(cells % 2 == 0, 1.0, -1.0).astype(np.float32)


def blob_mask(rng: np.random.Generator, size_px: int, n_blobs: int) -> NDArray[np.bool_]:
    """A few non-touching discs of radius ~size/8 (the evidence mask)."""
    yy, xx = np.mgrid[0:size_px, 0:size_px].astype(np.float32)
    mask = np.zeros((size_px, size_px), bool)
    radius = max(3.0, size_px / 8)
    placed: list[tuple[float, float, float]] = []
    for _ in range(40 * n_blobs):
        if len(placed) == n_blobs:
            break
        r = radius * float(rng.uniform(0.8, 1.2))
        cy, cx = rng.uniform(r + 1, size_px - r - 1, 2)
        if all((cy - py) ** 2 + (cx - px) ** 2 > (r + pr + 2) ** 2 for py, px, pr in placed):
            placed.append((float(cy), float(cx), r))
            mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    return mask


def render_fragile_patch(
    rng: np.random.Generator,
    label: str,
    size_px: int,
    agrees: bool,
    contrast: float = 4 / 255,
    hue_shift: float = 16 / 255,
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """One patch of class ``label`` (``fine``/``coarse``) and its evidence mask.

    ``agrees``: whether the distractor hue outside the mask is the label's (``fine`` =
    pinker, ``coarse`` = bluer) or the other class's.
    """
    if label not in FRAGILE_CLASSES:
        raise ValueError(f"unknown class {label!r}; expected one of {FRAGILE_CLASSES}")
    base, _ = render_patch(rng, "benign", size_px)
    mask = blob_mask(rng, size_px, int(rng.integers(2, 5)))
    img = base.astype(np.float32)
    tint = BLOB_RGB + rng.normal(0.0, 6.0, 3).astype(np.float32)
    img[mask] = tint
    phase = (int(rng.integers(8)), int(rng.integers(8)))
    texture = checkerboard(size_px, BLOCK_PX[label], phase) * (contrast * 255)
    img[mask] += texture[mask, None]
    sign = 1.0 if (label == "fine") == agrees else -1.0
    img[~mask] += sign * hue_shift * 255 * HUE
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return out, mask


def agreeing(n: int, agreement: float, rng: np.random.Generator) -> NDArray[np.bool_]:
    """Exactly ``round(agreement * n)`` True values at seeded random positions."""
    flags = np.zeros(n, bool)
    flags[rng.permutation(n)[: round(agreement * n)]] = True
    return flags


def write_fragile_set(
    out_dir: str | Path,
    n_per_class: int,
    size_px: int = 64,
    seed: int = 0,
    contrast: float = 4 / 255,
    agreement: float = 0.75,
    hue_shift: float = 16 / 255,
) -> Path:
    """Write the fragile-evidence patch set (layout in the module docstring)."""
    out = Path(out_dir)
    rows = []
    for ci, label in enumerate(FRAGILE_CLASSES):
        (out / "images" / label).mkdir(parents=True, exist_ok=True)
        (out / "masks" / label).mkdir(parents=True, exist_ok=True)
        flags = agreeing(n_per_class, agreement, np.random.default_rng([seed, ci, 99]))
        for i in range(n_per_class):
            rng = np.random.default_rng([seed, ci, i])
            rgb, mask = render_fragile_patch(
                rng, label, size_px, bool(flags[i]), contrast, hue_shift
            )
            name = f"{label}_{i:05d}.png"
            what = f"{VARIANT} {label}"
            Image.fromarray(rgb).save(out / "images" / label / name, pnginfo=_png_info(what))
            Image.fromarray(mask.astype(np.uint8) * 255).save(
                out / "masks" / label / name, pnginfo=_png_info(f"{what} evidence mask")
            )
            rows.append((f"{label}/{name}", int(flags[i])))
    with open(out / "distractor.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("image", "agrees"), *rows])
    meta = {
        "software": SOFTWARE,
        "variant": VARIANT,
        "note": "synthetic, not real tissue: fragile texture evidence + robust hue distractor",
        "seed": seed,
        "size_px": size_px,
        "mpp": 0.5,
        "n_per_class": n_per_class,
        "classes": list(FRAGILE_CLASSES),
        "contrast": contrast,
        "hue_shift": hue_shift,
        "agreement": agreement,
        "block_px": BLOCK_PX,
    }
    (out / "synthetic.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return out
