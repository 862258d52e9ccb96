"""Pixel conversions every backend shares: anything decoded -> H x W x 3 uint8 RGB on white."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from pathscaat.slides.base import RGBArray


def white(h: int, w: int) -> RGBArray:
    """The colour of glass: out-of-slide and transparent areas."""
    return np.full((h, w, 3), 255, dtype=np.uint8)


def composite_on_white(rgba: NDArray[np.uint8]) -> RGBArray:
    """Straight (non-premultiplied) RGBA over white.

    Fully opaque pixels keep their exact values; fully transparent ones become white (not the
    black that dropping alpha would leave); partial alpha blends in float and rounds once.
    """
    rgb = rgba[..., :3]
    alpha = rgba[..., 3]
    if bool(np.all(alpha == 255)):
        return np.ascontiguousarray(rgb)
    a = alpha[..., None].astype(np.float32) / 255.0
    out = rgb.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def to_uint8(arr: NDArray[np.generic]) -> NDArray[np.uint8]:
    """Scale integer types by their full range and floats from [0, 1] to uint8."""
    if arr.dtype == np.uint8:
        return arr  # type: ignore[return-value]
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255  # type: ignore[no-any-return]
    if np.issubdtype(arr.dtype, np.integer):
        info = np.iinfo(arr.dtype)  # type: ignore[arg-type,type-var]
        scaled = (arr.astype(np.float64) - info.min) * (255.0 / (info.max - info.min))
    else:
        scaled = np.nan_to_num(arr.astype(np.float64)) * 255.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def to_rgb(arr: NDArray[np.generic]) -> RGBArray:
    """H x W, H x W x 1 (grey in all three channels), x 2 (grey + alpha), x 3, x 4 -> RGB."""
    img = to_uint8(arr)
    if img.ndim == 2:
        img = img[..., None]
    channels = img.shape[2]
    if channels == 1:
        return np.repeat(img, 3, axis=2)
    if channels == 2:
        return composite_on_white(
            np.concatenate([np.repeat(img[..., :1], 3, axis=2), img[..., 1:2]], axis=2)
        )
    if channels == 3:
        return np.ascontiguousarray(img)
    return composite_on_white(np.ascontiguousarray(img[..., :4]))
