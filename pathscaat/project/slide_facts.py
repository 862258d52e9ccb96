"""What the project learns about a slide by opening it once, when it is added.

Opening checks that the file is a slide we can read (a bad file is refused with the
reader's own message) and records its size in level-0 px and QuPath's frame offset
(``openslide.bounds-x/y``), so export writes QuPath's frame even when the file is away.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pathscaat.project.slides import SlideFacts
from pathscaat.slides import open_slide


def bounds_offset(properties: Mapping[str, str]) -> tuple[float, float]:
    """(bounds-x, bounds-y): where QuPath's origin lies in our level-0 frame."""

    def number(key: str) -> float:
        try:
            return float(properties.get(key, 0) or 0)
        except ValueError:
            return 0.0

    return number("openslide.bounds-x"), number("openslide.bounds-y")


def read_facts(path: Path, mpp_override: float | None = None) -> SlideFacts:
    with open_slide(path, mpp_override=mpp_override) as slide:
        width, height = slide.dimensions
        return SlideFacts(int(width), int(height), bounds_offset(slide.properties))
