"""Synthetic H&E-like data with evidence masks ("PathSCAAT synthetic"; not real tissue).

Seeded, vectorised generator of brightfield-looking tissue: eosin stroma with wavy fibres,
haematoxylin nuclei of several kinds, glands (lumen ringed by epithelial nuclei), glass
background, stain and blur variation. A class is defined by a planted structure, and every
image comes with the boolean mask of where that structure is (the evidence a model should
look at):

- ``benign``: no planted structure (mask all False);
- ``atypical``: clusters of large, dark, pleomorphic nuclei with nucleoli;
- ``inflamed``: dense aggregates of small round lymphocytes.

Patch sets (``write_patch_set``) use an ImageFolder layout with parallel masks::

    out_dir/images/<class>/<class>_<index:05d>.png   RGB uint8
    out_dir/masks/<class>/<class>_<index:05d>.png    L (0 or 255), same size and name
    out_dir/synthetic.json                           generator parameters

Slides (``write_synthetic_slide``) are pyramidal tiled TIFFs (JPEG tiles, resolution tags
in pixels/cm giving the mpp, levels as consecutive pages) readable by OpenSlide and tifffile,
plus ``<stem>.regions.json`` with the planted regions in level-0 px.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from pathscaat.data.synthetic_layout import patch_layout
from pathscaat.data.synthetic_render import Stain, make_assets, render_region
from pathscaat.data.synthetic_slide import PRESETS, write_synthetic_slide
from pathscaat.progress import OnProgress, ProgressRecord, no_progress

__all__ = [
    "CLASSES",
    "PRESETS",
    "SOFTWARE",
    "render_patch",
    "write_patch_set",
    "write_synthetic_slide",
]

CLASSES: tuple[str, ...] = ("benign", "atypical", "inflamed")
SOFTWARE = "PathSCAAT synthetic"
N_ASSET_VARIANTS = 4
"""Texture/nucleus banks are cached per variant: a patch picks one of these at random."""


def render_patch(
    rng: np.random.Generator, label: str, size_px: int = 224
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """One synthetic patch of class ``label`` at about 0.5 µm/px, and its evidence mask.

    The mask is True where the planted structure is (non-empty exactly for ``atypical`` and
    ``inflamed``; all False for ``benign``).
    """
    if label not in CLASSES:
        raise ValueError(f"unknown class {label!r}; expected one of {CLASSES}")
    assets = make_assets(int(rng.integers(N_ASSET_VARIANTS)))
    layout = patch_layout(rng, label, size_px)
    stain = Stain.random(rng)
    key = int(rng.integers(1 << 30))
    off = rng.integers(0, 1 << 20, 2)
    layout.l0_origin = (int(off[0]), int(off[1]))
    rgb = render_region(assets, layout, stain, key, int(off[0]), int(off[1]), size_px, size_px)
    mask = np.zeros((size_px, size_px), bool)
    for name in ("atypical", "inflamed"):
        if name == label:
            m = layout.sample(name, int(off[0]), int(off[1]), size_px, size_px)
            mask = m > 0.5
    return rgb, mask


def _png_info(what: str) -> PngInfo:
    info = PngInfo()
    info.add_text("Software", SOFTWARE)
    info.add_text("Description", f"{SOFTWARE} H&E-like patch (not real tissue): {what}")
    return info


def write_patch_set(
    out_dir: str | Path,
    n_per_class: int,
    size_px: int = 224,
    seed: int = 0,
    classes: Sequence[str] = CLASSES,
    on_progress: OnProgress = no_progress,
) -> Path:
    """Write ``n_per_class`` patches per class with their masks (layout in module docstring)."""
    out = Path(out_dir)
    total = n_per_class * len(classes)
    done = 0
    for ci, label in enumerate(classes):
        (out / "images" / label).mkdir(parents=True, exist_ok=True)
        (out / "masks" / label).mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            rng = np.random.default_rng([seed, ci, i])
            rgb, mask = render_patch(rng, label, size_px)
            name = f"{label}_{i:05d}.png"
            Image.fromarray(rgb).save(out / "images" / label / name, pnginfo=_png_info(label))
            Image.fromarray(mask.astype(np.uint8) * 255).save(
                out / "masks" / label / name, pnginfo=_png_info(f"{label} evidence mask")
            )
            done += 1
            on_progress(ProgressRecord("synthetic patches", done, total))
    meta = {
        "software": SOFTWARE,
        "seed": seed,
        "size_px": size_px,
        "mpp": 0.5,
        "n_per_class": n_per_class,
        "classes": list(classes),
    }
    (out / "synthetic.json").write_text(json.dumps(meta, indent=2))
    return out
