"""Whole-slide images behind one small API: ``open_slide(path) -> Slide``.

Backends (OpenSlide, tifffile, plain image) are tried in order; every failure is a typed
``SlideError`` (see ``pathscaat.slides.errors``) saying what happened and what to do.
"""

from pathscaat.slides import errors
from pathscaat.slides.base import Mpp, RGBArray, Slide
from pathscaat.slides.errors import (
    CorruptSlideError,
    MissingMppError,
    SlideClosedError,
    SlideError,
    SlideNotFoundError,
    SlidePermissionError,
    UnsupportedSlideError,
)
from pathscaat.slides.registry import open_slide

__all__ = [
    "CorruptSlideError",
    "MissingMppError",
    "Mpp",
    "RGBArray",
    "Slide",
    "SlideClosedError",
    "SlideError",
    "SlideNotFoundError",
    "SlidePermissionError",
    "UnsupportedSlideError",
    "errors",
    "open_slide",
]
