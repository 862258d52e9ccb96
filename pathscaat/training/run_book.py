"""The run's books: ``best`` and ``last`` checkpoints, ``history.json``, the weight average
and ``val_predictions.jsonl``, kept the same way whatever chooses ``best``.

Only rank 0 writes under torchrun; every rank keeps the same state.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from pathscaat.models import CheckpointMeta, PathscaatModel, save_checkpoint
from pathscaat.training import distributed as ddp
from pathscaat.training.config import TrainConfig
from pathscaat.training.loop import evaluate
from pathscaat.training.selection import WeightAverage, averaging_starts, selection_score
from pathscaat.training.state import RunState, save_state


@dataclass
class Validator:
    """A model's validation metrics on the run's validation loader; each call adds a line
    (each image's label, prediction and loss) to ``val_predictions.jsonl``, so a selection
    rule can be judged offline on halves of validation."""

    loader: DataLoader[Any]
    classes: list[str]
    device: torch.device
    out: Path
    is_main: bool

    def __call__(self, model: torch.nn.Module, epoch: int, name: str = "epoch") -> dict[str, Any]:
        preds: dict[str, list[float]] = {}
        metrics = evaluate(model, self.loader, self.classes, self.device, predictions=preds)
        if self.is_main:
            line = json.dumps({"epoch": epoch + 1, "model": name, **preds}, default=float)
            with (self.out / "val_predictions.jsonl").open("a", encoding="utf-8") as f:
                f.write(line + "\n")
        return metrics


@dataclass
class RunBook:
    config: TrainConfig
    model: PathscaatModel
    meta: CheckpointMeta
    opt: torch.optim.Optimizer
    state: RunState
    dist: ddp.DistInfo
    best_metrics: dict[str, Any] | None = None
    average: WeightAverage | None = None

    def save(
        self, name: str, epoch: int, metrics: dict[str, Any], model: torch.nn.Module | None = None
    ) -> Path:
        stem = self.config.out / name
        if self.dist.is_main:
            self.meta.epoch, self.meta.metrics = epoch, metrics
            save_checkpoint(stem, self.model if model is None else model, self.meta)
            if name == "last":
                save_state(stem, self.opt, self.state)
        return stem

    def end_epoch(self, epoch: int, metrics: dict[str, Any], validate: Validator | None) -> None:
        """Record the epoch; save ``best`` (by ``config.select``) and ``last``."""
        self.state.epochs_done = epoch + 1
        self.state.history.append({"epoch": epoch + 1, **metrics})
        select = self.config.select
        metrics = {**metrics, "selected_by": select}
        score = selection_score({**metrics, "epoch": epoch + 1}, select)
        if select == "average":
            self._average(epoch, metrics, validate)
        elif score > self.state.best_score:
            self.state.best_score, self.state.best_epoch = score, epoch + 1
            self.best_metrics = metrics
            self.save("best", epoch + 1, metrics)
        self.save("last", epoch + 1, metrics)
        if self.dist.is_main:
            text = json.dumps(self.state.history, indent=1, default=float)
            (self.config.out / "history.json").write_text(text, encoding="utf-8")

    def _average(self, epoch: int, metrics: dict[str, Any], validate: Validator | None) -> None:
        """Fold this epoch's weights into the running average (second half of the run)
        and save the average as ``best`` with its own validation metrics."""
        if epoch < averaging_starts(self.config.epochs) and epoch + 1 < self.config.epochs:
            return
        path = self.config.out / "average.safetensors"
        if self.average is None:  # a resumed run continues the average it saved
            self.average = WeightAverage.load(path)
        self.average.add(self.model)
        if self.dist.is_main:
            self.average.save(path)
        averaged = copy.deepcopy(self.model)
        averaged.load_state_dict(self.average.state_for(averaged))
        own = {} if validate is None else validate(averaged, epoch, "average")
        avg_metrics = {**metrics, **own, "averaged_epochs": self.average.count}
        self.state.best_score, self.state.best_epoch = [float(epoch + 1), 0.0], epoch + 1
        self.best_metrics = avg_metrics
        self.save("best", epoch + 1, avg_metrics, model=averaged)


def best_val_epoch(history: list[dict[str, Any]]) -> int:
    """The epoch with the best validation balanced accuracy (early stopping's clock,
    whatever ``select`` chooses as ``best``)."""
    scores = [(selection_score(h, "balanced_accuracy"), -h["epoch"]) for h in history]
    return -max(scores)[1] if scores else 0
