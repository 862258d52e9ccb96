"""``infer_cohort``: a model over every slide of a cohort, in one process or many.

Three ways to run, chosen by how the process was started; no scheduler of our own:

- under ``torchrun`` (and so under SLURM, ``srun`` + ``torchrun`` across nodes): each rank
  joins the process group (gloo on CPU, NCCL on GPU, one GPU per rank by ``LOCAL_RANK``),
  takes its own deterministic shard, and after a barrier rank 0 merges the table once;
- ``workers > 1``: that many local processes (spawn), merged by this process;
- otherwise one process.

Every rank must see the same ``OUT`` (a shared file system across nodes): the merge reads
the per-slide records the ranks wrote there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathscaat.inference.cohort import CohortSettings, ShardResult, run_shard
from pathscaat.inference.cohort_slides import CohortSlide, assign_folders, list_slides, shard
from pathscaat.inference.cohort_table import TABLE_NAME, write_table
from pathscaat.inference.predict import check_settings
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    PathscaatError,
    ShouldStop,
    never_stop,
    no_progress,
)


@dataclass
class CohortResult:
    """The outcome seen by this process; ``table`` is None on ranks that did not merge."""

    table: Path | None
    n_slides: int
    shard: ShardResult
    rank: int = 0
    world: int = 1

    @property
    def merged(self) -> bool:
        return self.table is not None


def infer_cohort(
    slides: str | Path | Sequence[Path],
    checkpoint: str | Path,
    out_dir: str | Path,
    settings: CohortSettings | None = None,
    *,
    workers: int = 1,
    recursive: bool = False,
    slide_mpps: Mapping[Path, float | None] | None = None,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> CohortResult:
    """Run ``checkpoint`` over the slides named by ``slides`` (a folder, a list file or paths)
    into ``out_dir/<folder>/`` and merge ``out_dir/cohort.csv``.

    ``slide_mpps`` maps slides to a project's saved µm/px overrides (they replace the file's
    own); ``settings.slide_mpp`` fills in for slides with neither.

    Raises ``JobCancelled`` after the merge when stopped (finished slides are kept, the
    rest are ``pending``; the same call resumes). A slide that fails is a ``failed`` row.
    """
    from pathscaat.models.checkpoint import read_meta
    from pathscaat.training.distributed import launched_by_torchrun

    out = Path(out_dir)
    settings = settings or CohortSettings()
    if workers < 1:
        raise PathscaatError(f"--workers must be at least 1 (got {workers})")
    check_settings(settings.saliency, settings.batch_size, settings.read_threads,
                   settings.min_tissue)  # fmt: skip
    classes = [str(c) for c in read_meta(checkpoint).class_names]
    overrides = {p: v for p, v in (slide_mpps or {}).items() if v is not None}
    cohort = assign_folders(list_slides(slides, recursive=recursive, exclude=out), overrides)
    out.mkdir(parents=True, exist_ok=True)
    if launched_by_torchrun():
        result = _under_torchrun(cohort, checkpoint, out, settings, classes, on_progress,
                                 should_stop)  # fmt: skip
    elif workers > 1:
        from pathscaat.inference.cohort_workers import run_local_workers

        shards = [shard(cohort, r, workers) for r in range(workers)]
        merged = run_local_workers(shards, checkpoint, out, settings, on_progress, should_stop)
        table = write_table(out, cohort, classes)
        result = CohortResult(table, len(cohort), merged, 0, workers)
    else:
        res = run_shard(cohort, checkpoint, out, settings, on_progress=on_progress,
                        should_stop=should_stop)  # fmt: skip
        result = CohortResult(write_table(out, cohort, classes), len(cohort), res)
    if result.shard.cancelled:
        raise JobCancelled(
            f"cohort stopped; finished slides are kept in {out} and listed in {TABLE_NAME}: "
            "run the same command again to do the rest"
        )
    return result


def _under_torchrun(
    cohort: list[CohortSlide], checkpoint: str | Path, out: Path, settings: CohortSettings,
    classes: list[str], on_progress: OnProgress, should_stop: ShouldStop,
) -> CohortResult:  # fmt: skip
    """This rank's shard, a barrier every rank reaches whatever happened, rank 0's merge."""
    import torch.distributed as torch_dist

    from pathscaat.models.device import resolve_device
    from pathscaat.training import distributed as ddp

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(settings.device, local_rank=local_rank)
    _check_one_gpu_per_rank(device, settings.device)
    info = ddp.init_distributed(device)
    res = ShardResult()
    table = None
    try:
        mine = shard(cohort, info.rank, info.world_size)
        res = run_shard(mine, checkpoint, out, settings, rank=info.rank,
                        local_rank=info.local_rank, on_progress=on_progress,
                        should_stop=should_stop)  # fmt: skip
    finally:
        if device.type == "cuda":
            torch_dist.barrier(device_ids=[device.index or 0])
        else:
            torch_dist.barrier()
        if info.is_main:
            table = write_table(out, cohort, classes)
        ddp.shutdown(info)
    return CohortResult(table, len(cohort), res, info.rank, info.world_size)


def _check_one_gpu_per_rank(device: object, name: str) -> None:
    """NCCL refuses two ranks on one GPU: say so before joining rather than hang or crash."""
    import torch

    if getattr(device, "type", None) != "cuda":
        return
    local_world, n_gpus = int(os.environ.get("LOCAL_WORLD_SIZE", "1")), torch.cuda.device_count()
    if local_world > 1 and (name not in ("auto", "cuda") or local_world > n_gpus):
        raise PathscaatError(
            f"{local_world} ranks on this node but {n_gpus} GPU(s) for "
            f"--device {name}: each rank needs its own GPU. Use --device auto with "
            "--nproc-per-node at most the number of GPUs, or --device cpu."
        )
