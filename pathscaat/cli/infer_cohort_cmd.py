"""``pathscaat infer-cohort``: a checkpoint over every slide of a folder or list.

Each slide's overlays go to ``OUT/<slide-stem>/`` exactly as ``pathscaat infer`` writes
them, and ``OUT/cohort.csv`` summarises the cohort. Rerunning resumes (finished slides
are skipped, a half-done one continues). Several GPUs or nodes:
``torchrun --nproc-per-node N -m pathscaat.cli.main infer-cohort ...``; several local
processes: ``--workers N``. SIGINT/SIGTERM stop after the current batch (exit 130).
Failed slides do not change the exit code (0): they are rows of the table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pathscaat.cli.jobs import STOP_SIGNALS, progress_job
from pathscaat.cli.reporting import ProgressPrinter, add_progress_arg
from pathscaat.progress import OnProgress, ProgressRecord


def register(sub: Any) -> None:
    p = sub.add_parser(
        "infer-cohort",
        help="run a model over many slides (shards across torchrun ranks): cohort.csv",
        description=(
            "Score every slide of --slides (a folder, or a text file with one path per "
            "line) into --out/<slide-stem>/ as 'pathscaat infer' does, and write "
            "--out/cohort.csv. A failed slide is a row with its error; the rest go on. "
            "Rerunning the command resumes it. Under torchrun each rank takes its own share."
        ),
    )
    p.add_argument(
        "--slides",
        required=True,
        help="folder of slides, LIST.txt (one per line), or project:DIR (a project's slides)",
    )
    p.add_argument(
        "--model", required=True, type=Path, help="checkpoint (stem, .json or .safetensors)"
    )
    p.add_argument("--out", required=True, type=Path, help="output folder of the cohort")
    p.add_argument("--recursive", action="store_true", help="also search sub-folders of --slides")
    p.add_argument(
        "--workers", type=int, default=1,
        help="local processes, each with its own share of slides (default 1; ignored under "
        "torchrun, where each rank is one)",
    )  # fmt: skip
    p.add_argument("--saliency", default="vanilla", help="as for 'pathscaat infer', or none")
    p.add_argument("--device", default="auto", help="auto (one GPU per rank), cpu, cuda, mps")
    p.add_argument("--batch-size", type=int, default=32, help="tiles per batch (default 32)")
    p.add_argument("--read-threads", type=int, default=2, help="tile-reading threads per process")
    p.add_argument(
        "--slide-mpp", type=float, default=None,
        help="µm/px of every slide's level 0 when the files lack it",
    )  # fmt: skip
    add_progress_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathscaat.inference.cohort import CohortSettings
    from pathscaat.inference.cohort_run import infer_cohort
    from pathscaat.inference.cohort_slides import PROJECT_PREFIX

    settings = CohortSettings(
        saliency=args.saliency, device=args.device, batch_size=args.batch_size,
        read_threads=args.read_threads, slide_mpp=args.slide_mpp,
    )  # fmt: skip
    slides: str | list[Path] = args.slides
    if args.slides.startswith(PROJECT_PREFIX):  # every rank lists the project's slides
        from pathscaat.project import project_slide_paths

        slides = project_slide_paths(args.slides[len(PROJECT_PREFIX) :])
    with progress_job(args.progress, abort_on_repeat=STOP_SIGNALS) as (printer, should_stop):
        result = infer_cohort(
            slides, args.model, args.out, settings, workers=args.workers,
            recursive=args.recursive, on_progress=_shown(printer, args.workers),
            should_stop=should_stop,
        )  # fmt: skip
    res = result.shard
    if result.table is not None or printer.mode == "json":
        printer.result(
            [str(result.table)] if result.table else [],
            table=str(result.table) if result.table else None, slides=result.n_slides,
            computed=res.computed, resumed=res.resumed, failed=res.failed,
            rank=result.rank, world=result.world,
        )  # fmt: skip
    if res.failed and printer.mode != "json":
        print(f"pathscaat: {res.failed} slide(s) failed; the table names each error. Fix "
              "them and run the same command again (finished slides are kept).",
              file=sys.stderr)  # fmt: skip
    return 0


def _shown(printer: ProgressPrinter, workers: int) -> OnProgress:
    """JSON lines get every record; bars only the cohort stage when several processes run
    (their slides' bars would fight over one line), and nothing from ranks other than 0."""
    from pathscaat.training.distributed import launched_by_torchrun

    if printer.mode == "json":
        return printer
    several = workers > 1 or launched_by_torchrun()

    def show(rec: ProgressRecord) -> None:
        if rec.extra.get("rank", 0) != 0 and launched_by_torchrun():
            return
        if several and rec.stage != "cohort":
            return
        printer(rec)

    return show
