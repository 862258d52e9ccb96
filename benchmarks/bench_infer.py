"""Slide inference throughput: end to end against the model alone, measured in one run.

End to end is ``predict_slide`` (tissue, grid, threaded tile reads, forward + one
backward per batch, persistence, stitching, pyramid writing). The baseline is the same
scorer (forward + backward + pooling + copy back) over the same tiles preloaded as one
uint8 tensor, in batches of the same size. The ratio (target >= 0.7) says how much of the
model's speed survives reading and writing.

    python benchmarks/bench_infer.py [--slide S] [--input-px 64] [--mpp 1.0] [--device auto]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pathscaat.inference.predict import load_model, predict_slide  # noqa: E402
from pathscaat.inference.scoring import TileScorer  # noqa: E402
from pathscaat.inference.slide_survey import grid_for  # noqa: E402
from pathscaat.inference.stitch import Layout  # noqa: E402
from pathscaat.models import CheckpointMeta, create_model, save_checkpoint  # noqa: E402
from pathscaat.models.device import resolve_device  # noqa: E402
from pathscaat.progress import ProgressRecord  # noqa: E402
from pathscaat.slides import open_slide  # noqa: E402
from pathscaat.tiling.grid import read_tile  # noqa: E402
from pathscaat.tiling.tissue import detect_tissue  # noqa: E402

DEFAULT_SLIDE = REPO.parent / "shared" / "data" / "slides" / "CMU-1-Small-Region.svs"


def make_checkpoint(folder: Path, backbone: str, input_px: int, mpp: float) -> Path:
    torch.manual_seed(0)
    model = create_model(backbone, 3)
    meta = CheckpointMeta(
        backbone=backbone, class_names=["a", "b", "c"], input_px=input_px,
        mean=list(model.mean), std=list(model.std), mpp=mpp,
    )  # fmt: skip
    return save_checkpoint(folder / "bench", model, meta)


@dataclass
class Pair:
    """One compute-only run and the end-to-end run after it (wall and process CPU seconds)."""

    n_tiles: int = 0
    read_s: float = 0.0
    compute_s: float = 0.0
    compute_cpu_s: float = 0.0
    e2e_s: float = 0.0
    e2e_cpu_s: float = 0.0
    loop_rate: float = 0.0
    phases: tuple[float, float, float] = (0.0, 0.0, 0.0)  # setup, scoring, writing (wall s)

    @property
    def ratio(self) -> float:
        return self.compute_s / self.e2e_s

    @property
    def cpu_ratio(self) -> float:
        return self.compute_cpu_s / self.e2e_cpu_s


def compute_only(args: argparse.Namespace, ckpt: Path, pair: Pair) -> None:
    """The scorer over the grid's tiles preloaded in memory (and the time to read them)."""
    model, meta, _ = load_model(ckpt)
    with open_slide(args.slide) as slide:
        grid = grid_for(slide, meta, detect_tissue(slide), lambda r: None)
        t_read = time.perf_counter()
        tiles = torch.from_numpy(np.stack([read_tile(slide, grid, i) for i in range(len(grid))]))
        pair.read_s = time.perf_counter() - t_read
    device = resolve_device(args.device)
    scorer = TileScorer(model, saliency=args.saliency, device=device,
                        sal_px=Layout.for_grid(grid).sal_px)  # fmt: skip
    if device.type == "cuda":
        tiles = tiles.pin_memory()
    scorer(tiles[: args.batch_size])  # warm-up (cudnn autotune, allocator)
    sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    for s in range(0, len(tiles), args.batch_size):
        scorer(tiles[s : s + args.batch_size])
    sync(device)
    pair.compute_s, pair.compute_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    pair.n_tiles = len(tiles)


def end_to_end(args: argparse.Namespace, ckpt: Path, out: Path, pair: Pair) -> None:
    """predict_slide on the same slide and grid; also the scoring loop's own rate."""
    last: list[ProgressRecord] = []
    marks: dict[str, float] = {}  # wall time of each stage's first record

    def keep(rec: ProgressRecord) -> None:
        marks.setdefault(rec.stage, time.perf_counter())
        if rec.stage == "infer":
            last[:] = [rec]

    t0, c0 = time.perf_counter(), time.process_time()
    predict_slide(args.slide, ckpt, out, saliency=args.saliency, device=args.device,
                  batch_size=args.batch_size, workers=args.workers, on_progress=keep)  # fmt: skip
    sync(resolve_device(args.device))
    pair.e2e_s, pair.e2e_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    pair.phases = (
        marks["infer"] - t0,
        marks["write"] - marks["infer"],
        t0 + pair.e2e_s - marks["write"],
    )
    assert last[0].total == pair.n_tiles, "both runs must score the same tiles"
    pair.loop_rate = float(last[0].extra["tiles_per_s"])


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--slide", type=Path, default=DEFAULT_SLIDE)
    p.add_argument("--backbone", default="resnet10t")
    p.add_argument("--input-px", type=int, default=64)
    p.add_argument("--mpp", type=float, default=1.0, help="the model's µm/px")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device", default="auto")
    p.add_argument("--saliency", default="vanilla")
    p.add_argument("--repeat", type=int, default=3, help="alternating pairs of runs")
    args = p.parse_args()
    pairs = [Pair() for _ in range(args.repeat)]
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = make_checkpoint(Path(tmp), args.backbone, args.input_px, args.mpp)
        for k, pair in enumerate(pairs):  # alternate, so load from elsewhere hits both alike
            compute_only(args, ckpt, pair)
            end_to_end(args, ckpt, Path(tmp) / f"out{k}", pair)
    report(args, pairs)


def report(args: argparse.Namespace, pairs: list[Pair]) -> None:
    """Best of each kind, and the median of the per-pair ratios (robust to outside load)."""
    n = pairs[0].n_tiles
    best_c = min(p.compute_s for p in pairs)
    best_e = min(p.e2e_s for p in pairs)
    dev = resolve_device(args.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(
        f"device {name} ({torch.get_num_threads()} torch threads); {args.backbone} "
        f"{args.input_px}px, batch {args.batch_size}, {args.workers} reader threads, "
        f"saliency {args.saliency}, slide {args.slide.name}, {args.repeat} alternating pairs"
    )
    read_s = min(p.read_s for p in pairs)
    print(f"reading only (1 thread):        {n} tiles in {read_s:.2f} s = {n / read_s:.1f} tiles/s")
    print(f"compute only (preloaded tiles): {n} tiles in {best_c:.2f} s = {n / best_c:.1f} tiles/s")
    print(f"end to end (predict_slide):     {n} tiles in {best_e:.2f} s = {n / best_e:.1f} tiles/s")
    loop_rate = max(p.loop_rate for p in pairs)
    setup_s, score_s, write_s = min(pairs, key=lambda p: p.e2e_s).phases
    print(
        f"  its phases: model+tissue+grid {setup_s:.2f} s, scoring {score_s:.2f} s, "
        f"stitching+writing {write_s:.2f} s"
    )
    print(f"  scoring loop alone (reads overlapped with compute): {loop_rate:.1f} tiles/s")
    print(f"ratio end-to-end / compute-only, best of each = {best_c / best_e:.2f} (target >= 0.7)")
    for label, values in (
        ("wall", sorted(p.ratio for p in pairs)),
        ("process CPU", sorted(p.cpu_ratio for p in pairs)),
    ):
        print(
            f"ratio per pair ({label} time): {', '.join(f'{r:.2f}' for r in values)}; "
            f"median {values[len(values) // 2]:.2f}"
        )


if __name__ == "__main__":
    main()
