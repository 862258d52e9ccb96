"""The µm/px a model sees: the patches' µm/px times patch px over input px.

Training resizes each patch's centre square to the model's input, so a 150 px patch at
0.495 µm/px fed at 96 px is seen at 0.773 µm/px (74 µm of tissue). The checkpoint records
that scale, and inference grids a slide at it, so both see the same field of view. One
µm/px for patches of several sizes would mean several scales: refused with a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pathscaat.data.patch_folder import PatchItem, square_sides
from pathscaat.progress import PathscaatError


@dataclass(frozen=True)
class PatchScale:
    """Patch µm/px and side (None where unknown or mixed), the model's input px and µm/px."""

    patch_mpp: float | None
    patch_px: int | None
    input_px: int
    sizes_px: dict[int, int]

    @property
    def model_mpp(self) -> float | None:
        if self.patch_mpp is None or self.patch_px is None:
            return None
        return self.patch_mpp * self.patch_px / self.input_px

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint's ``patch`` record."""
        return {
            "mpp": self.patch_mpp,
            "px": self.patch_px,
            "sizes_px": {str(k): v for k, v in self.sizes_px.items()},
            "input_px": self.input_px,
            "model_mpp": self.model_mpp,
        }


def patch_scale(
    image_root: Path, items: list[PatchItem], patch_mpp: float | None, input_px: int
) -> PatchScale:
    """The scale of a run; a known µm/px with patches of several sizes is a user error."""
    if patch_mpp is not None and patch_mpp <= 0:
        raise PathscaatError(f"--mpp must be positive (µm/px of the patches), got {patch_mpp}")
    sides = square_sides(image_root, items)
    sizes = {side: len(paths) for side, paths in sides.items()}
    if patch_mpp is not None and len(sides) > 1:
        shown = ", ".join(f"{side} px: {len(p)} (e.g. {p[0]})" for side, p in sides.items())
        raise PathscaatError(
            f"{image_root}: patches come in {len(sides)} sizes ({shown}); at one µm/px "
            f"({patch_mpp}) each size reaches the model at another scale once resized to "
            f"{input_px} px. Put patches of one size in the folder (crop or resample the "
            "others to it), or leave out --mpp to train without a recorded scale"
        )
    patch_px = next(iter(sides)) if len(sides) == 1 else None
    return PatchScale(patch_mpp, patch_px, input_px, sizes)
