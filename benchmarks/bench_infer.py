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
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pathscaat.inference.predict import grid_for, load_model, predict_slide  # noqa: E402
from pathscaat.inference.scoring import TileScorer, resolve_device  # noqa: E402
from pathscaat.inference.stitch import Layout  # noqa: E402
from pathscaat.models import CheckpointMeta, create_model, save_checkpoint  # noqa: E402
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


def compute_only(args: argparse.Namespace, ckpt: Path) -> tuple[int, float, float]:
    """(tiles, seconds of the scorer over them preloaded, seconds to read them in one thread)."""
    model, meta, _ = load_model(ckpt)
    with open_slide(args.slide) as slide:
        grid = grid_for(slide, meta, detect_tissue(slide), lambda r: None)
        t_read = time.perf_counter()
        tiles = torch.from_numpy(np.stack([read_tile(slide, grid, i) for i in range(len(grid))]))
        t_read = time.perf_counter() - t_read
    device = resolve_device(args.device)
    scorer = TileScorer(model, saliency=args.saliency, device=device,
                        sal_px=Layout.for_grid(grid).sal_px)  # fmt: skip
    if device.type == "cuda":
        tiles = tiles.pin_memory()
    scorer(tiles[: args.batch_size])  # warm-up (cudnn autotune, allocator)
    sync(device)
    t0 = time.perf_counter()
    for s in range(0, len(tiles), args.batch_size):
        scorer(tiles[s : s + args.batch_size])
    sync(device)
    return len(tiles), time.perf_counter() - t0, t_read


def end_to_end(args: argparse.Namespace, ckpt: Path, out: Path) -> tuple[int, float, float]:
    """(tiles, seconds end to end, tiles/s of the scoring loop alone)."""
    last: list[ProgressRecord] = []

    def keep(rec: ProgressRecord) -> None:
        if rec.stage == "infer":
            last[:] = [rec]

    t0 = time.perf_counter()
    predict_slide(args.slide, ckpt, out, saliency=args.saliency, device=args.device,
                  batch_size=args.batch_size, workers=args.workers, on_progress=keep)  # fmt: skip
    sync(resolve_device(args.device))
    return last[0].total, time.perf_counter() - t0, float(last[0].extra["tiles_per_s"])


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
    pairs: list[tuple[float, float, float, float]] = []  # compute, read, e2e, loop rate
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = make_checkpoint(Path(tmp), args.backbone, args.input_px, args.mpp)
        for k in range(args.repeat):  # alternate, so load from elsewhere hits both alike
            n_c, t_c, t_r = compute_only(args, ckpt)
            n_e, t_e, loop_rate = end_to_end(args, ckpt, Path(tmp) / f"out{k}")
            pairs.append((t_c, t_r, t_e, loop_rate))
    report(args, n_c, n_e, pairs)


def report(
    args: argparse.Namespace, n_c: int, n_e: int, pairs: list[tuple[float, float, float, float]]
) -> None:
    """Best of each kind, and the median of the per-pair ratios (robust to outside load)."""
    t_c, t_r, t_e = (min(p[i] for p in pairs) for i in range(3))
    loop_rate = max(p[3] for p in pairs)
    pair_ratios = sorted((n_e / p[2]) / (n_c / p[0]) for p in pairs)
    dev = resolve_device(args.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(
        f"device {name} ({torch.get_num_threads()} torch threads); {args.backbone} "
        f"{args.input_px}px, batch {args.batch_size}, {args.workers} reader threads, "
        f"saliency {args.saliency}, slide {args.slide.name}, {args.repeat} alternating pairs"
    )
    print(f"reading only (1 thread):        {n_c} tiles in {t_r:.2f} s = {n_c / t_r:.1f} tiles/s")
    print(f"compute only (preloaded tiles): {n_c} tiles in {t_c:.2f} s = {n_c / t_c:.1f} tiles/s")
    print(f"end to end (predict_slide):     {n_e} tiles in {t_e:.2f} s = {n_e / t_e:.1f} tiles/s")
    print(f"  scoring loop alone (reads overlapped with compute): {loop_rate:.1f} tiles/s")
    print(f"ratio end-to-end / compute-only, best of each = {(n_e / t_e) / (n_c / t_c):.2f}")
    print(
        f"ratio per pair: {', '.join(f'{r:.2f}' for r in pair_ratios)}; "
        f"median {pair_ratios[len(pair_ratios) // 2]:.2f} (target >= 0.7)"
    )
    print(f"ratio scoring-loop / compute-only = {loop_rate / (n_c / t_c):.2f}")


if __name__ == "__main__":
    main()
