"""``open_slide``: check the path, try each backend in order, and name what went wrong.

Backends are tried in order (OpenSlide, tifffile, plain image). A backend that recognises
the format but fails to open it gives ``CorruptSlideError`` (or ``UnsupportedSlideError`` for
a variant it does not handle), and the next backend still gets its chance; only when none
succeeds is the first such error raised, damage first. A file no backend
recognises is ``UnsupportedSlideError``, unless its name claims a slide format (``.svs``...),
in which case it is a damaged slide (``CorruptSlideError``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pathscaat.slides import image_backend, openslide_backend, tifffile_backend
from pathscaat.slides.base import Slide
from pathscaat.slides.errors import (
    CorruptSlideError,
    SlideError,
    SlideNotFoundError,
    SlidePermissionError,
    UnsupportedSlideError,
    unexpected,
)

SLIDE_SUFFIXES = frozenset(
    {
        ".svs",
        ".svslide",
        ".tif",
        ".tiff",
        ".ndpi",
        ".vms",
        ".vmu",
        ".scn",
        ".mrxs",
        ".bif",
        ".dcm",
        ".btf",
        ".ptif",
        ".qptiff",
    }
)
"""Names that claim a whole-slide format: unrecognised content there means damage."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})


@dataclass(frozen=True)
class Backend:
    """``detect`` says whether the format is recognised (cheap, never raises);
    ``open`` builds the slide or raises ``CorruptSlideError``."""

    name: str
    detect: Callable[[Path], str | None]
    open: Callable[[Path], Slide]
    skip: Callable[[Path, str], bool] = lambda path, fmt: False
    after_corrupt: bool = True
    """Whether to try this backend once an earlier one found the file damaged."""


BACKENDS: list[Backend] = [
    Backend(
        openslide_backend.NAME,
        openslide_backend.detect,
        openslide_backend.open_openslide,
        # OpenSlide's generic TIFF sees neither SubIFD levels, OME nor non-uint8 pixels
        skip=lambda path, fmt: (
            fmt == "generic-tiff" and tifffile_backend.better_than_generic_tiff(path)
        ),
    ),
    Backend(tifffile_backend.NAME, tifffile_backend.detect, tifffile_backend.open_tifffile),
    # Pillow reads the first page of a truncated TIFF without complaint: not after damage
    Backend(
        image_backend.NAME, image_backend.detect, image_backend.open_image, after_corrupt=False
    ),
]


def _check_readable(path: Path) -> None:
    """Missing, folder, unreadable or empty files, each with its own error."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise SlideNotFoundError(path, "no such file", "Check the path and file name.") from exc
    except PermissionError as exc:
        raise SlidePermissionError(
            path, "a folder on the path cannot be entered", "Ask for read access to the folder."
        ) from exc
    if stat.S_ISDIR(st.st_mode):
        raise SlideNotFoundError(
            path,
            "this is a folder, not a slide file",
            "Choose the slide file itself (for MRXS the .mrxs file).",
        )
    if not stat.S_ISREG(st.st_mode):
        raise SlideNotFoundError(path, "this is not a regular file", "Choose a slide file.")
    try:
        with open(path, "rb") as fh:
            fh.read(16)
    except PermissionError as exc:
        raise SlidePermissionError(
            path,
            "permission denied when reading the file",
            "Ask for read access or copy the slide somewhere readable.",
        ) from exc
    except OSError as exc:
        raise CorruptSlideError(
            path,
            f"the file cannot be read ({exc.strerror or exc})",
            "Check the disk or network share, then copy it again.",
        ) from exc
    if st.st_size == 0:
        raise CorruptSlideError(
            path,
            "the file is empty (0 bytes)",
            "The copy or download did not finish: copy it again.",
        )


def _unrecognised(path: Path) -> SlideError:
    suffix = path.suffix.lower()
    if suffix in SLIDE_SUFFIXES or suffix in IMAGE_SUFFIXES:
        return CorruptSlideError(
            path,
            f"the name says {suffix} but no reader recognises its content",
            "The file is damaged or not what its name says: copy it again from the source.",
        )
    return UnsupportedSlideError(
        path,
        "no slide reader recognises this file format",
        "Open a whole-slide image (SVS, NDPI, MRXS, SCN, BIF, DICOM, tiled/OME TIFF) "
        "or a plain PNG/JPEG/TIFF image.",
    )


def _try(backend: Backend, path: Path) -> Slide | None:
    """The backend's slide, None when it does not claim the file; any exception it raises
    that is not already a ``SlideError`` becomes ``CorruptSlideError`` (cause kept)."""
    try:
        fmt = backend.detect(path)
        if fmt is None or backend.skip(path, fmt):
            return None
        return backend.open(path)
    except (SlideError, MemoryError):
        raise
    except Exception as exc:  # a reader quirk on a damaged file, in any backend
        raise unexpected(path, exc, f"opening it with the {backend.name} reader") from exc


def open_slide(path: str | os.PathLike[str], *, mpp_override: float | None = None) -> Slide:
    """Open ``path`` with the first backend that can read it.

    ``mpp_override`` (µm/px at level 0) replaces the file's own pixel size, source ``user``.
    Raises a ``SlideError`` subclass that says what happened and what to do.
    """
    slide_path = Path(path).expanduser()
    _check_readable(slide_path)
    failures: list[CorruptSlideError | UnsupportedSlideError] = []
    for backend in BACKENDS:
        damaged = any(isinstance(exc, CorruptSlideError) for exc in failures)
        if damaged and not backend.after_corrupt:
            break
        try:
            slide = _try(backend, slide_path)
        except (CorruptSlideError, UnsupportedSlideError) as exc:
            failures.append(exc)  # a later backend may still read it
            continue
        if slide is None:
            continue
        if mpp_override is not None:
            try:
                slide.set_mpp(mpp_override)
            except ValueError:
                slide.close()
                raise
        return slide
    if failures:  # damage is the more useful news than a missing feature
        raise sorted(failures, key=lambda exc: not isinstance(exc, CorruptSlideError))[0]
    raise _unrecognised(slide_path)
