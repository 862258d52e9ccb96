"""DataLoader settings that are safe everywhere: spawn workers, seeded shuffling.

Workers ignore SIGINT/SIGTERM: Ctrl-C reaches the whole process group, and a worker killed
by it would crash the run instead of letting the main process stop cleanly. The main
process stops them with :func:`shutdown_workers` (they also exit if it dies).
"""

from __future__ import annotations

import signal
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
        worker_init_fn=ignore_stop_signals if workers > 0 else None,
        pin_memory=pin_memory,
    )


def ignore_stop_signals(worker_id: int) -> None:
    """In each worker: leave SIGINT/SIGTERM to the main process, which stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def shutdown_workers(*loaders: DataLoader[Any]) -> None:
    """Stop the worker processes of ``loaders`` now and wait for them.

    Persistent workers otherwise live until the garbage collector reaches their iterator,
    which at interpreter exit can be after multiprocessing has shut down: the queues'
    semaphores are then reported by ``resource_tracker`` as leaked.
    """
    for loader in loaders:
        iterator = getattr(loader, "_iterator", None)
        stop = getattr(iterator, "_shutdown_workers", None)
        if stop is not None:
            stop()
        if iterator is not None:
            loader._iterator = None
