"""Fine-tuning a pretrained backbone on real tissue (issue 15): ImageNet EfficientNet-Lite0 vs
random weights, ERM vs SCAAT (its default knobs), on Kather 2016 with the slide-grouped
split, at 96 and 128 px on the CPU, with the product's own defaults (lr, head, selection).

Every cell (start, objective, px, seed) keeps its run folder and a ``cell.json`` under
``--out`` and is skipped when done. Per arm, mean ± sd over seeds: test accuracy and
balanced accuracy, the vanilla gradient's Gini and its deletion AUC (mean fill) minus the
same model's AUC under a random pixel order, seconds per epoch; then SCAAT − ERM paired by
seed with 95% t-intervals (pathscaat.evaluation.frontier_compare), and the issue's targets.

    python benchmarks/bench_finetune.py                      # CPU: 96 and 128 px, seeds 0-2
    python benchmarks/bench_finetune.py --px 96 --seeds 0    # one cell of each arm
    python benchmarks/bench_finetune.py --gpu                # throughput on a lent GPU
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pathscaat.evaluation import EvalSettings, evaluate  # noqa: E402
from pathscaat.evaluation.frontier import points_from_metrics  # noqa: E402
from pathscaat.evaluation.frontier_compare import compare_arms, comparisons_markdown  # noqa: E402
from pathscaat.training import ScaatConfig, TrainConfig, train  # noqa: E402

SHARED = Path(os.environ.get("PATHSCAAT_SHARED_DATA", REPO.parent / "shared" / "data"))
KATHER = SHARED / "patches" / "kather2016-crc-texture"
STARTS = {"imagenet": "imagenet:efficientnet_lite0", "random": "random"}
OBJECTIVES = ("erm", "scaat")
GPU_MODELS = ("resnet50", "convnext_tiny", "vit_small_patch16_224")


def cell_dir(out: Path, start: str, objective: str, px: int, seed: int) -> Path:
    return out / "cells" / f"{px}px" / start / objective / f"s{seed}"


def train_cell(run: Path, start: str, objective: str, px: int, seed: int, args: Any) -> float:
    last = run / "last.json"
    config = TrainConfig(
        data=KATHER, backbone="tf_efficientnet_lite0", weights=STARTS[start], out=run,
        epochs=args.epochs, img_size=px, mpp=0.495, seed=seed, device=args.device,
        scaat=ScaatConfig.for_objective(objective), strip_every=0, progress_every=1000,
        workers=0, resume=run / "last" if last.is_file() else None,
    )  # fmt: skip
    start_s = time.perf_counter()
    result = train(config)
    if result.epochs_run < args.epochs:
        raise RuntimeError(f"{run} stopped after {result.epochs_run} epochs")
    return time.perf_counter() - start_s


def run_cell(start: str, objective: str, px: int, seed: int, args: Any) -> dict[str, Any]:
    folder = cell_dir(args.out, start, objective, px, seed)
    record = folder / "cell.json"
    if record.is_file():
        return dict(json.loads(record.read_text()))
    run = folder / "train"
    seconds = train_cell(run, start, objective, px, seed, args)
    history = json.loads((run / "history.json").read_text())
    settings = EvalSettings(sanity_images=2, sanity_checkpoints=1, batch_size=64)
    res = evaluate([run / "best"], KATHER, ("vanilla",), folder / "eval", device=args.device,
                   settings=settings, grid_images=8)  # fmt: skip
    point = points_from_metrics(res.metrics, "vanilla", dataset=f"kather {px}px")[0]
    entry = res.metrics["models"][0]
    point.update(
        arm=f"{start}-{objective}", start=start, objective=objective, px=px, seed=seed,
        eps_255=0.0, balanced_accuracy=entry.get("balanced_accuracy"),
        val_balanced_accuracy=json.loads((run / "best.json").read_text())["metrics"].get(
            "balanced_accuracy"),
        seconds_per_epoch=round(seconds / max(len(history), 1), 1),
        test_images=entry["images"]["n"],
    )  # fmt: skip
    record.write_text(json.dumps(point, indent=1, default=float), encoding="utf-8")
    return point


def _ms(values: list[float]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


COLUMNS = (("accuracy", "test acc"), ("balanced_accuracy", "test bal. acc"),
           ("val_balanced_accuracy", "val bal. acc (best)"), ("gini", "Gini"),
           ("deletion_auc_mean_diff", "deletion − random ↓"),
           ("seconds_per_epoch", "s / epoch"))  # fmt: skip


def table(points: list[dict[str, Any]]) -> str:
    lines = ["| px | start | objective | seeds | " + " | ".join(h for _, h in COLUMNS) + " |",
             "|---" * (4 + len(COLUMNS)) + "|"]  # fmt: skip
    keys = sorted({(p["px"], p["start"], p["objective"]) for p in points})
    for px, start, objective in keys:
        key = (px, start, objective)
        mine = [p for p in points if (p["px"], p["start"], p["objective"]) == key]
        seeds = ",".join(str(p["seed"]) for p in sorted(mine, key=lambda p: p["seed"]))
        cells = [_ms([p.get(k) for p in mine]) for k, _ in COLUMNS]
        lines.append(f"| {px} | {start} | {objective} | {seeds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(points: list[dict[str, Any]]) -> list[str]:
    """The issue's targets at 96 px, each with its measured figure."""
    out = []
    erm = [p["balanced_accuracy"] for p in points if p["px"] == 96 and p["arm"] ==
           "imagenet-erm"]  # fmt: skip
    if erm:
        ok = statistics.mean(erm) >= 0.90
        out.append(f"ImageNet ERM test balanced accuracy at 96 px: {_ms(erm)} "
                   f"(target >= 0.90): {'met' if ok else 'NOT met'}")  # fmt: skip
    rows = compare_arms(points, "imagenet-scaat", ["imagenet-erm"])
    for r in rows:
        if r["dataset"] != "kather 96px":
            continue
        if r["metric"] == "test acc":
            ok = r["mean"] > -0.02
            out.append(f"SCAAT − ERM test accuracy at 96 px: {r['mean']:+.3f} "
                       f"[{r['lo']:+.3f}, {r['hi']:+.3f}] (target: within 2 points): "
                       f"{'met' if ok else 'NOT met'}")  # fmt: skip
        if r["metric"] == "Gini":
            out.append(f"SCAAT − ERM Gini at 96 px: {r['mean']:+.3f} [{r['lo']:+.3f}, "
                       f"{r['hi']:+.3f}]: {r['verdict']} "
                       "(target: sparser beyond the spread)")  # fmt: skip
    return out


