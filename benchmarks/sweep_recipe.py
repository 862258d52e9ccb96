"""The fine-tuning recipe sweep (issue 15): which head, lr, probe, BN and SCAAT ramp make a
pretrained backbone learn, judged on VALIDATION only (the test split is never scored here).

Every arm fine-tunes the same pretrained backbone (ImageNet EfficientNet-Lite0 by default)
on Kather 2016 with the slide-grouped split of its seed, one recipe knob changed from the
``base`` arm. Each cell (arm, seed) keeps its run folder and a ``cell.json`` under ``--out``
and is skipped when done, so the sweep resumes. The table gives, per arm, the mean and sd
over seeds of the last epoch's validation balanced accuracy and loss, the weight average's
(``select=average``) and the best epoch's (chosen on the same data, so optimistic); then the
selection rules judged honestly: choose on one half of validation, score on the other.

    python benchmarks/sweep_recipe.py --arms base lr3e-4 --seeds 0 1 2
    python benchmarks/sweep_recipe.py --table-only
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

from pathscaat.training import ScaatConfig, TrainConfig, train  # noqa: E402

SHARED = Path(os.environ.get("PATHSCAAT_SHARED_DATA", REPO.parent / "shared" / "data"))
KATHER = SHARED / "patches" / "kather2016-crc-texture"
SCAAT = {"objective": "scaat"}
#: arm -> (TrainConfig overrides, ScaatConfig preset and knobs); every arm is ``base`` + one change
ARMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "base": ({}, {"objective": "erm"}),
    "today": ({"lr": 1e-4, "head_init": "timm"}, {"objective": "erm"}),
    "lr3e-4": ({"lr": 3e-4}, {"objective": "erm"}),
    "lr3e-3": ({"lr": 3e-3}, {"objective": "erm"}),
    "head-small": ({"head_init": "small"}, {"objective": "erm"}),
    "head-timm": ({"head_init": "timm"}, {"objective": "erm"}),
    "headlr10": ({"head_lr_scale": 10.0}, {"objective": "erm"}),
    "ld0.8": ({"layer_decay": 0.8}, {"objective": "erm"}),
    "probe1": ({"probe_epochs": 1}, {"objective": "erm"}),
    "bn-frozen": ({"bn": "frozen"}, {"objective": "erm"}),
    "b8": ({"batch_size": 8}, {"objective": "erm"}),
    "b8-bn-frozen": ({"batch_size": 8, "bn": "frozen"}, {"objective": "erm"}),
    "noaug": ({"augment": False}, {"objective": "erm"}),
    "crop1": ({"min_crop": 1.0}, {"objective": "erm"}),
    "scaat": ({}, SCAAT),
    "scaat-today": ({"lr": 1e-4, "head_init": "timm"}, SCAAT),
    "scaat-reg1": ({}, {**SCAAT, "reg_start_epochs": 1.0}),
    "scaat-reg2": ({}, {**SCAAT, "reg_start_epochs": 2.0}),
    "scaat-probe1-reg1": ({"probe_epochs": 1}, {**SCAAT, "reg_start_epochs": 1.0}),
}


def cell_config(arm: str, seed: int, args: Any, run: Path) -> TrainConfig:
    changes, knobs = ARMS[arm]
    knobs = dict(knobs)
    scaat = ScaatConfig.for_objective(knobs.pop("objective"), **knobs)
    base: dict[str, Any] = {
        "data": KATHER, "backbone": args.backbone, "out": run, "epochs": args.epochs,
        "batch_size": 32, "lr": 1e-3, "img_size": args.img_px, "device": "cpu", "seed": seed,
        "pretrained_file": args.weights, "mpp": 0.495, "select": "average", "strip_every": 0,
        "progress_every": 1000, "head_init": "zero",
    }  # fmt: skip
    last = run / "last.json"
    return TrainConfig(**{**base, **changes, "scaat": scaat,
                          "resume": run / "last" if last.is_file() else None})  # fmt: skip


def run_cell(arm: str, seed: int, args: Any) -> dict[str, Any]:
    folder = args.out / "cells" / arm / f"s{seed}"
    record = folder / "cell.json"
    if record.is_file():
        return dict(json.loads(record.read_text()))
    run = folder / "train"
    start = time.perf_counter()
    result = train(cell_config(arm, seed, args, run))
    history = json.loads((run / "history.json").read_text())
    lines = [json.loads(x) for x in (run / "val_predictions.jsonl").read_text().splitlines()]
    point = {
        "arm": arm, "seed": seed, "seconds": round(time.perf_counter() - start, 1),
        "history": history, "average": result.metrics, "predictions": lines,
    }  # fmt: skip
    record.write_text(json.dumps(point, default=float), encoding="utf-8")
    return point


def _mean_sd(values: list[float]) -> str:
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def _bal(labels: Any, preds: Any, idx: Any, k: int) -> float:
    """Balanced accuracy of ``preds`` over the images ``idx`` (classes present only)."""
    import numpy as np

    pairs = labels[idx] * k + preds[idx]
    confusion = np.bincount(pairs, minlength=k * k).reshape(k, k)
    support = confusion.sum(1)
    present = support > 0
    return float((confusion.diagonal()[present] / support[present]).mean())


def selection_rows(cells: list[dict[str, Any]], rounds: int = 200) -> dict[str, list[float]]:
    """Choose an epoch on a random half of validation (stratified by class), score the
    choice on the other half; the last epoch and the average are scored on the same halves."""
    import random

    scores: dict[str, list[float]] = {"best bal. acc.": [], "lowest loss": [], "last": [],
                                      "average": []}  # fmt: skip
    import numpy as np

    rng = random.Random(0)
    for cell in cells:
        per_epoch = [p for p in cell["predictions"] if p["model"] == "epoch"]
        averaged = [p for p in cell["predictions"] if p["model"] == "average"]
        if not per_epoch or not averaged:
            continue
        labels = np.array(per_epoch[0]["label"], dtype=np.int64)
        preds = [np.array(p["pred"], dtype=np.int64) for p in per_epoch]
        losses = [np.array(p["loss"]) for p in per_epoch]
        avg = np.array(averaged[-1]["pred"], dtype=np.int64)
        k = 1 + int(max(labels.max(), *(pr.max() for pr in preds), avg.max()))
        for _ in range(rounds):
            a, b = [], []
            for c in sorted(set(labels.tolist())):
                members = [i for i, v in enumerate(labels) if v == c]
                rng.shuffle(members)
                a += members[: len(members) // 2]
                b += members[len(members) // 2 :]
            ia, ib = np.array(a), np.array(b)
            bal_a = [_bal(labels, pr, ia, k) for pr in preds]
            loss_a = [float(lo[ia].sum()) for lo in losses]
            pick_bal = max(range(len(preds)), key=lambda e: (bal_a[e], -loss_a[e]))
            pick_loss = min(range(len(preds)), key=lambda e: loss_a[e])
            scores["best bal. acc."].append(_bal(labels, preds[pick_bal], ib, k))
            scores["lowest loss"].append(_bal(labels, preds[pick_loss], ib, k))
            scores["last"].append(_bal(labels, preds[-1], ib, k))
            scores["average"].append(_bal(labels, avg, ib, k))
    return scores


def table(out: Path) -> str:
    cells = [json.loads(p.read_text()) for p in sorted((out / "cells").glob("*/s*/cell.json"))]
    arms = [a for a in ARMS if any(c["arm"] == a for c in cells)]
    rows = ["| arm | seeds | val bal. acc. (last) | − base, paired | val loss (last) | "
            "val bal. acc. (average) | val bal. acc. (best epoch, optimistic) | val bal. acc. "
            "epoch 1 | s / run |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    base = {c["seed"]: c["history"][-1]["balanced_accuracy"] for c in cells if c["arm"] == "base"}
    for arm in arms:
        mine = [c for c in cells if c["arm"] == arm]
        last = [c["history"][-1]["balanced_accuracy"] for c in mine]
        loss = [c["history"][-1]["loss"] for c in mine]
        avg = [c["average"].get("balanced_accuracy", float("nan")) for c in mine]
        best = [max(h["balanced_accuracy"] for h in c["history"]) for c in mine]
        first = [c["history"][0]["balanced_accuracy"] for c in mine]
        secs = statistics.mean(c["seconds"] for c in mine)
        seeds = ",".join(str(c["seed"]) for c in mine)
        paired = [c["history"][-1]["balanced_accuracy"] - base[c["seed"]] for c in mine
                  if c["seed"] in base]  # fmt: skip
        cols = [arm, seeds, _mean_sd(last), _mean_sd(paired) if arm != "base" else "",
                *(_mean_sd(v) for v in (loss, avg, best, first)), f"{secs:.0f}"]  # fmt: skip
        rows.append("| " + " | ".join(cols) + " |")
    sel = selection_rows([c for c in cells if c["arm"] in ("base", "scaat")])
    rows += ["", "Selection rules, chosen on one half of validation and scored on the other "
             "(base and scaat arms, 200 random class-stratified halves per cell):", "",
             "| rule | val bal. acc. on the other half |", "|---|---|"]  # fmt: skip
    rows += [f"| {rule} | {_mean_sd(v)} |" for rule, v in sel.items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--arms", nargs="+", choices=tuple(ARMS), default=["base"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--weights", type=Path, required=False, help="timm-layout weights file")
    ap.add_argument("--backbone", default="tf_efficientnet_lite0")
    ap.add_argument("--img-px", type=int, default=96)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=REPO / "out" / "sweep_recipe")
    ap.add_argument("--table-only", action="store_true")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if not args.table_only:
        for seed in args.seeds:
            for arm in args.arms:
                t0 = time.perf_counter()
                rec = run_cell(arm, seed, args)
                bal = rec["history"][-1]["balanced_accuracy"]
                took = time.perf_counter() - t0
                print(f"{arm} s{seed}: last val bal. acc. {bal:.3f} ({took:.0f} s)",
                      file=sys.stderr, flush=True)  # fmt: skip
    text = table(args.out)
    (args.out / "recipe.md").parent.mkdir(parents=True, exist_ok=True)
    (args.out / "recipe.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
