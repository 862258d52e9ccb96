"""Which weights become ``best``: a validation criterion, the last epoch, or an average.

Validation sets of real slide-split data are small (Kather 2016: about 200 tiles, and a
class can be absent), so the epoch with the best validation score is a noisy choice: on
one seed the "best" epoch scored 0.84 on unseen tiles where the last scored 0.92. The
choice is a knob (``TrainConfig.select``) chosen by the sweep in docs/training.md, and the
run says which measure chose.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pathscaat.progress import PathscaatError

#: What each ``select`` value means, for the run's output and the checkpoint.
SELECTED_BY = {
    "balanced_accuracy": "the best validation balanced accuracy",
    "loss": "the lowest validation loss",
    "last": "the last epoch",
    "average": "the average of the weights of the second half of the epochs",
}


def selection_score(metrics: dict[str, Any], select: str) -> list[float]:
    """Higher is better; ties go to the earlier epoch (``>`` keeps the first).

    ``balanced_accuracy`` falls back to lower loss on ties; ``loss`` is the loss alone;
    ``last`` and ``average`` rank every epoch above the one before.
    """
    loss = float(metrics.get("loss", math.inf))
    if select == "balanced_accuracy":
        bal = metrics.get("balanced_accuracy", math.nan)
        return [-1.0 if bal is None or math.isnan(bal) else float(bal), -loss]
    if select == "loss":
        return [-loss, 0.0]
    return [float(metrics.get("epoch", 0)), 0.0]


def averaging_starts(epochs: int) -> int:
    """First (0-based) epoch whose weights enter the average: the second half."""
    return epochs // 2


class WeightAverage:
    """Running mean of a model's state at the end of epochs (floating tensors; integer
    buffers such as BatchNorm's batch counters keep their latest value)."""

    def __init__(self) -> None:
        self.count = 0
        self.mean: dict[str, torch.Tensor] = {}

    def add(self, model: nn.Module) -> None:
        self.count += 1
        for key, value in model.state_dict().items():
            value = value.detach().to("cpu", copy=True)
            if key not in self.mean or not value.is_floating_point():
                self.mean[key] = value.float() if value.is_floating_point() else value
            else:
                self.mean[key] += (value.float() - self.mean[key]) / self.count

    def state_for(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """The mean in ``model``'s dtypes, ready for ``load_state_dict``."""
        own = model.state_dict()
        return {k: v.to(own[k].dtype) for k, v in self.mean.items()}

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        tmp = path.with_name(f".{path.name}.tmp")
        tensors = {k: v.contiguous() for k, v in self.mean.items()}
        save_file(tensors, str(tmp), metadata={"count": str(self.count)})
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> WeightAverage:
        from safetensors import safe_open

        avg = cls()
        if not path.is_file():
            return avg
        try:
            with safe_open(str(path), framework="pt") as f:
                avg.count = int((f.metadata() or {}).get("count", "0"))
                avg.mean = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        except Exception as exc:  # safetensors raises its own error types
            raise PathscaatError(
                f"cannot read the weight average {path}: {exc}; delete it to restart the "
                "average, or start the run again"
            ) from exc
        return avg
