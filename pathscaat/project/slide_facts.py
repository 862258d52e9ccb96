"""What the project learns about a slide by opening it once, when it is added.

Opening checks that the file is a slide we can read (a bad file is refused with the
reader's own message) and records its size in level-0 px and QuPath's frame offset
(``openslide.bounds-x/y``), so export writes QuPath's frame even when the file is away.
"""

from __future__ import annotations

from pathlib import Path

from pathscaat.annotations.io import qupath_l0_offset
from pathscaat.project.slides import SlideFacts
from pathscaat.slides import open_slide


def read_facts(path: Path, mpp_override: float | None = None) -> SlideFacts:
    with open_slide(path, mpp_override=mpp_override) as slide:
        width, height = slide.dimensions
        return SlideFacts(int(width), int(height), qupath_l0_offset(slide))
