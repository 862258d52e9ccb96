"""Parse annotation XML with the standard library, safely.

Annotation XML never needs a DTD, so a document that declares one (the carrier of entity
expansion and external-entity attacks) is refused before parsing. Errors name the file and
the line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from pathscaat.annotations.io.base import file_error, read_text

_DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(path: str | Path) -> ET.Element:
    """The root element of an XML file, or one AnnotationFileError naming the line."""
    text = read_text(path)
    found = _DTD.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise file_error(
            path,
            f"line {line}",
            "declares a DTD or entities, which annotation "
            "files never need; refusing to read it for safety",
        )
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        line, col = exc.position
        raise file_error(
            path,
            f"line {line}, column {col}",
            f"not well-formed XML ({str(exc).split(': line')[0]}); export the file again",
        ) from None


def number(value: str | None) -> float:
    """An XML attribute as a float; accepts a decimal comma (some ASAP locales write it)."""
    if value is None:
        raise ValueError("missing")
    return float(value.strip().replace(",", "."))


def colour_from_hex(value: str | None) -> tuple[int, int, int] | None:
    """``#RRGGBB`` -> (r, g, b), None if absent or malformed."""
    if not value or not re.fullmatch(r"#?[0-9a-fA-F]{6}", value.strip()):
        return None
    v = value.strip().lstrip("#")
    return (int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16))


def colour_from_colorref(value: str | None) -> tuple[int, int, int] | None:
    """A Windows COLORREF integer (0x00BBGGRR, as Aperio and HALO write) -> (r, g, b)."""
    try:
        v = int(str(value).strip())
    except ValueError:
        return None
    return (v & 255, (v >> 8) & 255, (v >> 16) & 255)
