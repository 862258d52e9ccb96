"""What the exports share: file-safe names, the slide's µm/px, atomic image writes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from shapely.geometry import MultiPolygon, Polygon

from pathscaat.annotations.model import Annotation
from pathscaat.atomic import atomic_path
from pathscaat.progress import PathscaatError

UNCLASSIFIED = "unclassified"


def safe_name(text: str) -> str:
    """``text`` with only letters, digits, ``-`` and ``_`` (others become ``_``)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text).strip("_") or "x"


def file_stem(annotation: Annotation) -> str:
    """``<class>_<id>``: stable across runs (the id), grouped by class when sorted."""
    return f"{safe_name(annotation.class_name or UNCLASSIFIED)}_{safe_name(annotation.id)}"


def is_area(annotation: Annotation) -> bool:
    """True for polygons with an area (points and lines have nothing to crop)."""
    geom = annotation.geometry
    return isinstance(geom, Polygon | MultiPolygon) and not geom.is_empty and geom.area > 0


def slide_mpp(slide: Any, what: str) -> float:
    """The slide's level-0 µm/px, or one clear error saying how to give it."""
    if slide.mpp is None:
        raise PathscaatError(
            f"{slide.path}: the slide has no µm/px, which {what} needs; give it with "
            "--slide-mpp X (µm per level-0 pixel)"
        )
    return float(slide.mpp.x)


def save_image(path: Path, pixels: NDArray[np.uint8], *, mpp: float | None = None) -> None:
    """Write a PNG or TIFF (from the suffix) through a temp file and a rename, so a file
    that exists is whole (what makes the exports resumable)."""
    with atomic_path(path) as tmp:
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            kwargs: dict[str, Any] = {}
            if mpp:
                kwargs = {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"}
            tifffile.imwrite(tmp, pixels, compression="zlib", photometric=_photometric(pixels),
                             **kwargs)  # fmt: skip
        else:
            buf = io.BytesIO()
            Image.fromarray(pixels).save(buf, format="PNG", compress_level=3)
            tmp.write_bytes(buf.getbuffer())


def _photometric(pixels: NDArray[np.uint8]) -> str:
    return "rgb" if pixels.ndim == 3 else "minisblack"
