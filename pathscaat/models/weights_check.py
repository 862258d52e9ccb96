"""Check starting weights against a backbone before a run starts (the wizard's model page,
``pathscaat weights check``).

The check builds the very model the run would build (same code path as training: the
weights' architecture arguments, native mean/std) and loads the weights into it, so weights
that pass here load at Start, and wrong ones are refused now with the reason: unreadable,
not a state dict, or made for another architecture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pathscaat.models.catalog import validate_backbone
from pathscaat.models.factory import create_model
from pathscaat.models.starting_weights import (
    StartingPoint,
    backbone_for,
    load_start,
    resolve_start,
)


@dataclass
class WeightsReport:
    """Tensors loaded and the model's keys left fresh (``missing``: the head, if reset).

    ``unexpected`` (file keys the model has no place for) is always empty in a report: a
    file with such keys is refused with an error that names them. ``input_px``, ``mean``
    and ``std`` are what the weights imply (the model normalises with them).
    """

    matched: int
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    head_reset: bool = False
    message: str = ""
    backbone: str = ""
    input_px: int = 0
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    point: StartingPoint | None = None


def check_weights(backbone: str, num_classes: int, path: str | Path) -> WeightsReport:
    """Load the weights ``path`` names (a file, folder or starting-point name) into
    ``backbone`` ("" = the weights' own) with ``num_classes`` outputs; PathscaatError if wrong.
    """
    point = resolve_start(path)
    name = validate_backbone(backbone_for(point, backbone.strip() or None))
    model = create_model(name, num_classes, **point.timm_kwargs())
    loaded, fresh = load_start(point, model.backbone)
    total = len(model.backbone.state_dict())
    label = Path(str(path)).name if point.kind in ("state-dict", "checkpoint") else point.name
    if point.pretrained:
        message = f"{label} fits {name}: {len(loaded)} of {total} tensors loaded"
    else:
        message = f"{name} starts from random weights (a research setting)"
    if fresh:
        message += (
            f"; the classifier head ({len(fresh)} tensors) starts fresh for {num_classes} "
            "classes, as fine-tuning needs"
        )
    mean = tuple(round(v, 4) for v in model.mean)
    std = tuple(round(v, 4) for v in model.std)
    message += f". Native input {model.input_px} px, mean {mean}, std {std}"
    return WeightsReport(
        len(loaded), fresh, [], bool(fresh), message, name, model.input_px, mean, std, point
    )
