"""The accuracy-interpretability frontier (issue 10): arms x eps x seeds x datasets, resumable.

Arms (one objective code path, ``ScaatConfig`` presets): ERM; TRADES; SCAAT with the soft
budget ``eps*(1-s)**gamma`` and with the hard adaptive set (tau); the budget-matched
controls: the soft budget map shuffled over pixels, TRADES at the soft arm's mean per-pixel
budget (measured during that arm's training, same dataset/eps/seed), the inverted placement
(same budget values, most salient pixels attacked most); SGT; and optionally the signed
budget (tau - s) with a CE attack. Multi-step PGD (step 2.5*eps/steps, per-pixel clip after
every step). Datasets: the fragile-evidence synthetic set (``pathscaat.data.synthetic_fragile``;
synthetic, not tissue) and Kather 2016 (8 classes, slide-grouped split).

Every cell (dataset, arm, eps, seed) keeps its run folder and a ``cell.json`` under
``--out/cells``; a rerun skips finished cells (re-evaluating when the metric set changed),
resumes an interrupted training, and rewrites the frontier table and plots from all cells
found (``--table-only`` does only that). The test split is for the table; the validation
accuracy is recorded beside it, and only it may choose defaults.

    python benchmarks/bench_frontier.py --smoke    # 2 tiny arms, 1 epoch (a suite test)
    python benchmarks/bench_frontier.py --quick    # a handful of cells, < 15 min on 2 cores
    python benchmarks/bench_frontier.py            # the CPU sweep, hours over several sittings
    python benchmarks/bench_frontier.py --pretrained # every arm fine-tunes ImageNet Lite0
    python benchmarks/bench_frontier.py --full --pretrained-file W.safetensors   # GPU profile
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.frontier_arms import (  # noqa: E402
    ALL_ARMS,
    COMPARISONS,
    NO_EPS,
    PROFILES,
    VARIANT_ARMS,
    Profile,
    arm_config,
)
from pathscaat.data.synthetic_fragile import write_fragile_set  # noqa: E402
from pathscaat.evaluation import EvalSettings, evaluate  # noqa: E402
from pathscaat.evaluation.frontier import points_from_metrics, write_frontier  # noqa: E402
from pathscaat.models import read_meta  # noqa: E402
from pathscaat.training import ScaatConfig, TrainConfig, train  # noqa: E402

SHARED = Path(os.environ.get("PATHSCAAT_SHARED_DATA", REPO.parent / "shared" / "data"))
KATHER = SHARED / "patches" / "kather2016-crc-texture"
EVAL_VERSION = 2  # bump when the evaluated metric set changes: cells are re-evaluated


def prepare_data(p: Profile, out: Path) -> dict[str, Path]:
    """The fragile set (written once per size) and a symlinked view of Kather's tiles."""
    data: dict[str, Path] = {}
    if "fragile" in p.datasets:
        frag = (
            out / "data" / f"fragile-c{p.fragile_contrast_255:g}-{p.fragile_per_class}x{p.img_px}"
        )
        if not (frag / "synthetic.json").is_file():
            contrast = p.fragile_contrast_255 / 255
            write_fragile_set(frag, p.fragile_per_class, p.img_px, seed=0, contrast=contrast)
        data["fragile"] = frag
    if "kather" in p.datasets:
        if not KATHER.is_dir():
            print(f"skipping Kather 2016: {KATHER} is absent", file=sys.stderr)
        else:
            data["kather"] = kather_view(p.kather_per_class, out / "data")
    return data


