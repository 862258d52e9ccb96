"""How long a run will take, from a short timed probe of real steps (``train --estimate``).

The probe builds the run's model on the run's device, loads one batch of the run's real
patches (timed: the loader's share), and times ``probe_steps`` full optimiser steps of the
run's objective (after one untimed warm-up step, which pays for allocation and kernel
selection). Validation is timed as one forward pass. ``largest_batch`` doubles the batch
on a CUDA device until memory runs out.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch

from pathscaat.data.augment import Augment
from pathscaat.data.patch_folder import read_rgb
from pathscaat.data.sources import DataScan, scan_sources
from pathscaat.data.split import preview_split
from pathscaat.models.device import resolve_device
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from pathscaat.training.config import ScaatConfig, TrainConfig, choose_lr
from pathscaat.training.objectives import objective_loss
from pathscaat.training.trainer import build_model, seed_everything

MAX_PROBE_BATCH = 1024


@dataclass
class RunEstimate:
    """Seconds per training step, steps per epoch and the whole run, where and at what batch."""

    seconds_per_step: float
    steps_per_epoch: int
    total_seconds: float
    device: str
    batch_size: int
    seconds_per_val_epoch: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _batch(scan: DataScan, size: int, img_px: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """``size`` real training patches (augmented as in training), labels, seconds to load."""
    label = {name: k for k, name in enumerate(scan.class_names)}
    augment = Augment(img_px, train=True)
    start = time.perf_counter()
    images, labels = [], []
    for k in range(size):
        item = scan.items[k % len(scan.items)]
        x = torch.from_numpy(read_rgb(item.path).copy()).permute(2, 0, 1).float().div_(255)
        images.append(augment(x, None)[0])
        labels.append(label[item.class_name])
    return torch.stack(images), torch.tensor(labels), time.perf_counter() - start


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _step(
    model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
    knobs: ScaatConfig, amp: torch.dtype | None,
) -> None:  # fmt: skip
    model.train()
    with torch.autocast(x.device.type, dtype=amp, enabled=amp is not None):
        out = objective_loss(model, x, y, knobs)
    opt.zero_grad(set_to_none=True)
    out.loss.backward()
    opt.step()


def _amp_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    if not config.amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _timed_steps(
    config: TrainConfig, scan: DataScan, device: torch.device, probe_steps: int,
    on_progress: OnProgress, should_stop: ShouldStop,
) -> tuple[float, float, float]:  # fmt: skip
    """(seconds per step, seconds to load one batch, seconds per validation batch)."""
    model, _ = build_model(config, len(scan.class_names))
    model.to(device)
    lr, _ = choose_lr(config)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=config.weight_decay)
    x, y, load_s = _batch(scan, config.batch_size, model.input_px)
    x, y = x.to(device), y.to(device)
    knobs, amp = config.scaat.at_epoch(config.epochs), _amp_dtype(config, device)
    times = []
    for k in range(probe_steps + 1):  # the first step only warms up
        if should_stop():
            raise JobCancelled("estimate cancelled")
        _sync(device)
        start = time.perf_counter()
        _step(model, opt, x, y, knobs, amp)
        _sync(device)
        times.append(time.perf_counter() - start)
        on_progress(ProgressRecord("estimate", k + 1, probe_steps + 1, f"probe step {k + 1}"))
    model.eval()
    start = time.perf_counter()
    with torch.no_grad(), torch.autocast(device.type, dtype=amp, enabled=amp is not None):
        model(torch.cat([x, x]))
    _sync(device)
    return sum(times[1:]) / probe_steps, load_s, time.perf_counter() - start


def estimate_run(
    config: TrainConfig,
    probe_steps: int = 3,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> RunEstimate:
    """The run's time from ``probe_steps`` timed real steps; nothing is written."""
    if probe_steps < 1:
        raise PathscaatError("probe_steps must be at least 1")
    device = resolve_device(config.device)
    seed_everything(config.seed)
    scan = scan_sources(config.data_sources(), on_progress, should_stop)
    if not scan.can_train:
        raise PathscaatError(scan.why_not)
    split = preview_split(
        scan, config.val_fraction, config.test_fraction, config.seed, config.split_by_group
    )
    n_train, n_val = split.sizes["train"], split.sizes["val"]
    batch = config.batch_size
    steps = n_train // batch if n_train > batch else 1  # the trainer drops a last short batch
    compute_s, load_s, val_batch_s = _timed_steps(
        config, scan, device, probe_steps, on_progress, should_stop
    )
    # loader workers prepare batches while the device computes; without workers, in turn
    step_s = max(compute_s, load_s / config.workers) if config.workers else compute_s + load_s
    val_s = math.ceil(n_val / (2 * batch)) * (val_batch_s + load_s * 2 / max(1, config.workers))
    total = config.epochs * (steps * step_s + val_s)
    return RunEstimate(step_s, steps, total, str(device), batch, val_s)


def largest_batch(config: TrainConfig, limit: int = MAX_PROBE_BATCH) -> int:
    """The largest power-of-two batch (at least the configured one) whose training step fits
    in the CUDA device's memory; on any other device the configured batch."""
    device = resolve_device(config.device)
    if device.type != "cuda":
        return config.batch_size
    scan = scan_sources(config.data_sources())
    if not scan.can_train:
        raise PathscaatError(scan.why_not)
    model, _ = build_model(config, len(scan.class_names))
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    knobs, amp = config.scaat.at_epoch(config.epochs), _amp_dtype(config, device)
    best, size = 0, max(1, config.batch_size)
    while size <= limit:
        try:
            x = torch.rand(size, 3, model.input_px, model.input_px, device=device)
            y = torch.randint(0, len(scan.class_names), (size,), device=device)
            _step(model, opt, x, y, knobs, amp)
            _sync(device)
        except torch.cuda.OutOfMemoryError:
            break
        except RuntimeError as exc:  # cuBLAS/cuDNN report running out as their own errors
            if not any(w in str(exc).upper() for w in ("OUT OF MEMORY", "ALLOC_FAILED")):
                raise
            break
        finally:
            opt.zero_grad(set_to_none=True)
            torch.cuda.empty_cache()
        best, size = size, size * 2
    del model, opt
    torch.cuda.empty_cache()
    if best == 0:
        raise PathscaatError(
            f"batch {config.batch_size} does not fit in {device}'s memory; lower the batch "
            "size or the input px"
        )
    return best


__all__ = ["RunEstimate", "estimate_run", "largest_batch"]
