"""Saliency quality of ERM, SGT, SCAAT, the random-mask control and TRADES, side by side.

Every arm is trained with the same recipe (backbone, input size, epochs, lr, augmentation,
split, seed) on (a) synthetic H&E-like patches with evidence masks and (b) the Kather 2016
texture tiles in ../shared/data with a slide-grouped split; then ``pathscaat.evaluation``
runs the protocol of shared/docs/evaluation.md on each arm's held-out images, and the
table gives mean ± spread (standard deviation over seeds). The claim "saliency guidance
helps" needs SCAAT to beat the random-mask control of the same area, not only ERM.

    python benchmarks/bench_saliency_quality.py --quick   # smoke run: minutes on 2 idle CPU cores
    python benchmarks/bench_saliency_quality.py           # 3 seeds, 64 px, resnet10t, 12 epochs
                                                          # (the demo's recipe; ~1 h on 2 cores)
    python benchmarks/bench_saliency_quality.py --full    # for a GPU: 224 px, resnet18, 30 epochs

Evaluation, not training, dominates the time: every deletion/insertion curve is 29
forward passes per image, for the saliency order and for the random order. Models start
from random weights (no network access for pretrained ones). Trained runs are kept under
``--out`` and reused on a rerun (``--retrain`` to start over).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pathscaat.data.synthetic import write_patch_set  # noqa: E402
from pathscaat.evaluation import EvalSettings, evaluate, markdown_table, table_rows  # noqa: E402
from pathscaat.models import read_meta  # noqa: E402
from pathscaat.training import ScaatConfig, TrainConfig, train  # noqa: E402

KATHER = REPO.parent / "shared" / "data" / "patches" / "kather2016-crc-texture"
ARMS: dict[str, ScaatConfig] = {
    "erm": ScaatConfig.for_objective("erm"),
    "sgt": ScaatConfig.for_objective("sgt"),
    "scaat": ScaatConfig.for_objective("scaat"),
    "random-mask": ScaatConfig.for_objective("scaat", mask="random"),
    "trades": ScaatConfig.for_objective("trades"),
}
SHOWN = (
    ("accuracy", "acc"),
    ("gini", "Gini ↑"),
    ("entropy", "entropy ↓"),
    ("deletion_auc_blur", "del blur ↓"),
    ("deletion_auc_mean", "del mean ↓"),
    ("deletion_auc_mean_diff", "del mean − rand ↓"),
    ("insertion_auc", "ins ↑"),
    ("insertion_auc_diff", "ins − rand ↑"),
    ("masked_accuracy_area_diff", "masked-acc − rand ↓"),
    ("sanity_rank_corr", "sanity ρ ↓"),
    ("relevance_mass", "rel mass ↑"),
    ("pointing_game", "pointing ↑"),
)


@dataclass(frozen=True)
class Profile:
    seeds: tuple[int, ...]
    epochs: int
    img_px: int
    backbone: str
    lr: float
    batch_size: int
    synthetic_per_class: int
    synthetic_px: int
    kather_classes: tuple[str, ...] | None  # None = all eight
    methods: tuple[str, ...]
    max_images: int | None
    sanity_images: int
    warmup_epochs: float = 1.0  # lr warm-up, and the eps ramp of the adversarial arms
    kather_per_class: int | None = None  # None = all 200 tiles of each class
    sanity_checkpoints: int = 3
    method_kwargs: tuple[tuple[str, dict[str, Any]], ...] = (
        ("smoothgrad", {"n_samples": 8}),
        ("integrated_gradients", {"n_steps": 16}),
    )


DEFAULT = Profile(
    seeds=(0, 1, 2), epochs=12, img_px=64, backbone="resnet10t", lr=3e-3, batch_size=32,
    synthetic_per_class=150, synthetic_px=96, kather_classes=None,
    methods=("vanilla", "smoothgrad", "integrated_gradients"), max_images=32, sanity_images=8,
)  # fmt: skip
PROFILES = {
    "default": DEFAULT,
    "quick": replace(
        DEFAULT, seeds=(0,), epochs=8, img_px=48, batch_size=16, synthetic_per_class=48,
        synthetic_px=64, kather_classes=("01_TUMOR", "02_STROMA"), kather_per_class=60,
        methods=("vanilla",), max_images=24, sanity_images=4, sanity_checkpoints=2,
        warmup_epochs=0.5,
    ),
    "full": replace(
        DEFAULT, epochs=30, img_px=224, backbone="resnet18", lr=1e-3, synthetic_per_class=300,
        synthetic_px=224, methods=("vanilla", "smoothgrad", "integrated_gradients", "gradcam"),
        max_images=None, sanity_images=32, sanity_checkpoints=4, method_kwargs=(),
    ),
}  # fmt: skip


def prepare_data(profile: Profile, out: Path, which: list[str]) -> dict[str, Path]:
    """Synthetic patches (written once) and a view of the Kather classes (symlinks, no copy)."""
    data: dict[str, Path] = {}
    if "synthetic" in which:
        syn = out / "data" / f"synthetic-{profile.synthetic_per_class}x{profile.synthetic_px}"
        if not (syn / "synthetic.json").is_file():
            write_patch_set(syn, profile.synthetic_per_class, profile.synthetic_px, seed=0)
        data["synthetic"] = syn
    if "kather" in which:
        if not KATHER.is_dir():
            print(f"skipping Kather 2016: {KATHER} is absent", file=sys.stderr)
        elif profile.kather_classes is None and profile.kather_per_class is None:
            data["kather"] = KATHER
        else:
            data["kather"] = kather_view(profile, out / "data")
    return data


def kather_view(profile: Profile, root: Path) -> Path:
    """Symlinks to some classes / some tiles of each (every n-th name, so all slides stay)."""
    classes = profile.kather_classes or tuple(
        sorted(p.name for p in KATHER.iterdir() if p.is_dir())
    )
    view = root / ("kather-" + "-".join(c.split("_")[-1] for c in classes))
    view = view.with_name(f"{view.name}-x{profile.kather_per_class or 'all'}")
    for name in classes:
        files = sorted((KATHER / name).glob("*.png"))
        keep = profile.kather_per_class or len(files)
        (view / name).mkdir(parents=True, exist_ok=True)
        for f in files[:: max(1, len(files) // keep)][:keep]:
            link = view / name / f.name
            if not link.exists():
                link.symlink_to(f)
    return view


def train_arm(
    data: Path, arm: str, seed: int, profile: Profile, run_dir: Path, device: str, retrain: bool
) -> tuple[Path, float]:
    """Train one arm (or reuse its finished run); returns its last checkpoint and seconds.

    The last epoch, not the best by validation loss, is compared: every arm then had the
    same schedule (a tiny validation set would otherwise pick an epoch before the
    adversary's eps ramp ended, where SCAAT is still ERM).
    """
    last = run_dir / "last"
    finished = last.with_suffix(".json").is_file() and read_meta(last).epoch >= profile.epochs
    if finished and not retrain:
        return last, 0.0
    config = TrainConfig(
        data=data, backbone=profile.backbone,
        scaat=replace(ARMS[arm], eps_warmup_epochs=profile.warmup_epochs), out=run_dir,
        epochs=profile.epochs, batch_size=profile.batch_size, lr=profile.lr,
        warmup_epochs=profile.warmup_epochs, img_size=profile.img_px, device=device, seed=seed,
        val_fraction=0.15, test_fraction=0.25,
    )  # fmt: skip
    start = time.perf_counter()
    result = train(config)
    return result.last, time.perf_counter() - start


def run_dataset(
    name: str, data: Path, profile: Profile, out: Path, device: str, retrain: bool
) -> dict[str, Any]:
    """Train every arm x seed on one dataset, then evaluate them all in one call."""
    ckpts, seconds = [], {}
    for seed in profile.seeds:
        for arm in ARMS:
            run = out / name / f"{arm}_s{seed}"
            ckpt, sec = train_arm(data, arm, seed, profile, run, device, retrain)
            ckpts.append(ckpt)
            seconds[run.name] = round(sec, 1)
            print(f"  {name} {run.name}: trained in {sec:.0f} s", file=sys.stderr, flush=True)
    settings = EvalSettings(
        sanity_images=profile.sanity_images, sanity_checkpoints=profile.sanity_checkpoints,
        batch_size=64, method_kwargs=dict(profile.method_kwargs),
    )  # fmt: skip
    start = time.perf_counter()
    res = evaluate(
        ckpts, data, profile.methods, out / name / "eval", max_images=profile.max_images,
        device=device, settings=settings,
    )  # fmt: skip
    print(f"  {name}: evaluated in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return {"metrics": res.metrics, "train_seconds": seconds, "report": str(res.report)}


def aggregate(metrics: dict[str, Any]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Values over seeds per (arm, method); the arm is the run folder without ``_s<seed>``."""
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in table_rows(metrics):
        arm = row["model"].split("/")[0].rsplit("_s", 1)[0]
        cell = groups.setdefault((arm, row["method"]), {})
        for key, _ in SHOWN:
            cell.setdefault(key, []).append(float(row[key]))
    return groups


def mean_spread(values: list[float]) -> tuple[float, float]:
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def format_table(groups: dict[tuple[str, str], dict[str, list[float]]], n_seeds: int) -> str:
    header = ["arm", "method"] + [h for _, h in SHOWN]
    rows = []
    for (arm, method), cell in groups.items():
        cells = []
        for key, _ in SHOWN:
            m, s = mean_spread(cell[key])
            cells.append(
                "–" if np.isnan(m) else f"{m:.3f}" + (f" ± {s:.3f}" if n_seeds > 1 else "")
            )
        rows.append([arm, method, *cells])
    return markdown_table(header, rows)


CRITERIA = (  # (key, +1 if higher is better else -1): scaat-method.md "What works means"
    ("gini", 1),
    ("deletion_auc_mean_diff", -1),
    ("insertion_auc_diff", 1),
    ("masked_accuracy_area_diff", -1),
    ("relevance_mass", 1),
)


def checks(groups: dict[tuple[str, str], dict[str, list[float]]], n_seeds: int) -> list[str]:
    """SCAAT against ERM and against the random-mask control, vanilla gradient only."""
    lines = []
    scaat = groups.get(("scaat", "vanilla"))
    for other in ("erm", "random-mask"):
        base = groups.get((other, "vanilla"))
        if scaat is None or base is None:
            continue
        acc_gap = mean_spread(scaat["accuracy"])[0] - mean_spread(base["accuracy"])[0]
        lines.append(f"- scaat vs {other}: accuracy {acc_gap:+.3f}" + (
            " (more than 1 point lower: saliency claims do not count)" if acc_gap < -0.01 else ""
        ))  # fmt: skip
        for key, sign in CRITERIA:
            (m1, s1), (m0, s0) = mean_spread(scaat[key]), mean_spread(base[key])
            if np.isnan(m1) or np.isnan(m0):
                continue
            d = m1 - m0
            if n_seeds < 2:
                verdict = "single seed, no spread"
            elif abs(d) <= max(s1, s0):
                verdict = "within the spread"
            else:
                verdict = "better" if d * sign > 0 else "worse"
            lines.append(f"  - {key}: {m1:.3f} vs {m0:.3f} ({d:+.3f}, {verdict})")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smoke run: 1 seed, 2 epochs, tiny")
    mode.add_argument("--full", action="store_true", help="GPU-sized run")
    ap.add_argument("--datasets", nargs="+", default=["synthetic", "kather"])
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="override the seeds")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, default=REPO / "out" / "bench_saliency_quality")
    ap.add_argument("--retrain", action="store_true", help="ignore finished runs under --out")
    args = ap.parse_args(argv)
    name = "quick" if args.quick else "full" if args.full else "default"
    profile = PROFILES[name]
    if args.seeds:
        profile = replace(profile, seeds=tuple(args.seeds))
    out = args.out / name
    start = time.perf_counter()
    print(f"profile {name}: {asdict(profile)}", file=sys.stderr)
    summary: dict[str, Any] = {"profile": name, "settings": asdict(profile), "datasets": {}}
    text = [f"# Saliency quality benchmark ({name} profile)", ""]
    for ds, data in prepare_data(profile, out, args.datasets).items():
        result = run_dataset(ds, data, profile, out, args.device, args.retrain)
        groups = aggregate(result["metrics"])
        n = len(profile.seeds)
        text += [f"## {ds} ({data})", "", format_table(groups, n), "", *checks(groups, n), ""]
        summary["datasets"][ds] = {
            "report": result["report"],
            "train_seconds": result["train_seconds"],
            "values": {f"{a}/{m}": cell for (a, m), cell in groups.items()},
        }
    text.append(f"Total wall time: {time.perf_counter() - start:.0f} s.")
    print("\n".join(text))
    (out / "benchmark.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    (out / "benchmark.json").write_text(
        json.dumps(summary, indent=1, default=str), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
