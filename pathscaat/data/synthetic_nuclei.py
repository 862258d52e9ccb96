"""Nuclei for the synthetic H&E renderer: sprite banks stamped on a jittered cell grid.

Each nucleus kind has a bank of pre-rendered sprites (shape, size, chromatin texture),
each drawn inside a ``2C x 2C`` window at a random offset. Cells of side ``C`` form a
global grid; a cell's window starts at the cell's corner. Cells of the same parity
(i % 2, j % 2) have non-overlapping windows that tile the plane, so a whole parity class is
stamped with one gather and one reshape: no Python loop over nuclei, and the result at a
pixel depends only on global coordinates (seamless tile-by-tile rendering).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pathscaat.data.synthetic_noise import F32, hash_u01, smoothstep


@dataclass(frozen=True)
class NucleusKind:
    """Shape statistics of one nucleus population (lengths in level-0 px)."""

    name: str
    cell_px: int
    radius_px: tuple[float, float]
    elongation: tuple[float, float]
    irregularity: float
    darkness: tuple[float, float]
    rim: float = 0.15
    nucleoli: bool = False


@dataclass
class SpriteBank:
    kind: NucleusKind
    sprites: F32  # (B, 2C, 2C) haematoxylin optical density
    centre_px: NDArray[np.float32]  # (B, 2) nucleus centre (y, x) inside its window
    angle_rad: NDArray[np.float32]  # (B,) long-axis angle in [0, pi), sprites sorted by it


def make_bank(rng: np.random.Generator, kind: NucleusKind, n: int = 192) -> SpriteBank:
    """Render ``n`` varied nuclei of ``kind`` (vectorised over the bank)."""
    from scipy import ndimage

    c = kind.cell_px
    s = 2 * c
    r = rng.uniform(*kind.radius_px, n).astype(np.float32)
    elong = rng.uniform(*kind.elongation, n).astype(np.float32)
    ra, rb = r * np.sqrt(elong), r / np.sqrt(elong)
    margin = np.minimum(ra + 1.5, c * 0.95)
    centre = np.stack([rng.uniform(margin, s - margin), rng.uniform(margin, s - margin)], 1).astype(
        np.float32
    )
    centre = np.clip(centre, c * 0.5, c * 1.5)  # jitter of one cell: uniform placement
    ang = rng.uniform(0, np.pi, n).astype(np.float32)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    dy = yy[None] - centre[:, 0, None, None]
    dx = xx[None] - centre[:, 1, None, None]
    ca, sa = np.cos(ang)[:, None, None], np.sin(ang)[:, None, None]
    u = (dx * ca + dy * sa) / ra[:, None, None]
    v = (-dx * sa + dy * ca) / rb[:, None, None]
    rho = np.sqrt(u * u + v * v)
    theta = np.arctan2(v, u)
    wobble = np.ones_like(rho)
    for k in (2, 3, 5):
        amp = rng.uniform(0, kind.irregularity, n).astype(np.float32)[:, None, None] / k
        wobble += amp * np.cos(k * theta + rng.uniform(0, 6.3, n).astype(np.float32)[:, None, None])
    d = rho / wobble
    body = 1.0 - smoothstep(0.85, 1.1, d)
    chrom = ndimage.gaussian_filter(rng.standard_normal((n, s, s)).astype(np.float32), (0, 1, 1))
    chrom /= max(float(chrom.std()), 1e-6)
    rim = kind.rim * np.exp(-(((d - 0.92) / 0.12) ** 2))
    od = body * (0.78 + 0.16 * chrom) + rim * body
    if kind.nucleoli:
        od += _nucleoli(rng, centre, ra, s)
    dark = rng.uniform(*kind.darkness, n).astype(np.float32)[:, None, None]
    order = np.argsort(ang)
    sprites = (np.clip(od, 0, None) * dark).astype(np.float32)
    return SpriteBank(kind, sprites[order], centre[order], ang[order])


def _nucleoli(rng: np.random.Generator, centre: F32, ra: F32, s: int) -> F32:
    """One dark round nucleolus per nucleus, near its centre."""
    n = len(centre)
    off = rng.uniform(-0.35, 0.35, (n, 2)).astype(np.float32) * ra[:, None]
    cy, cx = (centre + off).T
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    d2 = (yy[None] - cy[:, None, None]) ** 2 + (xx[None] - cx[:, None, None]) ** 2
    rad = rng.uniform(1.2, 2.2, n).astype(np.float32)[:, None, None]
    return (0.6 * np.exp(-d2 / (rad**2))).astype(np.float32)


DensityFn = Callable[[NDArray[np.float32], NDArray[np.float32]], F32]
"""Probability of a nucleus at global level-0 (y, x) centres (arrays of equal shape)."""
OrientFn = Callable[[NDArray[np.float32], NDArray[np.float32]], F32]
"""Preferred long-axis angle (rad, [0, pi)) at global level-0 (y, x) points."""


def stamp(
    bank: SpriteBank,
    seed: int,
    key: int,
    l0_x: int,
    l0_y: int,
    w: int,
    h: int,
    density: DensityFn,
    orient: OrientFn | None = None,
) -> F32:
    """Haematoxylin OD of this nucleus kind over the region (max where nuclei overlap).

    With ``orient``, each cell picks a sprite whose angle is near the preferred one there
    (fibroblasts lie along the collagen), otherwise any sprite.
    """
    c = bank.kind.cell_px
    s = 2 * c
    out = np.zeros((h, w), np.float32)
    for pi in (0, 1):
        for pj in (0, 1):
            ci = _cells(l0_y, h, c, pi)
            cj = _cells(l0_x, w, c, pj)
            pick = _pick(bank, seed, key, ci, cj, orient)
            cy = (ci * c)[:, None] + bank.centre_px[pick, 0]
            cx = (cj * c)[None, :] + bank.centre_px[pick, 1]
            keep = hash_u01(seed, key + 1, ci[:, None], cj[None, :]) < density(cy, cx)
            blocks = bank.sprites[pick] * keep[:, :, None, None]
            canvas = blocks.transpose(0, 2, 1, 3).reshape(len(ci) * s, len(cj) * s)
            oy, ox = l0_y - int(ci[0]) * c, l0_x - int(cj[0]) * c
            np.maximum(out, canvas[oy : oy + h, ox : ox + w], out=out)
    return out


def _pick(
    bank: SpriteBank,
    seed: int,
    key: int,
    ci: NDArray[np.int64],
    cj: NDArray[np.int64],
    orient: OrientFn | None,
) -> NDArray[np.int64]:
    n = len(bank.sprites)
    u = hash_u01(seed, key, ci[:, None], cj[None, :])
    if orient is None:
        return (u * n).astype(np.int64)
    c = bank.kind.cell_px
    cy = ((ci + 1) * c).astype(np.float32)[:, None] + np.zeros((1, len(cj)), np.float32)
    cx = ((cj + 1) * c).astype(np.float32)[None, :] + np.zeros((len(ci), 1), np.float32)
    target = np.mod(orient(cy, cx), np.pi) / np.pi * n
    return (np.floor(target + (u - 0.5) * 12).astype(np.int64)) % n


def _cells(l0_start: int, n: int, c: int, parity: int) -> NDArray[np.int64]:
    """Cell indices of one parity whose 2C windows cover [l0_start, l0_start + n)."""
    first = (l0_start // c) - 1
    if first % 2 != parity:
        first -= 1
    last = (l0_start + n - 1) // c
    return np.arange(first, last + 1, 2, dtype=np.int64)


LYMPHOCYTE = NucleusKind("lymphocyte", 10, (3.6, 4.6), (1.0, 1.25), 0.15, (1.25, 1.6), 0.1)
FIBROBLAST = NucleusKind("fibroblast", 16, (3.8, 5.5), (2.2, 4.0), 0.3, (0.8, 1.15), 0.05)
EPITHELIAL = NucleusKind("epithelial", 12, (4.2, 5.6), (1.2, 1.9), 0.2, (0.75, 1.0), 0.2)
ATYPICAL = NucleusKind("atypical", 24, (7.5, 11.5), (1.0, 1.9), 0.6, (1.15, 1.6), 0.3, True)
