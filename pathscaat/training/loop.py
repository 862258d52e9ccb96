"""One epoch of training and one pass of validation (the trainer strings them together)."""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from pathscaat.progress import OnProgress, PathscaatError, ProgressRecord, ShouldStop
from pathscaat.training.config import ScaatConfig
from pathscaat.training.distributed import DistInfo, agree
from pathscaat.training.objectives import objective_loss
from pathscaat.training.recipe import probe_lr_scale, train_mode


class StopRequested(Exception):
    """``should_stop`` said so (on any rank); the trainer saves and raises JobCancelled."""


@dataclass
class EpochContext:
    """Everything one training epoch needs."""

    model: nn.Module
    inner: nn.Module
    optimizer: torch.optim.Optimizer
    loader: DataLoader[Any]
    scaat: ScaatConfig
    device: torch.device
    dist: DistInfo
    lr_at: Callable[[int], float]
    total_steps: int
    epochs: int
    on_progress: OnProgress
    should_stop: ShouldStop
    scaler: torch.amp.GradScaler | None = None
    amp_dtype: torch.dtype | None = None
    progress_every: int = 1
    bn: str = "train"
    probe_epochs: int = 0
    channels_last: bool = False
    sums: dict[str, float] = field(default_factory=dict)

    def batch(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (in the model's memory layout) and labels of a loader batch, on device."""
        x = batch["image"].to(self.device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, batch["label"].to(self.device, non_blocking=True)

    def autocast(self) -> AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)


def _optimise(ctx: EpochContext, loss: torch.Tensor) -> None:
    ctx.optimizer.zero_grad(set_to_none=True)
    if ctx.scaler is not None:
        ctx.scaler.scale(loss).backward()
        ctx.scaler.step(ctx.optimizer)
        ctx.scaler.update()
    else:
        loss.backward()
        ctx.optimizer.step()


def train_epoch(ctx: EpochContext, epoch: int, global_step: int) -> tuple[dict[str, float], int]:
    """Train one epoch; returns mean loss parts and the new global step."""
    probing = epoch < ctx.probe_epochs
    ctx.model.train()
    train_mode(ctx.inner, ctx.bn, probing, distributed=ctx.dist.world_size > 1)
    sums = {"loss": 0.0, "ce": 0.0, "reg": 0.0, "budget": 0.0, "correct": 0.0, "n": 0.0}
    steps = len(ctx.loader)
    for step, batch in enumerate(ctx.loader):
        x, y = ctx.batch(batch)
        knobs = ctx.scaat.at_epoch(epoch + step / max(steps, 1))
        for group in ctx.optimizer.param_groups:
            group["lr"] = ctx.lr_at(global_step) * probe_lr_scale(group, probing)
        with ctx.autocast():
            out = objective_loss(ctx.model, x, y, knobs, attack_model=ctx.inner)
        stop, bad = agree(
            [ctx.should_stop(), not bool(torch.isfinite(out.loss))], ctx.dist, ctx.device
        )
        if bad:
            raise PathscaatError(
                f"the loss became {float(out.loss.detach()):g} at epoch {epoch + 1}, "
                f"step {step + 1}: training diverged. Lower --lr (or --eps/--lam) and "
                "start again"
            )
        if stop:
            raise StopRequested
        _optimise(ctx, out.loss)
        global_step += 1
        n = float(len(y))
        for key, value in (("loss", out.loss), ("ce", out.ce), ("reg", out.reg)):
            sums[key] += float(value.detach()) * n
        sums["budget"] += out.budget * n  # mean budget fraction: TRADES-at-mean-budget arms
        sums["correct"] += float((out.logits.argmax(1) == y).sum())
        sums["n"] += n
        if ctx.dist.is_main and (step % ctx.progress_every == 0 or step == steps - 1):
            _report(ctx, epoch, global_step, sums, knobs.eps)
    n = max(sums.pop("n"), 1.0)
    return {"train_" + k: v / n for k, v in sums.items()}, global_step


def _report(ctx: EpochContext, epoch: int, step: int, sums: dict[str, float], eps: float) -> None:
    n = max(sums["n"], 1.0)
    loss = sums["loss"] / n
    ctx.on_progress(
        ProgressRecord(
            "train",
            step,
            ctx.total_steps,
            f"epoch {epoch + 1}/{ctx.epochs} loss {loss:.4f}",
            {
                "epoch": epoch + 1,
                "loss": loss,
                "ce": sums["ce"] / n,
                "reg": sums["reg"] / n,
                "lr": ctx.lr_at(max(step - 1, 0)),
                "eps": eps,
            },
        )
    )


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: DataLoader[Any],
    class_names: list[str],
    device: torch.device,
    predictions: dict[str, list[float]] | None = None,
) -> dict[str, Any]:
    """Loss, accuracy, balanced accuracy and per-class recall of ``model`` over ``loader``.

    ``predictions``, when given, receives each image's ``label``, ``pred`` and ``loss`` (in
    loader order): what choosing a checkpoint on one half of validation and scoring it on
    the other needs.
    """
    model.eval()
    k = len(class_names)
    confusion = torch.zeros(k, k, dtype=torch.long)
    loss_sum, n = 0.0, 0
    for batch in loader:
        x, y = batch["image"].to(device), batch["label"].to(device)
        logits = model(x).float()
        losses = nn.functional.cross_entropy(logits, y, reduction="none")
        loss_sum += float(losses.sum())
        n += len(y)
        pairs = (y * k + logits.argmax(1)).cpu()
        confusion += torch.bincount(pairs, minlength=k * k).view(k, k)
        if predictions is not None:
            for key, values in (("label", y), ("pred", logits.argmax(1)), ("loss", losses)):
                predictions.setdefault(key, []).extend(values.cpu().tolist())
    return {"loss": loss_sum / max(n, 1), **confusion_metrics(confusion, class_names)}


def confusion_metrics(confusion: torch.Tensor, class_names: list[str]) -> dict[str, Any]:
    """Accuracy, balanced accuracy (mean recall over the classes present) and recalls."""
    n = int(confusion.sum())
    support = confusion.sum(1)
    recall = confusion.diag().double() / support.clamp_min(1)
    present = support > 0
    return {
        "accuracy": float(confusion.diag().sum()) / max(n, 1),
        "balanced_accuracy": float(recall[present].mean()) if present.any() else math.nan,
        "per_class": {name: float(recall[i]) for i, name in enumerate(class_names) if present[i]},
        "n": n,
    }
