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


def slide_layout(
    rng: np.random.Generator, l0_w: int, l0_h: int, factor: int = 8
) -> tuple[Layout, list[dict[str, object]]]:
    """A slide: tissue islands on glass, glands, planted atypical and inflamed regions.

    Returns the layout and the planted regions (label, level-0 bbox and polygon).
    """
    ny, nx = -(-l0_h // factor) + 1, -(-l0_w // factor) + 1
    key = int(rng.integers(1 << 30))
    tissue = _islands(rng, ny, nx, key)
    gland = np.full((ny, nx), FAR, np.float32)
    n_glands = int(tissue.sum() * factor**2 / 450**2)
    add_glands(rng, gland, tissue, n_glands, (40 / factor, 85 / factor))
    maps = {"tissue": tissue, "gland": gland}
    regions: list[dict[str, object]] = []
    area_scale = max(1.0, l0_w * l0_h / 4096 / 3072)
    for label, n, r_l0 in (("atypical", 2, (220, 500)), ("inflamed", 2, (250, 550))):
        target = np.zeros((ny, nx), np.float32)
        count = max(n, int(n * area_scale**0.5))
        for box in _blobs_with_boxes(rng, target, tissue, count, r_l0, factor, key):
            regions.append({"label": label, **_region_geometry(target, box, factor)})
        maps[label] = target
    busy = np.maximum(maps["atypical"], maps["inflamed"])
    maps["tissue"] = np.maximum(tissue, busy)
    maps["gland"] = np.where(busy > 0.05, FAR, gland).astype(np.float32)
    return Layout(factor, maps), regions


def _islands(rng: np.random.Generator, ny: int, nx: int, key: int) -> F32:
    """Two to four irregular tissue pieces with torn edges and a few holes."""
    tissue = np.zeros((ny, nx), np.float32)
    wob = (fbm(key, 7, 0, 0, nx, ny, max(nx, ny) / 6, 3) - 0.5) * 0.6
    n = int(rng.integers(2, 5))
    for _ in range(n):
        cy, cx = rng.uniform(0.25, 0.75) * ny, rng.uniform(0.2, 0.8) * nx
        r = rng.uniform(0.18, 0.3) * min(nx, ny) * (3 / n) ** 0.5
        e = rng.uniform(1.0, 1.8)
        sy, sx, d = shape_distance(ny, nx, cy, cx, r / e**0.5, r * e**0.5, rng.uniform(0, 6.3), wob)
        tissue[sy, sx] = np.maximum(tissue[sy, sx], 1 - smoothstep(0.985, 1.0, d))
    holes = fbm(key, 8, 0, 0, nx, ny, max(nx, ny) / 25, 2)
    return (tissue * smoothstep(0.18, 0.24, holes)).astype(np.float32)


def _blobs_with_boxes(
    rng: np.random.Generator,
    target: F32,
    tissue: F32,
    n: int,
    r_l0: tuple[float, float],
    factor: int,
    key: int,
) -> list[tuple[slice, slice]]:
    """Non-overlapping blobs on tissue; returns each blob's box (map px)."""
    ny, nx = target.shape
    wob = (fbm(key, 9, 0, 0, nx, ny, r_l0[0] / factor, 2) - 0.5) * 0.5
    boxes: list[tuple[slice, slice]] = []
    ys, xs = np.nonzero(tissue > 0.95)
    for _ in range(n * 20):
        if len(boxes) == n or len(ys) == 0:
            break
        k = rng.integers(len(ys))
        r = rng.uniform(*r_l0) / factor
        sy, sx, d = shape_distance(
            ny, nx, ys[k], xs[k], r, r * rng.uniform(1, 1.5), rng.uniform(0, 6.3), wob
        )
        member = 1 - smoothstep(0.85, 1.0, d)
        if np.any(target[sy, sx] > 0) or np.mean(tissue[sy, sx][member > 0.5] > 0.5) < 0.9:
            continue
        target[sy, sx] = np.maximum(target[sy, sx], member)
        boxes.append((sy, sx))
    return boxes


def _region_geometry(target: F32, box: tuple[slice, slice], factor: int) -> dict[str, object]:
    """Level-0 bbox and outline polygon of the blob inside ``box``."""
    from skimage.measure import approximate_polygon, find_contours

    sy, sx = box
    sub = np.pad(target[sy, sx], 1)
    contour = max(find_contours(sub, 0.5), key=len)
    contour = approximate_polygon(contour, 0.5)
    l0 = (contour[:, ::-1] - 1 + np.array([sx.start, sy.start]) + 0.5) * factor
    x0, y0 = l0.min(axis=0)
    x1, y1 = l0.max(axis=0)
    return {
        "l0_bbox": [int(x0), int(y0), int(x1 - x0), int(y1 - y0)],
        "l0_polygon": [[round(float(x), 1), round(float(y), 1)] for x, y in l0],
    }
