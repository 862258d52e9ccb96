"""Annotation files: read and write every format through two functions.

``read_annotations(path)`` picks the reader from the extension (and, for ``.xml``, the
content: ASAP or Aperio ImageScope); ``write_annotations(path, objs)`` the writer. Readers
are imported on first use. ``l0_offset`` is QuPath's frame origin in our level-0 frame
(``qupath_l0_offset(slide)``); it applies to QuPath GeoJSON only, the other formats use
the full level-0 frame.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pathscaat.annotations.io.base import (
    FRAME_LEVEL0,
    FRAME_QUPATH,
    AnnotationFileError,
    ReadResult,
    file_error,
)
from pathscaat.annotations.model import Annotation

__all__ = [
    "FRAME_LEVEL0",
    "FRAME_QUPATH",
    "READ_FORMATS",
    "WRITE_FORMATS",
    "AnnotationFileError",
    "ReadResult",
    "qupath_l0_offset",
    "read_annotations",
    "write_annotations",
]

Offset = tuple[float, float]

# format name -> (module, reader function); extensions -> format name
READ_FORMATS: dict[str, tuple[str, str]] = {
    "geojson": ("geojson", "read_geojson"),
    "asap": ("asap", "read_asap"),
    "imagescope": ("imagescope", "read_imagescope"),
    "halo": ("halo", "read_halo"),
    "csv": ("vertex_csv", "read_vertex_csv"),
}
WRITE_FORMATS: dict[str, tuple[str, str]] = {
    "geojson": ("geojson", "write_geojson"),
    "asap": ("asap", "write_asap"),
    "csv": ("vertex_csv", "write_vertex_csv"),
}
_EXTENSIONS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".xml": "xml",
    ".annotations": "halo",
    ".csv": "csv",
}


def _function(table: dict[str, tuple[str, str]], fmt: str) -> Callable[..., Any]:
    module, name = table[fmt]
    return getattr(importlib.import_module(f"pathscaat.annotations.io.{module}"), name)  # type: ignore[no-any-return]


def _sniff_xml(path: Path) -> str:
    """ASAP writes <ASAP_Annotations>; ImageScope and HALO <Annotations> (HALO: <V>)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(4096)
        utf16 = raw[:2] in (b"\xff\xfe", b"\xfe\xff")
        head = raw.decode("utf-16" if utf16 else "utf-8", "replace")
    except OSError as exc:
        raise file_error(path, None, f"cannot be read ({exc.strerror or exc})") from None
    if "<ASAP_Annotations" in head:
        return "asap"
    if "<Annotations" in head:
        return "halo" if ("<V " in head and "<Vertex" not in head) else "imagescope"
    raise file_error(
        path,
        "line 1",
        "an XML file that is neither ASAP (<ASAP_Annotations>) "
        "nor Aperio ImageScope/HALO (<Annotations>) annotations",
    )


def _format(path: Path, fmt: str | None, table: dict[str, tuple[str, str]], verb: str) -> str:
    if fmt is None:
        fmt = _EXTENSIONS.get(path.suffix.lower())
        if fmt == "xml":
            fmt = _sniff_xml(path) if verb == "read" else "asap"
    elif fmt == "xml":
        fmt = "asap"
    if fmt not in table:
        names = ", ".join(
            sorted(
                {
                    e
                    for e, f in _EXTENSIONS.items()
                    if f in table or (f == "xml" and "asap" in table)
                }
            )
        )
        raise AnnotationFileError(
            f"{path}: cannot {verb} this kind of annotation file ({path.suffix or 'no extension'});"
            f" use one of {names}"
        )
    return fmt


def read_annotations(
    path: str | Path, *, l0_offset: Offset = (0.0, 0.0), fmt: str | None = None
) -> ReadResult:
    """Read an annotation file; the format comes from ``fmt``, the extension or the content."""
    p = Path(path)
    fmt = _format(p, fmt, READ_FORMATS, "read")
    reader = _function(READ_FORMATS, fmt)
    if fmt == "geojson":
        return reader(p, l0_offset=l0_offset)  # type: ignore[no-any-return]
    return reader(p)  # type: ignore[no-any-return]


def write_annotations(
    path: str | Path,
    annotations: Iterable[Annotation],
    *,
    l0_offset: Offset = (0.0, 0.0),
    fmt: str | None = None,
) -> None:
    """Write ``annotations`` as .geojson/.json (QuPath), .xml (ASAP) or .csv (vertices)."""
    p = Path(path)
    fmt = _format(p, fmt, WRITE_FORMATS, "write")
    writer = _function(WRITE_FORMATS, fmt)
    if fmt == "geojson":
        writer(p, annotations, l0_offset=l0_offset)
    else:
        writer(p, annotations)


def qupath_l0_offset(slide: Any) -> Offset:
    """QuPath's frame origin in level-0 px: (openslide.bounds-x, bounds-y), or (0, 0).

    ``slide`` is a Slide (its ``properties``) or a mapping of OpenSlide properties.
    """
    props: Mapping[str, Any] = slide if isinstance(slide, Mapping) else slide.properties
    try:
        return (
            float(props.get("openslide.bounds-x") or 0.0),
            float(props.get("openslide.bounds-y") or 0.0),
        )
    except (TypeError, ValueError):
        return (0.0, 0.0)
