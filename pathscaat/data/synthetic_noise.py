"""Deterministic, position-addressed noise for the synthetic H&E renderer.

Everything here is a function of *global* level-0 coordinates and a seed, so a region
rendered on its own matches the same region rendered as part of a larger one: a slide
can be rendered tile by tile with no seams and bounded memory.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def hash_u01(seed: int, key: int, i: NDArray[np.int64], j: NDArray[np.int64]) -> F32:
    """Uniform [0, 1) per integer lattice point (splitmix64 finaliser), broadcasting i, j."""
    with np.errstate(over="ignore"):
        x = (np.asarray(i, dtype=np.int64).astype(np.uint64) * _M1) ^ (
            np.asarray(j, dtype=np.int64).astype(np.uint64) * _M3
        )
        x = x + np.uint64((seed * 1_000_003 + key * 7919) & 0xFFFFFFFFFFFF) * _M2
        x = (x ^ (x >> np.uint64(30))) * _M2
        x = (x ^ (x >> np.uint64(27))) * _M3
        x = x ^ (x >> np.uint64(31))
    return ((x >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24)).astype(np.float32)


def _interp_weights(l0_start: int, n: int, scale_px: float) -> tuple[NDArray[np.int64], F32]:
    """Lattice index and smoothstep weight for ``n`` pixel centres starting at ``l0_start``."""
    t = (np.arange(l0_start, l0_start + n, dtype=np.float64) + 0.5) / scale_px
    i0 = np.floor(t).astype(np.int64)
    f = (t - i0).astype(np.float32)
    return i0, f * f * (3.0 - 2.0 * f)


def value_noise(seed: int, key: int, l0_x: int, l0_y: int, w: int, h: int, scale_px: float) -> F32:
    """Smooth value noise in [0, 1] with features of about ``scale_px`` pixels.

    Separable interpolation: lattice values are hashed on a small grid, interpolated along
    x per lattice row, then along y, so the cost per pixel is a few multiply-adds.
    """
    ix, fx = _interp_weights(l0_x, w, scale_px)
    iy, fy = _interp_weights(l0_y, h, scale_px)
    gx = np.arange(ix.min(), ix.max() + 2)
    gy = np.arange(iy.min(), iy.max() + 2)
    lattice = hash_u01(seed, key, gy[:, None], gx[None, :])  # (ny, nx)
    cx = ix - gx[0]
    rows = lattice[:, cx] * (1 - fx) + lattice[:, cx + 1] * fx  # (ny, w)
    cy = iy - gy[0]
    out = rows[cy] * (1 - fy)[:, None] + rows[cy + 1] * fy[:, None]
    return out.astype(np.float32)


def value_noise_at(
    seed: int, key: int, l0_y: NDArray[np.float32], l0_x: NDArray[np.float32], scale_px: float
) -> F32:
    """``value_noise`` evaluated at arbitrary global points (same lattice and weights)."""
    ty = (np.asarray(l0_y, np.float64) + 0.5) / scale_px
    tx = (np.asarray(l0_x, np.float64) + 0.5) / scale_px
    iy, ix = np.floor(ty).astype(np.int64), np.floor(tx).astype(np.int64)
    fy, fx = (ty - iy).astype(np.float32), (tx - ix).astype(np.float32)
    fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)
    top = hash_u01(seed, key, iy, ix) * (1 - fx) + hash_u01(seed, key, iy, ix + 1) * fx
    bot = hash_u01(seed, key, iy + 1, ix) * (1 - fx) + hash_u01(seed, key, iy + 1, ix + 1) * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def fbm_at(
    seed: int,
    key: int,
    l0_y: NDArray[np.float32],
    l0_x: NDArray[np.float32],
    scale_px: float,
    octaves: int = 3,
) -> F32:
    """``fbm`` evaluated at arbitrary global points."""
    total = np.zeros(np.shape(l0_y), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        total += amp * value_noise_at(seed, key * 31 + o, l0_y, l0_x, scale_px / 2**o)
        norm += amp
        amp *= 0.5
    return total / np.float32(norm)


def fbm(
    seed: int, key: int, l0_x: int, l0_y: int, w: int, h: int, scale_px: float, octaves: int = 3
) -> F32:
    """Fractal sum of value noise, normalised back to about [0, 1]."""
    total = np.zeros((h, w), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        total += amp * value_noise(seed, key * 31 + o, l0_x, l0_y, w, h, scale_px / 2**o)
        norm += amp
        amp *= 0.5
    return total / np.float32(norm)


def smoothstep(e0: float, e1: float, x: F32) -> F32:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def fibre_texture(rng: np.random.Generator, size_px: int, angle_rad: float) -> F32:
    """A periodic ``size_px`` square of wavy collagen-like fibres in [0, 1].

    Band-pass filtered white noise, elongated along ``angle_rad`` (energy concentrated
    across the fibres), then domain-warped and modulated into bundles: periodic by
    construction, so it can be sampled at any global coordinate modulo ``size_px``.
    """
    from scipy import ndimage

    fy = np.fft.fftfreq(size_px)[:, None]
    fx = np.fft.fftfreq(size_px)[None, :]
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    f_along = fx * c + fy * s
    f_across = -fx * s + fy * c
    band = np.exp(-((np.abs(f_across) - 0.07) ** 2) / (2 * 0.045**2))
    tex = _filtered_noise(rng, band * np.exp(-(f_along**2) / (2 * 0.006**2)))
    radius2 = fx**2 + fy**2
    warp_y = _filtered_noise(rng, np.exp(-radius2 * (2 * np.pi * 16) ** 2 / 2))
    warp_x = _filtered_noise(rng, np.exp(-radius2 * (2 * np.pi * 16) ** 2 / 2))
    yy, xx = np.mgrid[0:size_px, 0:size_px].astype(np.float32)
    tex = ndimage.map_coordinates(
        tex, [yy + 9.0 * warp_y, xx + 9.0 * warp_x], order=1, mode="grid-wrap"
    ).astype(np.float32)
    bundles = _filtered_noise(rng, np.exp(-radius2 * (2 * np.pi * 20) ** 2 / 2))
    return smoothstep(-0.6, 1.3, tex + 0.8 * bundles)


def _filtered_noise(rng: np.random.Generator, filt: NDArray[np.float64]) -> F32:
    """Periodic white noise shaped by a frequency-domain filter, unit standard deviation."""
    noise = rng.standard_normal(filt.shape)
    out = np.real(np.fft.ifft2(np.fft.fft2(noise) * filt)).astype(np.float32)
    return out / max(float(out.std()), 1e-6)


def sample_periodic(tex: F32, l0_x: int, l0_y: int, w: int, h: int) -> F32:
    """Crop ``tex`` at a global position, wrapping around its period."""
    p_y, p_x = tex.shape
    rows = np.arange(l0_y, l0_y + h) % p_y
    cols = np.arange(l0_x, l0_x + w) % p_x
    return tex[rows[:, None], cols[None, :]]


def upsample_field(field: F32, factor: int, l0_x: int, l0_y: int, w: int, h: int) -> F32:
    """Bilinear sample of a low-resolution map (1 px = ``factor`` level-0 px) at a region."""
    ty = (np.arange(l0_y, l0_y + h) + 0.5) / factor - 0.5
    tx = (np.arange(l0_x, l0_x + w) + 0.5) / factor - 0.5
    ny, nx = field.shape
    iy = np.clip(np.floor(ty).astype(np.int64), 0, ny - 1)
    ix = np.clip(np.floor(tx).astype(np.int64), 0, nx - 1)
    iy1, ix1 = np.minimum(iy + 1, ny - 1), np.minimum(ix + 1, nx - 1)
    fy = np.clip(ty - iy, 0, 1).astype(np.float32)[:, None]
    fx = np.clip(tx - ix, 0, 1).astype(np.float32)[None, :]
    top = field[iy][:, ix] * (1 - fx) + field[iy][:, ix1] * fx
    bot = field[iy1][:, ix] * (1 - fx) + field[iy1][:, ix1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)
