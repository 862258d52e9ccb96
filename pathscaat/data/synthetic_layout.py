"""Layouts of synthetic scenes: where tissue, glands and planted structures are.

Maps are small (one map px = ``factor`` level-0 px); the renderer interpolates them.
"""

from __future__ import annotations

import numpy as np

from pathscaat.data.synthetic_noise import F32, fbm, smoothstep
from pathscaat.data.synthetic_render import Layout

FAR = 3.0
"""Gland distance used away from every gland."""


def shape_distance(
    ny: int,
    nx: int,
    cy: float,
    cx: float,
    ry: float,
    rx: float,
    angle: float,
    wobble: F32 | None = None,
) -> tuple[slice, slice, F32]:
    """Normalised elliptical distance (1 on the boundary) in the shape's bounding box."""
    r = max(ry, rx) * 1.4 + 2
    y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 1, ny)
    x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 1, nx)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    c, s = np.cos(angle), np.sin(angle)
    u = (dx * c + dy * s) / rx
    v = (-dx * s + dy * c) / ry
    d = np.sqrt(u * u + v * v)
    if wobble is not None:
        d = d / (1 + wobble[y0:y1, x0:x1])
    return slice(y0, y1), slice(x0, x1), d.astype(np.float32)


def add_glands(
    rng: np.random.Generator, gland: F32, tissue: F32, n: int, radius_map_px: tuple[float, float]
) -> None:
    """Place up to ``n`` glands centred on tissue (in place: min of normalised distances)."""
    ny, nx = gland.shape
    ys, xs = np.nonzero(tissue > 0.8)
    if len(ys) == 0:
        return
    for _ in range(n):
        k = rng.integers(len(ys))
        r = rng.uniform(*radius_map_px)
        e = rng.uniform(1.0, 1.8)
        sy, sx, d = shape_distance(
            ny, nx, ys[k], xs[k], r / e**0.5, r * e**0.5, rng.uniform(0, 6.3)
        )
        gland[sy, sx] = np.minimum(gland[sy, sx], d)


def add_blobs(
    rng: np.random.Generator,
    target: F32,
    tissue: F32,
    n: int,
    radius_map_px: tuple[float, float],
    key: int,
) -> None:
    """Irregular blobs centred on tissue, written into ``target`` as soft membership."""
    ny, nx = target.shape
    ys, xs = np.nonzero(tissue > 0.9)
    if len(ys) == 0:
        return
    wob = (fbm(key, 3, 0, 0, nx, ny, max(radius_map_px[0] * 0.7, 2.0), 2) - 0.5) * 0.7
    for _ in range(n):
        k = rng.integers(len(ys))
        r = rng.uniform(*radius_map_px)
        e = rng.uniform(1.0, 1.6)
        sy, sx, d = shape_distance(
            ny, nx, ys[k], xs[k], r / e**0.5, r * e**0.5, rng.uniform(0, 6.3), wob
        )
        target[sy, sx] = np.maximum(target[sy, sx], 1 - smoothstep(0.85, 1.0, d))


def patch_layout(rng: np.random.Generator, label: str, size_px: int, factor: int = 2) -> Layout:
    """A patch: mostly tissue with some glass, maybe glands, and the label's structure."""
    n = -(-size_px // factor) + 1
    key = int(rng.integers(1 << 30))
    noise = fbm(key, 1, 0, 0, n, n, n * 0.6, 3)
    glass = rng.uniform(-0.1, 0.35)
    thr = float(np.quantile(noise, min(max(glass, 0.0), 0.9)))
    tissue = smoothstep(thr - 0.02, thr + 0.03, noise) if glass > 0 else np.ones_like(noise)
    gland = np.full((n, n), FAR, np.float32)
    if rng.random() < 0.6:
        r_px = size_px / 224.0
        add_glands(
            rng, gland, tissue, int(rng.integers(1, 4)), (22 * r_px / factor, 45 * r_px / factor)
        )
    maps = {
        "tissue": tissue,
        "gland": gland,
        "atypical": np.zeros_like(tissue),
        "inflamed": np.zeros_like(tissue),
    }
    _plant(rng, maps, label, size_px / factor, key)
    return Layout(factor, maps)


def _plant(
    rng: np.random.Generator, maps: dict[str, F32], label: str, n_px: float, key: int
) -> None:
    """Plant the label's structure, keeping tissue (not glass or lumen) under it."""
    if label == "atypical":
        add_blobs(
            rng,
            maps["atypical"],
            maps["tissue"],
            int(rng.integers(1, 3)),
            (0.15 * n_px, 0.27 * n_px),
            key,
        )
        structure = maps["atypical"]
    elif label == "inflamed":
        add_blobs(
            rng,
            maps["inflamed"],
            maps["tissue"],
            int(rng.integers(1, 3)),
            (0.15 * n_px, 0.3 * n_px),
            key,
        )
        structure = maps["inflamed"]
    else:
        return
    maps["tissue"] = np.maximum(maps["tissue"], structure)
    maps["gland"] = np.where(structure > 0.05, FAR, maps["gland"]).astype(np.float32)
