"""Where a run's labelled patches come from: a patch folder or a project's annotations.

A value only (no I/O), so a run config can hold it; :mod:`pathscaat.data.sources` scans it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pathscaat.progress import PathscaatError

SOURCE_KINDS = ("folder", "project")


@dataclass
class DataSource:
    """One source of labelled patches.

    ``folder``: an ImageFolder / ``manifest.csv`` / ``images``+``masks`` patch folder at
    ``path``. ``project``: the annotated slides of the project at ``path`` (``slides``
    None = all), tiled at ``mpp`` µm/px into ``tile_px`` patches. ``mpp`` of a folder is
    its patches' µm/px where known.
    """

    kind: str
    path: Path
    slides: list[str] | None = None
    mpp: float | None = None
    tile_px: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise PathscaatError(
                f"data source kind must be one of {', '.join(SOURCE_KINDS)}, got {self.kind!r}"
            )
        self.path = Path(self.path)
        if self.mpp is not None and self.mpp <= 0:
            raise PathscaatError(f"data source {self.path}: mpp must be positive")
        if self.tile_px is not None and self.tile_px < 8:
            raise PathscaatError(f"data source {self.path}: tile_px must be at least 8")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": str(self.path),
            "slides": None if self.slides is None else list(self.slides),
            "mpp": self.mpp,
            "tile_px": self.tile_px,
        }
