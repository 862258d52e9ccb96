"""``pathscaat train``: fine-tune a timm backbone on a patch folder with ERM/SGT/SCAAT/TRADES.

A thin call into ``pathscaat.training.train``. SIGTERM or SIGINT asks the run to stop at
the next batch; it saves ``last`` and the command exits 130 (a second SIGINT aborts).
Several GPUs: ``torchrun --nproc_per_node N -m pathscaat.cli.main train ...`` (DDP).
"""

from __future__ import annotations

import argparse
import os
import signal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pathscaat.cli.jobs import progress_job
from pathscaat.cli.reporting import add_progress_arg

KNOBS = ("mask", "eps", "steps", "alpha", "gamma", "tau", "k", "lam", "divergence", "start")


def _number(text: str) -> float:
    """A float, or a fraction such as ``4/255`` (eps is in [0,1] pixel units)."""
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError) as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc


def _default_workers() -> int:
    return min(4, max(0, (os.cpu_count() or 1) - 1))


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train",
        help="fine-tune a timm backbone on a patch folder (ERM, SGT, SCAAT, TRADES)",
        description="Fine-tune a timm backbone on a folder of labelled patches "
        "(one sub-folder per class). Writes best/last checkpoints, split.json and "
        "history.json to --out. Objective knobs default to the project's defaults.",
    )
    p.add_argument("--data", type=Path, required=True, help="patch folder (class per sub-folder)")
    p.add_argument("--backbone", default="resnet18", help="any timm model name")
    p.add_argument("--objective", choices=("erm", "sgt", "scaat", "trades"), default="scaat")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--img-size", type=int, default=None, help="input px (default: backbone's)")
    p.add_argument("--pretrained-file", type=Path, default=None, help=".safetensors or .pth")
    p.add_argument("--device", default="auto", help="auto, cpu, mps, cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/latest"), help="run folder")
    p.add_argument("--resume", type=Path, default=None, help="checkpoint to resume (e.g. last)")
    p.add_argument("--workers", type=int, default=_default_workers(), help="loader processes")
    p.add_argument("--val-fraction", type=float, default=0.15)
    p.add_argument("--test-fraction", type=float, default=0.15)
    p.add_argument("--patience", type=int, default=None, help="early stopping (epochs)")
    p.add_argument("--mpp", type=float, default=None, help="µm/px of the patches, if known")
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    _add_knobs(p)
    add_progress_arg(p)
    p.set_defaults(func=run)


def _add_knobs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "objective knobs (unset = the objective's default; the defaults are this project's, "
        "not the SCAAT paper's)"
    )
    g.add_argument("--mask", choices=("soft", "adaptive", "fraction", "signed", "random", "none"))
    g.add_argument("--eps", type=_number, help="attack budget in [0,1] units, e.g. 4/255")
    g.add_argument("--steps", type=int, help="signed-gradient ascent steps")
    g.add_argument("--alpha", type=_number, help="step size (default 1.25*eps)")
    g.add_argument("--gamma", type=float, help="soft mask exponent")
    g.add_argument("--tau", type=float, help="adaptive mask: saliency mass fraction")
    g.add_argument("--k", type=float, help="fraction mask: pixel fraction")
    g.add_argument("--lam", type=float, help="weight of the consistency term")
    g.add_argument("--divergence", choices=("kl", "js"))
    g.add_argument("--start", choices=("uniform", "fill"), help="attack start")
    g.add_argument(
        "--random-like",
        choices=("soft", "adaptive", "fraction", "signed"),
        help="mask=random: the budget map the control shuffles over pixels",
    )
    g.add_argument(
        "--invert", action="store_true", default=None,
        help="control: the same budget values in reversed saliency order",
    )  # fmt: skip
    g.add_argument("--attack-loss", choices=("kl", "ce"), help="what the adversary ascends")
    g.add_argument("--guidance-from", choices=("clean", "adversarial"), help="saliency image")
    g.add_argument("--eps-warmup-epochs", type=float, help="eps ramps from 0 over these")


def build_config(args: argparse.Namespace) -> Any:
    from pathscaat.training import ScaatConfig, TrainConfig

    knobs = {k: getattr(args, k) for k in KNOBS if getattr(args, k) is not None}
    for name in ("random_like", "eps_warmup_epochs", "invert", "attack_loss", "guidance_from"):
        if getattr(args, name) is not None:
            knobs[name] = getattr(args, name)
    return TrainConfig(
        data=args.data,
        backbone=args.backbone,
        scaat=ScaatConfig.for_objective(args.objective, **knobs),
        out=args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        img_size=args.img_size,
        pretrained_file=args.pretrained_file,
        device=args.device,
        seed=args.seed,
        resume=args.resume,
        workers=args.workers,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        patience=args.patience,
        amp=not args.no_amp,
        mpp=args.mpp,
    )


def run(args: argparse.Namespace) -> int:
    from pathscaat.training import train

    config = build_config(args)
    with progress_job(args.progress, abort_on_repeat=(signal.SIGINT,)) as (printer, should_stop):
        result = train(config, on_progress=printer, should_stop=should_stop)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports
        return 0
    if args.progress == "json":
        printer.event("result", **result.to_dict())
        return 0
    m = result.metrics
    print(f"trained {config.backbone} ({config.scaat.objective}) for {result.epochs_run} epochs")
    if "accuracy" in m:
        print(
            f"best epoch {result.best_epoch}: validation accuracy {m['accuracy']:.3f}, "
            f"balanced accuracy {m['balanced_accuracy']:.3f}, loss {m['loss']:.4f}"
        )
    print(f"checkpoints: {result.best}.safetensors (best), {result.last}.safetensors (last)")
    return 0
