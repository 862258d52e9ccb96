"""Cohort inference throughput: 1 process vs N torchrun ranks, and the per-slide fixed costs.

In one run, over the same small synthetic slides and tiny checkpoint:

1. fixed costs of one slide run alone (as ``pathscaat infer`` pays them): model load,
   tissue + grid, then scoring + writing; their share of that slide's time;
2. the cohort in this process (``run_shard``: model loaded once, next slide surveyed in the
   background) against the scorer alone over the same tiles preloaded (target >= 0.9);
3. ``pathscaat infer-cohort`` as one process, then under ``torchrun --nproc-per-node N``
   (gloo on CPU): slides per hour, wall ratio (target >= 1.7x with 2 free cores) and the
   CPU-time ratio. Each is timed from launch (interpreter start included) and from its
   first progress line (without it).

    python benchmarks/bench_cohort.py [--slides 6] [--ranks 2] [--width 2048 --height 1536]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pathscaat.data.synthetic_slide import write_synthetic_slide  # noqa: E402
from pathscaat.inference.cohort import CohortSettings, run_shard  # noqa: E402
from pathscaat.inference.cohort_slides import assign_folders, list_slides  # noqa: E402
from pathscaat.inference.predict import load_model, predict_surveyed  # noqa: E402
from pathscaat.inference.scoring import TileScorer  # noqa: E402
from pathscaat.inference.slide_survey import survey  # noqa: E402
from pathscaat.inference.stitch import Layout  # noqa: E402
from pathscaat.models import CheckpointMeta, create_model, save_checkpoint  # noqa: E402
from pathscaat.slides import open_slide  # noqa: E402
from pathscaat.tiling.grid import read_tile  # noqa: E402


def make_inputs(root: Path, args: argparse.Namespace) -> tuple[Path, Path]:
    """Slides (3 rendered, the rest copies: rendering is slow) and a tiny checkpoint."""
    slides = root / "slides"
    for i in range(args.slides):
        path = slides / f"slide{i}.tif"
        if i < 3:
            write_synthetic_slide(path, width=args.width, height=args.height, seed=i, tile=256)
        else:
            shutil.copy(slides / f"slide{i % 3}.tif", path)
    torch.manual_seed(0)
    model = create_model(args.backbone, 3)
    meta = CheckpointMeta(
        backbone=args.backbone, class_names=["a", "b", "c"], input_px=args.input_px,
        mean=list(model.mean), std=list(model.std), mpp=args.mpp,
    )  # fmt: skip
    return slides, save_checkpoint(root / "model", model, meta)


def fixed_costs(slide: Path, ckpt: Path, out: Path, settings: CohortSettings) -> list[float]:
    """[model load, tissue + grid, scoring + writing] seconds for one slide alone."""
    t0 = time.perf_counter()
    loaded = load_model(ckpt)
    t1 = time.perf_counter()
    surveyed = survey(slide, None, loaded[1], None, lambda r: None)
    t2 = time.perf_counter()
    predict_surveyed(slide, loaded, surveyed, out, saliency=settings.saliency,
                     device=torch.device(settings.device), batch_size=settings.batch_size,
                     workers=settings.read_threads)  # fmt: skip
    return [t1 - t0, t2 - t1, time.perf_counter() - t2]


def compute_only(slides: list[Path], ckpt: Path, settings: CohortSettings) -> tuple[int, float]:
    """(tiles, seconds) of the scorer alone over every slide's tiles, preloaded."""
    model, meta, _ = load_model(ckpt)
    n_tiles, seconds = 0, 0.0
    for path in slides:
        grid = survey(path, None, meta, None, lambda r: None)[0]
        with open_slide(path) as slide:
            rgb = [read_tile(slide, grid, i) for i in range(len(grid))]
        tiles = torch.from_numpy(np.stack(rgb))
        scorer = TileScorer(model, saliency=settings.saliency, device=torch.device("cpu"),
                            sal_px=Layout.for_grid(grid).sal_px)  # fmt: skip
        t0 = time.perf_counter()
        for s in range(0, len(tiles), settings.batch_size):
            scorer(tiles[s : s + settings.batch_size])
        seconds += time.perf_counter() - t0
        n_tiles += len(tiles)
    return n_tiles, seconds


