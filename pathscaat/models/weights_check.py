"""Check a local weights file against a backbone before a run starts (the wizard's model page).

The check loads the file into the very model the run would build (same code path as
training), so a file that passes here loads at Start, and one that does not is refused
now with the reason: unreadable, not a state dict, or made for another architecture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pathscaat.models.catalog import validate_backbone
from pathscaat.models.factory import create_model, load_backbone_weights


@dataclass
class WeightsReport:
    """Tensors loaded and the model's keys left fresh (``missing``: the head, if reset).

    ``unexpected`` (file keys the model has no place for) is always empty in a report: a
    file with such keys is refused with an error that names them.
    """

    matched: int
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    head_reset: bool = False
    message: str = ""


def check_weights(backbone: str, num_classes: int, path: Path) -> WeightsReport:
    """Load ``path`` into ``backbone`` with ``num_classes`` outputs; PathscaatError if wrong."""
    name = validate_backbone(backbone)
    net = create_model(name, num_classes).backbone
    loaded, fresh = load_backbone_weights(net, path)
    total = len(net.state_dict())
    message = f"{Path(path).name} fits {name}: {len(loaded)} of {total} tensors loaded"
    if fresh:
        message += (
            f"; the classifier head ({len(fresh)} tensors) starts fresh for {num_classes} "
            "classes, as fine-tuning needs"
        )
    return WeightsReport(len(loaded), fresh, [], bool(fresh), message)
