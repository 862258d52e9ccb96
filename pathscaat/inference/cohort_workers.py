"""``--workers N`` on one machine: N spawned processes, each running its own shard.

Children send their progress records and their result to the parent over one queue; the
parent forwards the records to its ``on_progress`` and turns its ``should_stop`` into an
event the children poll. Children ignore SIGINT (a Ctrl-C reaches the whole process group;
the parent decides) and stop by themselves if the parent disappears. Torch threads are
split between the children so N processes do not oversubscribe the cores.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import signal
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pathscaat.inference.cohort import CohortSettings, ShardResult, describe_error, run_shard
from pathscaat.inference.cohort_slides import CohortSlide
from pathscaat.progress import OnProgress, PathscaatError, ProgressRecord, ShouldStop

POLL_S = 0.2


def run_local_workers(
    shards: list[list[CohortSlide]],
    checkpoint: str | Path,
    out: Path,
    settings: CohortSettings,
    on_progress: OnProgress,
    should_stop: ShouldStop,
) -> ShardResult:
    """Run each shard in its own spawned process; the summed counts of all of them."""
    ctx = mp.get_context("spawn")
    messages: Any = ctx.Queue()
    stop = ctx.Event()
    world = len(shards)
    common = (str(checkpoint), str(out), settings, messages, stop, os.getpid())
    procs = [
        ctx.Process(target=_child, name=f"cohort-worker-{rank}", daemon=True,
                    args=(rank, world, shards[rank], *common))
        for rank in range(world)
    ]  # fmt: skip
    for proc in procs:
        proc.start()
    try:
        n_slides = sum(len(s) for s in shards)
        ends = _pump(messages, procs, n_slides, on_progress, should_stop, stop)
    finally:
        stop.set()  # a no-op once all have ended; otherwise they stop after their batch
        for proc in procs:
            proc.join()
    return _combine(ends, world)


def _pump(
    messages: Any, procs: list[Any], n_slides: int, on_progress: OnProgress,
    should_stop: ShouldStop, stop: Any,
) -> dict[int, dict[str, Any]]:  # fmt: skip
    """Forward progress until every child has ended (or died without a word)."""
    ends: dict[int, dict[str, Any]] = {}
    n_reported = 0
    while len(ends) < len(procs):
        if should_stop():
            stop.set()
        try:
            kind, rank, payload = messages.get(timeout=POLL_S)
        except queue_mod.Empty:
            if not any(p.is_alive() for p in procs):
                try:  # a last message may still be in the pipe
                    kind, rank, payload = messages.get(timeout=POLL_S)
                except queue_mod.Empty:
                    break
            else:
                continue
        if kind == "progress":
            rec = ProgressRecord(**payload)
            if rec.stage == "cohort":  # count over all workers, not each one's share
                n_reported += 1
                rec = ProgressRecord(rec.stage, n_reported, n_slides, rec.message, rec.extra)
            on_progress(rec)
        else:
            ends[rank] = {"kind": kind, **payload}
    return ends


def _combine(ends: dict[int, dict[str, Any]], world: int) -> ShardResult:
    total = ShardResult()
    errors = []
    for rank in range(world):
        end = ends.get(rank)
        if end is None:
            errors.append(f"worker {rank} died without reporting (out of memory or killed?)")
        elif end["kind"] == "error":
            errors.append(f"worker {rank}: {end['error']}")
        else:
            total.computed += end["computed"]
            total.resumed += end["resumed"]
            total.failed += end["failed"]
            total.cancelled |= end["cancelled"]
    if errors:
        raise PathscaatError(
            "; ".join(errors) + ". The slides it finished are kept: fix the cause and run the "
            "same command again."
        )
    return total


def _child(
    rank: int, world: int, slides: list[CohortSlide], checkpoint: str, out: str,
    settings: CohortSettings, messages: Any, stop: Any, parent_pid: int,
) -> None:  # fmt: skip
    """One worker process: its shard, its progress and its result sent to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, (cores or 1) // world))

    def forward(rec: ProgressRecord) -> None:
        messages.put(("progress", rank, rec.to_dict()))

    def should_stop() -> bool:
        return bool(stop.is_set()) or os.getppid() != parent_pid

    try:
        result = run_shard(slides, checkpoint, out, settings, rank=rank, on_progress=forward,
                           should_stop=should_stop)  # fmt: skip
    except Exception as exc:  # the parent reports it as one line
        messages.put(("error", rank, {"error": describe_error(exc)}))
        return
    messages.put(("end", rank, asdict(result)))
