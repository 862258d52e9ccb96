"""Immutable region requests: the value that names a read and doubles as its cache key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Region:
    """A read request in the frame of one slide.

    ``l0_x``/``l0_y`` are the top-left corner in level-0 pixels; ``lvl_w``/``lvl_h`` the
    size in pixels of ``level`` (as openslide's ``read_region``).
    """

    slide_id: str
    level: int
    l0_x: int
    l0_y: int
    lvl_w: int
    lvl_h: int