def gpu_profile(args: Any) -> int:
    """Images/s and SCAAT/ERM step ratios of the GPU backbones at 224 px with AMP."""
    import torch

    from benchmarks.bench_train_step import step_seconds
    from pathscaat.models.device import resolve_device

    device = resolve_device(args.device)
    if device.type != "cuda":
        print("--gpu needs a CUDA device (none here); nothing measured", file=sys.stderr)
        return 2
    batch = 64
    print(f"device {torch.cuda.get_device_name(device)}, batch {batch}, bf16 autocast")
    for backbone in GPU_MODELS:
        secs = step_seconds(backbone, 224, batch, device, repeats=10)
        ips = {o: batch / s for o, s in secs.items()}
        print(f"{backbone:<24} ERM {ips['erm']:7.0f} img/s  SCAAT {ips['scaat']:7.0f} img/s  "
              f"SCAAT/ERM {secs['scaat'] / secs['erm']:.2f}  TRADES/ERM "
              f"{secs['trades'] / secs['erm']:.2f}")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--px", type=int, nargs="+", default=[96, 128])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--starts", nargs="+", choices=tuple(STARTS), default=list(STARTS))
    ap.add_argument("--objectives", nargs="+", choices=OBJECTIVES, default=list(OBJECTIVES))
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--gpu", action="store_true", help="the GPU throughput profile")
    ap.add_argument("--out", type=Path, default=REPO / "out" / "bench_finetune")
    ap.add_argument("--table-only", action="store_true")
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.gpu:
        args.device = "cuda" if args.device == "cpu" else args.device
        return gpu_profile(args)
    if not KATHER.is_dir():
        print(f"Kather 2016 is not at {KATHER}: set PATHSCAAT_SHARED_DATA", file=sys.stderr)
        return 2
    if not args.table_only:
        for px in args.px:
            for seed in args.seeds:
                for start in args.starts:
                    for objective in args.objectives:
                        t0 = time.perf_counter()
                        p = run_cell(start, objective, px, seed, args)
                        print(f"{px}px {start} {objective} s{seed}: test bal. acc "
                              f"{p['balanced_accuracy']:.3f}, Gini {p['gini']:.3f} "
                              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr,
                              flush=True)  # fmt: skip
    points = [json.loads(p.read_text()) for p in sorted(args.out.glob("cells/**/cell.json"))]
    text = "\n".join([table(points), "", *targets(points), "",
                      comparisons_markdown(compare_arms(points, "imagenet-scaat",
                                                        ["imagenet-erm"]))])  # fmt: skip
    (args.out / "finetune.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
