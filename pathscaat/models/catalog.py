"""The backbones the wizard offers, each with its size, native input and a one-line note.

Parameter counts are of the 1000-class ImageNet model (the head shrinks with fewer
classes); ``native_px`` is the input size its ImageNet weights were trained at. Any other
timm name works too: :func:`validate_backbone` checks it against ``timm.list_models`` and
suggests close names for a typo.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from pathscaat.progress import PathscaatError


@dataclass(frozen=True)
class BackboneInfo:
    """One curated backbone."""

    name: str
    params_m: float
    native_px: int
    note: str


CATALOG: list[BackboneInfo] = [
    BackboneInfo(
        "tf_efficientnet_lite0",
        4.7,
        224,
        "EfficientNet-Lite0: its ImageNet weights come with PathSCAAT; fast on a CPU.",
    ),
    BackboneInfo("resnet18", 11.7, 224, "Small, fast, a safe first choice on any computer."),
    BackboneInfo("resnet50", 25.6, 224, "The classic pathology baseline; needs a GPU to train."),
    BackboneInfo("efficientnet_b0", 5.3, 224, "Few parameters, good accuracy; slower per step."),
    BackboneInfo("convnext_tiny", 28.6, 224, "Modern CNN, strong accuracy; GPU recommended."),
    BackboneInfo(
        "vit_small_patch16_224", 22.1, 224, "Vision transformer; best with pretrained weights."
    ),
    BackboneInfo("mobilenetv3_large_100", 5.5, 224, "Very light; for laptops without a GPU."),
    BackboneInfo("resnet10t", 5.4, 176, "Tiny ResNet for quick trials and small data sets."),
]


def catalog_entry(name: str) -> BackboneInfo | None:
    """The curated entry of ``name``, or None for another timm model."""
    return next((info for info in CATALOG if info.name == name), None)


def validate_backbone(name: str) -> str:
    """``name`` when timm has it; else a PathscaatError naming close matches."""
    import timm

    name = name.strip()
    if name and timm.is_model(name):
        return name
    known = timm.list_models()
    close = difflib.get_close_matches(name.lower(), known, n=5, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "see timm.list_models()"
    raise PathscaatError(
        f"unknown backbone {name!r}: {hint} Curated choices: "
        f"{', '.join(info.name for info in CATALOG)}"
    )
