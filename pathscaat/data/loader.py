"""DataLoader settings that are safe everywhere: spawn workers, seeded shuffling."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler


def make_loader(
    dataset: Dataset[Any],
    batch_size: int,
    *,
    shuffle: bool,
    workers: int = 0,
    sampler: Sampler[Any] | None = None,
    drop_last: bool = False,
    seed: int = 0,
    pin_memory: bool = False,
) -> DataLoader[Any]:
    """A loader whose workers are spawned, not forked.

    Forking a process that already runs torch threads (or CUDA, or Qt in the app) can
    deadlock; spawn costs a second per worker at start and is safe on every platform.
    """
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        num_workers=workers,
        multiprocessing_context="spawn" if workers > 0 else None,
        persistent_workers=workers > 0,
        drop_last=drop_last,
        generator=generator,
        pin_memory=pin_memory,
    )
