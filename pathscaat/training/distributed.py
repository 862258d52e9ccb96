"""DDP under torchrun: the same ``train`` call, one process per device.

torchrun sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``; then we join the process group (NCCL
on CUDA, gloo on CPU), shard batches with a ``DistributedSampler`` and wrap the model in
DDP. Only rank 0 writes checkpoints and progress. Stop and non-finite-loss flags are
agreed on by all ranks every step, so no rank is left waiting in a collective.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as torch_dist
from torch import nn
from torch.utils.data import Dataset, DistributedSampler


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job; ``world_size`` 1 = not distributed."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group when launched by torchrun; a no-op otherwise."""
    if not launched_by_torchrun():
        return DistInfo()
    info = DistInfo(
        rank=int(os.environ["RANK"]),
        world_size=int(os.environ["WORLD_SIZE"]),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )
    if not torch_dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if backend == "nccl":  # NCCL needs each rank on its own device before joining
            torch.cuda.set_device(info.local_rank % torch.cuda.device_count())
        torch_dist.init_process_group(backend=backend)
    return info


def shutdown(info: DistInfo) -> None:
    if info.enabled and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def wrap_model(model: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """DDP around ``model`` when distributed; rank 0's weights are broadcast to all."""
    if not info.enabled:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def make_sampler(
    dataset: Dataset[Any], info: DistInfo, shuffle: bool, seed: int
) -> DistributedSampler[Any] | None:
    if not info.enabled:
        return None
    return DistributedSampler(
        dataset, num_replicas=info.world_size, rank=info.rank, shuffle=shuffle, seed=seed
    )


def agree(flags: list[bool], info: DistInfo, device: torch.device) -> list[bool]:
    """Each flag is True on every rank when it is True on any rank."""
    if not info.enabled:
        return flags
    t = torch.tensor([float(f) for f in flags], device=device)
    torch_dist.all_reduce(t, op=torch_dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]