def in_process(slide_dir: Path, ckpt: Path, out: Path, settings: CohortSettings) -> float:
    cohort = assign_folders(list_slides(slide_dir))
    t0 = time.perf_counter()
    run_shard(cohort, ckpt, out, settings)
    return time.perf_counter() - t0


def launched(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall from launch, wall from the first progress line, CPU s of the process tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=REPO)  # fmt: skip
    assert proc.stdout is not None
    first = None
    for _ in proc.stdout:
        first = first or time.perf_counter()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])}... failed:\n{err[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, wall - ((first or t0) - t0), cpu


def cli_args(slides: Path, ckpt: Path, out: Path, s: CohortSettings) -> list[str]:
    return [
        "-m", "pathscaat.cli.main", "infer-cohort", "--slides", str(slides), "--model",
        str(ckpt), "--out", str(out), "--device", s.device, "--batch-size", str(s.batch_size),
        "--read-threads", str(s.read_threads), "--progress", "json",
    ]  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--slides", type=int, default=6)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--width", type=int, default=2048)
    p.add_argument("--height", type=int, default=1536)
    p.add_argument("--backbone", default="resnet10t")
    p.add_argument("--input-px", type=int, default=64)
    p.add_argument("--mpp", type=float, default=1.0, help="the model's µm/px")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args()
    settings = CohortSettings(device="cpu", batch_size=args.batch_size, read_threads=2)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{cores} cores, load average {os.getloadavg()[0]:.1f} at start; "
          f"{args.slides} slides {args.width}x{args.height}, {args.backbone} "
          f"{args.input_px}px at {args.mpp} µm/px, batch {args.batch_size}, cpu")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        slide_dir, ckpt = make_inputs(root, args)
        report_fixed(fixed_costs(slide_dir / "slide0.tif", ckpt, root / "alone", settings))
        n_tiles, compute_s = compute_only(sorted(slide_dir.glob("*.tif")), ckpt, settings)
        cohort_s = in_process(slide_dir, ckpt, root / "in-process", settings)
        print(f"cohort in one process: {n_tiles} tiles in {cohort_s:.2f} s; scorer alone over "
              f"the same tiles preloaded {compute_s:.2f} s; ratio {compute_s / cohort_s:.2f} "
              "(target >= 0.9)")  # fmt: skip
        one = launched([sys.executable, *cli_args(slide_dir, ckpt, root / "one", settings)], env)
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                    f"--nproc-per-node={args.ranks}"]  # fmt: skip
        ranks_env = {**env, "OMP_NUM_THREADS": str(max(1, (cores or 1) // args.ranks))}
        many = launched([*torchrun, *cli_args(slide_dir, ckpt, root / "many", settings)],
                        ranks_env)  # fmt: skip
    report_scaling(args, one, many)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


def report_fixed(costs: list[float]) -> None:
    load_s, survey_s, score_s = costs
    total = sum(costs)
    print(f"one slide alone: model load {load_s:.2f} s, tissue+grid {survey_s:.2f} s, "
          f"scoring+writing {score_s:.2f} s; fixed costs = {(load_s + survey_s) / total:.0%} "
          "of the slide's time (a cohort loads once and surveys in the background)")  # fmt: skip


def report_scaling(
    args: argparse.Namespace, one: tuple[float, ...], many: tuple[float, ...]
) -> None:
    n = args.slides
    for label, (wall, busy, cpu) in (("1 process", one), (f"{args.ranks} ranks", many)):
        print(f"{label:>10}: {wall:.1f} s from launch = {n / wall * 3600:.0f} slides/h; "
              f"{busy:.1f} s from first progress = {n / busy * 3600:.0f} slides/h; CPU {cpu:.1f} s")
    print(f"speed-up {args.ranks} ranks / 1 process: {one[0] / many[0]:.2f}x from launch, "
          f"{one[1] / many[1]:.2f}x from first progress (target >= 1.7x with 2 free cores); "
          f"CPU-time ratio {many[2] / one[2]:.2f} ({args.ranks} ranks / 1 process)")


if __name__ == "__main__":
    main()
