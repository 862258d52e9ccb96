"""Plain images (PNG, JPEG, BMP, single-page TIFF...) through Pillow, as one-level slides.

The whole image is decoded once at open (these are small by nature: patches, screenshots,
exports); reads are then array slices, so they are thread-safe without a lock. Pixel size
comes from the file's DPI when it states one (``tiff-resolution``), else from the user.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import MappingProxyType

import numpy as np
from PIL import Image, UnidentifiedImageError

from pathscaat.slides.base import RGBArray, Slide, SlideMetadata, StoredSlide
from pathscaat.slides.errors import CorruptSlideError, UnsupportedSlideError
from pathscaat.slides.pixels import to_rgb, white

NAME = "image"


def detect(path: Path) -> str | None:
    """Pillow's format name (``PNG``, ``JPEG``...) when it recognises the header, else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                return str(img.format or "image")
    except Image.DecompressionBombError:
        return "image"  # recognised; opening it says it is too large and what to do
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def _properties(img: Image.Image) -> dict[str, str]:
    """Openslide-style keys, so the shared mpp chain can read the DPI."""
    props = {"openslide.vendor": f"image-{(img.format or 'image').lower()}"}
    dpi = img.info.get("dpi")
    if dpi and float(dpi[0]) > 0:
        props["tiff.XResolution"] = str(float(dpi[0]))
        props["tiff.YResolution"] = str(float(dpi[1] if len(dpi) > 1 else dpi[0]))
        props["tiff.ResolutionUnit"] = "inch"
    return props


def _load(path: Path) -> tuple[RGBArray, dict[str, str]]:
    try:
        with Image.open(path) as opened:
            props = _properties(opened)
            img: Image.Image = opened
            if img.mode in ("P", "PA", "LA", "RGBA", "La"):
                img = img.convert("RGBA")
            elif img.mode not in ("L", "RGB", "I;16", "I;16B", "1"):
                img = img.convert("RGB")
            return to_rgb(np.asarray(img)), props
    except Image.DecompressionBombError as exc:
        raise UnsupportedSlideError(
            path,
            f"the image is too large for the plain-image reader ({exc})",
            "Convert it to a tiled pyramidal TIFF (e.g. with vips tiffsave --tile --pyramid).",
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptSlideError(
            path,
            f"the image header is readable but its pixels are not ({exc})",
            "The file is probably truncated or damaged: export or copy it again.",
        ) from exc


class ImageSlide(StoredSlide):
    """A single-level slide held in memory."""

    backend_name = NAME

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._rgb, props = _load(self.path)
        h, w = self._rgb.shape[:2]
        self._meta = SlideMetadata.from_properties(
            ((int(w), int(h)),), (1.0,), MappingProxyType(props)
        )

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        x, y = l0_xy
        w, h = size
        out = white(h, w)
        img_h, img_w = self._rgb.shape[:2]
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, img_w), min(y + h, img_h)
        if x1 > x0 and y1 > y0:
            out[y0 - y : y1 - y, x0 - x : x1 - x] = self._rgb[y0:y1, x0:x1]
        return out


def open_image(path: Path) -> Slide:
    return ImageSlide(path)
