"""What every annotation reader returns and raises.

A reader either returns a :class:`ReadResult` (the objects it could read, plus one line
for each item it skipped and why) or raises one :class:`AnnotationFileError` whose message
names the file, the feature index or line, and what is wrong.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pathscaat import atomic
from pathscaat.annotations.model import Annotation
from pathscaat.progress import PathscaatError

# Frames a file's coordinates can be in. QUPATH: QuPath's image frame, whose origin is at
# (openslide.bounds-x, bounds-y) of level 0 on slides that have bounds; LEVEL0: the full
# level-0 image as OpenSlide reads it (ASAP, ImageScope, HALO, Slideflow).
FRAME_QUPATH = "qupath"
FRAME_LEVEL0 = "level0"


class AnnotationFileError(PathscaatError):
    """An annotation file that cannot be read: the message names the file and the spot."""


@dataclass
class ReadResult:
    """Objects read from a file, what was skipped (with feature index or line) and the frame.

    ``skipped`` also notes properties that could not be decoded and were kept verbatim.

    ``l0_offset`` is the offset that was added to the file's coordinates to bring them to
    our level-0 frame (non-zero only for QuPath files of slides with bounds).

    ``repaired`` names each invalid shape (self-intersecting, touching its holes) that was
    read and repaired with shapely's ``make_valid``, and why it was invalid.
    """

    annotations: list[Annotation]
    skipped: list[str] = field(default_factory=list)
    frame: str = FRAME_LEVEL0
    l0_offset: tuple[float, float] = (0.0, 0.0)
    repaired: list[str] = field(default_factory=list)

    def repaired_text(self, shown: int = 3) -> str:
        """One line on the repairs ("" when none): how many, and the first few."""
        if not self.repaired:
            return ""
        n = len(self.repaired)
        more = f"; {n - shown} more" if n > shown else ""
        return (
            f"repaired {n} invalid shape{'s' * (n != 1)} (self-intersecting or touching a "
            f"hole) with make_valid: {'; '.join(self.repaired[:shown])}{more}"
        )


def file_error(path: str | Path, where: str | None, what: str) -> AnnotationFileError:
    """``AnnotationFileError("PATH: WHERE: WHAT")``; ``what`` should say what to do."""
    spot = f"{where}: " if where else ""
    return AnnotationFileError(f"{path}: {spot}{what}")


def read_text(path: str | Path) -> str:
    """The file's text, with a clear error for missing, unreadable, binary or empty files."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise file_error(p, None, "no such file; check the path") from None
    except IsADirectoryError:
        raise file_error(p, None, "is a folder, not an annotation file") from None
    except PermissionError:
        raise file_error(p, None, "permission denied; check the file's permissions") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        except UnicodeDecodeError:
            text = ""
        if not text:
            raise file_error(
                p,
                f"byte {exc.start}",
                "not a text file (not UTF-8); is it really an annotation file?",
            ) from None
    if not text.strip():
        raise file_error(p, None, "the file is empty; export the annotations again")
    return text


@contextmanager
def bulk_objects() -> Iterator[None]:
    """Pause the cyclic garbage collector while a reader makes 100,000s of small objects.

    None of them form cycles, and the collector's passes over the growing heap otherwise
    cost more than the parsing itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(text: str) -> bytes:
    """``text`` as UTF-8, each lone surrogate (from a JSON ``\\ud800`` escape, which UTF-8
    cannot hold) replaced by U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def clean_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (see :func:`utf8`)."""
    return _SURROGATE.sub("\ufffd", text)


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` whole, with the mode the user's umask asks for: an
    interrupted export never leaves a truncated file in place of the previous one."""
    atomic.write_atomic(path, utf8(data) if isinstance(data, str) else data)
