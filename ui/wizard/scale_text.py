"""The model's scale in words for the wizard's Model and Train pages.

Training resizes each patch to the input size, so the model's µm/px is the patches' µm/px
times patch px over input px (``pathscaat.training.scale``): 1024 px patches at 1 µm/px
fed at 64 px make a 16 µm/px model with 1 mm tiles. These lines say so before training,
and warn (``pathscaat.inference.scale.scale_warnings``) with a remedy on the wizard's pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScaleText:
    """One line on the model's field of view and µm/px, and warnings with remedies."""

    line: str
    model_mpp: float | None = None
    field_um: float | None = None
    warnings: list[str] = field(default_factory=list)


def _um(value: float) -> str:
    return f"{value / 1000:.3g} mm" if value >= 1000 else f"{value:.0f} µm"


def scale_text(
    patch_mpp: float | None, patch_px: int | None, input_px: int, *, from_project: bool = False
) -> ScaleText:
    """What a model trained on these patches at ``input_px`` sees (``patch_mpp`` None or 0:
    unknown; ``patch_px`` None: several sizes)."""
    from pathscaat.inference.scale import ModelScale, scale_warnings

    if not patch_mpp:
        return ScaleText(
            "Unknown: without the patches' µm/px the model records none, and slides are then "
            "read at full resolution, whatever their scan."
        )
    if not patch_px:
        return ScaleText(
            "Unknown: the patches come in several sizes, each reaching the model at another "
            "scale. Give them one size."
        )
    model_mpp = patch_mpp * patch_px / input_px
    field_um = patch_mpp * patch_px
    how = (f"{patch_px} px patches shrunk to {input_px} px" if patch_px > input_px
           else f"{patch_px} px patches enlarged to {input_px} px" if patch_px < input_px
           else f"{patch_px} px patches at full size")  # fmt: skip
    line = (f"{_um(field_um)} × {_um(field_um)} of tissue per input ({how}): the model reads "
            f"slides at {model_mpp:.3g} µm/px.")  # fmt: skip
    tile_fix = (
        "a smaller tile size on the Data page" if from_project else "patches that cover less tissue"
    )
    remedies = {
        "coarse": f" Raise Input size towards {patch_px} px, or use {tile_fix}.",
        "fine": f" Lower Input size to {patch_px} px or less.",
        "large": f" Use {tile_fix}.",
    }
    found = scale_warnings(ModelScale(model_mpp, input_px))
    warnings = [text + remedies[kind] for kind, text in found]
    return ScaleText(line, model_mpp, field_um, warnings)
