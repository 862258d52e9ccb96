"""ERM / SGT / SCAAT / TRADES objectives, the trainer, checkpoints and DDP under torchrun.

``train(TrainConfig(...), on_progress, should_stop) -> TrainResult`` is the one entry point
the CLI, the app and the benchmarks call. The settings import without torch (the CLI
builds its ``--help`` from them); the trainer and objectives load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pathscaat.training.config import OBJECTIVES, ScaatConfig, TrainConfig, TrainResult

if TYPE_CHECKING:
    from pathscaat.training.objectives import StepLoss, objective_loss
    from pathscaat.training.trainer import train

_LAZY = {
    "StepLoss": "pathscaat.training.objectives",
    "objective_loss": "pathscaat.training.objectives",
    "train": "pathscaat.training.trainer",
}

__all__ = [
    "OBJECTIVES",
    "ScaatConfig",
    "StepLoss",
    "TrainConfig",
    "TrainResult",
    "objective_loss",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
