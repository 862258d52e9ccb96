"""ERM / SGT / SCAAT / TRADES objectives, the trainer, checkpoints and DDP under torchrun.

``train(TrainConfig(...), on_progress, should_stop) -> TrainResult`` is the one entry point
the CLI, the app and the benchmarks call.
"""

from pathscaat.training.config import OBJECTIVES, ScaatConfig, TrainConfig, TrainResult
from pathscaat.training.objectives import StepLoss, objective_loss
from pathscaat.training.trainer import train

__all__ = [
    "OBJECTIVES",
    "ScaatConfig",
    "StepLoss",
    "TrainConfig",
    "TrainResult",
    "objective_loss",
    "train",
]
