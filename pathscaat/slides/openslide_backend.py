"""OpenSlide backend: every format OpenSlide 4 reads (SVS, NDPI, MRXS, SCN, BIF, DICOM...).

Thread safety: OpenSlide handles may be shared between threads (the C library locks
internally), so reads run in parallel; ``ReadGuard`` only keeps ``close()`` from freeing
the handle under a read. After any OpenSlideError the handle is unusable (OpenSlide puts it
in an error state), so the error is kept and every later read raises the same
``CorruptSlideError``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import openslide

from pathscaat.slides.base import RGBArray, Slide, SlideMetadata, StoredSlide
from pathscaat.slides.errors import CorruptSlideError, unexpected
from pathscaat.slides.guard import ReadGuard
from pathscaat.slides.openslide_fastread import read_rgb
from pathscaat.slides.pixels import composite_on_white

NAME = "openslide"
log = logging.getLogger(__name__)


def detect(path: Path) -> str | None:
    """OpenSlide's vendor name when it recognises the file, else None (never raises)."""
    try:
        return openslide.OpenSlide.detect_format(str(path))
    except (openslide.OpenSlideError, OSError, ValueError):
        return None


def _corrupt(path: Path, exc: Exception) -> CorruptSlideError:
    return CorruptSlideError(
        path,
        f"OpenSlide recognises the format but cannot read it ({exc})",
        "The file is probably truncated or damaged: copy it again from the scanner or archive.",
    )


def read_properties(osr: openslide.OpenSlide) -> dict[str, str]:
    """Every property OpenSlide can return; keys it lists but cannot read are left out.

    A damaged header can make OpenSlide list a key (e.g. one with undecodable bytes) that
    its own lookup then refuses with a bare ``KeyError``; one bad key must not hide the rest.
    """
    props: dict[str, str] = {}
    skipped: list[str] = []
    for key in list(osr.properties):
        try:
            props[str(key)] = str(osr.properties[key])
        except (KeyError, UnicodeError, ValueError):
            skipped.append(repr(key))
    if skipped:
        log.warning(
            "%s: %d unreadable slide properties left out: %s",
            osr,
            len(skipped),
            ", ".join(skipped[:5]),
        )
    return props


class OpenSlideSlide(StoredSlide):
    """A slide read through openslide-python."""

    backend_name = NAME

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        try:
            self._osr = openslide.OpenSlide(str(self.path))
        except openslide.OpenSlideError as exc:
            raise _corrupt(self.path, exc) from exc
        try:
            props = MappingProxyType(read_properties(self._osr))
            dims = tuple((int(w), int(h)) for w, h in self._osr.level_dimensions)
            downs = tuple(float(d) for d in self._osr.level_downsamples)
        except Exception as exc:  # any quirk of a damaged header: close, then one clear error
            self._osr.close()
            if isinstance(exc, openslide.OpenSlideError):
                raise _corrupt(self.path, exc) from exc
            raise unexpected(self.path, exc, "reading the slide's metadata") from exc
        self._guard = ReadGuard(self.path)
        self._meta = SlideMetadata.from_properties(dims, downs, props)
        self._assoc: Mapping[str, RGBArray] | None = None

    @property
    def associated_images(self) -> Mapping[str, RGBArray]:
        """Label, macro, thumbnail... decoded once, on first use."""
        if self._assoc is None:
            with self._guard.reading():
                try:
                    images = {
                        name: composite_on_white(np.asarray(img.convert("RGBA")))
                        for name, img in self._osr.associated_images.items()
                    }
                except openslide.OpenSlideError as exc:
                    raise self._fail(exc) from exc
                except (OSError, ValueError) as exc:  # PIL on a damaged embedded image
                    raise unexpected(self.path, exc, "decoding an associated image") from exc
            self._assoc = MappingProxyType(images)
        return self._assoc

    def _fail(self, exc: Exception) -> CorruptSlideError:
        err = _corrupt(self.path, exc)
        self._guard.failure = err
        return err

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        with self._guard.reading():
            try:
                return read_rgb(self._osr, l0_xy, level, size)
            except openslide.OpenSlideError as exc:
                raise self._fail(exc) from exc

    def close(self) -> None:
        super().close()
        if self._guard.close():
            self._osr.close()


def open_openslide(path: Path) -> Slide:
    return OpenSlideSlide(path)