def kather_view(per_class: int | None, root: Path) -> Path:
    """Symlinks to every n-th tile of each of the 8 classes (all 10 slides stay in)."""
    if per_class is None:
        return KATHER
    view = root / f"kather8-x{per_class}"
    for cls in sorted(d.name for d in KATHER.iterdir() if d.is_dir()):
        files = sorted((KATHER / cls).glob("*.png"))
        (view / cls).mkdir(parents=True, exist_ok=True)
        for f in files[:: max(1, len(files) // per_class)][:per_class]:
            if not (view / cls / f.name).exists():
                (view / cls / f.name).symlink_to(f)
    return view


@dataclass
class Cell:
    dataset: str
    arm: str
    eps_255: float
    seed: int

    @property
    def rel(self) -> Path:
        return Path(self.dataset) / self.arm / f"eps{self.eps_255:g}" / f"s{self.seed}"


def cell_list(p: Profile) -> list[Cell]:
    """eps-major order (so a stopped sweep has every seed of the first eps), then seed, arm."""
    cells, seen = [], set()
    for ds in p.datasets:
        for eps in p.eps_255:
            for seed in p.seeds:
                for arm in p.arms:
                    cell = Cell(ds, arm, 0.0 if arm in NO_EPS else float(eps), seed)
                    if cell.rel not in seen:
                        seen.add(cell.rel)
                        cells.append(cell)
    return cells


def mean_budget(cells_dir: Path, cell: Cell) -> float:
    """Mean per-pixel budget fraction the soft arm used over its training (same eps, seed)."""
    soft = cells_dir / replace(cell, arm="scaat-soft").rel / "cell.json"
    if not soft.is_file():
        raise LookupError(f"{cell.rel} needs the scaat-soft cell of the same eps and seed first")
    return float(json.loads(soft.read_text())["train_budget"])


def init_weights(cell: Cell, p: Profile, args: Any) -> Path | str | None:
    """The weights a cell starts from: the profile's pretrained ``weights``, the seed's ERM
    model, or ``--pretrained-file`` (None: random weights)."""
    if p.init == "pretrained":
        return args.pretrained_file or p.weights
    if p.init != "erm":
        return args.pretrained_file
    erm = args.out / "default" / "cells" / replace(cell, arm="erm", eps_255=0.0).rel
    weights = erm / "train" / "last.safetensors"
    if not weights.is_file():
        raise LookupError(f"{cell.rel} fine-tunes {weights}: run the default profile's erm first")
    return weights


def train_cell(cell: Cell, data: Path, p: Profile, run: Path, cfg: ScaatConfig, args: Any) -> float:
    """Train (or resume) one cell's model; returns seconds spent now."""
    last = run / "last.json"
    done = last.is_file() and read_meta(last).epoch >= p.epochs
    if done:
        return 0.0
    start_from = init_weights(cell, p, args)
    config = TrainConfig(
        data=data, backbone=p.backbone, scaat=cfg, out=run, epochs=p.epochs,
        batch_size=p.batch_size, lr=p.lr, warmup_epochs=p.warmup_epochs, img_size=p.img_px,
        device=args.device, seed=cell.seed, val_fraction=0.15, test_fraction=0.25,
        resume=run / "last" if last.is_file() else None, head_init=p.head_init,
        weights=None if start_from is None else str(start_from), progress_every=1000,
        strip_every=0,
    )  # fmt: skip
    start = time.perf_counter()
    train(config)
    return time.perf_counter() - start


#: keys that a second saliency method, or the whole test split, adds under a prefix
EXTRA_KEYS = ("gini", "gini_cell", "deletion_auc_mean_diff", "insertion_auc_diff",
              "topk_occlusion_acc_diff", "accuracy")  # fmt: skip
PREFIX = {"smoothgrad": "sg", "integrated_gradients": "ig", "vanilla": "vg"}


def eval_cell(cell: Cell, data: Path, p: Profile, run: Path, args: Any) -> dict[str, Any]:
    """The first method's metrics on a class-balanced test sample; other methods' under
    their prefix (``sg_gini``...); with ``full_test``, the vanilla gradient's faithfulness
    on the whole test split under ``full_``."""
    settings = EvalSettings(sanity_images=p.sanity_images, sanity_checkpoints=2, batch_size=64)
    res = evaluate([run / "last"], data, p.methods, run / "eval", max_images=p.eval_images,
                   device=args.device, settings=settings, grid_images=4)  # fmt: skip
    point = points_from_metrics(res.metrics, p.methods[0], dataset=cell.dataset)[0]
    for method in p.methods[1:]:
        other = points_from_metrics(res.metrics, method, dataset=cell.dataset)[0]
        point.update({f"{PREFIX[method]}_{k}": other[k] for k in EXTRA_KEYS if k != "accuracy"})
    if p.full_test:
        whole = EvalSettings(sanity_images=0, sanity_checkpoints=0, batch_size=64,
                             stability_samples=0)  # fmt: skip
        res = evaluate([run / "last"], data, ("vanilla",), run / "eval-test", max_images=None,
                       device=args.device, settings=whole, grid_images=4)  # fmt: skip
        full = points_from_metrics(res.metrics, "vanilla", dataset=cell.dataset)[0]
        point.update({f"full_{k}": full[k] for k in EXTRA_KEYS})
        point["full_images"] = res.metrics["models"][0]["images"]["n"]
    return point


def cell_key(cfg: ScaatConfig, p: Profile, data: Path) -> str:
    """Hash of what decides a cell's training (its knobs, the recipe, the data folder)."""
    skip = ("arms", "eps_255", "seeds", "datasets", "eval_images", "sanity_images")
    recipe = {k: v for k, v in asdict(p).items() if k not in skip}
    added = {"init": "random", "weights": None, "head_init": "auto", "reg_start_epochs": 0.0,
             "methods": ("vanilla",), "full_test": False}  # fmt: skip
    for name, default in added.items():  # fields added after the first cells: keyed when set
        if recipe[name] == default:
            del recipe[name]
    knobs = cfg.to_dict()
    for name, default in (("guidance_cell", 1), ("reg_start_epochs", 0.0)):
        if knobs.get(name) == default:
            del knobs[name]
    text = json.dumps([knobs, recipe, str(data)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_cell(cell: Cell, data: Path, p: Profile, cells_dir: Path, args: Any) -> dict[str, Any]:
    """Train and evaluate one cell unless its cell.json is current; returns that record."""
    folder = cells_dir / cell.rel
    share = mean_budget(cells_dir, cell) if cell.arm == "trades-meanbudget" else 1.0
    cfg = arm_config(cell.arm, cell.eps_255 / 255, p, share)
    key = cell_key(cfg, p, data)
    record_path = folder / "cell.json"
    if record_path.is_file():
        old = json.loads(record_path.read_text())
        if old.get("key") == key and old.get("eval_version") == EVAL_VERSION:
            return dict(old)
    run = folder / "train"
    seconds = train_cell(cell, data, p, run, cfg, args)
    history = json.loads((run / "history.json").read_text())
    attacked = [h for h in history if h["epoch"] > p.reg_start_epochs] or history
    train_budget = sum(h.get("train_budget", 1.0) for h in attacked) / len(attacked)
    start = time.perf_counter()
    point = eval_cell(cell, data, p, run, args)
    point.update(
        arm=cell.arm, eps_255=cell.eps_255, seed=cell.seed, key=key, eval_version=EVAL_VERSION,
        val_accuracy=history[-1].get("accuracy"), train_budget=train_budget,
        budget=share if cell.arm == "trades-meanbudget" else train_budget,
        eps_effective_255=0.0 if cell.arm in NO_EPS else cfg.eps * 255, knobs=cfg.to_dict(),
        train_seconds=round(seconds, 1),
        eval_seconds=round(time.perf_counter() - start, 1), profile=args.profile,
    )  # fmt: skip
    record_path.write_text(json.dumps(point, indent=1, default=float), encoding="utf-8")
    return point


def collect(cells_dir: Path) -> list[dict[str, Any]]:
    """Every finished cell under ``cells_dir`` (whatever profile run it)."""
    return [json.loads(p.read_text()) for p in sorted(cells_dir.glob("**/cell.json"))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = ap.add_mutually_exclusive_group()
    for name in ("smoke", "quick", "finetune", "pretrained", "full"):
        mode.add_argument(f"--{name}", action="store_true", help=f"the {name} profile")
    ap.add_argument("--arms", nargs="+", choices=(*ALL_ARMS, *VARIANT_ARMS))
    ap.add_argument("--eps", type=float, nargs="+", help="eps values ×255, in run order")
    ap.add_argument("--seeds", type=int, nargs="+")
    ap.add_argument("--datasets", nargs="+", choices=("fragile", "kather"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--pretrained-file", type=Path, default=None, help="local backbone weights")
    ap.add_argument("--out", type=Path, default=REPO / "out" / "bench_frontier")
    ap.add_argument("--table-only", action="store_true", help="only rewrite the table/plots")
    args = ap.parse_args(argv)
    names = ("smoke", "quick", "finetune", "pretrained", "full")
    args.profile = next((n for n in names if getattr(args, n)), "default")
    p = PROFILES[args.profile]
    overrides = {
        "arms": args.arms,
        "eps_255": args.eps,
        "seeds": args.seeds,
        "datasets": args.datasets,
    }
    changes: dict[str, Any] = {k: tuple(v) for k, v in overrides.items() if v}
    p = replace(p, **changes)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    out = args.out / args.profile
    cells_dir = out / "cells"
    start = time.perf_counter()
    if not args.table_only:
        print(f"profile {args.profile}: {asdict(p)}", file=sys.stderr, flush=True)
        data = prepare_data(p, out)
        todo = [c for c in cell_list(p) if c.dataset in data]
        for i, cell in enumerate(todo, 1):
            t0 = time.perf_counter()
            try:
                rec = run_cell(cell, data[cell.dataset], p, cells_dir, args)
            except LookupError as exc:  # a cell whose prerequisite cell is not there yet
                print(f"[{i}/{len(todo)}] skipped: {exc}", file=sys.stderr, flush=True)
                continue
            print(f"[{i}/{len(todo)}] {cell.rel}: acc {rec['accuracy']:.3f} gini {rec['gini']:.3f} "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)  # fmt: skip
    points = collect(cells_dir)
    paths = write_frontier(points, out, f"Frontier ({args.profile} profile)", COMPARISONS)
    print((out / "frontier.md").read_text())
    print(f"{len(points)} cells; wrote {', '.join(p.name for p in paths)}; "
          f"wall time {time.perf_counter() - start:.0f} s", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
