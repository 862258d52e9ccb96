"""Do annotations lie on their slide? A file from another slide, or in another frame,
imports without error and then draws nowhere; this says so, with the likely cause."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pathscaat.annotations.model import Annotation


def on_slide(ann: Annotation, l0_size: tuple[int, int]) -> bool:
    """True when ``ann``'s bounding box overlaps the slide's level-0 rectangle."""
    minx, miny, maxx, maxy = ann.l0_bounds
    return maxx >= 0 and maxy >= 0 and minx <= l0_size[0] and miny <= l0_size[1]


@dataclass(frozen=True)
class OffSlide:
    """How many of ``total`` objects lie wholly outside a slide, and the likely cause."""

    outside: int
    total: int
    l0_size: tuple[int, int]
    extent: tuple[float, float, float, float]  # the objects' bounds, level-0 px

    @property
    def cause(self) -> str:
        minx, miny, maxx, maxy = self.extent
        width, height = self.l0_size
        fits = maxx - minx <= width and maxy - miny <= height
        if self.outside == self.total and fits:
            dx = minx if (minx < 0 or maxx > width) else 0.0
            dy = miny if (miny < 0 or maxy > height) else 0.0
            shift = f"{0.0 - dx + 0.0:+.0f}, {0.0 - dy + 0.0:+.0f}"  # + 0.0: never "-0"
            return (
                f"their coordinates are likely in another frame (all would fit shifted by "
                f"about {shift} px: a crop of a larger image, or QuPath bounds not applied), "
                "or the file belongs to another slide"
            )
        return "the file likely belongs to another slide (or a larger scan of this one)"

    def message(self) -> str:
        minx, miny, maxx, maxy = self.extent
        return (
            f"{self.outside} of {self.total} objects lie outside the slide "
            f"({self.l0_size[0]} x {self.l0_size[1]} px; the objects span x {minx:.0f} to "
            f"{maxx:.0f}, y {miny:.0f} to {maxy:.0f}): {self.cause}"
        )


def off_slide(annotations: Sequence[Annotation], l0_size: tuple[int, int]) -> OffSlide | None:
    """An :class:`OffSlide` when any of ``annotations`` lies wholly off the slide, else None."""
    outside = sum(1 for a in annotations if not on_slide(a, l0_size))
    if not outside:
        return None
    bounds = [a.l0_bounds for a in annotations]
    extent = (
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    )
    return OffSlide(outside, len(annotations), (int(l0_size[0]), int(l0_size[1])), extent)
