"""Compose synthetic H&E (PathSCAAT synthetic) from a layout, textures and nuclei.

Colour follows Beer-Lambert: each pixel holds haematoxylin and eosin optical densities,
mixed through stain vectors and exponentiated, so colours, stain variation and overlaps
behave like real brightfield stains instead of being painted RGB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from pathscaat.data import synthetic_nuclei as nuc
from pathscaat.data.synthetic_noise import (
    F32,
    fbm,
    fbm_at,
    fibre_texture,
    sample_periodic,
    smoothstep,
    upsample_field,
)

H_VEC = np.array([0.60, 0.78, 0.30], np.float32)
E_VEC = np.array([0.12, 0.92, 0.38], np.float32)
LAYERS = ("tissue", "gland", "atypical", "inflamed")


@dataclass
class Assets:
    """Seed-determined textures and nucleus sprite banks, shared by many renders."""

    seed: int
    textures: list[F32]
    banks: dict[str, nuc.SpriteBank]
    angles_rad: list[float]


@lru_cache(maxsize=8)
def make_assets(seed: int, texture_px: int = 512) -> Assets:
    """Textures and sprite banks for ``seed`` (cached: they cost a fraction of a second)."""
    rng = np.random.default_rng([seed, 7])
    base = rng.uniform(0, np.pi)
    angles = [float(base + k * np.pi / 3) for k in range(3)]
    textures = [fibre_texture(rng, texture_px, a) for a in angles]
    kinds = (nuc.LYMPHOCYTE, nuc.FIBROBLAST, nuc.EPITHELIAL, nuc.ATYPICAL)
    banks = {k.name: nuc.make_bank(rng, k) for k in kinds}
    return Assets(seed, textures, banks, angles)


@dataclass
class Stain:
    """Per-image or per-slide staining: stain vectors, strengths and blur."""

    h_vec: NDArray[np.float32] = field(default_factory=lambda: H_VEC.copy())
    e_vec: NDArray[np.float32] = field(default_factory=lambda: E_VEC.copy())
    h_scale: float = 1.0
    e_scale: float = 1.0
    blur_px: float = 0.0

    @classmethod
    def random(cls, rng: np.random.Generator, max_blur_px: float = 1.0) -> Stain:
        h = np.clip(H_VEC + rng.normal(0, 0.05, 3), 0.05, None).astype(np.float32)
        e = np.clip(E_VEC + rng.normal(0, 0.06, 3), 0.02, None).astype(np.float32)
        return cls(
            h,
            e,
            float(rng.uniform(0.8, 1.2)),
            float(rng.uniform(0.75, 1.25)),
            float(rng.uniform(0, max_blur_px)),
        )


@dataclass
class Layout:
    """Low-resolution maps of the scene: 1 map px = ``factor`` level-0 px from ``l0_origin``.

    ``tissue`` in [0, 1] (0 = glass), ``gland`` normalised distance to the nearest gland
    centre (< 1 inside a gland; large elsewhere), ``atypical`` and ``inflamed`` in [0, 1]:
    where the planted structures are.
    """

    factor: int
    maps: dict[str, F32]
    l0_origin: tuple[int, int] = (0, 0)

    def sample(self, name: str, l0_x: int, l0_y: int, w: int, h: int) -> F32:
        ox, oy = self.l0_origin
        return upsample_field(self.maps[name], self.factor, l0_x - ox, l0_y - oy, w, h)

    def at(self, name: str, l0_y: F32, l0_x: F32) -> F32:
        """Nearest-map-pixel lookup at arbitrary global points (nucleus centres)."""
        m = self.maps[name]
        iy = np.clip(
            ((l0_y - self.l0_origin[1]) // self.factor).astype(np.int64), 0, m.shape[0] - 1
        )
        ix = np.clip(
            ((l0_x - self.l0_origin[0]) // self.factor).astype(np.int64), 0, m.shape[1] - 1
        )
        return m[iy, ix]


def _density(layout: Layout, kind: str) -> nuc.DensityFn:
    def fn(l0_y: F32, l0_x: F32) -> F32:
        t = layout.at("tissue", l0_y, l0_x)
        g = layout.at("gland", l0_y, l0_x)
        a = layout.at("atypical", l0_y, l0_x)
        inf = layout.at("inflamed", l0_y, l0_x)
        stroma = np.clip((g - 1.05) * 4, 0, 1) * (1 - a)
        if kind == "lymphocyte":
            return t * (0.05 * stroma + 0.85 * inf * (1 - a))
        if kind == "fibroblast":
            return t * 0.17 * stroma * (1 - inf)
        if kind == "epithelial":
            return t * np.exp(-(((g - 0.84) / 0.11) ** 2)) * (1 - a)
        return t * a * 0.95

    return fn


def render_region(
    assets: Assets, layout: Layout, stain: Stain, key: int, l0_x: int, l0_y: int, w: int, h: int
) -> NDArray[np.uint8]:
    """RGB uint8 of the region [l0_x, l0_x + w) x [l0_y, l0_y + h) of the scene."""
    t = layout.sample("tissue", l0_x, l0_y, w, h)
    g = layout.sample("gland", l0_x, l0_y, w, h)
    fib = _fibres(assets, key, l0_x, l0_y, w, h)
    lumen = 1 - smoothstep(0.5, 0.62, g)
    band = smoothstep(0.5, 0.62, g) * (1 - smoothstep(0.98, 1.08, g))
    stroma = smoothstep(0.98, 1.08, g)
    dens = fbm(key, 5, l0_x, l0_y, w, h, 260.0, 2)
    a = layout.sample("atypical", l0_x, l0_y, w, h)
    stroma = stroma * (1 - a)
    e_od = t * (
        stroma * (0.08 + 0.62 * fib * (0.55 + 0.6 * dens))
        + band * 0.42
        + lumen * 0.04
        + a * (0.3 + 0.1 * dens)
    )
    h_od = t * (0.05 + band * 0.12 + a * 0.1)
    for k, (name, bank) in enumerate(assets.banks.items()):
        orient = _orientation(assets, key) if name == "fibroblast" else None
        density = _density(layout, name)
        layer = nuc.stamp(bank, key, 101 + 17 * k, l0_x, l0_y, w, h, density, orient)
        h_od = np.maximum(h_od, t * layer)
    e_od *= 1 - 0.5 * np.clip(h_od - 0.3, 0, 1)
    return _to_rgb(h_od, e_od, stain, key, l0_x, l0_y)


def _orientation(assets: Assets, key: int) -> nuc.OrientFn:
    """Angle of the locally dominant fibre texture (the same weights as ``_fibres``)."""

    def fn(l0_y: F32, l0_x: F32) -> F32:
        weights = np.stack([fbm_at(key, 11 + k, l0_y, l0_x, 500.0, 2) for k in range(3)])
        return np.asarray(assets.angles_rad, np.float32)[np.argmax(weights, axis=0)]

    return fn


def _fibres(assets: Assets, key: int, l0_x: int, l0_y: int, w: int, h: int) -> F32:
    """Blend of three fibre orientations with slowly varying weights (hides the period)."""
    weights = [fbm(key, 11 + k, l0_x, l0_y, w, h, 500.0, 2) ** 3 for k in range(3)]
    total = weights[0] + weights[1] + weights[2] + 1e-6
    out = np.zeros((h, w), np.float32)
    for wk, tex in zip(weights, assets.textures, strict=True):
        out += wk * sample_periodic(tex, l0_x, l0_y, w, h)
    return out / total


def _to_rgb(
    h_od: F32, e_od: F32, stain: Stain, key: int, l0_x: int, l0_y: int
) -> NDArray[np.uint8]:
    if stain.blur_px > 0.2:
        from scipy import ndimage

        h_od = ndimage.gaussian_filter(h_od, stain.blur_px)
        e_od = ndimage.gaussian_filter(e_od, stain.blur_px)
    od = (
        (h_od * stain.h_scale)[..., None] * stain.h_vec
        + (e_od * stain.e_scale)[..., None] * stain.e_vec
        + np.float32(0.025)
    )
    np.negative(od, out=od)
    np.exp(od, out=od)
    od *= np.float32(255.0)
    grain = np.random.default_rng([key, l0_x & 0xFFFFFFF, l0_y & 0xFFFFFFF]).standard_normal(
        od.shape[:2], dtype=np.float32
    )
    od += (grain * np.float32(2.0))[..., None]
    np.clip(od, 0, 255, out=od)
    return od.astype(np.uint8)
