"""Small pure helpers of the viewer: slide ids and magnification <-> zoom."""

from __future__ import annotations

import itertools

from pathscaat.slides.base import Slide

_ids = itertools.count(1)


def slide_id_for(slide: Slide) -> str:
    """A cache id unique to this opened slide (reopening a path gets a new one)."""
    return f"{slide.path}@{next(_ids)}"


def _scale_over(slide: Slide, value: float) -> float | None:
    """``10 µm / (µm/px * value)``, else ``objective power / value``; None without a scale.

    Magnification x level-0 px per screen px is a constant of the slide, so this one map
    turns either into the other.
    """
    if value <= 0:
        return None
    if slide.mpp is not None:
        return 10.0 / (slide.mpp.x * value)
    if slide.objective_power:
        return float(slide.objective_power) / value
    return None


def magnification_of(slide: Slide, l0_per_view_px: float) -> float | None:
    """Apparent objective at this zoom: 10 µm / (µm per screen px), else objective power."""
    return _scale_over(slide, l0_per_view_px)


def view_ds_for_magnification(slide: Slide, mag: float) -> float | None:
    """Level-0 px per screen px that shows ``mag``; None when the slide has no scale."""
    return _scale_over(slide, mag)
